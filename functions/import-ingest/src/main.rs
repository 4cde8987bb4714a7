//! The import triggers on AWS Lambda: S3 `ObjectCreated` events on the
//! imports bucket and the scheduler's EventBridge rule →
//! [`schoolbell_import_ingest::handle_event`].

use std::sync::Arc;

use lambda_runtime::{LambdaEvent, service_fn};
use schoolbell::adapters::aws::{DynamoTable, S3FileStore, load_sdk_config};
use schoolbell::config::{LambdaConfig, process_env};
use schoolbell::ports::{RandomIds, SystemClock};
use schoolbell::services::ImportService;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = LambdaConfig::from_env(&process_env())?;
    let bucket = config.imports_bucket.clone().ok_or("environment variable SCHOOLBELL_IMPORTS_BUCKET is required")?;
    let sdk = load_sdk_config().await;
    let table = Arc::new(DynamoTable::new(aws_sdk_dynamodb::Client::new(&sdk), config.table_name));
    let files = Arc::new(S3FileStore::new(aws_sdk_s3::Client::new(&sdk), bucket, None));
    let service = ImportService::new(table, files, Arc::new(SystemClock), Arc::new(RandomIds), config.phone_region);
    let service = &service;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
        schoolbell_import_ingest::handle_event(service, event.payload).await.map_err(lambda_runtime::Error::from)
    }))
    .await
}
