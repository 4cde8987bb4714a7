//! `LocalQueue`: the `WorkQueue` port in process, with SQS's semantics:
//! at-least-once delivery, a visibility timeout after which an unacknowledged
//! message is handed out again, a receive count, and a dead-letter list after
//! the maximum receives. Time is tokio's, so tests may pause it.
//!
//! In memory ([`LocalQueue::new`]) the messages die with the process; a
//! durable queue ([`LocalQueue::durable`]) also writes them to a
//! [`QueueFile`], and at open hands out again everything not acknowledged
//! (what was in flight included), counts and dead letters kept.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::queue_file::{Change, Journal, QueueFile};
use crate::ports::{QUEUE_BATCH, QueueError, ReceivedMessage, WorkQueue};

/// Largest message body, as the SQS adapter enforces it.
pub const MAX_LOCAL_BODY_BYTES: usize = 256 * 1024;

/// SQS's default visibility timeout.
const DEFAULT_VISIBILITY_TIMEOUT: Duration = Duration::from_secs(30);

/// Receives before a message is dead-lettered, as in the template's queues.
const DEFAULT_MAX_RECEIVES: u32 = 5;

#[derive(Debug)]
struct Visible {
    /// The message's id in the queue file (also set, unused, in memory).
    id: u64,
    body: String,
    receive_count: u32,
}

#[derive(Debug)]
struct InFlight {
    id: u64,
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
    next_id: u64,
}

impl State {
    /// Makes messages whose visibility timeout ran out visible again, or
    /// dead-letters them once they have been received `max_receives` times.
    /// Answers the dead-lettering, for the queue file.
    fn release_expired(&mut self, now: Instant, max_receives: u32) -> Vec<Change> {
        let mut expired: Vec<InFlight> =
            self.in_flight.extract_if(|_, message| message.visible_at <= now).map(|(_, m)| m).collect();
        expired.sort_by_key(|message| (message.visible_at, message.id));
        let mut dead = Vec::new();
        for message in expired {
            if message.receive_count >= max_receives {
                tracing::warn!(
                    receive_count = message.receive_count,
                    "local queue moved a message to the dead letters"
                );
                dead.push(Change::Dead { id: message.id });
                self.dead.push(message.body);
            } else {
                self.visible.push_back(Visible {
                    id: message.id,
                    body: message.body,
                    receive_count: message.receive_count,
                });
            }
        }
        dead
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
    /// Where a durable queue keeps its messages. Written under the state's
    /// lock, so the file and the memory never disagree on order.
    journal: Option<Journal>,
}

impl Default for LocalQueue {
    fn default() -> Self {
        Self::new()
    }
}

impl LocalQueue {
    /// An empty queue in memory with SQS's defaults: a 30 s visibility
    /// timeout and dead-lettering after 5 receives.
    pub fn new() -> Self {
        Self {
            state: Mutex::new(State::default()),
            sent: Notify::new(),
            visibility_timeout: DEFAULT_VISIBILITY_TIMEOUT,
            max_receives: DEFAULT_MAX_RECEIVES,
            journal: None,
        }
    }

    /// The queue `name` kept in `file`, with SQS's defaults: what was sent
    /// and not acknowledged before is handed out again (at once, even what
    /// was in flight), with its receive count, and the dead letters stay dead.
    pub fn durable(file: &QueueFile, name: &str) -> Result<Self, QueueError> {
        let journal = file.journal(name)?;
        let loaded = journal.load()?;
        let restored = loaded.waiting.len();
        let now = Instant::now();
        // In flight and due now: the first look releases them, or
        // dead-letters those at the receive limit set by then.
        let in_flight = loaded
            .waiting
            .into_iter()
            .map(|kept| {
                let message =
                    InFlight { id: kept.id, body: kept.body, receive_count: kept.receive_count, visible_at: now };
                (uuid::Uuid::new_v4().to_string(), message)
            })
            .collect();
        let state = State { visible: VecDeque::new(), in_flight, dead: loaded.dead, next_id: loaded.next_id };
        if restored > 0 {
            tracing::info!(queue = name, restored, "local queue kept messages from before the restart");
        }
        Ok(Self { state: Mutex::new(state), journal: Some(journal), ..Self::new() })
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

    /// [`State::release_expired`], the dead letters recorded in the file.
    /// A failure to record them is only logged: at worst a dead letter is
    /// handed out again after a restart.
    fn release_expired(&self, state: &mut State, now: Instant) {
        let dead = state.release_expired(now, self.max_receives);
        if let Err(error) = self.record(&dead) {
            tracing::warn!(%error, "local queue could not record dead letters");
        }
    }

    fn record(&self, changes: &[Change]) -> Result<(), QueueError> {
        match &self.journal {
            Some(journal) => Ok(journal.apply(changes)?),
            None => Ok(()),
        }
    }

    /// Bodies of the messages that were received `max_receives` times without
    /// an acknowledgement, oldest first.
    pub fn dead_letters(&self) -> Vec<String> {
        let mut state = self.lock();
        self.release_expired(&mut state, Instant::now());
        state.dead.clone()
    }

    /// Messages not yet acknowledged (visible or in flight), dead letters excluded.
    pub fn len(&self) -> usize {
        let mut state = self.lock();
        self.release_expired(&mut state, Instant::now());
        state.visible.len() + state.in_flight.len()
    }

    /// Whether every message sent has been acknowledged or dead-lettered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Hands out up to `max` visible messages, or none.
    fn take(&self, max: usize) -> Result<Vec<ReceivedMessage>, QueueError> {
        let mut state = self.lock();
        let now = Instant::now();
        self.release_expired(&mut state, now);
        let count = max.min(state.visible.len());
        let received: Vec<Change> = state
            .visible
            .iter()
            .take(count)
            .map(|message| Change::Received { id: message.id, receive_count: message.receive_count + 1 })
            .collect();
        self.record(&received)?;
        let taken: Vec<Visible> = state.visible.drain(..count).collect();
        Ok(taken
            .into_iter()
            .map(|message| {
                let receipt = uuid::Uuid::new_v4().to_string();
                let receive_count = message.receive_count + 1;
                state.in_flight.insert(
                    receipt.clone(),
                    InFlight {
                        id: message.id,
                        body: message.body.clone(),
                        receive_count,
                        visible_at: now + self.visibility_timeout,
                    },
                );
                ReceivedMessage { body: message.body, receipt, receive_count }
            })
            .collect())
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
        {
            let mut state = self.lock();
            let first_id = state.next_id;
            if let Some(journal) = &self.journal {
                journal.append(first_id, &bodies)?;
            }
            state.next_id = first_id + count as u64;
            state.visible.extend((first_id..).zip(bodies).map(|(id, body)| Visible { id, body, receive_count: 0 }));
        }
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
            let messages = self.take(max)?;
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
        let mut state = self.lock();
        match state.in_flight.remove(receipt) {
            Some(message) => self.record(&[Change::Acked { id: message.id }]),
            None => Ok(()),
        }
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
