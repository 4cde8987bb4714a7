//! Preferences on AWS Lambda: configuration from the environment, DynamoDB,
//! a JWKS for tokens, and [`schoolbell_preferences::router`].

use std::sync::Arc;

use schoolbell::adapters::aws::{DynamoTable, load_sdk_config};
use schoolbell::auth::Authenticator;
use schoolbell::config::{LambdaConfig, process_env};
use schoolbell::domain::PreferenceDefaults;
use schoolbell::ports::{RandomIds, SystemClock};
use schoolbell::services::{ListService, PreferenceService};
use schoolbell_preferences::{PreferencesState, router};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = LambdaConfig::from_env(&process_env())?;
    let jwks = config.jwks.as_deref().ok_or("environment variable SCHOOLBELL_JWKS is required")?;
    let auth = Authenticator::from_jwks_json(jwks)?
        .with_issuer(config.jwt_issuer.clone())
        .with_audience(config.jwt_audience.clone());
    let sdk = load_sdk_config().await;
    let table = Arc::new(DynamoTable::new(aws_sdk_dynamodb::Client::new(&sdk), config.table_name));
    let lists = ListService::new(table.clone(), Arc::new(SystemClock), Arc::new(RandomIds));
    let preferences =
        PreferenceService::new(table, PreferenceDefaults::default(), Arc::new(SystemClock), Arc::new(RandomIds))
            .with_lists(Arc::new(lists));
    lambda_http::run(router(PreferencesState { preferences, auth: Arc::new(auth) })).await
}
