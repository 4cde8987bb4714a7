//! Bearer tokens: verifying a JWT into a `domain::Principal`, and minting
//! local development tokens.
//!
//! Local mode signs with HS256 and a secret kept in the data directory; on
//! AWS tokens are RS256 (or ES256) from the district's identity provider,
//! checked against a configured JWKS. Claims: `sub` (user id), `district`,
//! `roles`, `schools` (scope of school-level roles), `exp`.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::domain::{DistrictId, Principal, Role, SchoolId};

/// Clock skew tolerated on `exp` and `nbf`, in seconds.
pub const LEEWAY_SECONDS: u64 = 30;

/// The claims schoolbell reads from a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user's id.
    pub sub: String,
    /// The district the token is for.
    pub district: String,
    /// Role names; names schoolbell does not know grant nothing.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Schools the school-level roles cover.
    #[serde(default)]
    pub schools: Vec<String>,
    /// Expiry, epoch seconds.
    pub exp: i64,
    /// Issue time, epoch seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// Issuer, checked when configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
}

/// Why a token was refused. Every variant is a 401.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization: Bearer ...` header.
    #[error("a bearer token is required")]
    Missing,
    /// The token has expired.
    #[error("the token has expired")]
    Expired,
    /// The token is malformed, badly signed, or signed by an unknown key.
    #[error("the token is not valid: {0}")]
    Invalid(String),
    /// The verifier itself is misconfigured (bad JWKS or secret).
    #[error("token verification is misconfigured: {0}")]
    Configuration(String),
}

impl AuthError {
    /// Token errors are final for the request.
    pub fn is_retryable(&self) -> bool {
        false
    }
}

enum Keys {
    Secret(DecodingKey),
    Jwks(Vec<(Option<String>, Algorithm, DecodingKey)>),
}

/// Verifies bearer tokens.
pub struct Authenticator {
    keys: Keys,
    issuer: Option<String>,
    audience: Option<String>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.keys {
            Keys::Secret(_) => "hs256",
            Keys::Jwks(_) => "jwks",
        };
        f.debug_struct("Authenticator").field("keys", &kind).field("issuer", &self.issuer).finish_non_exhaustive()
    }
}

impl Authenticator {
    /// Verifies HS256 tokens signed with the secret (local mode).
    pub fn hs256(secret: &[u8]) -> Result<Self, AuthError> {
        if secret.len() < 32 {
            return Err(AuthError::Configuration("the signing secret must be at least 32 bytes".into()));
        }
        Ok(Self { keys: Keys::Secret(DecodingKey::from_secret(secret)), issuer: None, audience: None })
    }

    /// Verifies tokens signed by any key of a JWKS document (RS256, ES256 ...).
    pub fn from_jwks_json(jwks: &str) -> Result<Self, AuthError> {
        let set: JwkSet = serde_json::from_str(jwks).map_err(|e| AuthError::Configuration(format!("JWKS: {e}")))?;
        let mut keys = Vec::new();
        for jwk in &set.keys {
            let algorithm = jwk
                .common
                .key_algorithm
                .and_then(|a| a.to_string().parse::<Algorithm>().ok())
                .unwrap_or(Algorithm::RS256);
            let key = DecodingKey::from_jwk(jwk).map_err(|e| AuthError::Configuration(format!("JWKS key: {e}")))?;
            keys.push((jwk.common.key_id.clone(), algorithm, key));
        }
        if keys.is_empty() {
            return Err(AuthError::Configuration("the JWKS holds no key".into()));
        }
        Ok(Self { keys: Keys::Jwks(keys), issuer: None, audience: None })
    }

    /// Also requires this `iss`.
    #[must_use]
    pub fn with_issuer(mut self, issuer: Option<String>) -> Self {
        self.issuer = issuer;
        self
    }

    /// Also requires this `aud`.
    #[must_use]
    pub fn with_audience(mut self, audience: Option<String>) -> Self {
        self.audience = audience;
        self
    }

    fn validation(&self, algorithm: Algorithm) -> Validation {
        let mut validation = Validation::new(algorithm);
        validation.leeway = LEEWAY_SECONDS;
        // A token not valid yet (`nbf` in the future) is refused too.
        validation.validate_nbf = true;
        let mut required = vec!["exp", "sub"];
        if let Some(issuer) = &self.issuer {
            validation.set_issuer(&[issuer]);
            required.push("iss");
        }
        match &self.audience {
            Some(audience) => {
                validation.set_audience(&[audience]);
                required.push("aud");
            }
            None => validation.validate_aud = false,
        }
        validation.set_required_spec_claims(&required);
        validation
    }

