//! The fan-out worker on AWS Lambda: DynamoDB and the two SQS queues from
//! the environment → [`schoolbell_fanout_worker::handle_event`].

use std::sync::Arc;

use lambda_runtime::{LambdaEvent, service_fn};
use schoolbell::adapters::aws::{DynamoTable, SqsWorkQueue, load_sdk_config};
use schoolbell::config::{LambdaConfig, process_env};
use schoolbell::ports::{RandomIds, SystemClock};
use schoolbell::services::{BroadcastService, FanoutService, ListService, ReceiptService, TaskRunner};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = LambdaConfig::from_env(&process_env())?;
    let plan_url = config.plan_queue_url.clone().ok_or("environment variable SCHOOLBELL_PLAN_QUEUE_URL is required")?;
    let send_url = config.send_queue_url.clone().ok_or("environment variable SCHOOLBELL_SEND_QUEUE_URL is required")?;
    let sdk = load_sdk_config().await;
    let table = Arc::new(DynamoTable::new(aws_sdk_dynamodb::Client::new(&sdk), config.table_name));
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let clock = Arc::new(SystemClock);
    let lists = ListService::new(table.clone(), clock.clone(), Arc::new(RandomIds));
    let send_queue = Arc::new(SqsWorkQueue::new(sqs.clone(), send_url));
    let plan_queue = Arc::new(SqsWorkQueue::new(sqs, plan_url));
    let runner = TaskRunner::planner(FanoutService::new(table.clone(), lists.clone(), send_queue, clock.clone()));
    let broadcasts = BroadcastService::new(table.clone(), lists, plan_queue, clock.clone(), Arc::new(RandomIds));
    let receipts = ReceiptService::new(table, clock);
    let (runner, broadcasts, receipts) = (&runner, &broadcasts, &receipts);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
        schoolbell_fanout_worker::handle_event(runner, broadcasts, receipts, event.payload)
            .await
            .map_err(lambda_runtime::Error::from)
    }))
    .await
}
