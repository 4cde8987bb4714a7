//! `schoolbell-fanout-worker`: plans broadcasts. Its SQS event source hands
//! plan tasks (`schoolbell::services::FanoutService` resolves the audience
//! and queues send chunks); an EventBridge schedule (`rate(1 minute)`)
//! queues the broadcasts whose `send_at` or end of quiet hours has come, and
//! applies again receipts that arrived before their message was recorded.
//! [`handle_event`] tells the two apart.

#[cfg(feature = "lambda")]
use aws_lambda_events::event::sqs::SqsEvent;
#[cfg(feature = "lambda")]
use schoolbell::adapters::aws::run_sqs_event;
use schoolbell::services::ServiceError;
#[cfg(feature = "lambda")]
use schoolbell::services::{ReceiptService, SchedulerService, TaskRunner};
#[cfg(feature = "lambda")]
use serde_json::{Value, json};

/// Why an invocation failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// Neither an SQS event nor a scheduled event.
    #[error("not an event this worker handles: {0}")]
    UnknownEvent(String),
    /// The scheduler's store failed (the schedule runs again next minute).
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// Handles a raw Lambda event: SQS records (plan tasks, answered with the
/// partial batch failures) or an EventBridge `Scheduled Event`.
#[cfg(feature = "lambda")]
pub async fn handle_event(
    runner: &TaskRunner,
    scheduler: &SchedulerService,
    receipts: &ReceiptService,
    event: Value,
) -> Result<Value, WorkerError> {
    if event.get("Records").is_some() {
        let event: SqsEvent = serde_json::from_value(event).map_err(|e| WorkerError::UnknownEvent(e.to_string()))?;
        let response = run_sqs_event(runner, event).await;
        return serde_json::to_value(response).map_err(|e| WorkerError::UnknownEvent(e.to_string()));
    }
    if event.get("detail-type").and_then(Value::as_str) == Some("Scheduled Event") {
        let queued = scheduler.run_due().await?;
        let receipts_applied = receipts.reapply_unmatched().await?;
        return Ok(json!({"queued": queued, "receipts_applied": receipts_applied}));
    }
    Err(WorkerError::UnknownEvent("expected SQS records or a scheduled event".into()))
}

#[cfg(test)]
#[cfg(feature = "lambda")]
mod tests {
    use std::sync::Arc;

    use schoolbell::adapters::local::{EmbeddedTable, LocalQueue};
    use schoolbell::ports::{FixedClock, Table, TimeOrderedIds, WorkQueue};
    use schoolbell::root::{Ports, Services, Wiring};

    use super::*;

    fn worker() -> (TaskRunner, SchedulerService, ReceiptService, Arc<LocalQueue>) {
        let table: Arc<dyn Table> = Arc::new(EmbeddedTable::in_memory().unwrap());
        let queue = Arc::new(LocalQueue::new());
        let ports = Ports::new(table, Arc::new(FixedClock::midday_today()), Arc::new(TimeOrderedIds))
            .with_plan_queue(queue.clone())
            .with_send_queue(queue.clone());
        let services = Services::new(ports, Wiring::default());
        let runner = services.planner().unwrap();
        let scheduler = services.scheduler().unwrap();
        (runner, scheduler, services.receipts(), queue)
    }

    fn event(name: &str) -> Value {
        let path = format!("{}/events/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).unwrap()
    }

    #[tokio::test]
    async fn a_plan_task_for_a_missing_broadcast_and_an_unreadable_body_are_both_acknowledged() {
        let (runner, scheduler, receipts, queue) = worker();
        let answer = handle_event(&runner, &scheduler, &receipts, event("plan-task.json")).await.unwrap();
        assert_eq!(answer["batchItemFailures"], serde_json::json!([]), "nothing a retry could fix: {answer}");
        assert!(queue.receive(1, std::time::Duration::ZERO).await.unwrap_or_default().is_empty(), "no send task");
    }

    #[tokio::test]
    async fn the_schedule_queues_waiting_scheduler_and_other_events_are_refused() {
        let (runner, scheduler, receipts, _) = worker();
        let answer = handle_event(&runner, &scheduler, &receipts, event("scheduled.json")).await.unwrap();
        assert_eq!(answer, serde_json::json!({"queued": 0, "receipts_applied": 0}));
        assert!(handle_event(&runner, &scheduler, &receipts, serde_json::json!({"hello": 1})).await.is_err());
    }
}
