//! Sealing SIS key secrets for the store: XChaCha20-Poly1305 under a key
//! derived from the deployment's cursor key, bound to the district and key
//! id. A signature check needs the secret itself (a hash cannot key an
//! HMAC), so the store keeps it, but only sealed: a copy of the table
//! without the deployment's key reveals no secret, and a sealed secret
//! moved to another key or district does not open.
//!
//! Stored text: base64url (no padding) of `version ‖ nonce (24) ‖ ciphertext ‖ tag (16)`.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::domain::sis_key::SECRET_BYTES;
use crate::domain::{DistrictId, SisKeyId, SisSecret};
use crate::services::cursors::CursorKey;

/// What the sub-key is derived for; another purpose gets another key.
const PURPOSE: &str = "sis-key-secrets";
/// The sealed format; a new one gets a new number.
const VERSION: u8 = 1;
const NONCE_BYTES: usize = 24;

/// Seals and opens SIS key secrets. `Debug` shows nothing of the key.
#[derive(Clone)]
pub(crate) struct SecretSealer {
    cipher: XChaCha20Poly1305,
}

impl fmt::Debug for SecretSealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretSealer(..)")
    }
}

/// Each part length-prefixed, so no two (district, id) pairs share bytes.
fn associated_data(district: &DistrictId, id: &SisKeyId) -> Vec<u8> {
    let mut data = b"schoolbell sis key".to_vec();
    for part in [district.as_str(), id.as_str()] {
        data.extend_from_slice(&(part.len() as u64).to_be_bytes());
        data.extend_from_slice(part.as_bytes());
    }
    data
}

impl SecretSealer {
    /// A sealer under the sub-key of the deployment's cursor key.
    pub(crate) fn new(deployment_key: &CursorKey) -> Self {
        Self { cipher: XChaCha20Poly1305::new(&deployment_key.derive(PURPOSE).into()) }
    }

    /// The stored text of `secret`, for the key `id` of `district`.
    pub(crate) fn seal(&self, district: &DistrictId, id: &SisKeyId, secret: &SisSecret) -> String {
        let nonce: [u8; NONCE_BYTES] = rand::random();
        let aad = associated_data(district, id);
        // Encryption into a Vec fails only past ChaCha20's 256 GiB limit.
        let sealed = self
            .cipher
            .encrypt(&XNonce::from(nonce), Payload { msg: secret.as_bytes(), aad: &aad })
            .unwrap_or_default();
        let mut text = Vec::with_capacity(1 + NONCE_BYTES + sealed.len());
        text.push(VERSION);
        text.extend_from_slice(&nonce);
        text.extend_from_slice(&sealed);
        URL_SAFE_NO_PAD.encode(text)
    }

    /// The secret sealed in `sealed` for this key of this district; `None`
    /// when it was sealed under another deployment key, for another key or
    /// district, or altered.
    pub(crate) fn open(&self, district: &DistrictId, id: &SisKeyId, sealed: &str) -> Option<SisSecret> {
        let bytes = URL_SAFE_NO_PAD.decode(sealed).ok()?;
        let (&VERSION, rest) = bytes.split_first()? else { return None };
        if rest.len() < NONCE_BYTES {
            return None;
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_BYTES);
        let nonce = XNonce::try_from(nonce).ok()?;
        let aad = associated_data(district, id);
        let plain = self.cipher.decrypt(&nonce, Payload { msg: ciphertext, aad: &aad }).ok()?;
        let bytes: [u8; SECRET_BYTES] = plain.try_into().ok()?;
        Some(SisSecret::from_bytes(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_for_its_key_district_and_deployment_key() {
        let sealer = SecretSealer::new(&CursorKey::new([7; 32]));
        let (a, b) = (DistrictId::parse("district-a").unwrap(), DistrictId::parse("district-b").unwrap());
        let (id, other_id) = (SisKeyId::generate(), SisKeyId::generate());
        let secret = SisSecret::from_bytes([0xab; 32]);
        let sealed = sealer.seal(&a, &id, &secret);
        assert_eq!(sealer.open(&a, &id, &sealed), Some(secret.clone()));
        assert_ne!(sealer.seal(&a, &id, &secret), sealed, "a fresh nonce each time");
        assert!(!URL_SAFE_NO_PAD.decode(&sealed).unwrap().windows(8).any(|w| w == [0xab; 8]), "no plain bytes");
        assert_eq!(sealer.open(&b, &id, &sealed), None);
        assert_eq!(sealer.open(&a, &other_id, &sealed), None);
        assert_eq!(SecretSealer::new(&CursorKey::new([8; 32])).open(&a, &id, &sealed), None);
        let mut altered = URL_SAFE_NO_PAD.decode(&sealed).unwrap();
        altered[30] ^= 1;
        assert_eq!(sealer.open(&a, &id, &URL_SAFE_NO_PAD.encode(altered)), None);
        assert_eq!(sealer.open(&a, &id, ""), None);
        assert_eq!(sealer.open(&a, &id, "%%"), None);
    }

    #[test]
    fn the_sealing_key_is_not_the_cursor_key_itself() {
        let key = CursorKey::new([7; 32]);
        assert_ne!(key.derive(PURPOSE), [7; 32]);
        assert_ne!(key.derive(PURPOSE), key.derive("another purpose"));
        assert_ne!(key.derive(PURPOSE), CursorKey::new([8; 32]).derive(PURPOSE));
    }
}
