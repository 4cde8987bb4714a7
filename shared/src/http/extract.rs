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

/// The verified caller, who must be the deployment's operator (a role only
/// a token carries, never a district's): 401 without a valid token, 403
/// for anyone else. Extract it before the body, so nobody else's body is read.
#[derive(Debug, Clone)]
pub struct OperatorCaller(pub Principal);

impl<S> FromRequestParts<S> for OperatorCaller
where
    Arc<Authenticator>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Caller(principal) = Caller::from_request_parts(parts, state).await?;
        if !principal.is_operator() {
            let text = "only the operator of the deployment manages sending numbers";
            return Err(ApiError::new(axum::http::StatusCode::FORBIDDEN, "forbidden", text));
        }
        Ok(OperatorCaller(principal))
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
