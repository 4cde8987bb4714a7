//! Amazon SNS message signatures (HTTPS subscriptions and Lambda SNS
//! records): RSA PKCS#1 v1.5 over a canonical string, with SHA-1 for
//! SignatureVersion 1 and SHA-256 for SignatureVersion 2, checked against the
//! public key of the certificate at `SigningCertURL`.
//!
//! The certificate is trusted by where it comes from, as AWS's own
//! validators do: only an https URL on `sns.<region>.amazonaws.com` (or
//! `.amazonaws.com.cn`) ending in `.pem` is ever used (see
//! [`check_cert_url`]), and a [`CertificateSource`] turns it into PEM bytes:
//! [`DirCertificates`] from an operator's directory (offline and local runs),
//! and `HttpsCertificates` from AWS over HTTPS (`fetch`), behind
//! `FallbackCertificates` and wrapped in [`CachedCertificates`]. Its dates
//! and chain are not checked, so an expired certificate still verifies the
//! messages it signed.

mod certs;
mod fetch;
#[cfg(test)]
mod tests;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rsa::RsaPublicKey;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier;
use serde::{Deserialize, Serialize};
use sha1::Sha1;
use sha2::Sha256;
use x509_cert::Certificate;
use x509_cert::der::{Decode, DecodePem, Encode};

pub use certs::{CACHE_CAPACITY, CERT_DIR_ENV, CachedCertificates, CertificateSource, DirCertificates, check_cert_url};
pub use fetch::{FETCH_TIMEOUT, FallbackCertificates, HttpsCertificates, MAX_CERTIFICATE_BYTES};

use super::VerifyError;

/// The SNS envelope, as an HTTPS subscription receives it (the body, JSON
/// sent as `text/plain`) or as a Lambda SNS record carries it (which spells
/// `SigningCertUrl` and `UnsubscribeUrl`; both spellings are read).
/// Values are kept exactly as sent: the canonical string needs them so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SnsMessage {
    /// `Notification`, `SubscriptionConfirmation` or
    /// `UnsubscribeConfirmation`.
    #[serde(rename = "Type")]
    pub kind: String,
    /// SNS's id for this message.
    pub message_id: String,
    /// The confirmation token (the two confirmation types).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The topic the message was published to.
    pub topic_arn: String,
    /// The subject (Notification only, optional; `null` in Lambda records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The payload (for SES and End User Messaging, a JSON document).
    pub message: String,
    /// The URL that confirms the subscription (the two confirmation types).
    #[serde(default, rename = "SubscribeURL", skip_serializing_if = "Option::is_none")]
    pub subscribe_url: Option<String>,
    /// When SNS published the message, ISO 8601, kept verbatim.
    pub timestamp: String,
    /// `1` (SHA1withRSA) or `2` (SHA256withRSA).
    pub signature_version: String,
    /// Base64 RSA signature over [`canonical_string`].
    pub signature: String,
    /// Where the signing certificate is.
    #[serde(rename = "SigningCertURL", alias = "SigningCertUrl")]
    pub signing_cert_url: String,
    /// The URL that ends the subscription (Notification).
    #[serde(default, rename = "UnsubscribeURL", alias = "UnsubscribeUrl", skip_serializing_if = "Option::is_none")]
    pub unsubscribe_url: Option<String>,
}

/// The three kinds of SNS message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnsMessageType {
    /// A published message.
    Notification,
    /// A new subscription to confirm by GETting `SubscribeURL`.
    SubscriptionConfirmation,
    /// The subscription was removed.
    UnsubscribeConfirmation,
}

impl SnsMessage {
    /// Reads an envelope from raw JSON bytes. Only the shape is checked;
    /// nothing is trusted until [`verify_sns`] says so.
    pub fn from_json(bytes: &[u8]) -> Result<Self, VerifyError> {
        serde_json::from_slice(bytes).map_err(|_| VerifyError::BadEncoding("SNS message"))
    }

    /// The message's type.
    pub fn message_type(&self) -> Result<SnsMessageType, VerifyError> {
        match self.kind.as_str() {
            "Notification" => Ok(SnsMessageType::Notification),
            "SubscriptionConfirmation" => Ok(SnsMessageType::SubscriptionConfirmation),
            "UnsubscribeConfirmation" => Ok(SnsMessageType::UnsubscribeConfirmation),
            _ => Err(VerifyError::UnsupportedMessageType),
        }
    }
}

