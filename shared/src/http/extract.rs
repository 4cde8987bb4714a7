//! Extractors every HTTP function shares: the authenticated caller and JSON
//! bodies whose rejections are `ApiError`s.

use std::sync::Arc;

use axum::Json;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::ApiError;
use crate::auth::{AuthError, Authenticator};
use crate::domain::Principal;

/// The verified caller of a `/v1/...` route. Extracting it answers 401 for a
/// missing, malformed, badly signed or expired bearer token.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl<S> FromRequestParts<S> for Caller
where
    Arc<Authenticator>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(AUTHORIZATION).ok_or(AuthError::Missing)?;
        let value = header.to_str().map_err(|_| AuthError::Invalid("authorization header is not text".into()))?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(AuthError::Missing)?;
        let authenticator = Arc::<Authenticator>::from_ref(state);
        let principal = authenticator.verify(token)?;
        Ok(Caller(principal))
    }
}

/// What a route asks of its caller from the token alone, before anything
/// reads the request's body.
pub trait CallerRule {
    /// The 403 message for a caller the rule refuses.
    const REFUSAL: &'static str;
    /// Whether the rule lets the caller in.
    fn allows(caller: &Principal) -> bool;
}

/// The verified caller, let in by rule `R`: 401 without a valid token, 403
/// for a caller `R` refuses. Extract it before the body, so nobody else's
/// body is ever read (an import upload is up to 512 MiB).
#[derive(Debug, Clone)]
pub struct Allowed<R>(pub Principal, pub std::marker::PhantomData<R>);

impl<S, R: CallerRule> FromRequestParts<S> for Allowed<R>
where
    Arc<Authenticator>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Caller(principal) = Caller::from_request_parts(parts, state).await?;
        if !R::allows(&principal) {
            return Err(ApiError::new(axum::http::StatusCode::FORBIDDEN, "forbidden", R::REFUSAL));
        }
        Ok(Allowed(principal, std::marker::PhantomData))
    }
}

/// The deployment's operator (a role only a token carries, never a district's).
#[derive(Debug, Clone)]
pub struct Operator;

impl CallerRule for Operator {
    const REFUSAL: &'static str = "only the operator of the deployment manages sending numbers";
    fn allows(caller: &Principal) -> bool {
        caller.is_operator()
    }
}

/// A JSON body; malformed JSON is 400, a body of the wrong shape (unknown
/// field, missing field, wrong type) 422, a missing content type 415.
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Json(value) = Json::<T>::from_request(request, state).await?;
        Ok(JsonBody(value))
    }
}
