//! Webhook signature checks for every carrier and AWS dialect schoolbell
//! receives, run on the raw request before anything parses the body, and
//! the configuration that turns each provider on.
//!
//! Each verifier is a pure function or a small struct over the raw parts of
//! a request (the configured public URL, the headers, the raw body bytes and,
//! where time matters, a `now` passed in): none reads a clock, the network or
//! the environment, and none panics on any input. A request that fails any
//! check is answered 403 by the caller and changes nothing.
//!
//! - [`twilio`]: `X-Twilio-Signature`, HMAC-SHA1 over the public URL and the
//!   sorted form parameters (or `bodySHA256` for JSON bodies).
//! - [`telnyx`]: Ed25519 over `{timestamp}|{body}` with a tolerance window.
//! - [`vonage`]: signed webhooks, an HS256 JWT whose `payload_hash` is the
//!   SHA-256 of the body.
//! - [`shared_secret`]: Basic auth or a token in a header or the query
//!   string, for Bandwidth, Kannel and Jasmin, which do not sign payloads.
//! - [`sns`]: Amazon SNS messages (SignatureVersion 1 and 2), with the
//!   signing certificate taken only from an AWS SNS host or a configured
//!   directory.
//!
//! Around them, what every webhook route shares (the delivery-receipts and
//! inbound-SMS functions, and the local gateway that mounts both):
//!
//! - [`config`]: [`WebhookConfig`], which providers are on and with which
//!   secrets, read once from the environment.
//! - [`webhooks`]: [`Webhooks`], the verifiers a configuration turns on,
//!   built once at start-up (with SNS's certificate source and the
//!   [`SubscriptionConfirmer`]).
//! - [`answers`]: the 404 / 403 / 503 a route answers before reading
//!   anything, and [`verify_twilio_webhook`], the request-level Twilio
//!   check of every Twilio route.
//!
//! Error messages never carry secrets, signatures, phone numbers or emails.

pub mod answers;
pub mod config;
pub mod shared_secret;
pub mod sns;
pub mod telnyx;
pub mod twilio;
pub mod vonage;
pub mod webhooks;

use std::collections::HashMap;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub use answers::{not_configured, refused, verify_twilio_webhook};
pub use config::WebhookConfig;
pub use shared_secret::SharedSecret;
pub use sns::{
    CachedCertificates, CertificateSource, DirCertificates, SnsMessage, SnsMessageType, canonical_string,
    check_cert_url, verify_sns, verify_sns_with_certificate,
};
pub use telnyx::TelnyxVerifier;
pub use twilio::{form_encode, sign_twilio, verify_twilio, verify_twilio_params, verify_twilio_request};
pub use vonage::{VonageVerifier, sign_vonage};
pub use webhooks::{
    ConfirmError, HttpConfirmer, SetupError, SnsSettings, SubscriptionConfirmer, Webhooks, is_sns_https_url,
};

