//! Reading a SIS request's credential from its headers, for every route a
//! SIS calls (the API's and the sis-events function's): the whole key as
//! `Authorization: Bearer <key>`, or a signature in
//! `X-Schoolbell-Key-Id`, `X-Schoolbell-Timestamp` (unix seconds) and
//! `X-Schoolbell-Signature` (`v1=<hex>`). Checking it is
//! `SisKeyService::authenticate`'s; this only finds it.

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;

use super::ApiError;
use crate::services::{ServiceError, SisCredential};

/// The header naming the key a request is signed with.
pub const KEY_ID_HEADER: &str = "x-schoolbell-key-id";
/// The header with the signing time, unix seconds.
pub const TIMESTAMP_HEADER: &str = "x-schoolbell-timestamp";
/// The header with the signature, `v1=<hex>`.
pub const SIGNATURE_HEADER: &str = "x-schoolbell-signature";

fn unauthorized(message: &str) -> ApiError {
    ServiceError::Unauthorized(message.into()).into()
}

fn text<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, ApiError> {
    headers
        .get(name)
        .map(|value| value.to_str().map(str::trim).map_err(|_| unauthorized("a SIS credential header is not text")))
        .transpose()
}

/// The credential a SIS request carries: signed when it names a key id
/// (then the timestamp and signature must be there too), else the bearer
/// key. 401 `unauthorized` when there is neither, or a header is not text.
/// A bearer that is not a SIS key (a staff JWT) is found here and refused
/// by `authenticate`.
pub fn sis_credential(headers: &HeaderMap) -> Result<SisCredential<'_>, ApiError> {
    if let Some(key_id) = text(headers, KEY_ID_HEADER)? {
        let timestamp = text(headers, TIMESTAMP_HEADER)?
            .ok_or_else(|| unauthorized("a signed SIS request needs X-Schoolbell-Timestamp"))?;
        let signature = text(headers, SIGNATURE_HEADER)?
            .ok_or_else(|| unauthorized("a signed SIS request needs X-Schoolbell-Signature"))?;
        return Ok(SisCredential::Signed { key_id, timestamp, signature });
    }
    let bearer = text(headers, AUTHORIZATION.as_str())?
        .and_then(|value| value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|key| !key.is_empty());
    bearer.map(SisCredential::Bearer).ok_or_else(|| {
        unauthorized("a SIS key is required: Authorization: Bearer <key>, or X-Schoolbell-Key-Id with a signature")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderValue, StatusCode};

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn a_bearer_key_or_the_three_signature_headers_are_the_credential() {
        let bearer = headers(&[("authorization", "Bearer sbk_x_y")]);
        assert_eq!(sis_credential(&bearer), Ok(SisCredential::Bearer("sbk_x_y")));
        let signed = headers(&[
            ("authorization", "Bearer ignored-when-signed"),
            (KEY_ID_HEADER, "sk-1"),
            (TIMESTAMP_HEADER, "1790000000"),
            (SIGNATURE_HEADER, "v1=00"),
        ]);
        let expected = SisCredential::Signed { key_id: "sk-1", timestamp: "1790000000", signature: "v1=00" };
        assert_eq!(sis_credential(&signed), Ok(expected));
    }

    #[test]
    fn no_credential_or_half_a_signature_is_unauthorized() {
        for pairs in [
            &[][..],
            &[("authorization", "Basic dXNlcjpwYXNz")][..],
            &[("authorization", "Bearer ")][..],
            &[(KEY_ID_HEADER, "sk-1"), (TIMESTAMP_HEADER, "1790000000")][..],
            &[(KEY_ID_HEADER, "sk-1"), (SIGNATURE_HEADER, "v1=00")][..],
        ] {
            let error = sis_credential(&headers(pairs)).unwrap_err();
            assert_eq!((error.status, error.code), (StatusCode::UNAUTHORIZED, "unauthorized"), "{pairs:?}");
        }
    }
}
