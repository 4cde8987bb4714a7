//! The `WorkQueue` contract: what the in-process queue and SQS must do
//! alike. Each function is one behaviour, given a fresh, empty queue and the
//! queue's visibility timeout; `e2e/gateways.rs` runs each against both.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use schoolbell::ports::{QUEUE_BATCH, QueueError, ReceivedMessage, WorkQueue};

async fn receive(queue: &dyn WorkQueue, max: usize, wait: Duration) -> Vec<ReceivedMessage> {
    let messages = queue.receive(max, wait).await.unwrap_or_else(|e| panic!("receive failed: {e}"));
    assert!(messages.len() <= max.min(QUEUE_BATCH), "a receive answers at most min(max, {QUEUE_BATCH}) messages");
    messages
}

async fn ack(queue: &dyn WorkQueue, receipt: &str) {
    queue.ack(receipt).await.unwrap_or_else(|e| panic!("ack failed: {e}"));
}

async fn send(queue: &dyn WorkQueue, bodies: Vec<String>) {
    queue.send(bodies).await.unwrap_or_else(|e| panic!("send failed: {e}"));
}

/// Twenty-five messages sent in one call are received exactly once, in
/// batches of at most ten, and once acknowledged never come back.
pub async fn every_message_is_received_exactly_once_in_batches_of_at_most_ten(
    queue: &dyn WorkQueue,
    visibility: Duration,
) {
    let sent: BTreeSet<String> = (0..25).map(|i| format!("{{\"task\":{i}}}")).collect();
    send(queue, sent.iter().cloned().collect()).await;
    let mut received = Vec::new();
    let started = Instant::now();
    while received.len() < sent.len() && started.elapsed() < Duration::from_secs(20) {
        for message in receive(queue, 25, Duration::from_secs(1)).await {
            assert_eq!(message.receive_count, 1, "a message acknowledged at once is received once");
            ack(queue, &message.receipt).await;
            received.push(message.body);
        }
    }
    assert_eq!(received.len(), sent.len(), "every message arrives, none twice");
    assert_eq!(received.into_iter().collect::<BTreeSet<_>>(), sent);
    tokio::time::sleep(visibility * 2).await;
    assert!(receive(queue, 10, Duration::ZERO).await.is_empty(), "acknowledged messages never come back");
}

/// A message received and not acknowledged is handed out again after the
/// visibility timeout, with a receive count of 2 and a new receipt.
pub async fn an_unacknowledged_message_comes_back_after_the_visibility_timeout(
    queue: &dyn WorkQueue,
    visibility: Duration,
) {
    send(queue, vec!["come back".into()]).await;
    let first = receive(queue, 10, Duration::from_secs(2)).await;
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].receive_count, 1);
    assert!(receive(queue, 10, Duration::ZERO).await.is_empty(), "a received message is hidden");
    let mut again = Vec::new();
    let started = Instant::now();
    while again.is_empty() && started.elapsed() < visibility * 3 + Duration::from_secs(5) {
        again = receive(queue, 10, visibility).await;
    }
    assert_eq!(again.len(), 1, "the message comes back");
    assert_eq!(again[0].body, "come back");
    assert_eq!(again[0].receive_count, 2);
    assert_ne!(again[0].receipt, first[0].receipt, "each delivery has its own receipt");
    ack(queue, &again[0].receipt).await;
}

/// An acknowledged message never comes back, and acknowledging twice is fine.
pub async fn an_acknowledged_message_never_comes_back(queue: &dyn WorkQueue, visibility: Duration) {
    send(queue, vec!["done once".into()]).await;
    let received = receive(queue, 1, Duration::from_secs(2)).await;
    assert_eq!(received.len(), 1);
    ack(queue, &received[0].receipt).await;
    ack(queue, &received[0].receipt).await;
    tokio::time::sleep(visibility * 2).await;
    assert!(receive(queue, 10, Duration::ZERO).await.is_empty());
}

/// An empty queue answers nothing once the wait is over.
pub async fn an_empty_queue_answers_nothing_after_the_wait(queue: &dyn WorkQueue) {
    let started = Instant::now();
    assert!(receive(queue, 10, Duration::from_secs(1)).await.is_empty());
    assert!(started.elapsed() >= Duration::from_millis(500), "the receive waited for messages");
    assert!(receive(queue, 0, Duration::from_secs(1)).await.is_empty(), "asking for nothing gets nothing");
}

/// Empty bodies are refused before anything is sent.
pub async fn empty_bodies_are_refused(queue: &dyn WorkQueue) {
    assert!(matches!(queue.send(vec!["fine".into(), String::new()]).await, Err(QueueError::Invalid(_))));
    assert!(receive(queue, 10, Duration::ZERO).await.is_empty(), "nothing of a refused send is enqueued");
}
