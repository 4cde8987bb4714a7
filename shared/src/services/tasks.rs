//! Running a work-queue task: the one entry point the fan-out and send
//! workers (Lambda) and the local gateway's queue loop share.

use crate::domain::Task;
use crate::services::{FanoutService, PlanOutcome, SendService, ServiceError};

/// Why a task was not done.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    /// The body is not a task we know: retrying cannot help (it goes to the
    /// dead-letter queue after the queue's receive limit).
    #[error("{0}")]
    Unreadable(String),
    /// Part of the work is left for a later delivery of the task.
    #[error("{0} messages left for a later try")]
    Incomplete(u32),
    /// The use case failed.
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl TaskError {
    /// Whether delivering the task again may finish it.
    pub fn is_retryable(&self) -> bool {
        match self {
            TaskError::Unreadable(_) => false,
            TaskError::Incomplete(_) => true,
            TaskError::Service(e) => e.is_retryable(),
        }
    }
}

/// Runs plan and send tasks.
#[derive(Clone)]
pub struct TaskRunner {
    fanout: Option<FanoutService>,
    send: Option<SendService>,
}

impl TaskRunner {
    /// A runner for both kinds (the local gateway).
    pub fn new(fanout: FanoutService, send: SendService) -> Self {
        Self { fanout: Some(fanout), send: Some(send) }
    }

    /// A runner for plan tasks only (the fan-out worker).
    pub fn planner(fanout: FanoutService) -> Self {
        Self { fanout: Some(fanout), send: None }
    }

    /// A runner for send tasks only (the send worker).
    pub fn sender(send: SendService) -> Self {
        Self { fanout: None, send: Some(send) }
    }

    /// Runs a batch of queue messages (`(message id, body)`) at once and
    /// answers the ids that must come back (SQS partial batch failure):
    /// retryable failures only — an unreadable task is logged and dropped
    /// rather than retried forever, everything else retried.
    pub async fn run_batch(&self, messages: &[(String, String)]) -> Vec<String> {
        let runs = messages.iter().map(|(id, body)| async move { (id, self.run(body).await) });
        let mut failed = Vec::new();
        for (id, outcome) in futures::future::join_all(runs).await {
            match outcome {
                Ok(()) => {}
                Err(TaskError::Unreadable(reason)) => {
                    tracing::error!(message = %id, %reason, "unreadable task dropped")
                }
                Err(error) => {
                    tracing::warn!(message = %id, %error, retryable = error.is_retryable(), "task goes back to the queue");
                    failed.push(id.clone());
                }
            }
        }
        failed
    }

    /// Runs one task from its queue body. `Ok` means acknowledge it.
    pub async fn run(&self, body: &str) -> Result<(), TaskError> {
        match Task::from_body(body).map_err(TaskError::Unreadable)? {
            Task::PlanV1 { district, broadcast } => {
                let fanout = self
                    .fanout
                    .as_ref()
                    .ok_or_else(|| TaskError::Unreadable("a plan task on the send queue".into()))?;
                let outcome = fanout.plan(&district, &broadcast).await?;
                if outcome == PlanOutcome::Missing {
                    tracing::warn!(%district, %broadcast, "plan task for a broadcast that does not exist; dropped");
                }
                Ok(())
            }
            Task::SendV1 { district, broadcast, chunk, deliveries } => {
                let send =
                    self.send.as_ref().ok_or_else(|| TaskError::Unreadable("a send task on the plan queue".into()))?;
                let report = send.send_chunk(&district, &broadcast, chunk, &deliveries).await?;
                tracing::debug!(%district, %broadcast, chunk, sent = report.sent, failed = report.failed,
                    already_done = report.already_done, retry = report.retry, "send chunk done");
                if report.retry > 0 { Err(TaskError::Incomplete(report.retry)) } else { Ok(()) }
            }
            Task::CallAgainV1 { district, broadcast, point, attempt } => {
                let send =
                    self.send.as_ref().ok_or_else(|| TaskError::Unreadable("a call task on the plan queue".into()))?;
                match send.call_again(&district, &broadcast, &point, attempt).await? {
                    super::send::CallAgain::Retry => Err(TaskError::Incomplete(1)),
                    _ => Ok(()),
                }
            }
        }
    }
}
