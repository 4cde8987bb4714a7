//! The inbound-SMS function on AWS Lambda: the composition root over
//! DynamoDB and SNS (keyword answers), Twilio's token from the environment →
//! [`schoolbell_inbound_sms::router`].
//!
//! Built only with the crate's `lambda` feature (on by default): the
//! Lambda runtime and `schoolbell/aws` come with it.

use std::sync::Arc;

use schoolbell::adapters::aws::services_from_env;
use schoolbell::config::process_env;
use schoolbell::webhook_auth::{WebhookConfig, Webhooks};
use schoolbell_inbound_sms::{InboundState, router};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let env = process_env();
    let webhooks = Arc::new(Webhooks::from_config(&WebhookConfig::from_env(&env)?)?);
    let (_, services) = services_from_env(&env).await?;
    lambda_http::run(router(InboundState { replies: services.replies()?, webhooks })).await
}
