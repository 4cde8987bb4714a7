//! [`WebhookConfig`]: which providers this deployment listens to and with
//! which secrets, read once from the environment (by the delivery-receipts
//! and inbound-SMS functions, and the local gateway). Every provider is
//! optional: unset means that provider's routes answer 404.
//!
//! | variable | provider | meaning |
//! | --- | --- | --- |
//! | `SCHOOLBELL_PUBLIC_URL` | Twilio | scheme, host and any base path in front of `/webhooks/...`, as Twilio calls it |
//! | `SCHOOLBELL_TWILIO_AUTH_TOKEN` | Twilio | the account's auth token (HMAC-SHA1 key) |
//! | `SCHOOLBELL_TELNYX_PUBLIC_KEY` | Telnyx | the portal's Ed25519 public key, base64 |
//! | `SCHOOLBELL_VONAGE_SIGNATURE_SECRET` | Vonage | the signature secret (HS256 key of the JWT) |
//! | `SCHOOLBELL_BANDWIDTH_USER` / `_PASSWORD` | Bandwidth | the callback's Basic credentials (both or neither) |
//! | `SCHOOLBELL_KANNEL_TOKEN` | Kannel | `token=` in the `dlr-url`, or the `X-Webhook-Token` header |
//! | `SCHOOLBELL_JASMIN_TOKEN` | Jasmin | the same, for Jasmin's `dlr-url` |
//! | `SCHOOLBELL_SNS_TOPICS` | SNS | comma-separated topic ARNs whose messages are accepted and subscriptions confirmed |
//! | `SCHOOLBELL_SNS_CERT_DIR` | SNS | signing certificates by file name, asked before AWS over HTTPS |

use std::path::PathBuf;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::TelnyxVerifier;
use crate::config::{ConfigError, Env};

/// The base URL Twilio signs (see [`WebhookConfig::public_url`]).
pub const PUBLIC_URL_ENV: &str = "SCHOOLBELL_PUBLIC_URL";
/// Twilio's auth token.
pub const TWILIO_AUTH_TOKEN_ENV: &str = "SCHOOLBELL_TWILIO_AUTH_TOKEN";
/// Telnyx's Ed25519 public key (base64).
pub const TELNYX_PUBLIC_KEY_ENV: &str = "SCHOOLBELL_TELNYX_PUBLIC_KEY";
/// Vonage's signature secret.
pub const VONAGE_SIGNATURE_SECRET_ENV: &str = "SCHOOLBELL_VONAGE_SIGNATURE_SECRET";
/// Bandwidth's callback user name.
pub const BANDWIDTH_USER_ENV: &str = "SCHOOLBELL_BANDWIDTH_USER";
/// Bandwidth's callback password.
pub const BANDWIDTH_PASSWORD_ENV: &str = "SCHOOLBELL_BANDWIDTH_PASSWORD";
/// Kannel's DLR token.
pub const KANNEL_TOKEN_ENV: &str = "SCHOOLBELL_KANNEL_TOKEN";
/// Jasmin's DLR token.
pub const JASMIN_TOKEN_ENV: &str = "SCHOOLBELL_JASMIN_TOKEN";
/// The SNS topic allow-list.
pub const SNS_TOPICS_ENV: &str = "SCHOOLBELL_SNS_TOPICS";
/// The SNS certificate directory.
pub const SNS_CERT_DIR_ENV: &str = super::sns::CERT_DIR_ENV;

/// The user name of the development Bandwidth credentials.
pub const DEVELOPMENT_BANDWIDTH_USER: &str = "schoolbell";

/// Which providers are on, and their secrets. `Debug` never shows a
/// secret.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct WebhookConfig {
    /// `SCHOOLBELL_PUBLIC_URL` without a trailing `/`: the URL Twilio signs
    /// is this followed by the request's path and query. Unset, it is
    /// rebuilt from the request's `X-Forwarded-Proto` (else `http`) and
    /// `Host`, which is right for the local gateway and API Gateway's own
    /// domain, and wrong behind a custom domain or proxy: set it there.
    pub public_url: Option<String>,
    /// `SCHOOLBELL_TWILIO_AUTH_TOKEN`.
    pub twilio_auth_token: Option<String>,
    /// `SCHOOLBELL_TELNYX_PUBLIC_KEY` (base64 of 32 bytes).
    pub telnyx_public_key: Option<String>,
    /// `SCHOOLBELL_VONAGE_SIGNATURE_SECRET`.
    pub vonage_signature_secret: Option<String>,
    /// `SCHOOLBELL_BANDWIDTH_USER` and `SCHOOLBELL_BANDWIDTH_PASSWORD`.
    pub bandwidth: Option<(String, String)>,
    /// `SCHOOLBELL_KANNEL_TOKEN`.
    pub kannel_token: Option<String>,
    /// `SCHOOLBELL_JASMIN_TOKEN`.
    pub jasmin_token: Option<String>,
    /// `SCHOOLBELL_SNS_TOPICS`: empty means SNS is off.
    pub sns_topics: Vec<String>,
    /// `SCHOOLBELL_SNS_CERT_DIR`.
    pub sns_cert_dir: Option<PathBuf>,
}

