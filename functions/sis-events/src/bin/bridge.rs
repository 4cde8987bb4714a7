//! The SIS event bus's rule target on AWS Lambda: the composition root over
//! DynamoDB and the plan queue → [`schoolbell_sis_events::bridge::handle_bridge_event`].
//! An event that is not ours is logged and dropped (retrying cannot help);
//! a retryable failure fails the invocation so Lambda tries again.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use lambda_runtime::{LambdaEvent, service_fn};
use schoolbell::adapters::aws::services_from_env;
use schoolbell::config::process_env;
use schoolbell_sis_events::bridge::{SisEventsDetail, handle_bridge_event};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let (_, services) = services_from_env(&process_env()).await?;
    let events = services.sis_events()?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<EventBridgeEvent<SisEventsDetail>>| {
        let events = events.clone();
        async move {
            match handle_bridge_event(&events, event.payload).await {
                Ok(answer) => Ok(serde_json::to_value(answer)?),
                Err(error) if error.is_retryable() => Err(lambda_runtime::Error::from(error.to_string())),
                Err(error) => {
                    tracing::error!(%error, "SIS bus event dropped");
                    Ok(serde_json::Value::Null)
                }
            }
        }
    }))
    .await
}
