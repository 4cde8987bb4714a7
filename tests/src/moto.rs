//! Access to the moto server that `tests/run` starts on 127.0.0.1.
//!
//! `tests/run` exports `SCHOOLBELL_TEST_MOTO_ENDPOINT` and
//! `SCHOOLBELL_REQUIRE_MOTO=1`. Under plain `cargo test` the endpoint is
//! absent and AWS tests print that they were skipped; under `tests/run` a
//! missing endpoint is a failure, so no AWS test can be skipped silently.

use aws_config::{BehaviorVersion, Region, SdkConfig};

/// Environment variable holding moto's base URL (`http://127.0.0.1:PORT`).
pub const ENDPOINT_VAR: &str = "SCHOOLBELL_TEST_MOTO_ENDPOINT";
/// Environment variable that turns a skipped AWS test into a failure.
pub const REQUIRE_VAR: &str = "SCHOOLBELL_REQUIRE_MOTO";

/// moto's endpoint, or `None` (and a note on stderr) when the test must skip.
///
/// # Panics
/// When `SCHOOLBELL_REQUIRE_MOTO` is set but the endpoint is not: the test
/// script promised an emulator and a skip would hide a broken set-up.
pub fn endpoint(test: &str) -> Option<String> {
    match std::env::var(ENDPOINT_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var_os(REQUIRE_VAR).is_none(),
                "{test}: {REQUIRE_VAR} is set but {ENDPOINT_VAR} is not; AWS tests may not be skipped"
            );
            eprintln!("SKIPPED {test}: no moto server ({ENDPOINT_VAR} unset); run tests/run to include AWS tests");
            None
        }
    }
}

/// An SDK configuration for moto: its endpoint, us-east-1, dummy credentials.
pub fn sdk_config(endpoint: &str) -> SdkConfig {
    let credentials = aws_sdk_dynamodb::config::Credentials::new("testing", "testing", None, None, "moto");
    aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_dynamodb::config::SharedCredentialsProvider::new(credentials))
        .build()
}

/// The moto SDK configuration, or `None` when the test must skip.
pub fn config(test: &str) -> Option<SdkConfig> {
    endpoint(test).map(|url| sdk_config(&url))
}

/// A name no other test of the same moto server uses (tables, queues, buckets).
pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}-{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

/// What moto recorded as sent (`GET /moto-api/data.json`).
pub async fn sent_data(endpoint: &str) -> serde_json::Value {
    let response = reqwest::get(format!("{endpoint}/moto-api/data.json"))
        .await
        .unwrap_or_else(|e| panic!("moto data.json unreachable: {e}"));
    let text = response.text().await.unwrap_or_else(|e| panic!("moto data.json unreadable: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("moto data.json is not JSON: {e}"))
}
