//! SIS API keys: how a district's student information system proves who it
//! is when it posts events, with no staff member and no JWT behind it.
//!
//! A key is shown once, as `sbk_<id>_<secret>`: `sbk_` says what it is (so
//! a key pasted into the wrong place is recognisable, and a scanner can find
//! a leaked one), `<id>` is `sk-` and 24 hex digits (names the key, not
//! secret), `<secret>` is 32 random bytes in URL-safe base64 without
//! padding (43 characters). The SIS presents it in one of two ways:
//!
//! - as a bearer token: the whole key; the store keeps only the secret's
//!   SHA-256, so the key is checked by hashing what was presented;
//! - by signing each request: `v1=` and the hex HMAC-SHA256, keyed with the
//!   whole key text, of `"{timestamp}.{body}"`, with the timestamp (unix
//!   seconds) within [`SIGNATURE_TOLERANCE_SECONDS`] of now either way. The
//!   key never travels; a captured request cannot be replayed after five
//!   minutes, nor its body changed.
//!
//! Everything here is pure: time comes in as an argument, comparisons of
//! secrets are constant-time, and no `Debug` shows a secret.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac as _};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

/// What every key shown to an admin starts with.
pub const KEY_PREFIX: &str = "sbk_";
/// What every key id starts with.
pub const KEY_ID_PREFIX: &str = "sk-";
/// Random bytes of a key id (24 hex digits: ids never collide in practice,
/// and the index write refuses the one that would).
const KEY_ID_RANDOM_BYTES: usize = 12;
/// Bytes of a key's secret.
pub const SECRET_BYTES: usize = 32;
/// Characters of a secret in unpadded base64.
const SECRET_CHARS: usize = 43;
/// How far a signed request's timestamp may be from now, either way: a
/// SIS clock a little off still works, a captured request soon stops.
pub const SIGNATURE_TOLERANCE_SECONDS: i64 = 5 * 60;
/// How long a rotated key keeps working beside its successor.
pub const ROTATION_GRACE_HOURS: i64 = 24;
/// The signature scheme's tag in `X-Schoolbell-Signature`.
pub const SIGNATURE_SCHEME: &str = "v1=";
/// Longest timestamp text read (unix seconds have 10 digits until 2286).
const MAX_TIMESTAMP_CHARS: usize = 12;

/// Why a presented key or signature was refused. Messages never repeat a
/// key, a secret or a signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SisKeyError {
    /// Not in the form of a SIS key, key id or signature (a JWT is not).
    #[error("not a SIS key: {0}")]
    Malformed(&'static str),
    /// The timestamp is not unix seconds.
    #[error("the timestamp is not unix seconds")]
    BadTimestamp,
    /// The timestamp is more than five minutes before or after now.
    #[error("the timestamp is more than 5 minutes from now; sign each request when it is sent")]
    StaleTimestamp,
    /// The signature does not match the body, the timestamp and the key.
    #[error("the signature does not match the request")]
    BadSignature,
}

impl SisKeyError {
    /// Never: the same credential fails the same way.
    pub fn is_retryable(&self) -> bool {
        false
    }
}

/// A key's public name (`sk-` and 24 hex digits): safe to show, list and log.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SisKeyId(String);

impl SisKeyId {
    /// A fresh random id.
    pub fn generate() -> Self {
        let bytes: [u8; KEY_ID_RANDOM_BYTES] = rand::random();
        Self(format!("{KEY_ID_PREFIX}{}", hex(&bytes)))
    }

