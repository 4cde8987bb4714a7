//! Delivery events on AWS Lambda: the composition root over DynamoDB and
//! SNS (for keyword answers) → [`schoolbell_delivery_events::handle_event`].
//!
//! Built only with the crate's `lambda` feature (on by default): the
//! Lambda runtime and `schoolbell/aws` come with it.

use lambda_runtime::{LambdaEvent, service_fn};
use schoolbell::adapters::aws::services_from_env;
use schoolbell::config::process_env;
use schoolbell_delivery_events::{Handlers, handle_event};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let (_, services) = services_from_env(&process_env()).await?;
    let handlers = Handlers { receipts: services.receipts(), replies: services.replies()? };
    let handlers = &handlers;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
        handle_event(handlers, event.payload).await.map_err(lambda_runtime::Error::from)
    }))
    .await
}
