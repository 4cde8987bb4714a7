//! [`Webhooks`]: the verifiers a [`WebhookConfig`] turns on, built once at
//! start-up and shared by every webhook route (delivery receipts, inbound
//! texts), plus what SNS needs (its certificate source, its topic
//! allow-list and the [`SubscriptionConfirmer`] that GETs a `SubscribeURL`).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::config::WebhookConfig;
use super::sns::{FallbackCertificates, HttpsCertificates};
use super::{
    CachedCertificates, CertificateSource, DirCertificates, SharedSecret, TelnyxVerifier, VerifyError, VonageVerifier,
};

/// How old a Vonage token (its `iat`) may be, either way: the window Telnyx's
/// timestamps get too.
pub const VONAGE_MAX_AGE: Duration = super::telnyx::DEFAULT_TOLERANCE;

/// The query parameter carrying the Kannel or Jasmin token.
pub const TOKEN_PARAM: &str = "token";

/// The header carrying the Kannel or Jasmin token (for a proxy that adds it).
pub const TOKEN_HEADER: &str = "x-webhook-token";

/// Why the webhooks could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// A provider's secret or key is unusable.
    #[error("{provider} webhook: {source}")]
    Verifier {
        /// The provider.
        provider: &'static str,
        /// What is wrong.
        source: VerifyError,
    },
    /// The HTTPS client (SNS certificates, subscription confirmations)
    /// could not be built.
    #[error("the HTTPS client could not be built: {0}")]
    HttpClient(String),
}

/// Why a subscription could not be confirmed (answer 503: SNS retries).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the subscription could not be confirmed: {0}")]
pub struct ConfirmError(pub String);

/// Confirms an SNS subscription by GETting its `SubscribeURL` (already
/// verified as signed by SNS and on an SNS host).
#[async_trait]
pub trait SubscriptionConfirmer: Send + Sync {
    /// GETs `subscribe_url`; `Ok` when SNS answered 2xx. Safe to repeat.
    async fn confirm(&self, subscribe_url: &str) -> Result<(), ConfirmError>;
}

/// Confirms over HTTPS with reqwest: https only, no redirects, 5 s.
#[derive(Debug, Clone)]
pub struct HttpConfirmer {
    client: reqwest::Client,
}

impl HttpConfirmer {
    /// A confirmer with its own client.
    pub fn new() -> Result<Self, SetupError> {
        let client = reqwest::Client::builder()
            .https_only(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| SetupError::HttpClient(e.to_string()))?;
        Ok(Self { client })
    }
}

#[async_trait]
impl SubscriptionConfirmer for HttpConfirmer {
    async fn confirm(&self, subscribe_url: &str) -> Result<(), ConfirmError> {
        let response =
            self.client.get(subscribe_url).send().await.map_err(|e| {
                ConfirmError(if e.is_timeout() { "timed out".into() } else { "the request failed".into() })
            })?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(ConfirmError(format!("SNS answered {}", response.status().as_u16())))
        }
    }
}

/// What the SNS route needs.
pub struct SnsSettings {
    /// Topic ARNs whose messages are accepted.
    pub topics: HashSet<String>,
    /// Where signing certificates come from.
    pub certificates: Arc<dyn CertificateSource>,
    /// Who GETs a `SubscribeURL`.
    pub confirmer: Arc<dyn SubscriptionConfirmer>,
}

/// Every provider's verifier (`None`: that provider is off).
pub struct Webhooks {
    /// See [`WebhookConfig::public_url`].
    pub public_url: Option<String>,
    /// Twilio's auth token.
    pub twilio: Option<String>,
    /// Telnyx's key.
    pub telnyx: Option<TelnyxVerifier>,
    /// Vonage's secret.
    pub vonage: Option<VonageVerifier>,
    /// Bandwidth's Basic credentials.
    pub bandwidth: Option<SharedSecret>,
    /// Kannel's token, accepted as `?token=` or `X-Webhook-Token`.
    pub kannel: Option<[SharedSecret; 2]>,
    /// Jasmin's token, accepted the same ways.
    pub jasmin: Option<[SharedSecret; 2]>,
    /// SNS, when topics are allowed.
    pub sns: Option<SnsSettings>,
}

impl std::fmt::Debug for Webhooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhooks")
            .field("twilio", &self.twilio.is_some())
            .field("telnyx", &self.telnyx.is_some())
            .field("vonage", &self.vonage.is_some())
            .field("bandwidth", &self.bandwidth.is_some())
            .field("kannel", &self.kannel.is_some())
            .field("jasmin", &self.jasmin.is_some())
            .field("sns_topics", &self.sns.as_ref().map(|s| s.topics.len()))
            .finish()
    }
}