    /// An id as a request or a route names it: exactly `sk-` and 24
    /// lowercase hex digits, so it is safe in a store key.
    pub fn parse(text: &str) -> Result<Self, SisKeyError> {
        let digits = text.strip_prefix(KEY_ID_PREFIX).ok_or(SisKeyError::Malformed("a key id starts with sk-"))?;
        let hex_ok = digits.len() == 2 * KEY_ID_RANDOM_BYTES
            && digits.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !hex_ok {
            return Err(SisKeyError::Malformed("a key id is sk- and 24 hex digits"));
        }
        Ok(Self(text.to_string()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for SisKeyId {
    type Error = SisKeyError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<SisKeyId> for String {
    fn from(id: SisKeyId) -> String {
        id.0
    }
}

impl fmt::Display for SisKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A key's secret half. No `Display`, and `Debug` shows none of it, so it
/// cannot reach a log by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct SisSecret([u8; SECRET_BYTES]);

impl SisSecret {
    /// A fresh random secret.
    pub fn generate() -> Self {
        Self(rand::random())
    }

    /// A secret of these bytes (one opened from the store).
    pub fn from_bytes(bytes: [u8; SECRET_BYTES]) -> Self {
        Self(bytes)
    }

    /// Its bytes, to seal them.
    pub fn as_bytes(&self) -> &[u8; SECRET_BYTES] {
        &self.0
    }

    /// What the store keeps to check a bearer key: SHA-256, lowercase hex.
    pub fn hash(&self) -> String {
        hex(&Sha256::digest(self.0))
    }

    /// Whether this secret is the one `stored_hash` was made from, in
    /// constant time.
    pub fn matches_hash(&self, stored_hash: &str) -> bool {
        bool::from(self.hash().as_bytes().ct_eq(stored_hash.as_bytes()))
    }
}

impl fmt::Debug for SisSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SisSecret(..)")
    }
}

/// A whole key: its id and its secret. `Debug` shows the id only.
#[derive(Clone, PartialEq, Eq)]
pub struct SisKey {
    id: SisKeyId,
    secret: SisSecret,
}

impl SisKey {
    /// A fresh key (new id, new secret).
    pub fn generate() -> Self {
        Self { id: SisKeyId::generate(), secret: SisSecret::generate() }
    }

    /// The key of this id and secret (one whose secret was opened from the store).
    pub fn new(id: SisKeyId, secret: SisSecret) -> Self {
        Self { id, secret }
    }

    /// A presented key, read strictly: `sbk_`, an id, `_`, 43 characters of
    /// base64url holding 32 bytes; nothing before, after or between.
    pub fn parse(text: &str) -> Result<Self, SisKeyError> {
        let rest = text.strip_prefix(KEY_PREFIX).ok_or(SisKeyError::Malformed("a SIS key starts with sbk_"))?;
        // An id holds no `_`, so the first one ends it (a secret may hold `_`).
        let (id, secret) = rest.split_once('_').ok_or(SisKeyError::Malformed("a SIS key is sbk_<id>_<secret>"))?;
        let id = SisKeyId::parse(id)?;
        let bad_secret = SisKeyError::Malformed("the secret of a SIS key is 43 characters of base64url");
        if secret.len() != SECRET_CHARS {
            return Err(bad_secret);
        }
        let bytes = URL_SAFE_NO_PAD.decode(secret).map_err(|_| bad_secret.clone())?;
        let bytes: [u8; SECRET_BYTES] = bytes.try_into().map_err(|_| bad_secret)?;
        Ok(Self { id, secret: SisSecret(bytes) })
    }

    /// Its id.
    pub fn id(&self) -> &SisKeyId {
        &self.id
    }

    /// Its secret.
    pub fn secret(&self) -> &SisSecret {
        &self.secret
    }

    /// The key as the admin is shown it once, and as the SIS presents it or
    /// signs with it. Named so that every place that reveals it says so.
    pub fn expose(&self) -> String {
        format!("{KEY_PREFIX}{}_{}", self.id, URL_SAFE_NO_PAD.encode(self.secret.0))
    }

    fn mac(&self, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
        // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
        let mut mac = Hmac::<Sha256>::new_from_slice(self.expose().as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }

    /// The `X-Schoolbell-Signature` value of a request: `v1=` and the hex
    /// HMAC-SHA256 of `"{timestamp}.{body}"` under the key's text (what a
    /// SIS computes; tests and tools sign with it).
    pub fn sign(&self, timestamp: &str, body: &[u8]) -> String {
        format!("{SIGNATURE_SCHEME}{}", hex(&self.mac(timestamp, body).finalize().into_bytes()))
    }

    /// Checks a signed request: the timestamp within five minutes of `now`
    /// (either way), then the signature over the timestamp and body,
    /// compared in constant time.
    pub fn verify_signature(
        &self,
        timestamp: &str,
        body: &[u8],
        signature: &str,
        now: DateTime<Utc>,
    ) -> Result<(), SisKeyError> {
        check_timestamp(timestamp, now)?;
        let given = parse_signature(signature)?;
        self.mac(timestamp, body).verify_slice(&given).map_err(|_| SisKeyError::BadSignature)
    }
}

impl fmt::Debug for SisKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SisKey({}, ..)", self.id)
    }
}

/// Checks a signed request's timestamp (unix seconds, digits only) against
/// `now`: at most [`SIGNATURE_TOLERANCE_SECONDS`] before or after it. Cheap,
/// so it runs before any lookup.
pub fn check_timestamp(timestamp: &str, now: DateTime<Utc>) -> Result<(), SisKeyError> {
    if timestamp.is_empty() || timestamp.len() > MAX_TIMESTAMP_CHARS || !timestamp.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SisKeyError::BadTimestamp);
    }
    let at: i64 = timestamp.parse().map_err(|_| SisKeyError::BadTimestamp)?;
    if (now.timestamp() - at).abs() > SIGNATURE_TOLERANCE_SECONDS {
        return Err(SisKeyError::StaleTimestamp);
    }
    Ok(())
}

/// The MAC bytes of `v1=<64 hex digits>`.
fn parse_signature(signature: &str) -> Result<Vec<u8>, SisKeyError> {
    let digits = signature
        .strip_prefix(SIGNATURE_SCHEME)
        .ok_or(SisKeyError::Malformed("a signature is v1= and 64 hex digits"))?;
    if digits.len() != 64 {
        return Err(SisKeyError::Malformed("a signature is v1= and 64 hex digits"));
    }
    unhex(digits).ok_or(SisKeyError::Malformed("a signature is v1= and 64 hex digits"))
}

/// What an admin reads of a key: never the key, its secret or its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SisKeyInfo {
    /// The key's id.
    pub id: SisKeyId,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// Who made it (the admin's token subject, or the command line).
    pub created_by: String,
    /// When it stops (stopped) working: the moment of a revocation, or the
    /// end of a rotation's grace; `None` while it has no end.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl SisKeyInfo {
    /// Whether the key authenticates at `now`: it has no end yet, or its
    /// end (a rotated key's grace) is still ahead.
    pub fn is_active_at(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none_or(|end| now < end)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok()).collect()
}

#[cfg(test)]
mod tests;
