//! A per-provider shared secret, for gateways that do not sign payloads:
//! Bandwidth (Basic auth credentials on the callback), Kannel and Jasmin (an
//! unguessable token in the DLR URL's query string, or a header added by a
//! proxy).
//!
//! Every comparison hashes both sides first and compares the digests in
//! constant time, so neither the secret nor its length leaks through timing.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::{Headers, VerifyError, form_pairs, secrets_equal};

/// The header carrying Basic credentials.
pub const AUTHORIZATION_HEADER: &str = "authorization";

#[derive(Clone, PartialEq, Eq)]
enum Kind {
    Basic { username: String, password: String },
    Header { name: String, token: String },
    Query { name: String, token: String },
}

/// One accepted credential for a provider's webhook. `Debug` never shows
/// the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct SharedSecret {
    kind: Kind,
}

impl std::fmt::Debug for SharedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            Kind::Basic { .. } => f.write_str("SharedSecret::Basic(..)"),
            Kind::Header { name, .. } => write!(f, "SharedSecret::Header({name}: ..)"),
            Kind::Query { name, .. } => write!(f, "SharedSecret::Query({name}=..)"),
        }
    }
}

impl SharedSecret {
    /// `Authorization: Basic base64(username:password)`. The password must
    /// not be empty.
    pub fn basic(username: impl Into<String>, password: impl Into<String>) -> Result<Self, VerifyError> {
        let password = password.into();
        if password.is_empty() {
            return Err(VerifyError::Configuration("the webhook password is empty"));
        }
        Ok(Self { kind: Kind::Basic { username: username.into(), password } })
    }

    /// A header `name` whose whole value is `token`. Neither may be empty.
    pub fn header(name: impl Into<String>, token: impl Into<String>) -> Result<Self, VerifyError> {
        let (name, token) = non_empty(name.into(), token.into())?;
        Ok(Self { kind: Kind::Header { name, token } })
    }

    /// A query-string parameter `name` whose (decoded) value is `token`.
    /// Neither may be empty.
    pub fn query(name: impl Into<String>, token: impl Into<String>) -> Result<Self, VerifyError> {
        let (name, token) = non_empty(name.into(), token.into())?;
        Ok(Self { kind: Kind::Query { name, token } })
    }

    /// Checks a request's headers and query string (the part after `?`,
    /// without it; `None` when the URL has none).
    ///
    /// `Ok` guarantees only that the caller knew the secret: nothing about
    /// the body, which these gateways do not sign, and nothing about
    /// freshness. Keep such callbacks on https.
    pub fn verify<H: Headers + ?Sized>(&self, headers: &H, query: Option<&str>) -> Result<(), VerifyError> {
        match &self.kind {
            Kind::Basic { username, password } => {
                let (given_user, given_password) = basic_credentials(headers.header(AUTHORIZATION_HEADER))?;
                // Both halves are always compared.
                let user_ok = secrets_equal(given_user.as_bytes(), username.as_bytes());
                let password_ok = secrets_equal(given_password.as_bytes(), password.as_bytes());
                if user_ok & password_ok { Ok(()) } else { Err(VerifyError::Mismatch) }
            }
            Kind::Header { name, token } => {
                let given = headers.header(name).map(str::trim).ok_or(VerifyError::Missing("webhook token header"))?;
                if secrets_equal(given.as_bytes(), token.as_bytes()) { Ok(()) } else { Err(VerifyError::Mismatch) }
            }
            Kind::Query { name, token } => {
                let pairs = form_pairs(query.unwrap_or_default().as_bytes());
                let given = pairs
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.as_str())
                    .ok_or(VerifyError::Missing("webhook token parameter"))?;
                if secrets_equal(given.as_bytes(), token.as_bytes()) { Ok(()) } else { Err(VerifyError::Mismatch) }
            }
        }
    }
}

fn non_empty(name: String, token: String) -> Result<(String, String), VerifyError> {
    if name.trim().is_empty() {
        return Err(VerifyError::Configuration("the webhook token name is empty"));
    }
    if token.is_empty() {
        return Err(VerifyError::Configuration("the webhook token is empty"));
    }
    Ok((name, token))
}

