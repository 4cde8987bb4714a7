//! Page cursors as the API hands them out: sealed with the deployment's
//! key, so a client can give one back but can neither read nor make one.
//!
//! A page's position is often a key of the store (a deliveries page stops
//! at `DLV#sms:+1617…`, the very number the page masks) or a person's id.
//! Each cursor is that position encrypted and authenticated with
//! XChaCha20-Poly1305 under [`CursorKey`], with a fresh random nonce, and
//! bound (as associated data) to the district, the kind of page and the
//! thing paged (a broadcast, a list). So a cursor reveals nothing, an
//! altered one fails to open, and one from another district, broadcast or
//! kind of page is refused ([`CursorError`], 400 `invalid`).
//!
//! Token: base64url (no padding) of `version ‖ nonce (24) ‖ ciphertext ‖ tag (16)`.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::domain::DistrictId;

/// Bytes of a cursor key.
pub const CURSOR_KEY_BYTES: usize = 32;
/// The token format; a new one gets a new number so old tokens fail cleanly.
const VERSION: u8 = 1;
const NONCE_BYTES: usize = 24;
const TAG_BYTES: usize = 16;
/// Longer tokens are refused before any work: no page position is this long.
const MAX_TOKEN_CHARS: usize = 2048;

/// The deployment's secret that seals cursors. Its `Debug` shows no byte of it.
#[derive(Clone, PartialEq, Eq)]
pub struct CursorKey([u8; CURSOR_KEY_BYTES]);

/// A cursor key given in configuration that is not 32 bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a cursor key is 32 bytes, written as 64 hex digits or in base64")]
pub struct CursorKeyError;

impl CursorKey {
    /// A key of these bytes (a key file, a test's fixed key).
    pub fn new(bytes: [u8; CURSOR_KEY_BYTES]) -> Self {
        Self(bytes)
    }

    /// A fresh random key: cursors then live only as long as the process
    /// (what a deployment that names no key gets).
    pub fn random() -> Self {
        Self(rand::random())
    }

    /// A key from configuration: 64 hex digits (what a generated secret
    /// holds) or base64 (standard or URL-safe, padded or not) of 32 bytes.
    pub fn parse(text: &str) -> Result<Self, CursorKeyError> {
        let text = text.trim();
        let bytes = if text.len() == 2 * CURSOR_KEY_BYTES && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            (0..text.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&text[i..i + 2], 16))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| CursorKeyError)?
        } else {
            let unpadded = text.trim_end_matches('=');
            STANDARD
                .decode(format!("{unpadded}{}", "=".repeat((4 - unpadded.len() % 4) % 4)))
                .or_else(|_| URL_SAFE_NO_PAD.decode(unpadded))
                .map_err(|_| CursorKeyError)?
        };
        Ok(Self(bytes.try_into().map_err(|_| CursorKeyError)?))
    }

    /// A key for another purpose, derived from this one: HMAC-SHA256 of
    /// the purpose under this key (HKDF-Expand's single block; the key is
    /// already uniformly random). So one configured secret also seals, say,
    /// SIS key secrets, and neither use's key is the other's.
    pub(crate) fn derive(&self, purpose: &str) -> [u8; CURSOR_KEY_BYTES] {
        use hmac::Mac as _;
        let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.0) else {
            // HMAC takes keys of any length; this branch cannot be reached.
            return [0; CURSOR_KEY_BYTES];
        };
        mac.update(b"schoolbell derived key ");
        mac.update(purpose.as_bytes());
        mac.update(&[1]);
        mac.finalize().into_bytes().into()
    }
}

impl fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CursorKey(..)")
    }
}

impl Default for CursorKey {
    /// Random, never a fixed key: a deployment that forgets to configure
    /// one must not seal with a key anyone can read in this source.
    fn default() -> Self {
        Self::random()
    }
}

