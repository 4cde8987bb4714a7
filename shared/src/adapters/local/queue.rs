//! `LocalQueue`: the `WorkQueue` port in process, with SQS's semantics:
//! at-least-once delivery, a visibility timeout after which an unacknowledged
//! message is handed out again, a receive count, and a dead-letter list after
//! the maximum receives. Time is tokio's, so tests may pause it.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::ports::{QUEUE_BATCH, QueueError, ReceivedMessage, WorkQueue};

/// Largest message body, as the SQS adapter enforces it.
pub const MAX_LOCAL_BODY_BYTES: usize = 256 * 1024;

/// SQS's default visibility timeout.
const DEFAULT_VISIBILITY_TIMEOUT: Duration = Duration::from_secs(30);

/// Receives before a message is dead-lettered, as in the template's queues.
const DEFAULT_MAX_RECEIVES: u32 = 5;

#[derive(Debug)]
struct Visible {
    body: String,
    receive_count: u32,
}

#[derive(Debug)]
struct InFlight {
    body: String,
    receive_count: u32,
    visible_at: Instant,
}

#[derive(Debug, Default)]
struct State {
    visible: VecDeque<Visible>,
    /// By receipt: each delivery has its own, so an old receipt cannot
    /// acknowledge a later delivery of the same message.
    in_flight: HashMap<String, InFlight>,
    dead: Vec<String>,
}

impl State {
    /// Makes messages whose visibility timeout ran out visible again, or
    /// dead-letters them once they have been received `max_receives` times.
    fn release_expired(&mut self, now: Instant, max_receives: u32) {
        let mut expired: Vec<InFlight> =
            self.in_flight.extract_if(|_, message| message.visible_at <= now).map(|(_, m)| m).collect();
        expired.sort_by_key(|message| message.visible_at);
        for message in expired {
            if message.receive_count >= max_receives {
                tracing::warn!(
                    receive_count = message.receive_count,
                    "local queue moved a message to the dead letters"
                );
                self.dead.push(message.body);
            } else {
                self.visible.push_back(Visible { body: message.body, receive_count: message.receive_count });
            }
        }
    }

    fn next_expiry(&self) -> Option<Instant> {
        self.in_flight.values().map(|message| message.visible_at).min()
    }
}

/// An in-process work queue. Share it (`Arc`) between senders and workers.
#[derive(Debug)]
pub struct LocalQueue {
    state: Mutex<State>,
    sent: Notify,
    visibility_timeout: Duration,
    max_receives: u32,
}

impl Default for LocalQueue {
    fn default() -> Self {
        Self::new()
    }
}

impl LocalQueue {
    /// An empty queue with SQS's defaults: a 30 s visibility timeout and
    /// dead-lettering after 5 receives.
    pub fn new() -> Self {
        Self {
            state: Mutex::new(State::default()),
            sent: Notify::new(),
            visibility_timeout: DEFAULT_VISIBILITY_TIMEOUT,
            max_receives: DEFAULT_MAX_RECEIVES,
        }
    }

    /// How long a received message stays hidden before it is handed out again.
    #[must_use]
    pub fn with_visibility_timeout(mut self, timeout: Duration) -> Self {
        self.visibility_timeout = timeout;
        self
    }

