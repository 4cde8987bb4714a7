//! The local gateway's background work, what SQS event sources, the
//! EventBridge schedule and the carriers' webhooks drive on AWS:
//!
//! - a loop per queue (plan, send) that runs each task and acknowledges it
//!   only when done, so a failed or crashed task is handed out again after
//!   the visibility timeout and dead-lettered after the receive limit;
//! - the simulated carrier's receipts, the simulated voice service's call
//!   events and the outbox's email events, applied to deliveries and
//!   contact statuses as provider webhooks would be;
//! - the scheduler tick for broadcasts waiting for `send_at` or the end of
//!   quiet hours, and for busy or unanswered calls whose next try is due.
//!
//! [`drain`] runs the queues to empty in the caller's task, for benchmarks.
//! [`Drainer`] does all of the above by hand, in the caller's task, for the
//! demo and the tests: queues to empty, every receipt the simulated carrier
//! and the outbox produced applied, the scheduler's tick at the clock's time.
//! Nothing waits: what it returns from is done.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::stream::{self, StreamExt as _};
use schoolbell::adapters::local::{CallEvent, CarrierReceipt, EmailEvent, LocalQueue, SimulatedCallOutcome};
use schoolbell::domain::{EmailStatus, SmsStatus};
use schoolbell::ports::{QUEUE_BATCH, ReceivedMessage, WorkQueue};
use schoolbell::receipts::{ReceiptKind, ReceiptStatus};
use schoolbell::services::{Applied, ReceiptEvent, ReceiptService, SchedulerService, TaskRunner};
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::TryRecvError;
use tokio::task::JoinHandle;

/// How often waiting broadcasts are looked at.
pub const BROADCAST_TICK: Duration = Duration::from_secs(5);
/// Tasks run at once (several receives of [`QUEUE_BATCH`]).
const TASKS_IN_FLIGHT: usize = 32 * QUEUE_BATCH;

/// Receives and runs tasks until the queue is empty; answers how many ran.
/// A task that fails stays in the queue (it comes back after the
/// visibility timeout), exactly as a Lambda batch failure would.
pub async fn drain_once(queue: &LocalQueue, runner: &TaskRunner) -> usize {
    // A steady stream of tasks, TASKS_IN_FLIGHT of them running at any
    // moment, as many Lambda instances would take batches: a task that
    // finishes makes room for the next at once, so small tasks (an SIS
    // event's one-student plan) never wait for a slow one, and their table
    // writes arrive together and share commits.
    let mut ran = 0;
    let mut running = stream::FuturesUnordered::new();
    loop {
        while running.len() + QUEUE_BATCH <= TASKS_IN_FLIGHT {
            match queue.receive(QUEUE_BATCH, Duration::ZERO).await {
                Ok(batch) if !batch.is_empty() => {
                    ran += batch.len();
                    running.extend(batch.into_iter().map(|message| run_task(queue, runner, message)));
                }
                _ => break,
            }
        }
        if running.next().await.is_none() {
            return ran;
        }
    }
}

/// Runs one task and acknowledges it when done; a failed one stays in the
/// queue (it comes back after the visibility timeout).
async fn run_task(queue: &LocalQueue, runner: &TaskRunner, message: ReceivedMessage) {
    match runner.run(&message.body).await {
        Ok(()) => {
            let _ = queue.ack(&message.receipt).await;
        }
        Err(error) => tracing::warn!(%error, retryable = error.is_retryable(), "task left in the queue"),
    }
}

/// Runs the plan queue and the send queue at once, as their workers do,
/// until both are empty.
pub async fn drain(plan_queue: &LocalQueue, send_queue: &LocalQueue, runner: &TaskRunner) -> usize {
    let mut ran = 0;
    loop {
        let (planned, sent) = tokio::join!(drain_once(plan_queue, runner), drain_once(send_queue, runner));
        ran += planned + sent;
        if planned + sent == 0 {
            return ran;
        }
    }
}

/// A queue loop: waits for tasks and runs them, forever.
pub async fn run_queue(queue: Arc<LocalQueue>, runner: TaskRunner) {
    loop {
        if drain_once(&queue, &runner).await == 0 {
            // Wait for the next message without busy-looping.
            if let Ok(messages) = queue.receive(1, Duration::from_secs(1)).await {
                for message in messages {
                    match runner.run(&message.body).await {
                        Ok(()) => {
                            let _ = queue.ack(&message.receipt).await;
                        }
                        Err(error) => tracing::warn!(%error, "task left in the queue"),
                    }
                }
            }
        }
    }
}