impl Webhooks {
    /// The verifiers for `config`, with SNS certificates from
    /// `SCHOOLBELL_SNS_CERT_DIR` (when set) and else from AWS over HTTPS,
    /// cached, and subscriptions confirmed over HTTPS.
    pub fn from_config(config: &WebhookConfig) -> Result<Self, SetupError> {
        let https = HttpsCertificates::new().map_err(|e| SetupError::HttpClient(e.to_string()))?;
        let certificates: Arc<dyn CertificateSource> = match &config.sns_cert_dir {
            Some(dir) => Arc::new(CachedCertificates::new(FallbackCertificates::new(DirCertificates::new(dir), https))),
            None => Arc::new(CachedCertificates::new(https)),
        };
        Self::with_sns_parts(config, certificates, Arc::new(HttpConfirmer::new()?))
    }

    /// The verifiers for `config`, with the given SNS certificate source
    /// and confirmer (tests, the CLI).
    pub fn with_sns_parts(
        config: &WebhookConfig,
        certificates: Arc<dyn CertificateSource>,
        confirmer: Arc<dyn SubscriptionConfirmer>,
    ) -> Result<Self, SetupError> {
        let setup = |provider: &'static str| move |source| SetupError::Verifier { provider, source };
        let tokens = |token: &String, provider: &'static str| -> Result<[SharedSecret; 2], SetupError> {
            Ok([
                SharedSecret::query(TOKEN_PARAM, token.as_str()).map_err(setup(provider))?,
                SharedSecret::header(TOKEN_HEADER, token.as_str()).map_err(setup(provider))?,
            ])
        };
        Ok(Self {
            public_url: config.public_url.clone(),
            twilio: config.twilio_auth_token.clone(),
            telnyx: config
                .telnyx_public_key
                .as_deref()
                .map(TelnyxVerifier::from_base64)
                .transpose()
                .map_err(setup("telnyx"))?,
            vonage: config
                .vonage_signature_secret
                .as_deref()
                // A token is only as good as its age: without a limit a
                // captured request replays forever.
                .map(|secret| VonageVerifier::new(secret.as_bytes()).map(|v| v.with_max_age(VONAGE_MAX_AGE)))
                .transpose()
                .map_err(setup("vonage"))?,
            bandwidth: config
                .bandwidth
                .as_ref()
                .map(|(user, password)| SharedSecret::basic(user.as_str(), password.as_str()))
                .transpose()
                .map_err(setup("bandwidth"))?,
            kannel: config.kannel_token.as_ref().map(|t| tokens(t, "kannel")).transpose()?,
            jasmin: config.jasmin_token.as_ref().map(|t| tokens(t, "jasmin")).transpose()?,
            sns: (!config.sns_topics.is_empty()).then(|| SnsSettings {
                topics: config.sns_topics.iter().cloned().collect(),
                certificates,
                confirmer,
            }),
        })
    }
}

/// Whether `url` is an https URL on an SNS host
/// (`sns.<region>.amazonaws.com[.cn]`, no userinfo or port): the only
/// place a `SubscribeURL` may send us.
pub fn is_sns_https_url(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("https://") else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default().to_ascii_lowercase();
    let Some(region) = host.strip_prefix("sns.") else {
        return false;
    };
    let region = region.strip_suffix(".amazonaws.com").or_else(|| region.strip_suffix(".amazonaws.com.cn"));
    region.is_some_and(|r| r.len() >= 3 && r.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sns_hosts_over_https_may_be_confirmed() {
        for good in [
            "https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&Token=x",
            "https://SNS.cn-north-1.amazonaws.com.cn/?Action=ConfirmSubscription",
        ] {
            assert!(is_sns_https_url(good), "{good}");
        }
        for bad in [
            "http://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription",
            "https://sns.us-west-2.amazonaws.com.evil.example/",
            "https://user@sns.us-west-2.amazonaws.com/",
            "https://sns.us-west-2.amazonaws.com:8443/",
            "https://example.org/?sns.us-west-2.amazonaws.com",
            "https://sns..amazonaws.com/",
        ] {
            assert!(!is_sns_https_url(bad), "{bad}");
        }
    }

    #[test]
    fn a_config_turns_on_exactly_its_verifiers() -> Result<(), SetupError> {
        struct Never;
        #[async_trait]
        impl SubscriptionConfirmer for Never {
            async fn confirm(&self, _: &str) -> Result<(), ConfirmError> {
                Err(ConfirmError("never".into()))
            }
        }
        let config = WebhookConfig { kannel_token: Some("k".into()), ..WebhookConfig::default() };
        let certificates = Arc::new(DirCertificates::new("/nonexistent"));
        let webhooks = Webhooks::with_sns_parts(&config, certificates, Arc::new(Never))?;
        assert!(webhooks.kannel.is_some() && webhooks.twilio.is_none() && webhooks.sns.is_none());
        let shown = format!("{webhooks:?}");
        assert!(shown.contains("kannel: true") && !shown.contains("\"k\""), "{shown}");
        Ok(())
    }
}
