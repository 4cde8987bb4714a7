//! What a webhook route answers before it reads anything: 404 when its
//! provider is off on this deployment, 403 when the request does not
//! verify, 503 when it cannot be verified yet; and the request-level Twilio
//! check that every Twilio route runs first (status callbacks in the
//! delivery-receipts function, inbound texts in the inbound-SMS function).

use axum::http::{HeaderMap, StatusCode, Uri};

use super::{VerifyError, Webhooks, verify_twilio_request};
use crate::http::{ApiError, public_request_url};

/// The provider name Twilio's routes log and answer with.
const TWILIO: &str = "twilio";

/// 404 `not_configured`: `provider` has no secret on this deployment, so
/// its route does not exist here. A 404 is final, where a 503 would make
/// the provider retry for days.
pub fn not_configured(provider: &str) -> ApiError {
    tracing::info!(provider, "webhook called for a provider that is not configured");
    let message = format!("the {provider} webhook is not configured on this deployment");
    ApiError::new(StatusCode::NOT_FOUND, "not_configured", message)
}

/// 403 `invalid_signature` for a request that does not verify; 503
/// `unavailable` when it cannot be verified yet (a signing certificate
/// could not be fetched), so the provider retries.
pub fn refused(provider: &str, error: &VerifyError) -> ApiError {
    if error.is_retryable() {
        tracing::warn!(provider, reason = %error, "webhook could not be verified yet");
        return ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the request cannot be verified now");
    }
    tracing::warn!(provider, reason = %error, "webhook refused");
    let message = format!("the {provider} request could not be verified: {error}");
    ApiError::new(StatusCode::FORBIDDEN, "invalid_signature", message)
}

/// Verifies a request to any Twilio webhook: 404 without a Twilio token,
/// 403 when `X-Twilio-Signature` does not hold over the public URL (the
/// configured one, else rebuilt from the request) and the body.
pub fn verify_twilio_webhook(webhooks: &Webhooks, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Result<(), ApiError> {
    let token = webhooks.twilio.as_deref().ok_or_else(|| not_configured(TWILIO))?;
    let url = public_request_url(webhooks.public_url.as_deref(), headers, uri);
    verify_twilio_request(token, &url, headers, body).map_err(|e| refused(TWILIO, &e))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::http::HeaderValue;

    use super::*;
    use crate::webhook_auth::{DirCertificates, HttpConfirmer, SetupError, WebhookConfig, sign_twilio};

    const TOKEN: &str = "twilio-auth-token";
    const BODY: &[u8] = b"MessageSid=SM1&MessageStatus=delivered";

    fn webhooks(token: Option<&str>) -> Result<Webhooks, SetupError> {
        let config = WebhookConfig {
            public_url: Some("https://hooks.example.org".into()),
            twilio_auth_token: token.map(str::to_string),
            ..WebhookConfig::default()
        };
        Webhooks::with_sns_parts(
            &config,
            Arc::new(DirCertificates::new("/nonexistent")),
            Arc::new(HttpConfirmer::new()?),
        )
    }

    fn signed(signature: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_str(signature) {
            headers.insert("x-twilio-signature", value);
        }
        headers
    }

    #[test]
    fn a_twilio_request_is_checked_against_the_public_url() -> Result<(), Box<dyn std::error::Error>> {
        let params = [("MessageSid", "SM1"), ("MessageStatus", "delivered")];
        let signature = sign_twilio(TOKEN, "https://hooks.example.org/webhooks/twilio/status", &params)?;
        let uri = Uri::from_static("/webhooks/twilio/status");
        verify_twilio_webhook(&webhooks(Some(TOKEN))?, &uri, &signed(&signature), BODY).map_err(|e| e.message)?;
        let elsewhere = Uri::from_static("/webhooks/twilio/inbound");
        let refusal = verify_twilio_webhook(&webhooks(Some(TOKEN))?, &elsewhere, &signed(&signature), BODY).err();
        assert_eq!(refusal.map(|e| (e.status, e.code)), Some((StatusCode::FORBIDDEN, "invalid_signature")));
        let off = verify_twilio_webhook(&webhooks(None)?, &uri, &signed(&signature), BODY).err();
        assert_eq!(off.map(|e| (e.status, e.code)), Some((StatusCode::NOT_FOUND, "not_configured")));
        Ok(())
    }

    #[test]
    fn only_a_certificate_that_could_not_be_fetched_is_answered_503() {
        let later = refused("sns", &VerifyError::CertificateFetch("timed out".into()));
        assert_eq!((later.status, later.code), (StatusCode::SERVICE_UNAVAILABLE, "unavailable"));
        let never = refused("sns", &VerifyError::Mismatch);
        assert_eq!((never.status, never.code), (StatusCode::FORBIDDEN, "invalid_signature"));
        assert!(never.message.starts_with("the sns request could not be verified"), "{}", never.message);
    }
}
