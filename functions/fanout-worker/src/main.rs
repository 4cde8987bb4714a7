//! The fan-out worker on AWS Lambda: the composition root over DynamoDB and
//! the two SQS queues → [`schoolbell_fanout_worker::handle_event`].
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
    let (runner, scheduler, receipts) = (services.planner()?, services.scheduler()?, services.receipts());
    let (runner, scheduler, receipts) = (&runner, &scheduler, &receipts);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
        schoolbell_fanout_worker::handle_event(runner, scheduler, receipts, event.payload)
            .await
            .map_err(lambda_runtime::Error::from)
    }))
    .await
}
