//! `SqsWorkQueue`: the `WorkQueue` port over an Amazon SQS standard queue,
//! plus the helper tests use to create a queue with its dead-letter queue
//! (in production the SAM template creates both).

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName, SendMessageBatchRequestEntry};

use super::sdk_failure::{SdkFailure, is_throttling_code};
use crate::ports::{QUEUE_BATCH, QueueError, ReceivedMessage, WorkQueue};

/// Largest message body, and largest batch, this adapter sends. SQS takes
/// 1 MiB today; 256 KiB was its limit for years and is far above any task.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Longest long poll SQS allows.
const MAX_WAIT_SECONDS: u64 = 20;

/// A work queue over one SQS queue, addressed by URL.
#[derive(Debug, Clone)]
pub struct SqsWorkQueue {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsWorkQueue {
    /// A queue over `client` at `queue_url`. The redrive policy (maximum
    /// receives, dead-letter queue) and visibility timeout are the queue's own
    /// attributes.
    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        Self { client, queue_url: queue_url.into() }
    }

    /// The queue's URL.
    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }

    /// Sends one batch; answers the entries SQS did not take, as
    /// `(index into entries, sender's fault, description)`.
    async fn send_batch(&self, entries: &[(usize, &str)]) -> Result<Vec<(usize, bool, String)>, QueueError> {
        let mut request = self.client.send_message_batch().queue_url(&self.queue_url);
        for (index, body) in entries {
            let entry = SendMessageBatchRequestEntry::builder()
                .id(index.to_string())
                .message_body(*body)
                .build()
                .map_err(|e| QueueError::Invalid(format!("SQS batch entry: {e}")))?;
            request = request.entries(entry);
        }
        let output =
            request.send().await.map_err(|e| map_sqs_failure("SendMessageBatch", &SdkFailure::from_sdk(&e)))?;
        Ok(output
            .failed()
            .iter()
            .map(|failed| {
                let index = failed.id().parse().unwrap_or(usize::MAX);
                let message = super::sdk_failure::scrub(failed.message().unwrap_or_default());
                (index, failed.sender_fault(), format!("entry {index}: {} {message}", failed.code()))
            })
            .collect())
    }

    /// Sends one chunk, retrying once the entries that failed on SQS's side.
    async fn send_chunk(&self, chunk: &[String]) -> Result<(), QueueError> {
        let entries: Vec<(usize, &str)> = chunk.iter().map(String::as_str).enumerate().collect();
        let failed = self.send_batch(&entries).await?;
        if failed.is_empty() {
            return Ok(());
        }
        let (ours, theirs): (Vec<_>, Vec<_>) = failed.into_iter().partition(|(_, sender_fault, _)| *sender_fault);
        let mut remaining = ours;
        if !theirs.is_empty() {
            let retry: Vec<(usize, &str)> = entries
                .iter()
                .filter(|(index, _)| theirs.iter().any(|(failed, _, _)| failed == index))
                .copied()
                .collect();
            tracing::info!(queue = %self.queue_url, entries = retry.len(), "retrying SQS batch entries that failed");
            remaining.extend(self.send_batch(&retry).await?);
        }
        if remaining.is_empty() {
            return Ok(());
        }
        let list = remaining.iter().map(|(_, _, description)| description.as_str()).collect::<Vec<_>>().join("; ");
        tracing::warn!(queue = %self.queue_url, failed = remaining.len(), "SQS batch entries not sent: {list}");
        if remaining.iter().all(|(_, sender_fault, _)| *sender_fault) {
            Err(QueueError::Invalid(format!("SQS refused batch entries: {list}")))
        } else {
            Err(QueueError::Unavailable(format!("SQS did not take batch entries: {list}")))
        }
    }
}

