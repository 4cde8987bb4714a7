//! The `WorkQueue` port: at-least-once hand-off of work between steps.

use std::time::Duration;

use async_trait::async_trait;

/// Most messages one send or receive request carries (SQS's batch limit).
pub const QUEUE_BATCH: usize = 10;

/// A message taken from the queue and not yet acknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    /// The body as it was sent.
    pub body: String,
    /// Handle to acknowledge this delivery of the message.
    pub receipt: String,
    /// How many times the message has been handed out, this time included.
    pub receive_count: u32,
}

/// What went wrong with the queue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueueError {
    /// The request is wrong (empty or oversized message, unknown receipt).
    #[error("invalid queue request: {0}")]
    Invalid(String),
    /// The queue could not be reached or throttled us. Retryable.
    #[error("queue unavailable: {0}")]
    Unavailable(String),
}

impl QueueError {
    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, QueueError::Unavailable(_))
    }
}

/// A queue with at-least-once delivery: a received message that is not
/// acknowledged within its visibility timeout is handed out again, and after
/// the queue's maximum receive count it moves to the dead-letter queue.
#[async_trait]
pub trait WorkQueue: Send + Sync {
    /// Enqueues every body, in requests of at most [`QUEUE_BATCH`]. On error,
    /// some bodies may have been enqueued: senders must be idempotent.
    async fn send(&self, bodies: Vec<String>) -> Result<(), QueueError>;

    /// Up to `max` (at most [`QUEUE_BATCH`]) messages, waiting up to `wait`
    /// for the first. An empty answer means nothing was ready.
    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<ReceivedMessage>, QueueError>;

    /// Acknowledges a delivery so the message is never handed out again.
    /// Acknowledging twice is fine.
    async fn ack(&self, receipt: &str) -> Result<(), QueueError>;
}
