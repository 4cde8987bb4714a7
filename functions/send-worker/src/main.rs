//! The send worker on AWS Lambda: the composition root over DynamoDB, SNS
//! and SESv2 (`SCHOOLBELL_EMAIL_FROM` is required), with the send settings
//! of [`schoolbell_send_worker::send_settings`]; SQS events →
//! `schoolbell::adapters::aws::run_sqs_event`.
//!
//! Built only with the crate's `lambda` feature (on by default): the
//! Lambda runtime and `schoolbell/aws` come with it.

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{LambdaEvent, service_fn};
use schoolbell::adapters::aws::{run_sqs_event, services_from_env};
use schoolbell::config::process_env;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let env = process_env();
    env.required("SCHOOLBELL_EMAIL_FROM")?;
    let settings = schoolbell_send_worker::send_settings(&env)?;
    let (_, services) = services_from_env(&env).await?;
    let runner = services.with_send_settings(settings).sender()?;
    let runner = &runner;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, lambda_runtime::Error>(run_sqs_event(runner, event.payload).await)
    }))
    .await
}
