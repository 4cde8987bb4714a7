//! The SIS-events route on AWS Lambda: the composition root over DynamoDB
//! and the plan queue → [`schoolbell_sis_events::router`].
//!
//! Built only with the crate's `lambda` feature (on by default).

use schoolbell::adapters::aws::services_from_env;
use schoolbell::config::process_env;
use schoolbell_sis_events::{SisEventsState, router};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let (_, services) = services_from_env(&process_env()).await?;
    let state = SisEventsState { keys: services.sis_keys(), events: services.sis_events()? };
    lambda_http::run(router(state)).await
}