/// What a cursor pages through; part of what it is bound to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageKind {
    /// A broadcast's deliveries.
    Deliveries,
    /// A list's members.
    ListMembers,
    /// The contact clean-up list.
    Cleanup,
}

impl PageKind {
    fn label(self) -> &'static str {
        match self {
            PageKind::Deliveries => "deliveries",
            PageKind::ListMembers => "list-members",
            PageKind::Cleanup => "contact-cleanup",
        }
    }
}

/// A cursor the client gave back that this page did not hand out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "cursor: not a cursor of this {0} page (it was changed, or comes from another page or district); ask for the first page again"
)]
pub struct CursorError(&'static str);

impl CursorError {
    /// A cursor refused by a page of this kind (one that opened but does
    /// not hold a position of that page).
    pub fn refused(kind: PageKind) -> Self {
        Self(kind.label())
    }

    /// Never: the same cursor fails the same way.
    pub fn is_retryable(&self) -> bool {
        false
    }
}

/// Seals and opens cursors with the deployment's key.
#[derive(Clone)]
pub struct Cursors {
    cipher: XChaCha20Poly1305,
}

impl fmt::Debug for Cursors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Cursors(..)")
    }
}

/// Where a cursor may be used: the district, the kind of page and the thing
/// paged (`""` when the page is the district's own, as the clean-up list).
#[derive(Debug, Clone, Copy)]
pub struct CursorScope<'a> {
    /// The caller's district.
    pub district: &'a DistrictId,
    /// What is paged.
    pub kind: PageKind,
    /// Which one (a broadcast's or a list's id).
    pub of: &'a str,
}

impl CursorScope<'_> {
    /// Each part length-prefixed, so no two scopes share their bytes.
    fn associated_data(&self) -> Vec<u8> {
        let mut data = b"schoolbell cursor".to_vec();
        for part in [self.kind.label(), self.district.as_str(), self.of] {
            data.extend_from_slice(&(part.len() as u64).to_be_bytes());
            data.extend_from_slice(part.as_bytes());
        }
        data
    }
}

impl Cursors {
    /// Cursors sealed with `key`.
    pub fn new(key: &CursorKey) -> Self {
        Self { cipher: XChaCha20Poly1305::new(&key.0.into()) }
    }

    /// The token for `position` in `scope`.
    pub fn seal(&self, scope: CursorScope<'_>, position: &[u8]) -> String {
        let nonce: [u8; NONCE_BYTES] = rand::random();
        let aad = scope.associated_data();
        // Encryption into a Vec fails only past ChaCha20's 256 GiB limit.
        let sealed =
            self.cipher.encrypt(&XNonce::from(nonce), Payload { msg: position, aad: &aad }).unwrap_or_default();
        let mut token = Vec::with_capacity(1 + NONCE_BYTES + sealed.len());
        token.push(VERSION);
        token.extend_from_slice(&nonce);
        token.extend_from_slice(&sealed);
        URL_SAFE_NO_PAD.encode(token)
    }

