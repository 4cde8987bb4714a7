//! Delivery events on AWS Lambda: DynamoDB and SNS (for keyword answers)
//! from the environment → [`schoolbell_delivery_events::handle_event`].

use std::sync::Arc;

use lambda_runtime::{LambdaEvent, service_fn};
use schoolbell::adapters::aws::{DynamoTable, load_sdk_config, reply_service_from_env};
use schoolbell::config::{LambdaConfig, process_env};
use schoolbell::ports::SystemClock;
use schoolbell::services::ReceiptService;
use schoolbell_delivery_events::{Handlers, handle_event};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let env = process_env();
    let config = LambdaConfig::from_env(&env)?;
    let sdk = load_sdk_config().await;
    let table = Arc::new(DynamoTable::new(aws_sdk_dynamodb::Client::new(&sdk), config.table_name));
    let clock = Arc::new(SystemClock);
    let handlers = Handlers {
        receipts: ReceiptService::new(table.clone(), clock),
        replies: reply_service_from_env(&env, &sdk, table)?,
    };
    let handlers = &handlers;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
        handle_event(handlers, event.payload).await.map_err(lambda_runtime::Error::from)
    }))
    .await
}