    /// Verifies the token and returns who it speaks for.
    pub fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| AuthError::Invalid(e.to_string()))?;
        let (key, algorithm) = match &self.keys {
            Keys::Secret(key) => (key, Algorithm::HS256),
            Keys::Jwks(keys) => keys
                .iter()
                .find(|(kid, algorithm, _)| {
                    *algorithm == header.alg && (header.kid.is_none() || kid.as_deref() == header.kid.as_deref())
                })
                .map(|(_, algorithm, key)| (key, *algorithm))
                .ok_or_else(|| AuthError::Invalid("no key of the JWKS matches the token".into()))?,
        };
        let data =
            jsonwebtoken::decode::<Claims>(token, key, &self.validation(algorithm)).map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => AuthError::Expired,
                _ => AuthError::Invalid(e.to_string()),
            })?;
        principal(data.claims)
    }
}

fn principal(claims: Claims) -> Result<Principal, AuthError> {
    let district =
        DistrictId::parse(claims.district).map_err(|e| AuthError::Invalid(format!("claim district: {e}")))?;
    let schools = claims
        .schools
        .into_iter()
        .map(SchoolId::parse)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| AuthError::Invalid(format!("claim schools: {e}")))?;
    let roles = claims.roles.iter().filter_map(|name| name.parse::<Role>().ok()).collect();
    if claims.sub.is_empty() {
        return Err(AuthError::Invalid("claim sub is empty".into()));
    }
    Ok(Principal { subject: claims.sub, district, roles, schools })
}

/// Signs HS256 claims (local development tokens and tests).
pub fn mint_hs256(secret: &[u8], claims: &Claims) -> Result<String, AuthError> {
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(secret))
        .map_err(|e| AuthError::Configuration(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn claims(exp_offset: i64) -> Claims {
        Claims {
            sub: "u-1".into(),
            district: "d-1".into(),
            roles: vec!["school_admin".into(), "future_custom_role".into()],
            schools: vec!["s-1".into()],
            exp: chrono::Utc::now().timestamp() + exp_offset,
            iat: None,
            iss: None,
        }
    }

    #[test]
    fn a_signed_token_verifies_into_its_principal() -> Result<(), AuthError> {
        let auth = Authenticator::hs256(SECRET)?;
        let principal = auth.verify(&mint_hs256(SECRET, &claims(600))?)?;
        assert_eq!(principal.district.as_str(), "d-1");
        assert_eq!(principal.roles, [Role::SchoolAdmin], "unknown roles grant nothing");
        Ok(())
    }

    #[test]
    fn expired_and_foreign_tokens_are_refused() -> Result<(), AuthError> {
        let auth = Authenticator::hs256(SECRET)?;
        assert_eq!(auth.verify(&mint_hs256(SECRET, &claims(-120))?), Err(AuthError::Expired));
        let other = mint_hs256(b"another-secret-another-secret-xx", &claims(600))?;
        assert!(matches!(auth.verify(&other), Err(AuthError::Invalid(_))));
        assert!(matches!(auth.verify("not.a.token"), Err(AuthError::Invalid(_))));
        Ok(())
    }

    #[test]
    fn a_short_secret_is_a_configuration_error() {
        assert!(matches!(Authenticator::hs256(b"short"), Err(AuthError::Configuration(_))));
    }

    #[test]
    fn a_configured_issuer_is_required() -> Result<(), AuthError> {
        let auth = Authenticator::hs256(SECRET)?.with_issuer(Some("https://idp.example".into()));
        assert!(auth.verify(&mint_hs256(SECRET, &claims(600))?).is_err());
        let mut with_iss = claims(600);
        with_iss.iss = Some("https://idp.example".into());
        assert!(auth.verify(&mint_hs256(SECRET, &with_iss)?).is_ok());
        Ok(())
    }

    #[test]
    fn a_token_not_valid_yet_is_refused() -> Result<(), AuthError> {
        let auth = Authenticator::hs256(SECRET)?;
        let now = chrono::Utc::now().timestamp();
        let mint = |nbf: i64| {
            let claims = serde_json::json!({"sub": "u-1", "district": "d-1", "roles": ["district_admin"],
                "exp": now + 3600, "nbf": nbf});
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(SECRET))
                .map_err(|e| AuthError::Configuration(e.to_string()))
        };
        assert!(auth.verify(&mint(now + 3000)?).is_err(), "nbf an hour from now");
        assert!(auth.verify(&mint(now - 60)?).is_ok());
        Ok(())
    }
}