/// Refuses what SQS would refuse anyway, before any request.
fn validate_body(body: &str) -> Result<(), QueueError> {
    if body.is_empty() {
        return Err(QueueError::Invalid("empty message body".into()));
    }
    if body.len() > MAX_BODY_BYTES {
        return Err(QueueError::Invalid(format!("message body of {} bytes exceeds {MAX_BODY_BYTES}", body.len())));
    }
    Ok(())
}

/// Splits bodies into batches of at most [`QUEUE_BATCH`] messages and
/// [`MAX_BODY_BYTES`] in all (SQS limits both).
fn batches(bodies: &[String]) -> Vec<&[String]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, body) in bodies.iter().enumerate() {
        if i > start && (i - start == QUEUE_BATCH || bytes + body.len() > MAX_BODY_BYTES) {
            out.push(&bodies[start..i]);
            start = i;
            bytes = 0;
        }
        bytes += body.len();
    }
    if start < bodies.len() {
        out.push(&bodies[start..]);
    }
    out
}

#[async_trait]
impl WorkQueue for SqsWorkQueue {
    async fn send(&self, bodies: Vec<String>) -> Result<(), QueueError> {
        for body in &bodies {
            validate_body(body)?;
        }
        for chunk in batches(&bodies) {
            self.send_chunk(chunk).await?;
        }
        Ok(())
    }

    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<ReceivedMessage>, QueueError> {
        let max = max.min(QUEUE_BATCH);
        if max == 0 {
            return Ok(Vec::new());
        }
        let wait_seconds = wait.as_secs().min(MAX_WAIT_SECONDS);
        let output = self
            .client
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(i32::try_from(max).unwrap_or(1))
            .wait_time_seconds(i32::try_from(wait_seconds).unwrap_or(0))
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(|e| map_sqs_failure("ReceiveMessage", &SdkFailure::from_sdk(&e)))?;
        let messages = output
            .messages()
            .iter()
            .filter_map(|message| {
                let receipt = message.receipt_handle()?.to_owned();
                let receive_count = message
                    .attributes()
                    .and_then(|attributes| attributes.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                    .and_then(|count| count.parse().ok())
                    .unwrap_or(1);
                Some(ReceivedMessage { body: message.body().unwrap_or_default().to_owned(), receipt, receive_count })
            })
            .collect::<Vec<_>>();
        tracing::trace!(queue = %self.queue_url, received = messages.len(), "SQS receive");
        Ok(messages)
    }

    async fn ack(&self, receipt: &str) -> Result<(), QueueError> {
        self.client
            .delete_message()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt)
            .send()
            .await
            .map_err(|e| map_sqs_failure("DeleteMessage", &SdkFailure::from_sdk(&e)))?;
        Ok(())
    }
}

/// Maps a failed SQS call: throttling, transport and server failures are
/// retryable; any other refusal (missing queue, invalid receipt handle, bad
/// parameter) is a wrong request.
fn map_sqs_failure(operation: &str, failure: &SdkFailure) -> QueueError {
    match failure {
        SdkFailure::Construction(what) => QueueError::Invalid(format!("SQS {operation}: {what}")),
        SdkFailure::Transport(what) => QueueError::Unavailable(format!("SQS {operation}: {what}")),
        SdkFailure::Service { code, status, .. } => map_sqs_error_code(operation, code, *status, &failure.describe()),
    }
}

fn map_sqs_error_code(operation: &str, code: &str, status: u16, detail: &str) -> QueueError {
    let retryable = is_throttling_code(code)
        || matches!(code, "OverLimit" | "KmsThrottled" | "InternalError" | "InternalFailure" | "ServiceUnavailable")
        || status >= 500;
    if retryable {
        QueueError::Unavailable(format!("SQS {operation}: {detail}"))
    } else {
        QueueError::Invalid(format!("SQS {operation}: {detail}"))
    }
}