/// The receipt event a simulated carrier's answer stands for.
pub fn carrier_event(receipt: &CarrierReceipt) -> ReceiptEvent {
    let status = match receipt.status {
        SmsStatus::Ok => ReceiptStatus::Delivered,
        SmsStatus::Landline => ReceiptStatus::Landline,
        SmsStatus::TurnedOff => ReceiptStatus::TurnedOff,
        SmsStatus::Unconfirmed => ReceiptStatus::Unconfirmed,
        SmsStatus::Blocked => ReceiptStatus::Blocked,
        SmsStatus::Inactive => ReceiptStatus::Inactive,
        SmsStatus::OptOut => ReceiptStatus::OptOut,
    };
    ReceiptEvent {
        provider_message_id: receipt.provider_message_id.clone(),
        kind: ReceiptKind::Sms,
        status,
        is_final: true,
        raw_code: Some(format!("sim:{}", receipt.status)),
        occurred_at: None,
        source: "simulated".into(),
    }
}

/// The receipt event a simulated call's end stands for.
pub fn call_event(event: &CallEvent) -> ReceiptEvent {
    let status = match event.outcome {
        SimulatedCallOutcome::Answered => ReceiptStatus::Delivered,
        SimulatedCallOutcome::Machine => ReceiptStatus::Machine,
        SimulatedCallOutcome::Busy => ReceiptStatus::Busy,
        SimulatedCallOutcome::NoAnswer => ReceiptStatus::NoAnswer,
        SimulatedCallOutcome::Disconnected => ReceiptStatus::Inactive,
        SimulatedCallOutcome::Failed => ReceiptStatus::CallFailed,
    };
    ReceiptEvent {
        provider_message_id: event.provider_message_id.clone(),
        kind: ReceiptKind::Call,
        status,
        is_final: true,
        raw_code: Some(format!("sim:{}", event.outcome.as_str())),
        occurred_at: None,
        source: "simulated".into(),
    }
}

/// The receipt event an outbox email event stands for.
pub fn email_event(event: &EmailEvent) -> ReceiptEvent {
    let status = match event.status {
        EmailStatus::Ok => ReceiptStatus::Delivered,
        EmailStatus::BouncedTransient => ReceiptStatus::BouncedTransient,
        EmailStatus::BouncedPermanent => ReceiptStatus::BouncedPermanent,
        EmailStatus::Complaint => ReceiptStatus::Complaint,
    };
    ReceiptEvent {
        provider_message_id: event.provider_message_id.clone(),
        kind: ReceiptKind::Email,
        status,
        is_final: true,
        raw_code: Some(format!("outbox:{}", event.status)),
        occurred_at: None,
        source: "outbox".into(),
    }
}

