//! The API on AWS Lambda: the composition root over the ports the
//! environment names (DynamoDB, S3, the plan queue), a JWKS for tokens, and
//! [`schoolbell_api::router`] behind `lambda_http`.
//!
//! Built only with the crate's `lambda` feature (on by default): the
//! Lambda runtime and `schoolbell/aws` come with it.

use std::sync::Arc;

use schoolbell::adapters::aws::services_from_env;
use schoolbell::auth::Authenticator;
use schoolbell::config::process_env;
use schoolbell_api::{ApiState, router};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let (config, services) = services_from_env(&process_env()).await?;
    let jwks = config.jwks.as_deref().ok_or("environment variable SCHOOLBELL_JWKS is required for the API")?;
    let auth = Authenticator::from_jwks_json(jwks)?
        .with_issuer(config.jwt_issuer.clone())
        .with_audience(config.jwt_audience.clone());
    lambda_http::run(router(ApiState::new(&services, Arc::new(auth))?)).await
}