/// Creates (or finds, `CreateQueue` is idempotent) the queue `name` and its
/// dead-letter queue `name-dlq`, with a redrive policy that moves a message
/// there after `max_receives` receives, and the visibility timeout (whole
/// seconds, at least one). Answers `(queue_url, dead_letter_queue_url)`.
///
/// Used by tests and local tooling; in production the template creates
/// the queues.
pub async fn create_queue_with_dead_letter(
    client: &aws_sdk_sqs::Client,
    name: &str,
    max_receives: u32,
    visibility_timeout: Duration,
) -> Result<(String, String), QueueError> {
    let dlq_url = queue_url_of(client.create_queue().queue_name(format!("{name}-dlq")).send().await)?;
    let dlq_arn = client
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(failed("GetQueueAttributes"))?
        .attributes()
        .and_then(|attributes| attributes.get(&QueueAttributeName::QueueArn).cloned())
        .ok_or_else(|| QueueError::Unavailable("SQS GetQueueAttributes answered without the queue ARN".into()))?;
    let redrive = serde_json::json!({ "deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receives.to_string() });
    let request = client
        .create_queue()
        .queue_name(name)
        .attributes(QueueAttributeName::RedrivePolicy, redrive.to_string())
        .attributes(QueueAttributeName::VisibilityTimeout, visibility_timeout.as_secs().max(1).to_string());
    let queue_url = queue_url_of(request.send().await)?;
    Ok((queue_url, dlq_url))
}

/// The URL a `CreateQueue` answered with.
fn queue_url_of<E: ProvideErrorMetadata>(
    answer: Result<aws_sdk_sqs::operation::create_queue::CreateQueueOutput, SdkError<E>>,
) -> Result<String, QueueError> {
    answer
        .map_err(failed("CreateQueue"))?
        .queue_url()
        .map(str::to_owned)
        .ok_or_else(|| QueueError::Unavailable("SQS CreateQueue answered without a URL".into()))
}

/// A `map_err` adapter for one SQS operation.
fn failed<E: ProvideErrorMetadata>(operation: &'static str) -> impl Fn(SdkError<E>) -> QueueError {
    move |error| map_sqs_failure(operation, &SdkFailure::from_sdk(&error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_hold_at_most_ten_messages() {
        let bodies: Vec<String> = (0..25).map(|i| format!("m{i}")).collect();
        let sizes: Vec<usize> = batches(&bodies).iter().map(|batch| batch.len()).collect();
        assert_eq!(sizes, [10, 10, 5]);
        assert!(batches(&[]).is_empty());
    }

    #[test]
    fn batches_stay_under_the_request_size_limit() {
        let big = "x".repeat(MAX_BODY_BYTES / 2);
        let bodies = vec![big.clone(), big.clone(), big, "small".into()];
        let sizes: Vec<usize> = batches(&bodies).iter().map(|batch| batch.len()).collect();
        assert_eq!(sizes, [2, 2]);
    }

    #[test]
    fn empty_and_oversized_bodies_are_refused() {
        assert!(matches!(validate_body(""), Err(QueueError::Invalid(_))));
        assert!(matches!(validate_body(&"x".repeat(MAX_BODY_BYTES + 1)), Err(QueueError::Invalid(_))));
        assert!(validate_body("{\"type\":\"plan_v1\"}").is_ok());
    }

    #[test]
    fn throttling_and_server_errors_are_retryable_and_the_rest_is_invalid() {
        assert!(map_sqs_error_code("SendMessage", "RequestThrottled", 400, "").is_retryable());
        assert!(map_sqs_error_code("SendMessage", "OverLimit", 403, "").is_retryable());
        assert!(map_sqs_error_code("SendMessage", "Whatever", 503, "").is_retryable());
        assert!(matches!(
            map_sqs_error_code("DeleteMessage", "ReceiptHandleIsInvalid", 400, ""),
            QueueError::Invalid(_)
        ));
        assert!(map_sqs_failure("ReceiveMessage", &SdkFailure::Transport("connection failed".into())).is_retryable());
    }
}
