//! Vonage signed webhooks: `Authorization: Bearer <JWT>`, signed HS256 with
//! the account's signature secret, whose `payload_hash` claim is the hex
//! SHA-256 of the raw body and whose `iat` is the signing time.
//!
//! This is the scheme of Vonage's Messages and Voice APIs. The legacy SMS
//! API's optional `sig` parameter (an MD5 hash or HMAC of the sorted
//! parameters) is a different scheme, not covered here.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::{Headers, VerifyError, body_hash_matches, sha256_hex};

/// The header carrying the bearer token.
pub const AUTHORIZATION_HEADER: &str = "authorization";

/// The claims of a Vonage webhook token that schoolbell checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VonageClaims {
    /// Issue time, epoch seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// Hex SHA-256 of the body (absent when there is no body).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_hash: Option<String>,
}

/// Verifies Vonage signed webhooks with the account's signature secret.
#[derive(Clone)]
pub struct VonageVerifier {
    key: DecodingKey,
    max_age: Option<Duration>,
}

impl std::fmt::Debug for VonageVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VonageVerifier").field("max_age", &self.max_age).finish_non_exhaustive()
    }
}

impl VonageVerifier {
    /// A verifier for the signature secret, checking no token age.
    pub fn new(signature_secret: &[u8]) -> Result<Self, VerifyError> {
        if signature_secret.is_empty() {
            return Err(VerifyError::Configuration("the Vonage signature secret is empty"));
        }
        Ok(Self { key: DecodingKey::from_secret(signature_secret), max_age: None })
    }

    /// The same verifier, also requiring an `iat` claim within `max_age`
    /// of now (either way).
    pub fn with_max_age(mut self, max_age: Duration) -> Self {
        self.max_age = Some(max_age);
        self
    }

    /// Verifies a request from its headers and raw body, at `now`.
    ///
    /// `Ok` guarantees that a holder of the signature secret issued the
    /// bearer token (HS256 only; no other algorithm is accepted), that the
    /// body's SHA-256 equals its `payload_hash` (or that there is no body
    /// and no hash), and, with [`VonageVerifier::with_max_age`], that it was
    /// issued recently. A token can be replayed with its body, so replays
    /// must be harmless.
    pub fn verify<H: Headers + ?Sized>(&self, headers: &H, body: &[u8], now: DateTime<Utc>) -> Result<(), VerifyError> {
        self.verify_authorization(headers.header(AUTHORIZATION_HEADER), body, now)
    }

    /// [`VonageVerifier::verify`] with the `Authorization` value given
    /// directly.
    pub fn verify_authorization(
        &self,
        authorization: Option<&str>,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(), VerifyError> {
        let authorization = authorization.map(str::trim).filter(|v| !v.is_empty());
        let authorization = authorization.ok_or(VerifyError::Missing(AUTHORIZATION_HEADER))?;
        let token = match authorization.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => return Err(VerifyError::BadEncoding(AUTHORIZATION_HEADER)),
        };

        let mut validation = Validation::new(Algorithm::HS256);
        validation.required_spec_claims = HashSet::new();
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        let claims = jsonwebtoken::decode::<VonageClaims>(token, &self.key, &validation)
            .map_err(|e| match e.kind() {
                ErrorKind::InvalidSignature => VerifyError::Mismatch,
                ErrorKind::InvalidAlgorithm => VerifyError::InvalidToken("not signed with HS256"),
                _ => VerifyError::InvalidToken("malformed"),
            })?
            .claims;

        match claims.payload_hash.as_deref() {
            Some(hash) if !body_hash_matches(hash, body) => return Err(VerifyError::BodyHashMismatch),
            None if !body.is_empty() => return Err(VerifyError::Missing("payload_hash claim")),
            _ => {}
        }
        if let Some(max_age) = self.max_age {
            let iat = claims.iat.ok_or(VerifyError::Missing("iat claim"))?;
            let skew_seconds = now.timestamp().abs_diff(iat);
            if skew_seconds > max_age.as_secs() {
                return Err(VerifyError::StaleTimestamp { skew_seconds, tolerance_seconds: max_age.as_secs() });
            }
        }
        Ok(())
    }
}