/// Applies every event of a subscription as it arrives.
pub async fn apply_events<T: Clone + Send + 'static>(
    mut events: broadcast::Receiver<T>,
    receipts: ReceiptService,
    to_event: fn(&T) -> ReceiptEvent,
) {
    loop {
        match events.recv().await {
            Ok(event) => {
                let event = to_event(&event);
                match receipts.apply(&event).await {
                    // The simulated carrier answers within microseconds,
                    // before the sender has marked the message sent: try
                    // again shortly, as the scheduler would later.
                    Ok(Applied::Unmatched) => {
                        let receipts = receipts.clone();
                        tokio::spawn(async move {
                            for wait in [50, 250, 1000, 4000] {
                                tokio::time::sleep(Duration::from_millis(wait)).await;
                                if !matches!(receipts.apply(&event).await, Ok(Applied::Unmatched)) {
                                    return;
                                }
                            }
                        });
                    }
                    Ok(_) => {}
                    Err(error) => tracing::error!(%error, "receipt not applied"),
                }
            }
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                tracing::warn!(missed, "receipt subscriber fell behind; receipts lost");
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// Queues broadcasts whose time has come, and applies again receipts that
/// beat their message's record, every [`BROADCAST_TICK`].
pub async fn run_broadcast_scheduler(scheduler: SchedulerService, receipts: ReceiptService) {
    let mut tick = tokio::time::interval(BROADCAST_TICK);
    loop {
        tick.tick().await;
        match scheduler.run_due().await {
            Ok(0) => {}
            Ok(due) => tracing::info!(due, "waiting broadcasts queued"),
            Err(error) => tracing::error!(%error, "broadcast scheduler failed"),
        }
        if let Err(error) = receipts.reapply_unmatched().await {
            tracing::error!(%error, "kept receipts not applied again");
        }
    }
}

/// The background work of `serve`, run by hand (see the module docs). It
/// subscribes to the carrier's and the outbox's receipts when it is made,
/// so make it before sending anything.
pub struct Drainer {
    plan_queue: Arc<LocalQueue>,
    send_queue: Arc<LocalQueue>,
    runner: TaskRunner,
    scheduler: SchedulerService,
    receipts: ReceiptService,
    carrier: Mutex<broadcast::Receiver<CarrierReceipt>>,
    outbox: Mutex<broadcast::Receiver<EmailEvent>>,
    calls: Mutex<broadcast::Receiver<CallEvent>>,
}

/// Takes what a subscription holds now, without waiting.
fn take_now<T: Clone>(events: &Mutex<broadcast::Receiver<T>>, to_event: fn(&T) -> ReceiptEvent) -> Vec<ReceiptEvent> {
    let mut events = events.lock().unwrap_or_else(PoisonError::into_inner);
    let mut taken = Vec::new();
    loop {
        match events.try_recv() {
            Ok(event) => taken.push(to_event(&event)),
            Err(TryRecvError::Lagged(missed)) => tracing::warn!(missed, "receipts lost: the drainer fell behind"),
            Err(TryRecvError::Empty | TryRecvError::Closed) => return taken,
        }
    }
}

impl Drainer {
    /// A drainer over the gateway's queues, services and receipt sources.
    pub fn new(gateway: &crate::LocalGateway) -> Self {
        Self {
            plan_queue: Arc::clone(&gateway.plan_queue),
            send_queue: Arc::clone(&gateway.send_queue),
            runner: gateway.task_runner(),
            scheduler: gateway.scheduler(),
            receipts: gateway.receipt_service(),
            carrier: Mutex::new(gateway.carrier.subscribe()),
            outbox: Mutex::new(gateway.outbox.subscribe()),
            calls: Mutex::new(gateway.calls.subscribe()),
        }
    }

    /// Runs both queues to empty and applies every receipt they caused,
    /// until neither has anything left; answers how many tasks ran.
    pub async fn drain(&self) -> usize {
        let mut ran = 0;
        loop {
            let tasks = drain(&self.plan_queue, &self.send_queue, &self.runner).await;
            let mut events = take_now(&self.carrier, carrier_event);
            events.extend(take_now(&self.outbox, email_event));
            events.extend(take_now(&self.calls, call_event));
            for event in &events {
                if let Err(error) = self.receipts.apply(event).await {
                    tracing::error!(%error, "receipt not applied");
                }
            }
            ran += tasks;
            if tasks == 0 && events.is_empty() {
                return ran;
            }
        }
    }

    /// The scheduler's tick at the clock's time: queues the broadcasts whose
    /// time has come, applies kept receipts again, then drains; answers how
    /// many broadcasts were due.
    pub async fn tick(&self) -> Result<usize, schoolbell::services::ServiceError> {
        let due = self.scheduler.run_due().await?;
        self.receipts.reapply_unmatched().await?;
        self.drain().await;
        Ok(due)
    }
}

/// Handles of the background tasks; dropping them does not stop them, [`Workers::stop`] does.
pub struct Workers(Vec<JoinHandle<()>>);

impl Workers {
    /// Starts every background task.
    pub fn start(gateway: &crate::LocalGateway) -> Self {
        let runner = gateway.task_runner();
        let receipts = gateway.receipt_service();
        Self(vec![
            tokio::spawn(run_queue(Arc::clone(&gateway.plan_queue), runner.clone())),
            tokio::spawn(run_queue(Arc::clone(&gateway.send_queue), runner)),
            tokio::spawn(apply_events(gateway.carrier.subscribe(), receipts.clone(), carrier_event)),
            tokio::spawn(apply_events(gateway.outbox.subscribe(), receipts.clone(), email_event)),
            tokio::spawn(apply_events(gateway.calls.subscribe(), receipts, call_event)),
            tokio::spawn(run_broadcast_scheduler(gateway.scheduler(), gateway.receipt_service())),
        ])
    }

    /// Stops them all.
    pub fn stop(self) {
        for handle in self.0 {
            handle.abort();
        }
    }
}
