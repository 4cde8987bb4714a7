//! The inbound-SMS function on AWS Lambda: DynamoDB, SNS for the keyword
//! answers, Twilio's token from the environment → [`schoolbell_inbound_sms::router`].

use std::sync::Arc;

use schoolbell::adapters::aws::{DynamoTable, load_sdk_config, reply_service_from_env};
use schoolbell::config::{LambdaConfig, process_env};
use schoolbell_delivery_receipts::{WebhookConfig, Webhooks};
use schoolbell_inbound_sms::{InboundState, router};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let env = process_env();
    let config = LambdaConfig::from_env(&env)?;
    let webhooks = Arc::new(Webhooks::from_config(&WebhookConfig::from_env(&env)?)?);
    let sdk = load_sdk_config().await;
    let table = Arc::new(DynamoTable::new(aws_sdk_dynamodb::Client::new(&sdk), config.table_name));
    let replies = reply_service_from_env(&env, &sdk, table)?;
    lambda_http::run(router(InboundState { replies, webhooks })).await
}
