//! The send worker on AWS Lambda: DynamoDB, SNS and SESv2 from the
//! environment, SQS events → `schoolbell::adapters::aws::run_sqs_event`.

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{LambdaEvent, service_fn};
use schoolbell::adapters::aws::{
    DynamoTable, EmailOptions, SesEmailGateway, SmsOptions, SnsSmsGateway, load_sdk_config, run_sqs_event,
};
use schoolbell::config::{LambdaConfig, process_env};
use schoolbell::domain::EmailAddress;
use schoolbell::ports::SystemClock;
use schoolbell::services::{SendService, TaskRunner};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let env = process_env();
    let config = LambdaConfig::from_env(&env)?;
    let settings = schoolbell_send_worker::send_settings(&env)?;
    let from = EmailAddress::parse(&env.required("SCHOOLBELL_EMAIL_FROM")?)?;
    let sdk = load_sdk_config().await;
    let table = Arc::new(DynamoTable::new(aws_sdk_dynamodb::Client::new(&sdk), config.table_name));
    let sms = SmsOptions {
        sender_id: env.optional("SCHOOLBELL_SMS_SENDER_ID"),
        origination_number: env.optional("SCHOOLBELL_SMS_ORIGINATION_NUMBER"),
    };
    let email = EmailOptions { from, configuration_set: env.optional("SCHOOLBELL_SES_CONFIGURATION_SET") };
    let send = SendService::new(
        table,
        Arc::new(SnsSmsGateway::new(aws_sdk_sns::Client::new(&sdk), sms)),
        Arc::new(SesEmailGateway::new(aws_sdk_sesv2::Client::new(&sdk), email)),
        Arc::new(SystemClock),
        settings,
    );
    let runner = TaskRunner::sender(send);
    let runner = &runner;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, lambda_runtime::Error>(run_sqs_event(runner, event.payload).await)
    }))
    .await
}
