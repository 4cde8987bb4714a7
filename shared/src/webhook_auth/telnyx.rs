//! Telnyx API v2 webhooks: an Ed25519 signature (base64, header
//! `telnyx-signature-ed25519`) over `"{timestamp}|{raw body}"`, where the
//! timestamp is the `telnyx-timestamp` header (Unix seconds). The public key
//! is the account's, shown in the Telnyx portal (base64 of 32 bytes).
//!
//! Telnyx publishes no test vector; the tests here sign with keys they
//! generate. The tolerance window (default 5 minutes) is SDK practice.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, VerifyingKey};

use super::{Headers, VerifyError};

/// The header carrying the base64 Ed25519 signature.
pub const SIGNATURE_HEADER: &str = "telnyx-signature-ed25519";

/// The header carrying the signed Unix timestamp, in seconds.
pub const TIMESTAMP_HEADER: &str = "telnyx-timestamp";

/// How far the signed timestamp may be from now, either way, by default.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// Verifies Telnyx webhooks against the account's Ed25519 public key.
#[derive(Debug, Clone)]
pub struct TelnyxVerifier {
    key: VerifyingKey,
    tolerance: Duration,
}

impl TelnyxVerifier {
    /// A verifier for a raw 32-byte public key, with the default tolerance.
    pub fn new(public_key: &[u8; 32]) -> Result<Self, VerifyError> {
        let key = VerifyingKey::from_bytes(public_key)
            .map_err(|_| VerifyError::Configuration("the Telnyx public key is not a valid Ed25519 key"))?;
        Ok(Self { key, tolerance: DEFAULT_TOLERANCE })
    }

    /// A verifier for the public key as the Telnyx portal shows it (base64).
    pub fn from_base64(public_key: &str) -> Result<Self, VerifyError> {
        let bytes = STANDARD
            .decode(public_key.trim())
            .map_err(|_| VerifyError::Configuration("the Telnyx public key is not base64"))?;
        let bytes: [u8; 32] =
            bytes.try_into().map_err(|_| VerifyError::Configuration("the Telnyx public key is not 32 bytes"))?;
        Self::new(&bytes)
    }

    /// The same verifier with another tolerance window.
    pub fn with_tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Verifies a request from its headers and raw body, at `now`.
    ///
    /// `Ok` guarantees that the holder of the Telnyx private key signed
    /// exactly this body together with this timestamp, and that the
    /// timestamp is within the tolerance of `now` (either way). Within the
    /// window the same request verifies again, so replays must be harmless.
    pub fn verify<H: Headers + ?Sized>(&self, headers: &H, body: &[u8], now: DateTime<Utc>) -> Result<(), VerifyError> {
        self.verify_parts(headers.header(SIGNATURE_HEADER), headers.header(TIMESTAMP_HEADER), body, now)
    }

    /// [`TelnyxVerifier::verify`] with the two header values given directly.
    pub fn verify_parts(
        &self,
        signature: Option<&str>,
        timestamp: Option<&str>,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(), VerifyError> {
        let signature = present(signature).ok_or(VerifyError::Missing(SIGNATURE_HEADER))?;
        let timestamp = present(timestamp).ok_or(VerifyError::Missing(TIMESTAMP_HEADER))?;
        let signature = STANDARD.decode(signature).map_err(|_| VerifyError::BadEncoding(SIGNATURE_HEADER))?;
        let signature = Signature::from_slice(&signature).map_err(|_| VerifyError::BadEncoding(SIGNATURE_HEADER))?;
        let seconds: i64 = timestamp.parse().map_err(|_| VerifyError::BadEncoding(TIMESTAMP_HEADER))?;

        let mut message = Vec::with_capacity(timestamp.len() + 1 + body.len());
        message.extend_from_slice(timestamp.as_bytes());
        message.push(b'|');
        message.extend_from_slice(body);
        self.key.verify_strict(&message, &signature).map_err(|_| VerifyError::Mismatch)?;

        let skew_seconds = now.timestamp().abs_diff(seconds);
        if skew_seconds > self.tolerance.as_secs() {
            return Err(VerifyError::StaleTimestamp { skew_seconds, tolerance_seconds: self.tolerance.as_secs() });
        }
        Ok(())
    }
}

fn present(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};

    type TestResult = Result<(), VerifyError>;

    const BODY: &[u8] = br#"{"data":{"event_type":"message.finalized","id":"e-1","payload":{"id":"m-1"}}}"#;