impl std::fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("public_url", &self.public_url)
            .field("providers", &self.providers())
            .field("sns_topics", &self.sns_topics)
            .field("sns_cert_dir", &self.sns_cert_dir)
            .finish_non_exhaustive()
    }
}

impl WebhookConfig {
    /// Reads every variable (see the module docs). Blank counts as unset.
    ///
    /// Errors name the variable: a public URL that is not `http(s)://...`,
    /// a Telnyx key that is not base64 of 32 bytes, a Bandwidth user
    /// without a password or the reverse, a topic that is not an SNS ARN.
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let public_url = match env.optional(PUBLIC_URL_ENV) {
            Some(url) => Some(normalize_public_url(&url)?),
            None => None,
        };
        let telnyx_public_key = env.optional(TELNYX_PUBLIC_KEY_ENV);
        if let Some(key) = &telnyx_public_key {
            TelnyxVerifier::from_base64(key)
                .map_err(|e| ConfigError::Invalid { name: TELNYX_PUBLIC_KEY_ENV, reason: e.to_string() })?;
        }
        let bandwidth = match (env.optional(BANDWIDTH_USER_ENV), env.optional(BANDWIDTH_PASSWORD_ENV)) {
            (Some(user), Some(password)) => Some((user, password)),
            (Some(_), None) => return Err(ConfigError::Missing(BANDWIDTH_PASSWORD_ENV)),
            (None, Some(_)) => return Err(ConfigError::Missing(BANDWIDTH_USER_ENV)),
            (None, None) => None,
        };
        let sns_topics: Vec<String> = env
            .optional(SNS_TOPICS_ENV)
            .map(|list| list.split(',').map(str::trim).filter(|t| !t.is_empty()).map(String::from).collect())
            .unwrap_or_default();
        if let Some(bad) = sns_topics.iter().find(|t| !t.starts_with("arn:") || t.split(':').count() != 6) {
            let reason = format!("`{bad}` is not a topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)");
            return Err(ConfigError::Invalid { name: SNS_TOPICS_ENV, reason });
        }
        Ok(Self {
            public_url,
            twilio_auth_token: env.optional(TWILIO_AUTH_TOKEN_ENV),
            telnyx_public_key,
            vonage_signature_secret: env.optional(VONAGE_SIGNATURE_SECRET_ENV),
            bandwidth,
            kannel_token: env.optional(KANNEL_TOKEN_ENV),
            jasmin_token: env.optional(JASMIN_TOKEN_ENV),
            sns_topics,
            sns_cert_dir: env.optional(SNS_CERT_DIR_ENV).map(PathBuf::from),
        })
    }

    /// The names of the providers that are on, for the start-up log.
    pub fn providers(&self) -> Vec<&'static str> {
        [
            ("twilio", self.twilio_auth_token.is_some()),
            ("telnyx", self.telnyx_public_key.is_some()),
            ("vonage", self.vonage_signature_secret.is_some()),
            ("bandwidth", self.bandwidth.is_some()),
            ("kannel", self.kannel_token.is_some()),
            ("jasmin", self.jasmin_token.is_some()),
            ("sns", !self.sns_topics.is_empty()),
        ]
        .into_iter()
        .filter_map(|(name, on)| on.then_some(name))
        .collect()
    }

    /// The same configuration with development secrets for the providers
    /// whose secret is a shared string and was left unset: Twilio, Vonage,
    /// Bandwidth (user [`DEVELOPMENT_BANDWIDTH_USER`]), Kannel and Jasmin.
    /// Each is `hex(HMAC-SHA256(seed, "schoolbell webhook <provider>"))`,
    /// so whoever holds the seed (the local data directory's signing
    /// secret) can sign receipts, and the seed cannot be recovered from
    /// them. Telnyx and SNS stay as configured. For the local gateway only.
    pub fn with_development_secrets(mut self, seed: &[u8]) -> Self {
        let derive = |provider: &str| development_secret(seed, provider);
        self.twilio_auth_token.get_or_insert_with(|| derive("twilio"));
        self.vonage_signature_secret.get_or_insert_with(|| derive("vonage"));
        self.bandwidth.get_or_insert_with(|| (DEVELOPMENT_BANDWIDTH_USER.to_string(), derive("bandwidth")));
        self.kannel_token.get_or_insert_with(|| derive("kannel"));
        self.jasmin_token.get_or_insert_with(|| derive("jasmin"));
        self
    }
}

