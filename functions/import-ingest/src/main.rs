//! The import triggers on AWS Lambda: S3 `ObjectCreated` events on the
//! imports bucket and the scheduler's EventBridge rule →
//! [`schoolbell_import_ingest::handle_event`], over the composition root.
//!
//! Built only with the crate's `lambda` feature (on by default): the
//! Lambda runtime and `schoolbell/aws` come with it.

use lambda_runtime::{LambdaEvent, service_fn};
use schoolbell::adapters::aws::services_from_env;
use schoolbell::config::process_env;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let (_, services) = services_from_env(&process_env()).await?;
    let service = services.imports()?;
    let service = &service;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
        schoolbell_import_ingest::handle_event(service, event.payload).await.map_err(lambda_runtime::Error::from)
    }))
    .await
}