    /// How many receives a message gets before it moves to the dead letters
    /// (at least one).
    #[must_use]
    pub fn with_max_receives(mut self, max_receives: u32) -> Self {
        self.max_receives = max_receives.max(1);
        self
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Bodies of the messages that were received `max_receives` times without
    /// an acknowledgement, oldest first.
    pub fn dead_letters(&self) -> Vec<String> {
        let mut state = self.lock();
        state.release_expired(Instant::now(), self.max_receives);
        state.dead.clone()
    }

    /// Messages not yet acknowledged (visible or in flight), dead letters excluded.
    pub fn len(&self) -> usize {
        let mut state = self.lock();
        state.release_expired(Instant::now(), self.max_receives);
        state.visible.len() + state.in_flight.len()
    }

    /// Whether every message sent has been acknowledged or dead-lettered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Hands out up to `max` visible messages, or none.
    fn take(&self, max: usize) -> Vec<ReceivedMessage> {
        let mut state = self.lock();
        let now = Instant::now();
        state.release_expired(now, self.max_receives);
        let count = max.min(state.visible.len());
        let taken: Vec<Visible> = state.visible.drain(..count).collect();
        taken
            .into_iter()
            .map(|message| {
                let receipt = uuid::Uuid::new_v4().to_string();
                let receive_count = message.receive_count + 1;
                state.in_flight.insert(
                    receipt.clone(),
                    InFlight { body: message.body.clone(), receive_count, visible_at: now + self.visibility_timeout },
                );
                ReceivedMessage { body: message.body, receipt, receive_count }
            })
            .collect()
    }
}

#[async_trait]
impl WorkQueue for LocalQueue {
    async fn send(&self, bodies: Vec<String>) -> Result<(), QueueError> {
        for body in &bodies {
            if body.is_empty() {
                return Err(QueueError::Invalid("empty message body".into()));
            }
            if body.len() > MAX_LOCAL_BODY_BYTES {
                return Err(QueueError::Invalid(format!(
                    "message body of {} bytes exceeds {MAX_LOCAL_BODY_BYTES}",
                    body.len()
                )));
            }
        }
        let count = bodies.len();
        self.lock().visible.extend(bodies.into_iter().map(|body| Visible { body, receive_count: 0 }));
        self.sent.notify_waiters();
        tracing::trace!(count, "local queue took messages");
        Ok(())
    }

    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<ReceivedMessage>, QueueError> {
        let max = max.min(QUEUE_BATCH);
        if max == 0 {
            return Ok(Vec::new());
        }
        let deadline = Instant::now() + wait;
        loop {
            // Registered before looking, so a send between the look and the
            // wait still wakes us.
            let sent = self.sent.notified();
            tokio::pin!(sent);
            sent.as_mut().enable();
            let messages = self.take(max);
            if !messages.is_empty() {
                return Ok(messages);
            }
            if Instant::now() >= deadline {
                return Ok(Vec::new());
            }
            // A message in flight may become visible again before the deadline.
            let wake_at = self.lock().next_expiry().map_or(deadline, |expiry| expiry.min(deadline));
            tokio::select! {
                () = &mut sent => {}
                () = tokio::time::sleep_until(wake_at) => {}
            }
        }
    }

    async fn ack(&self, receipt: &str) -> Result<(), QueueError> {
        // An unknown receipt is an acknowledged, dead-lettered or redelivered
        // delivery: nothing to do, as the port asks.
        self.lock().in_flight.remove(receipt);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bodies(count: usize) -> Vec<String> {
        (0..count).map(|i| format!("task-{i}")).collect()
    }

    const MS: Duration = Duration::from_millis(1);

    #[tokio::test]
    async fn an_unacknowledged_message_comes_back_after_the_visibility_timeout() -> Result<(), QueueError> {
        let queue = LocalQueue::new().with_visibility_timeout(100 * MS);
        queue.send(bodies(1)).await?;
        let first = queue.receive(10, Duration::ZERO).await?;
        assert_eq!(first.len(), 1);
        assert!(queue.receive(10, 50 * MS).await?.is_empty());
        let again = queue.receive(10, 1000 * MS).await?;
        assert_eq!((again[0].body.as_str(), again[0].receive_count), ("task-0", 2));
        assert_ne!(again[0].receipt, first[0].receipt);
        queue.ack(&first[0].receipt).await?;
        assert_eq!(queue.len(), 1, "an old receipt must not acknowledge the redelivery");
        queue.ack(&again[0].receipt).await?;
        queue.ack(&again[0].receipt).await?;
        assert!(queue.is_empty());
        Ok(())
    }

    #[tokio::test]
    async fn a_message_is_dead_lettered_after_max_receives() -> Result<(), QueueError> {
        let queue = LocalQueue::new().with_visibility_timeout(30 * MS).with_max_receives(3);
        queue.send(vec!["poison".into()]).await?;
        for expected in 1..=3 {
            let received = queue.receive(1, 1000 * MS).await?;
            assert_eq!(received[0].receive_count, expected);
        }
        assert!(queue.receive(1, 100 * MS).await?.is_empty());
        assert_eq!(queue.dead_letters(), ["poison"]);
        assert!(queue.is_empty());
        Ok(())
    }

    #[tokio::test]
    async fn a_waiting_receive_wakes_when_a_message_is_sent() -> Result<(), Box<dyn std::error::Error>> {
        let queue = std::sync::Arc::new(LocalQueue::new());
        let receiver = tokio::spawn({
            let queue = queue.clone();
            async move { queue.receive(10, Duration::from_secs(10)).await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        let started = std::time::Instant::now();
        queue.send(bodies(12)).await?;
        let received = receiver.await??;
        assert_eq!(received.len(), 10);
        assert!(started.elapsed() < Duration::from_secs(1));
        Ok(())
    }

    #[tokio::test]
    async fn empty_and_oversized_bodies_are_refused() {
        let queue = LocalQueue::new();
        assert!(matches!(queue.send(vec![String::new()]).await, Err(QueueError::Invalid(_))));
        let big = "x".repeat(MAX_LOCAL_BODY_BYTES + 1);
        assert!(matches!(queue.send(vec![big]).await, Err(QueueError::Invalid(_))));
        assert!(queue.is_empty());
    }
}