/// Mints the token Vonage would send for `body` at `now` (HS256 with the
/// signature secret), for tests and the local load generator.
pub fn sign_vonage(signature_secret: &[u8], body: &[u8], now: DateTime<Utc>) -> Result<String, VerifyError> {
    if signature_secret.is_empty() {
        return Err(VerifyError::Configuration("the Vonage signature secret is empty"));
    }
    let claims =
        VonageClaims { iat: Some(now.timestamp()), payload_hash: (!body.is_empty()).then(|| sha256_hex(body)) };
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(signature_secret))
        .map_err(|_| VerifyError::Configuration("the Vonage token could not be signed"))
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), VerifyError>;

    const SECRET: &[u8] = b"vonage-signature-secret-for-tests";
    const BODY: &[u8] = br#"{"message_uuid":"m-1","status":"delivered","timestamp":"2025-01-01T00:00:00Z"}"#;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_750_000_000, 0).unwrap_or_default()
    }

    fn bearer(token: &str) -> String {
        format!("Bearer {token}")
    }

    #[test]
    fn a_correctly_signed_webhook_verifies() -> TestResult {
        let token = sign_vonage(SECRET, BODY, now())?;
        let headers = [("Authorization", bearer(&token))];
        VonageVerifier::new(SECRET)?.verify(&headers[..], BODY, now())?;
        VonageVerifier::new(SECRET)?.with_max_age(Duration::from_secs(300)).verify(&headers[..], BODY, now())
    }

    #[test]
    fn a_tampered_body_is_refused() -> TestResult {
        let token = sign_vonage(SECRET, BODY, now())?;
        let tampered = String::from_utf8_lossy(BODY).replace("delivered", "rejected");
        let result =
            VonageVerifier::new(SECRET)?.verify_authorization(Some(&bearer(&token)), tampered.as_bytes(), now());
        assert_eq!(result, Err(VerifyError::BodyHashMismatch));
        Ok(())
    }

    #[test]
    fn a_tampered_signature_is_refused() -> TestResult {
        let token = sign_vonage(SECRET, BODY, now())?;
        let (head, signature) = token.rsplit_once('.').ok_or(VerifyError::Missing("dot"))?;
        let flipped = if signature.starts_with('A') { 'B' } else { 'A' };
        let tampered = format!("{head}.{flipped}{}", &signature[1..]);
        let verifier = VonageVerifier::new(SECRET)?;
        assert_eq!(verifier.verify_authorization(Some(&bearer(&tampered)), BODY, now()), Err(VerifyError::Mismatch));
        assert_eq!(
            verifier.verify_authorization(Some("Bearer not.a.token"), BODY, now()),
            Err(VerifyError::InvalidToken("malformed"))
        );
        assert_eq!(
            verifier.verify_authorization(Some(&token), BODY, now()),
            Err(VerifyError::BadEncoding(AUTHORIZATION_HEADER))
        );
        assert_eq!(verifier.verify_authorization(None, BODY, now()), Err(VerifyError::Missing(AUTHORIZATION_HEADER)));
        Ok(())
    }

    #[test]
    fn a_token_signed_with_another_secret_is_refused() -> TestResult {
        let token = sign_vonage(b"some-other-secret", BODY, now())?;
        let result = VonageVerifier::new(SECRET)?.verify_authorization(Some(&bearer(&token)), BODY, now());
        assert_eq!(result, Err(VerifyError::Mismatch));
        Ok(())
    }

    #[test]
    fn a_token_without_a_payload_hash_covers_only_an_empty_body() -> TestResult {
        let token = sign_vonage(SECRET, b"", now())?;
        let verifier = VonageVerifier::new(SECRET)?;
        verifier.verify_authorization(Some(&bearer(&token)), b"", now())?;
        let result = verifier.verify_authorization(Some(&bearer(&token)), BODY, now());
        assert_eq!(result, Err(VerifyError::Missing("payload_hash claim")));
        Ok(())
    }

    #[test]
    fn an_old_token_is_refused_when_a_maximum_age_is_set() -> TestResult {
        let token = sign_vonage(SECRET, BODY, now() - chrono::Duration::seconds(600))?;
        let verifier = VonageVerifier::new(SECRET)?;
        verifier.verify_authorization(Some(&bearer(&token)), BODY, now())?;
        let result =
            verifier.with_max_age(Duration::from_secs(300)).verify_authorization(Some(&bearer(&token)), BODY, now());
        assert_eq!(result, Err(VerifyError::StaleTimestamp { skew_seconds: 600, tolerance_seconds: 300 }));
        Ok(())
    }

    #[test]
    fn a_token_with_another_algorithm_is_refused() -> TestResult {
        let claims = VonageClaims { iat: Some(now().timestamp()), payload_hash: Some(sha256_hex(BODY)) };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS512), &claims, &EncodingKey::from_secret(SECRET))
            .map_err(|_| VerifyError::Configuration("test"))?;
        let result = VonageVerifier::new(SECRET)?.verify_authorization(Some(&bearer(&token)), BODY, now());
        assert_eq!(result, Err(VerifyError::InvalidToken("not signed with HS256")));
        Ok(())
    }

    #[test]
    fn an_empty_secret_is_a_configuration_error() {
        assert!(matches!(VonageVerifier::new(b""), Err(VerifyError::Configuration(_))));
    }
}
