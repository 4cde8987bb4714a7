//! Preferences on AWS Lambda: the composition root over DynamoDB, a JWKS
//! for tokens, and [`schoolbell_preferences::router`].
//!
//! Built only with the crate's `lambda` feature (on by default): the
//! Lambda runtime and `schoolbell/aws` come with it.

use std::sync::Arc;

use schoolbell::adapters::aws::services_from_env;
use schoolbell::auth::Authenticator;
use schoolbell::config::process_env;
use schoolbell_preferences::{PreferencesState, router};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let (config, services) = services_from_env(&process_env()).await?;
    let jwks = config.jwks.as_deref().ok_or("environment variable SCHOOLBELL_JWKS is required")?;
    let auth = Authenticator::from_jwks_json(jwks)?
        .with_issuer(config.jwt_issuer.clone())
        .with_audience(config.jwt_audience.clone());
    lambda_http::run(router(PreferencesState { preferences: services.preferences(), auth: Arc::new(auth) })).await
}
