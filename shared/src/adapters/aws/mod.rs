//! AWS adapters (feature `aws`): DynamoDB for the `Table`, SNS for SMS,
//! SESv2 for email, SQS for the `WorkQueue`, S3 for the `FileStore`; and
//! the SQS event a worker Lambda receives (`run_sqs_event`).
//! SDK errors are mapped to the port's error enum here and never leak.

mod dynamo_table;
mod s3;
mod sdk_failure;
mod ses;
mod sns;
mod sqs;
mod sqs_event;
mod voice;
mod wiring;

pub use dynamo_table::{DynamoTable, classify as classify_dynamo_error, create_table};
pub use s3::S3FileStore;
pub use ses::{EmailOptions, SesEmailGateway};
pub use sns::{SmsOptions, SnsSmsGateway};
pub use sqs::{MAX_BODY_BYTES, SqsWorkQueue, create_queue_with_dead_letter};
pub use sqs_event::run_sqs_event;
pub use voice::{EumVoiceGateway, VoiceOptions, voice_for};
pub use wiring::{WiringError, ports_from_env, services_from_env, wiring_from_env};

/// Loads the SDK configuration the Lambda environment provides (region,
/// role credentials; `AWS_ENDPOINT_URL` for emulators).
pub async fn load_sdk_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}