    /// The position a token handed out in `scope` holds; [`CursorError`]
    /// for any other token.
    pub fn open(&self, scope: CursorScope<'_>, token: &str) -> Result<Vec<u8>, CursorError> {
        let refused = || CursorError::refused(scope.kind);
        if token.len() > MAX_TOKEN_CHARS {
            return Err(refused());
        }
        let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| refused())?;
        let Some((&VERSION, rest)) = bytes.split_first() else { return Err(refused()) };
        if rest.len() < NONCE_BYTES + TAG_BYTES {
            return Err(refused());
        }
        let (nonce, sealed) = rest.split_at(NONCE_BYTES);
        let nonce = XNonce::try_from(nonce).map_err(|_| refused())?;
        let aad = scope.associated_data();
        self.cipher.decrypt(&nonce, Payload { msg: sealed, aad: &aad }).map_err(|_| refused())
    }

    /// [`Self::seal`] of text.
    pub fn seal_text(&self, scope: CursorScope<'_>, position: &str) -> String {
        self.seal(scope, position.as_bytes())
    }

    /// [`Self::open`] of text.
    pub fn open_text(&self, scope: CursorScope<'_>, token: &str) -> Result<String, CursorError> {
        String::from_utf8(self.open(scope, token)?).map_err(|_| CursorError::refused(scope.kind))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn district(id: &str) -> DistrictId {
        DistrictId::parse(id).unwrap()
    }

    fn cursors() -> Cursors {
        Cursors::new(&CursorKey::new([7; CURSOR_KEY_BYTES]))
    }

    fn scope<'a>(district: &'a DistrictId, kind: PageKind, of: &'a str) -> CursorScope<'a> {
        CursorScope { district, kind, of }
    }

    #[test]
    fn a_sealed_position_opens_in_its_scope_and_shows_nothing_of_itself() {
        let (cursors, d) = (cursors(), district("d-1"));
        let here = scope(&d, PageKind::Deliveries, "b-1");
        let token = cursors.seal_text(here, "DLV#sms:+16175552345");
        assert_eq!(cursors.open_text(here, &token), Ok("DLV#sms:+16175552345".to_string()));
        let bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains("5552345"), "{token}");
        assert_ne!(cursors.seal_text(here, "DLV#sms:+16175552345"), token, "a fresh nonce each time");
    }

    #[test]
    fn a_cursor_of_another_district_page_kind_thing_or_key_is_refused() {
        let (cursors, a, b) = (cursors(), district("d-a"), district("d-b"));
        let token = cursors.seal_text(scope(&a, PageKind::ListMembers, "l-1"), "p-1");
        for elsewhere in [
            scope(&b, PageKind::ListMembers, "l-1"),
            scope(&a, PageKind::Deliveries, "l-1"),
            scope(&a, PageKind::ListMembers, "l-2"),
        ] {
            assert!(cursors.open(elsewhere, &token).is_err(), "{elsewhere:?}");
        }
        let other_key = Cursors::new(&CursorKey::new([8; CURSOR_KEY_BYTES]));
        assert!(other_key.open(scope(&a, PageKind::ListMembers, "l-1"), &token).is_err());
    }

    #[test]
    fn an_altered_truncated_or_made_up_cursor_is_refused() {
        let (cursors, d) = (cursors(), district("d-1"));
        let here = scope(&d, PageKind::Cleanup, "");
        let token = cursors.seal_text(here, "1000");
        let mut bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x80;
        let altered = URL_SAFE_NO_PAD.encode(&bytes);
        let truncated = &token[..token.len() - 4];
        for bad in [altered.as_str(), truncated, "", "%%", &URL_SAFE_NO_PAD.encode("1000"), &"A".repeat(5000)] {
            let error = cursors.open(here, bad).unwrap_err();
            assert!(error.to_string().starts_with("cursor: not a cursor of this contact-cleanup page"), "{error}");
        }
    }

    #[test]
    fn a_configured_key_is_64_hex_digits_or_base64_of_32_bytes() {
        let hex = "00".repeat(31) + "ff";
        let mut bytes = [0; CURSOR_KEY_BYTES];
        bytes[31] = 0xff;
        assert_eq!(CursorKey::parse(&hex), Ok(CursorKey::new(bytes)));
        assert_eq!(CursorKey::parse(&STANDARD.encode(bytes)), Ok(CursorKey::new(bytes)));
        assert_eq!(CursorKey::parse(&URL_SAFE_NO_PAD.encode([0xfb; 32])), Ok(CursorKey::new([0xfb; 32])));
        for bad in ["", "short", &"00".repeat(31), &STANDARD.encode([1; 16]), &"zz".repeat(32)] {
            assert_eq!(CursorKey::parse(bad), Err(CursorKeyError), "{bad}");
        }
        assert_eq!(format!("{:?}", CursorKey::new(bytes)), "CursorKey(..)");
    }
}
