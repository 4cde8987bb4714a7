//! Configuration read once at start-up from the environment, failing fast
//! with the variable's name. Functions read it in `main` and pass typed
//! values down; nothing below reads the environment.

use crate::domain::Region;

/// A missing or unusable setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A required variable is not set.
    #[error("environment variable {0} is required but not set")]
    Missing(&'static str),
    /// A variable is set to something unusable.
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// Reads variables through a lookup function (the process environment in
/// production, a map in tests).
pub struct Env<F: Fn(&str) -> Option<String>>(pub F);

/// An environment of these variables only (tests, tools).
pub fn env_of(pairs: &[(&str, &str)]) -> Env<impl Fn(&str) -> Option<String> + use<>> {
    let map: std::collections::HashMap<String, String> =
        pairs.iter().map(|(k, v)| ((*k).to_string(), (*v).to_string())).collect();
    Env(move |name: &str| map.get(name).cloned())
}

/// The process environment.
pub fn process_env() -> Env<impl Fn(&str) -> Option<String>> {
    Env(|name: &str| std::env::var(name).ok())
}

impl<F: Fn(&str) -> Option<String>> Env<F> {
    /// A set, non-blank variable.
    pub fn optional(&self, name: &'static str) -> Option<String> {
        (self.0)(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
    }

    /// A variable that must be set.
    pub fn required(&self, name: &'static str) -> Result<String, ConfigError> {
        self.optional(name).ok_or(ConfigError::Missing(name))
    }
}

/// What every AWS function needs: its table, the district region for phone
/// numbers, and how to verify tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LambdaConfig {
    /// `SCHOOLBELL_TABLE`: the DynamoDB table.
    pub table_name: String,
    /// `SCHOOLBELL_PHONE_REGION`: region resolving national numbers (US).
    pub phone_region: Region,
    /// `SCHOOLBELL_JWKS`: the identity provider's JWKS document (JSON).
    pub jwks: Option<String>,
    /// `SCHOOLBELL_JWT_ISSUER`: required `iss`, if set.
    pub jwt_issuer: Option<String>,
    /// `SCHOOLBELL_JWT_AUDIENCE`: required `aud`, if set.
    pub jwt_audience: Option<String>,
    /// `SCHOOLBELL_IMPORTS_BUCKET`: the S3 bucket of import files.
    pub imports_bucket: Option<String>,
    /// `SCHOOLBELL_PLAN_QUEUE_URL`: the SQS queue of plan tasks (fan-out worker).
    pub plan_queue_url: Option<String>,
    /// `SCHOOLBELL_SEND_QUEUE_URL`: the SQS queue of send tasks (send worker).
    pub send_queue_url: Option<String>,
}

impl LambdaConfig {
    /// Reads and checks every variable.
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let phone_region = match env.optional("SCHOOLBELL_PHONE_REGION") {
            Some(code) => Region::parse(&code)
                .map_err(|e| ConfigError::Invalid { name: "SCHOOLBELL_PHONE_REGION", reason: e.to_string() })?,
            None => Region::US,
        };
        Ok(Self {
            table_name: env.required("SCHOOLBELL_TABLE")?,
            phone_region,
            jwks: env.optional("SCHOOLBELL_JWKS"),
            jwt_issuer: env.optional("SCHOOLBELL_JWT_ISSUER"),
            jwt_audience: env.optional("SCHOOLBELL_JWT_AUDIENCE"),
            imports_bucket: env.optional("SCHOOLBELL_IMPORTS_BUCKET"),
            plan_queue_url: env.optional("SCHOOLBELL_PLAN_QUEUE_URL"),
            send_queue_url: env.optional("SCHOOLBELL_SEND_QUEUE_URL"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env<impl Fn(&str) -> Option<String>> {
        env_of(pairs)
    }

    #[test]
    fn a_missing_table_names_the_variable() {
        assert_eq!(LambdaConfig::from_env(&env(&[])), Err(ConfigError::Missing("SCHOOLBELL_TABLE")));
    }

    #[test]
    fn a_bad_region_names_the_variable() {
        let error = LambdaConfig::from_env(&env(&[("SCHOOLBELL_TABLE", "t"), ("SCHOOLBELL_PHONE_REGION", "ZZZ")]));
        assert!(matches!(error, Err(ConfigError::Invalid { name: "SCHOOLBELL_PHONE_REGION", .. })));
    }

    #[test]
    fn defaults_fill_what_is_optional() -> Result<(), ConfigError> {
        let config = LambdaConfig::from_env(&env(&[("SCHOOLBELL_TABLE", "t"), ("SCHOOLBELL_JWKS", "  ")]))?;
        assert_eq!((config.phone_region, config.jwks), (Region::US, None));
        Ok(())
    }
}
