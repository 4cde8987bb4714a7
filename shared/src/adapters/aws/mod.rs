//! AWS adapters (feature `aws`): DynamoDB for the `Table`, SNS for SMS,
//! SESv2 for email, SQS for the `WorkQueue`, S3 for the `FileStore`.
//! SDK errors are mapped to the port's error enum here and never leak.

/// Loads the SDK configuration the Lambda environment provides (region,
/// role credentials; `AWS_ENDPOINT_URL` for emulators).
pub async fn load_sdk_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}