fn development_secret(seed: &[u8], provider: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(seed) else {
        // HMAC takes keys of any length; this branch cannot be reached.
        return String::new();
    };
    mac.update(b"schoolbell webhook ");
    mac.update(provider.as_bytes());
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

fn normalize_public_url(url: &str) -> Result<String, ConfigError> {
    let invalid = |reason: &str| ConfigError::Invalid { name: PUBLIC_URL_ENV, reason: reason.to_string() };
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    let Some(rest) = rest else {
        return Err(invalid("expected http:// or https:// followed by the host"));
    };
    if rest.is_empty() || rest.starts_with('/') || url.contains(['?', '#', ' ']) {
        return Err(invalid("expected a scheme, a host and at most a base path (no query)"));
    }
    Ok(url.trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env<impl Fn(&str) -> Option<String>> {
        crate::config::env_of(pairs)
    }

    #[test]
    fn nothing_set_turns_every_provider_off() -> Result<(), ConfigError> {
        let config = WebhookConfig::from_env(&env(&[]))?;
        assert!(config.providers().is_empty());
        assert_eq!(config, WebhookConfig::default());
        Ok(())
    }

    #[test]
    fn each_variable_turns_its_provider_on() -> Result<(), ConfigError> {
        use base64::Engine as _;
        let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]).verifying_key();
        let key = base64::engine::general_purpose::STANDARD.encode(key.to_bytes());
        let config = WebhookConfig::from_env(&env(&[
            (PUBLIC_URL_ENV, "https://hooks.example.org/"),
            (TWILIO_AUTH_TOKEN_ENV, "t"),
            (TELNYX_PUBLIC_KEY_ENV, key.as_str()),
            (VONAGE_SIGNATURE_SECRET_ENV, "v"),
            (BANDWIDTH_USER_ENV, "u"),
            (BANDWIDTH_PASSWORD_ENV, "p"),
            (KANNEL_TOKEN_ENV, "k"),
            (JASMIN_TOKEN_ENV, "j"),
            (SNS_TOPICS_ENV, "arn:aws:sns:us-east-1:123456789012:a, arn:aws:sns:us-east-1:123456789012:b,"),
            (SNS_CERT_DIR_ENV, "/etc/sns"),
        ]))?;
        assert_eq!(config.providers(), ["twilio", "telnyx", "vonage", "bandwidth", "kannel", "jasmin", "sns"]);
        assert_eq!(config.public_url.as_deref(), Some("https://hooks.example.org"));
        assert_eq!(config.sns_topics.len(), 2);
        assert_eq!(config.sns_cert_dir, Some(PathBuf::from("/etc/sns")));
        Ok(())
    }

    #[test]
    fn unusable_values_name_their_variable() {
        let cases: [(&[(&str, &str)], &str); 5] = [
            (&[(PUBLIC_URL_ENV, "hooks.example.org")], PUBLIC_URL_ENV),
            (&[(TELNYX_PUBLIC_KEY_ENV, "not a key")], TELNYX_PUBLIC_KEY_ENV),
            (&[(BANDWIDTH_USER_ENV, "u")], BANDWIDTH_PASSWORD_ENV),
            (&[(BANDWIDTH_PASSWORD_ENV, "p")], BANDWIDTH_USER_ENV),
            (&[(SNS_TOPICS_ENV, "receipts")], SNS_TOPICS_ENV),
        ];
        for (pairs, name) in cases {
            let error = WebhookConfig::from_env(&env(pairs)).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(error.contains(name), "{error}");
        }
    }

    #[test]
    fn debug_output_never_shows_a_secret() -> Result<(), ConfigError> {
        let config = WebhookConfig::from_env(&env(&[(TWILIO_AUTH_TOKEN_ENV, "s3cr3t-token")]))?;
        let shown = format!("{config:?}");
        assert!(!shown.contains("s3cr3t-token") && shown.contains("twilio"), "{shown}");
        Ok(())
    }

    #[test]
    fn development_secrets_fill_only_what_is_unset_and_depend_on_the_seed() {
        let configured = WebhookConfig { kannel_token: Some("mine".into()), ..WebhookConfig::default() };
        let a = configured.clone().with_development_secrets(b"seed-a");
        let b = configured.with_development_secrets(b"seed-b");
        assert_eq!(a.kannel_token.as_deref(), Some("mine"));
        assert_eq!(a.providers(), ["twilio", "vonage", "bandwidth", "kannel", "jasmin"]);
        assert_ne!(a.twilio_auth_token, b.twilio_auth_token);
        assert_ne!(a.twilio_auth_token, a.jasmin_token);
        assert_eq!(a.twilio_auth_token.as_ref().map(String::len), Some(64));
    }
}
