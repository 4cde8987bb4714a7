//! The AWS side of the composition root: the ports and settings a Lambda
//! function has, read once from its environment, for [`crate::root::Services`].
//!
//! Every function gets the table, the system clock and random ids; a port
//! whose variable is unset stays `None`, so a function asking for a service
//! it was not configured for fails at start-up naming the port.

use std::sync::Arc;

use super::{
    DynamoTable, EmailOptions, EumVoiceGateway, S3FileStore, SesEmailGateway, SmsOptions, SnsSmsGateway, SqsWorkQueue,
    VoiceOptions,
};
use crate::config::{ConfigError, Env, LambdaConfig};
use crate::domain::{DistrictId, DomainError, EmailAddress};
use crate::ports::{SystemClock, TimeOrderedIds};
use crate::root::{Ports, Services, Wiring};
use crate::services::{CursorKey, CursorKeyError};

/// Why a function could not be wired at start-up.
#[derive(Debug, thiserror::Error)]
pub enum WiringError {
    /// A variable is missing or unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A variable holds a value the domain refuses (an address, a district id).
    #[error(transparent)]
    Invalid(#[from] DomainError),
    /// `SCHOOLBELL_CURSOR_KEY` is not a 32-byte key.
    #[error("environment variable SCHOOLBELL_CURSOR_KEY: {0}")]
    CursorKey(#[from] CursorKeyError),
}

impl WiringError {
    /// Never: the environment must be fixed first.
    pub fn is_retryable(&self) -> bool {
        false
    }
}

/// What every function's `main` starts with: its configuration and the
/// composition root over the ports its environment names.
pub async fn services_from_env<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
) -> Result<(LambdaConfig, Services), WiringError> {
    let config = LambdaConfig::from_env(env)?;
    let sdk = super::load_sdk_config().await;
    let services = Services::new(ports_from_env(env, &config, &sdk)?, wiring_from_env(env, &config)?);
    Ok((config, services))
}

/// The ports from the environment: DynamoDB (`SCHOOLBELL_TABLE`); SNS for
/// texts ([`SmsOptions::from_env`]); End User Messaging for calls
/// ([`VoiceOptions::from_env`]); SESv2 when `SCHOOLBELL_EMAIL_FROM` is
/// set (with `SCHOOLBELL_SES_CONFIGURATION_SET`); SQS plan and send queues
/// and the S3 imports bucket when their variables are set.
pub fn ports_from_env<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
    config: &LambdaConfig,
    sdk: &aws_config::SdkConfig,
) -> Result<Ports, DomainError> {
    let table = Arc::new(DynamoTable::new(aws_sdk_dynamodb::Client::new(sdk), config.table_name.clone()));
    let sms = Arc::new(SnsSmsGateway::new(aws_sdk_sns::Client::new(sdk), SmsOptions::from_env(env)));
    let voice = EumVoiceGateway::new(aws_sdk_pinpointsmsvoicev2::Client::new(sdk), VoiceOptions::from_env(env));
    let mut ports =
        Ports::new(table, Arc::new(SystemClock), Arc::new(TimeOrderedIds)).with_sms(sms).with_voice(Arc::new(voice));
    if let Some(from) = env.optional("SCHOOLBELL_EMAIL_FROM") {
        let options = EmailOptions {
            from: EmailAddress::parse(&from)?,
            configuration_set: env.optional("SCHOOLBELL_SES_CONFIGURATION_SET"),
        };
        ports = ports.with_email(Arc::new(SesEmailGateway::new(aws_sdk_sesv2::Client::new(sdk), options)));
    }
    let sqs = aws_sdk_sqs::Client::new(sdk);
    if let Some(url) = &config.plan_queue_url {
        ports = ports.with_plan_queue(Arc::new(SqsWorkQueue::new(sqs.clone(), url.clone())));
    }
    if let Some(url) = &config.send_queue_url {
        ports = ports.with_send_queue(Arc::new(SqsWorkQueue::new(sqs, url.clone())));
    }
    if let Some(bucket) = &config.imports_bucket {
        ports = ports.with_files(Arc::new(S3FileStore::new(aws_sdk_s3::Client::new(sdk), bucket.clone(), None)));
    }
    Ok(ports)
}

/// The settings from the environment: the phone region of `config`,
/// `SCHOOLBELL_DEFAULT_DISTRICT` (optional) for replies to unlisted numbers,
/// and `SCHOOLBELL_CURSOR_KEY` (required: 64 hex digits or base64 of 32
/// bytes), the one key every instance seals page cursors with.
pub fn wiring_from_env<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
    config: &LambdaConfig,
) -> Result<Wiring, WiringError> {
    Ok(Wiring {
        region: config.phone_region,
        default_district: env.optional("SCHOOLBELL_DEFAULT_DISTRICT").map(DistrictId::parse).transpose()?,
        cursor_key: CursorKey::parse(&env.required("SCHOOLBELL_CURSOR_KEY")?)?,
        ..Wiring::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::env_of;

    fn config() -> LambdaConfig {
        LambdaConfig::from_env(&env_of(&[("SCHOOLBELL_TABLE", "t")])).unwrap()
    }

    #[test]
    fn the_cursor_key_comes_from_the_environment_and_is_required() {
        let key = "ab".repeat(32);
        let wiring = wiring_from_env(&env_of(&[("SCHOOLBELL_CURSOR_KEY", &key)]), &config()).unwrap();
        assert_eq!(wiring.cursor_key, CursorKey::new([0xab; 32]));
        let missing = wiring_from_env(&env_of(&[]), &config()).unwrap_err();
        assert!(missing.to_string().contains("SCHOOLBELL_CURSOR_KEY"), "{missing}");
        let short = wiring_from_env(&env_of(&[("SCHOOLBELL_CURSOR_KEY", "abcd")]), &config()).unwrap_err();
        assert!(matches!(short, WiringError::CursorKey(_)), "{short}");
    }
}
