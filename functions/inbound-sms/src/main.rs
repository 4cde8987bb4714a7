//! The inbound-SMS function on AWS Lambda: DynamoDB, SNS for the keyword
//! answers, Twilio's token from the environment → [`schoolbell_inbound_sms::router`].

use std::sync::Arc;

use schoolbell::adapters::aws::{DynamoTable, SmsOptions, SnsSmsGateway, load_sdk_config};
use schoolbell::config::{LambdaConfig, process_env};
use schoolbell::domain::DistrictId;
use schoolbell::ports::SystemClock;
use schoolbell::services::ReplyService;
use schoolbell_delivery_receipts::{WebhookConfig, Webhooks};
use schoolbell_inbound_sms::{InboundState, router};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let env = process_env();
    let config = LambdaConfig::from_env(&env)?;
    let webhooks = Arc::new(Webhooks::from_config(&WebhookConfig::from_env(&env)?)?);
    let default_district = env.optional("SCHOOLBELL_DEFAULT_DISTRICT").map(DistrictId::parse).transpose()?;
    let sdk = load_sdk_config().await;
    let table = Arc::new(DynamoTable::new(aws_sdk_dynamodb::Client::new(&sdk), config.table_name));
    let sms = SmsOptions {
        sender_id: env.optional("SCHOOLBELL_SMS_SENDER_ID"),
        origination_number: env.optional("SCHOOLBELL_SMS_ORIGINATION_NUMBER"),
    };
    let gateway = Arc::new(SnsSmsGateway::new(aws_sdk_sns::Client::new(&sdk), sms));
    let replies = ReplyService::new(table, gateway, Arc::new(SystemClock), default_district);
    lambda_http::run(router(InboundState { replies, webhooks })).await
}
