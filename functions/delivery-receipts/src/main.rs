//! Delivery receipts on AWS Lambda: the table from [`LambdaConfig`], the
//! providers from [`WebhookConfig`] (each off unless its variable is set),
//! SNS certificates from `SCHOOLBELL_SNS_CERT_DIR` then AWS over HTTPS, and
//! [`schoolbell_delivery_receipts::router`] behind API Gateway.

use std::sync::Arc;

use schoolbell::adapters::aws::{DynamoTable, load_sdk_config, reply_service_from_env};
use schoolbell::config::{LambdaConfig, process_env};
use schoolbell::ports::SystemClock;
use schoolbell::services::ReceiptService;
use schoolbell_delivery_receipts::{ReceiptsState, WebhookConfig, Webhooks, router};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let env = process_env();
    let config = LambdaConfig::from_env(&env)?;
    let webhooks = WebhookConfig::from_env(&env)?;
    tracing::info!(providers = ?webhooks.providers(), public_url = webhooks.public_url.is_some(), "delivery receipts");
    let webhooks = Arc::new(Webhooks::from_config(&webhooks)?);
    let sdk = load_sdk_config().await;
    let table = Arc::new(DynamoTable::new(aws_sdk_dynamodb::Client::new(&sdk), config.table_name));
    let clock = Arc::new(SystemClock);
    let receipts = ReceiptService::new(table.clone(), clock.clone());
    let replies = Some(reply_service_from_env(&env, &sdk, table)?);
    lambda_http::run(router(ReceiptsState { receipts, webhooks, clock, replies })).await
}