fn basic_credentials(authorization: Option<&str>) -> Result<(String, String), VerifyError> {
    let authorization = authorization.map(str::trim).ok_or(VerifyError::Missing(AUTHORIZATION_HEADER))?;
    let encoded = match authorization.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("basic") => rest.trim(),
        _ => return Err(VerifyError::BadEncoding(AUTHORIZATION_HEADER)),
    };
    let decoded = STANDARD.decode(encoded).map_err(|_| VerifyError::BadEncoding(AUTHORIZATION_HEADER))?;
    let decoded = String::from_utf8(decoded).map_err(|_| VerifyError::BadEncoding(AUTHORIZATION_HEADER))?;
    let (user, password) = decoded.split_once(':').ok_or(VerifyError::BadEncoding(AUTHORIZATION_HEADER))?;
    Ok((user.to_string(), password.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), VerifyError>;

    const NONE: &[(&str, &str)] = &[];

    fn basic(user: &str, password: &str) -> String {
        format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
    }

    #[test]
    fn correct_basic_credentials_are_accepted() -> TestResult {
        let secret = SharedSecret::basic("bandwidth", "s3cret:with:colons")?;
        secret.verify(&[("Authorization", basic("bandwidth", "s3cret:with:colons"))][..], None)?;
        secret
            .verify(&[("authorization", basic("bandwidth", "s3cret:with:colons").replace("Basic", "basic"))][..], None)
    }

    #[test]
    fn wrong_basic_credentials_are_refused() -> TestResult {
        let secret = SharedSecret::basic("bandwidth", "s3cret")?;
        let wrong_password = [("Authorization", basic("bandwidth", "s3cret2"))];
        assert_eq!(secret.verify(&wrong_password[..], None), Err(VerifyError::Mismatch));
        let wrong_user = [("Authorization", basic("other", "s3cret"))];
        assert_eq!(secret.verify(&wrong_user[..], None), Err(VerifyError::Mismatch));
        let bearer = [("Authorization", "Bearer s3cret")];
        assert_eq!(secret.verify(&bearer[..], None), Err(VerifyError::BadEncoding(AUTHORIZATION_HEADER)));
        let garbage = [("Authorization", "Basic !!!")];
        assert_eq!(secret.verify(&garbage[..], None), Err(VerifyError::BadEncoding(AUTHORIZATION_HEADER)));
        let no_colon = [("Authorization", format!("Basic {}", STANDARD.encode("bandwidth")))];
        assert_eq!(secret.verify(&no_colon[..], None), Err(VerifyError::BadEncoding(AUTHORIZATION_HEADER)));
        assert_eq!(secret.verify(NONE, None), Err(VerifyError::Missing(AUTHORIZATION_HEADER)));
        Ok(())
    }

    #[test]
    fn a_token_in_the_query_string_is_accepted_only_when_it_matches() -> TestResult {
        let secret = SharedSecret::query("token", "k4nnel/t0ken+x")?;
        secret.verify(NONE, Some("type=1&token=k4nnel%2Ft0ken%2Bx&id=abc"))?;
        assert_eq!(secret.verify(NONE, Some("type=1&token=k4nnel%2Ft0ken%2By")), Err(VerifyError::Mismatch));
        assert_eq!(secret.verify(NONE, Some("type=1&token=")), Err(VerifyError::Mismatch));
        assert_eq!(secret.verify(NONE, Some("type=1")), Err(VerifyError::Missing("webhook token parameter")));
        assert_eq!(secret.verify(NONE, None), Err(VerifyError::Missing("webhook token parameter")));
        Ok(())
    }

    #[test]
    fn a_token_header_is_accepted_only_when_it_matches() -> TestResult {
        let secret = SharedSecret::header("X-Webhook-Token", "jasmin-token")?;
        secret.verify(&[("x-webhook-token", "jasmin-token")][..], None)?;
        assert_eq!(secret.verify(&[("x-webhook-token", "jasmin-token2")][..], None), Err(VerifyError::Mismatch));
        assert_eq!(
            secret.verify(NONE, Some("x-webhook-token=jasmin-token")),
            Err(VerifyError::Missing("webhook token header"))
        );
        Ok(())
    }

    #[test]
    fn empty_secrets_are_configuration_errors_and_debug_hides_secrets() -> TestResult {
        assert!(matches!(SharedSecret::basic("u", ""), Err(VerifyError::Configuration(_))));
        assert!(matches!(SharedSecret::query("token", ""), Err(VerifyError::Configuration(_))));
        assert!(matches!(SharedSecret::header(" ", "t"), Err(VerifyError::Configuration(_))));
        let debug =
            format!("{:?} {:?}", SharedSecret::basic("u", "hunter2")?, SharedSecret::query("token", "hunter2")?);
        assert!(!debug.contains("hunter2"), "{debug}");
        Ok(())
    }
}