/// The string SNS signs: `name\nvalue\n` for each field, in this order.
/// Notification: Message, MessageId, Subject (only when present),
/// Timestamp, TopicArn, Type. SubscriptionConfirmation and
/// UnsubscribeConfirmation: Message, MessageId, SubscribeURL, Timestamp,
/// Token, TopicArn, Type. Values are the JSON-decoded strings.
pub fn canonical_string(message: &SnsMessage) -> Result<String, VerifyError> {
    let mut out = String::with_capacity(message.message.len() + 512);
    let mut push = |name: &str, value: &str| {
        out.push_str(name);
        out.push('\n');
        out.push_str(value);
        out.push('\n');
    };
    match message.message_type()? {
        SnsMessageType::Notification => {
            push("Message", &message.message);
            push("MessageId", &message.message_id);
            if let Some(subject) = &message.subject {
                push("Subject", subject);
            }
            push("Timestamp", &message.timestamp);
            push("TopicArn", &message.topic_arn);
            push("Type", &message.kind);
        }
        SnsMessageType::SubscriptionConfirmation | SnsMessageType::UnsubscribeConfirmation => {
            let subscribe_url = message.subscribe_url.as_deref().ok_or(VerifyError::Missing("SubscribeURL"))?;
            let token = message.token.as_deref().ok_or(VerifyError::Missing("Token"))?;
            push("Message", &message.message);
            push("MessageId", &message.message_id);
            push("SubscribeURL", subscribe_url);
            push("Timestamp", &message.timestamp);
            push("Token", token);
            push("TopicArn", &message.topic_arn);
            push("Type", &message.kind);
        }
    }
    Ok(out)
}

/// Verifies an SNS message, taking its certificate from `certificates`.
///
/// `Ok` guarantees that the message's canonical fields (see
/// [`canonical_string`]) were signed by the key of the certificate that
/// `certificates` holds for its `SigningCertURL`, and that this URL is an
/// https URL on an AWS SNS host ending in `.pem` (checked before the source
/// is asked, so a forged URL never reaches it). Certificate dates and
/// chains are not checked, and SNS signs no freshness: replays must be
/// harmless. Only [`VerifyError::CertificateFetch`] is worth retrying.
pub async fn verify_sns(message: &SnsMessage, certificates: &dyn CertificateSource) -> Result<(), VerifyError> {
    let checked = Checked::new(message)?;
    let pem = certificates.certificate(&message.signing_cert_url).await?;
    checked.verify_with(&pem)
}

/// [`verify_sns`] with the certificate (PEM, or DER) already in hand.
pub fn verify_sns_with_certificate(message: &SnsMessage, certificate: &[u8]) -> Result<(), VerifyError> {
    Checked::new(message)?.verify_with(certificate)
}

/// The public key of an X.509 certificate, PEM or DER, which must be RSA.
pub fn rsa_key_from_certificate(certificate: &[u8]) -> Result<RsaPublicKey, VerifyError> {
    let trimmed = certificate.trim_ascii();
    let parsed = if trimmed.starts_with(b"-----BEGIN") {
        Certificate::from_pem(trimmed)
    } else {
        Certificate::from_der(trimmed)
    };
    let parsed = parsed.map_err(|_| VerifyError::BadCertificate("not an X.509 certificate"))?;
    let spki = parsed
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|_| VerifyError::BadCertificate("unreadable public key"))?;
    RsaPublicKey::from_public_key_der(&spki).map_err(|_| VerifyError::BadCertificate("not an RSA public key"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    Sha1,
    Sha256,
}

/// Everything about a message that can be checked before its certificate
/// is fetched.
struct Checked {
    version: Version,
    canonical: String,
    signature: Signature,
}

impl Checked {
    fn new(message: &SnsMessage) -> Result<Self, VerifyError> {
        let version = match message.signature_version.as_str() {
            "1" => Version::Sha1,
            "2" => Version::Sha256,
            _ => return Err(VerifyError::UnsupportedSignatureVersion),
        };
        check_cert_url(&message.signing_cert_url)?;
        let canonical = canonical_string(message)?;
        let signature = STANDARD.decode(message.signature.trim()).map_err(|_| VerifyError::BadEncoding("Signature"))?;
        let signature = Signature::try_from(signature.as_slice()).map_err(|_| VerifyError::BadEncoding("Signature"))?;
        Ok(Self { version, canonical, signature })
    }

    fn verify_with(&self, certificate: &[u8]) -> Result<(), VerifyError> {
        let key = rsa_key_from_certificate(certificate)?;
        let result = match self.version {
            Version::Sha1 => VerifyingKey::<Sha1>::new(key).verify(self.canonical.as_bytes(), &self.signature),
            Version::Sha256 => VerifyingKey::<Sha256>::new(key).verify(self.canonical.as_bytes(), &self.signature),
        };
        result.map_err(|_| VerifyError::Mismatch)
    }
}
