//! The worker Lambdas' side of SQS: an event source mapping hands a batch
//! of messages; each is run as a task and only the retryable failures are
//! answered back (`ReportBatchItemFailures`), so SQS redelivers just those.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};

use crate::services::TaskRunner;

/// Runs every message of the event; answers the ones SQS must redeliver.
pub async fn run_sqs_event(runner: &TaskRunner, event: SqsEvent) -> SqsBatchResponse {
    let messages: Vec<(String, String)> = event
        .records
        .into_iter()
        .map(|record| (record.message_id.unwrap_or_default(), record.body.unwrap_or_default()))
        .collect();
    let failed = runner.run_batch(&messages).await;
    SqsBatchResponse {
        batch_item_failures: failed.into_iter().map(|id| BatchItemFailure { item_identifier: id }).collect(),
    }
}
