//! For tests: a work queue that is down, to show what a service does when
//! it cannot queue (the scheduler must pick the work up later).

use std::time::Duration;

use async_trait::async_trait;

use crate::ports::{QueueError, ReceivedMessage, WorkQueue};

/// A queue that refuses every message and has none to give.
pub(crate) struct DownQueue;

#[async_trait]
impl WorkQueue for DownQueue {
    async fn send(&self, _: Vec<String>) -> Result<(), QueueError> {
        Err(QueueError::Unavailable("the queue is down".into()))
    }

    async fn receive(&self, _: usize, _: Duration) -> Result<Vec<ReceivedMessage>, QueueError> {
        Ok(Vec::new())
    }

    async fn ack(&self, _: &str) -> Result<(), QueueError> {
        Ok(())
    }
}