    fn keypair() -> SigningKey {
        SigningKey::from_bytes(&rand::random::<[u8; 32]>())
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_750_000_000, 0).unwrap_or_default()
    }

    fn sign(key: &SigningKey, timestamp: i64, body: &[u8]) -> (String, String) {
        let timestamp = timestamp.to_string();
        let message = [timestamp.as_bytes(), b"|", body].concat();
        (STANDARD.encode(key.sign(&message).to_bytes()), timestamp)
    }

    fn verifier(key: &SigningKey) -> Result<TelnyxVerifier, VerifyError> {
        TelnyxVerifier::from_base64(&STANDARD.encode(key.verifying_key().to_bytes()))
    }

    #[test]
    fn a_correctly_signed_webhook_verifies() -> TestResult {
        let key = keypair();
        let (signature, timestamp) = sign(&key, now().timestamp() - 10, BODY);
        let headers = vec![("Telnyx-Signature-Ed25519", signature), ("Telnyx-Timestamp", timestamp)];
        verifier(&key)?.verify(&headers, BODY, now())
    }

    #[test]
    fn a_tampered_body_is_refused() -> TestResult {
        let key = keypair();
        let (signature, timestamp) = sign(&key, now().timestamp(), BODY);
        let tampered = String::from_utf8_lossy(BODY).replace("m-1", "m-2");
        let result = verifier(&key)?.verify_parts(Some(&signature), Some(&timestamp), tampered.as_bytes(), now());
        assert_eq!(result, Err(VerifyError::Mismatch));
        Ok(())
    }

    #[test]
    fn a_tampered_signature_is_refused() -> TestResult {
        let key = keypair();
        let (signature, timestamp) = sign(&key, now().timestamp(), BODY);
        let mut bytes = STANDARD.decode(&signature).map_err(|_| VerifyError::BadEncoding("test"))?;
        bytes[5] ^= 0x01;
        let tampered = STANDARD.encode(bytes);
        let verifier = verifier(&key)?;
        assert_eq!(verifier.verify_parts(Some(&tampered), Some(&timestamp), BODY, now()), Err(VerifyError::Mismatch));
        let short = STANDARD.encode([0u8; 10]);
        assert_eq!(
            verifier.verify_parts(Some(&short), Some(&timestamp), BODY, now()),
            Err(VerifyError::BadEncoding(SIGNATURE_HEADER))
        );
        assert_eq!(
            verifier.verify_parts(Some("%%%"), Some(&timestamp), BODY, now()),
            Err(VerifyError::BadEncoding(SIGNATURE_HEADER))
        );
        Ok(())
    }

    #[test]
    fn a_signature_from_another_key_is_refused() -> TestResult {
        let (signature, timestamp) = sign(&keypair(), now().timestamp(), BODY);
        let result = verifier(&keypair())?.verify_parts(Some(&signature), Some(&timestamp), BODY, now());
        assert_eq!(result, Err(VerifyError::Mismatch));
        Ok(())
    }

    #[test]
    fn a_stale_timestamp_is_refused_even_when_correctly_signed() -> TestResult {
        let key = keypair();
        let (signature, timestamp) = sign(&key, now().timestamp() - 301, BODY);
        let result = verifier(&key)?.verify_parts(Some(&signature), Some(&timestamp), BODY, now());
        assert_eq!(result, Err(VerifyError::StaleTimestamp { skew_seconds: 301, tolerance_seconds: 300 }));
        let (signature, timestamp) = sign(&key, now().timestamp() - 300, BODY);
        verifier(&key)?.verify_parts(Some(&signature), Some(&timestamp), BODY, now())
    }

    #[test]
    fn a_timestamp_too_far_in_the_future_is_refused() -> TestResult {
        let key = keypair();
        let (signature, timestamp) = sign(&key, now().timestamp() + 120, BODY);
        let strict = verifier(&key)?.with_tolerance(Duration::from_secs(60));
        let result = strict.verify_parts(Some(&signature), Some(&timestamp), BODY, now());
        assert_eq!(result, Err(VerifyError::StaleTimestamp { skew_seconds: 120, tolerance_seconds: 60 }));
        let (signature, timestamp) = sign(&key, i64::MAX, BODY);
        let result = strict.verify_parts(Some(&signature), Some(&timestamp), BODY, now());
        assert!(matches!(result, Err(VerifyError::StaleTimestamp { .. })));
        Ok(())
    }

    #[test]
    fn a_timestamp_other_than_the_signed_one_is_refused() -> TestResult {
        let key = keypair();
        let (signature, _) = sign(&key, now().timestamp(), BODY);
        let other = (now().timestamp() + 1).to_string();
        let verifier = verifier(&key)?;
        assert_eq!(verifier.verify_parts(Some(&signature), Some(&other), BODY, now()), Err(VerifyError::Mismatch));
        assert_eq!(
            verifier.verify_parts(Some(&signature), Some("soon"), BODY, now()),
            Err(VerifyError::BadEncoding(TIMESTAMP_HEADER))
        );
        assert_eq!(
            verifier.verify_parts(Some(&signature), None, BODY, now()),
            Err(VerifyError::Missing(TIMESTAMP_HEADER))
        );
        assert_eq!(verifier.verify_parts(None, Some(&other), BODY, now()), Err(VerifyError::Missing(SIGNATURE_HEADER)));
        Ok(())
    }

    #[test]
    fn a_malformed_public_key_is_a_configuration_error() {
        assert!(matches!(TelnyxVerifier::from_base64("not base64"), Err(VerifyError::Configuration(_))));
        assert!(matches!(TelnyxVerifier::from_base64(&STANDARD.encode([1u8; 31])), Err(VerifyError::Configuration(_))));
    }
}
