//! The API on AWS Lambda: configuration from the environment, DynamoDB for
//! the table, a JWKS for tokens, and [`schoolbell_api::router`] behind
//! `lambda_http`.

use std::sync::Arc;

use schoolbell::adapters::aws::{DynamoTable, S3FileStore, SqsWorkQueue, load_sdk_config};
use schoolbell::auth::Authenticator;
use schoolbell::config::{LambdaConfig, process_env};
use schoolbell::ports::{RandomIds, SystemClock};
use schoolbell::services::roles::RoleService;
use schoolbell::services::{
    BroadcastService, CleanupService, ImportService, ListService, PeopleService, PersonalMessageService,
};
use schoolbell::store::PeopleStore;
use schoolbell_api::{ApiState, router};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = LambdaConfig::from_env(&process_env())?;
    let jwks = config.jwks.as_deref().ok_or("environment variable SCHOOLBELL_JWKS is required for the API")?;
    let auth = Authenticator::from_jwks_json(jwks)?
        .with_issuer(config.jwt_issuer.clone())
        .with_audience(config.jwt_audience.clone());
    let sdk = load_sdk_config().await;
    let table = Arc::new(DynamoTable::new(aws_sdk_dynamodb::Client::new(&sdk), config.table_name));
    let bucket = config
        .imports_bucket
        .clone()
        .ok_or("environment variable SCHOOLBELL_IMPORTS_BUCKET is required for the API")?;
    let files = Arc::new(S3FileStore::new(aws_sdk_s3::Client::new(&sdk), bucket, None));
    let imports =
        ImportService::new(table.clone(), files, Arc::new(SystemClock), Arc::new(RandomIds), config.phone_region);
    let lists = ListService::new(table.clone(), Arc::new(SystemClock), Arc::new(RandomIds));
    let people = PeopleService::new(PeopleStore::new(table.clone()), config.phone_region);
    let cleanup = CleanupService::new(table.clone());
    let roles = RoleService::new(table.clone(), Arc::new(SystemClock));
    let plan_queue_url = config
        .plan_queue_url
        .clone()
        .ok_or("environment variable SCHOOLBELL_PLAN_QUEUE_URL is required for the API")?;
    let plan_queue = Arc::new(SqsWorkQueue::new(aws_sdk_sqs::Client::new(&sdk), plan_queue_url));
    let broadcasts =
        BroadcastService::new(table.clone(), lists.clone(), plan_queue, Arc::new(SystemClock), Arc::new(RandomIds));
    let personal = PersonalMessageService::new(broadcasts.clone(), PeopleStore::new(table.clone()));
    let state = ApiState { people, imports, cleanup, lists, roles, broadcasts, personal, auth: Arc::new(auth) };
    lambda_http::run(router(state)).await
}