/// Why a webhook request was refused (or, for certificate fetches, could not
/// be checked yet).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// A required header, parameter, claim or field is absent (or is not
    /// visible ASCII).
    #[error("missing {0}")]
    Missing(&'static str),
    /// A header, parameter or field is present but not correctly encoded.
    #[error("{0} is not correctly encoded")]
    BadEncoding(&'static str),
    /// The signature or the credentials do not match.
    #[error("the signature or credentials do not match")]
    Mismatch,
    /// The body does not match the hash the signature covers.
    #[error("the body does not match its signed hash")]
    BodyHashMismatch,
    /// The signed timestamp is too far from now, either way.
    #[error("the signed timestamp is {skew_seconds} s from now, beyond the {tolerance_seconds} s tolerance")]
    StaleTimestamp {
        /// How far the timestamp is from now, in seconds.
        skew_seconds: u64,
        /// The configured tolerance, in seconds.
        tolerance_seconds: u64,
    },
    /// A signed token is malformed or uses an algorithm other than the one
    /// configured.
    #[error("the signed token is not valid: {0}")]
    InvalidToken(&'static str),
    /// The SNS `SigningCertURL` is not an https URL on an AWS SNS host.
    #[error("the signing certificate URL is not trusted: {0}")]
    UntrustedCertificateUrl(&'static str),
    /// The SNS `SignatureVersion` is neither 1 nor 2.
    #[error("unsupported SNS signature version")]
    UnsupportedSignatureVersion,
    /// The SNS `Type` is none of Notification, SubscriptionConfirmation and
    /// UnsubscribeConfirmation.
    #[error("unsupported SNS message type")]
    UnsupportedMessageType,
    /// No certificate is known for the signing certificate URL (not in the
    /// configured directory).
    #[error("no signing certificate is known for this URL")]
    UnknownCertificate,
    /// The signing certificate could not be read as an X.509 certificate
    /// with an RSA key.
    #[error("the signing certificate is not usable: {0}")]
    BadCertificate(&'static str),
    /// The signing certificate could not be fetched (I/O or network); the
    /// only retryable error.
    #[error("the signing certificate could not be fetched: {0}")]
    CertificateFetch(String),
    /// The verifier itself is misconfigured (empty secret, bad key).
    #[error("webhook verification is misconfigured: {0}")]
    Configuration(&'static str),
}

impl VerifyError {
    /// Whether the same request may verify later: true only when the
    /// signing certificate could not be fetched. Every other error is final
    /// (answer 403).
    pub fn is_retryable(&self) -> bool {
        matches!(self, VerifyError::CertificateFetch(_))
    }
}

/// Read access to request headers, by case-insensitive name. Implemented
/// for `http::HeaderMap`, slices and vectors of `(name, value)` pairs, and
/// `HashMap<String, String>`. The first value of a repeated header counts.
pub trait Headers {
    /// The value of the header `name` (any case), if present and visible
    /// ASCII.
    fn header(&self, name: &str) -> Option<&str>;
}

impl Headers for http::HeaderMap {
    fn header(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(|value| value.to_str().ok())
    }
}

impl<N: AsRef<str>, V: AsRef<str>> Headers for [(N, V)] {
    fn header(&self, name: &str) -> Option<&str> {
        self.iter().find(|(n, _)| n.as_ref().eq_ignore_ascii_case(name)).map(|(_, v)| v.as_ref())
    }
}

impl<N: AsRef<str>, V: AsRef<str>> Headers for Vec<(N, V)> {
    fn header(&self, name: &str) -> Option<&str> {
        self.as_slice().header(name)
    }
}

impl<S: std::hash::BuildHasher> Headers for HashMap<String, String, S> {
    fn header(&self, name: &str) -> Option<&str> {
        self.get(name)
            .or_else(|| self.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v))
            .map(String::as_str)
    }
}

/// Constant-time equality of two secrets of any lengths: both sides are
/// hashed first, so neither the content nor the length leaks through timing.
pub(crate) fn secrets_equal(given: &[u8], expected: &[u8]) -> bool {
    let given = Sha256::digest(given);
    let expected = Sha256::digest(expected);
    bool::from(given.ct_eq(&expected))
}

/// The SHA-256 of `bytes`, as lowercase hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lowercase hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

/// Whether a hex digest given by the sender (any case, surrounding spaces
/// ignored) equals the SHA-256 of `body`, compared in constant time.
pub(crate) fn body_hash_matches(given_hex: &str, body: &[u8]) -> bool {
    let given = given_hex.trim().to_ascii_lowercase();
    bool::from(given.as_bytes().ct_eq(sha256_hex(body).as_bytes()))
}

/// Decodes `application/x-www-form-urlencoded` pairs (`+` is a space;
/// invalid UTF-8 is replaced, which can only make a signature fail).
pub(crate) fn form_pairs(encoded: &[u8]) -> Vec<(String, String)> {
    encoded
        .split(|b| *b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let mut parts = pair.splitn(2, |b| *b == b'=');
            let name = parts.next().unwrap_or_default();
            let value = parts.next().unwrap_or_default();
            (form_decode(name), form_decode(value))
        })
        .collect()
}

fn form_decode(bytes: &[u8]) -> String {
    let spaced: Vec<u8> = bytes.iter().map(|b| if *b == b'+' { b' ' } else { *b }).collect();
    percent_encoding::percent_decode(&spaced).decode_utf8_lossy().into_owned()
}

/// The query string of `url` (after `?`, before `#`), if any.
pub(crate) fn query_of(url: &str) -> Option<&str> {
    let without_fragment = url.split('#').next().unwrap_or_default();
    without_fragment.split_once('?').map(|(_, query)| query)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_found_whatever_their_case() {
        let pairs = vec![("X-Twilio-Signature", "abc"), ("Content-Type", "text/plain")];
        assert_eq!(pairs.header("x-twilio-signature"), Some("abc"));
        assert_eq!(pairs.as_slice().header("CONTENT-TYPE"), Some("text/plain"));
        let mut map = http::HeaderMap::new();
        map.insert("telnyx-timestamp", http::HeaderValue::from_static("17"));
        assert_eq!(map.header("Telnyx-Timestamp"), Some("17"));
        let hash: HashMap<String, String> = [("Authorization".to_string(), "Basic x".to_string())].into();
        assert_eq!(hash.header("authorization"), Some("Basic x"));
        assert_eq!(hash.header("missing"), None);
    }

    #[test]
    fn secrets_compare_equal_only_when_identical() {
        assert!(secrets_equal(b"token", b"token"));
        assert!(!secrets_equal(b"token", b"token2"));
        assert!(!secrets_equal(b"", b"token"));
    }

    #[test]
    fn form_bodies_decode_plus_and_percent_escapes() {
        let pairs = form_pairs(b"To=%2B15551234567&Body=hi+there&Empty=&Flag&&Bad=%ff");
        assert_eq!(pairs[0], ("To".into(), "+15551234567".into()));
        assert_eq!(pairs[1], ("Body".into(), "hi there".into()));
        assert_eq!(pairs[2], ("Empty".into(), String::new()));
        assert_eq!(pairs[3], ("Flag".into(), String::new()));
        assert_eq!(pairs[4].0, "Bad");
        assert_eq!(pairs.len(), 5);
    }

    proptest::proptest! {
        #[test]
        fn no_verifier_panics_on_any_input(url in ".{0,80}", body in proptest::collection::vec(proptest::num::u8::ANY, 0..200), header in ".{0,120}") {
            let _ = verify_twilio("token", &url, &body, Some(&header));
            let _ = check_cert_url(&url);
            let _ = SnsMessage::from_json(&body);
            let now = chrono::DateTime::from_timestamp(0, 0).unwrap_or_default();
            if let Ok(telnyx) = TelnyxVerifier::new(&[0x3b; 32]) {
                let _ = telnyx.verify_parts(Some(&header), Some(&url), &body, now);
            }
            if let Ok(vonage) = VonageVerifier::new(b"secret") {
                let _ = vonage.verify_authorization(Some(&header), &body, now);
            }
            if let Ok(secret) = SharedSecret::basic("user", "password") {
                let _ = secret.verify(&[("authorization", header.as_str())][..], Some(&url));
            }
            let _ = form_pairs(&body);
        }
    }

    #[test]
    fn only_certificate_fetch_failures_are_retryable() {
        assert!(VerifyError::CertificateFetch("timeout".into()).is_retryable());
        assert!(!VerifyError::Mismatch.is_retryable());
        assert!(!VerifyError::UnknownCertificate.is_retryable());
    }
}
