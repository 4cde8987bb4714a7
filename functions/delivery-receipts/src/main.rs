//! Delivery receipts on AWS Lambda: the composition root over DynamoDB and
//! SNS (keyword answers), the providers from [`WebhookConfig`] (each off
//! unless its variable is set), SNS certificates from
//! `SCHOOLBELL_SNS_CERT_DIR` then AWS over HTTPS, and
//! [`schoolbell_delivery_receipts::router`] behind API Gateway.
//!
//! Built only with the crate's `lambda` feature (on by default): the
//! Lambda runtime and `schoolbell/aws` come with it.

use std::sync::Arc;

use schoolbell::adapters::aws::services_from_env;
use schoolbell::config::process_env;
use schoolbell_delivery_receipts::{ReceiptsState, WebhookConfig, Webhooks, router};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let env = process_env();
    let webhooks = WebhookConfig::from_env(&env)?;
    tracing::info!(providers = ?webhooks.providers(), public_url = webhooks.public_url.is_some(), "delivery receipts");
    let webhooks = Arc::new(Webhooks::from_config(&webhooks)?);
    let (_, services) = services_from_env(&env).await?;
    let clock = Arc::clone(&services.ports().clock);
    let state = ReceiptsState { receipts: services.receipts(), webhooks, clock, replies: Some(services.replies()?) };
    lambda_http::run(router(state)).await
}
