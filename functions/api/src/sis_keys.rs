//! SIS API key routes (district admins): create, list, rotate and revoke
//! the keys a district's SIS posts events with. A key is in the answer of
//! create and rotate only, never again; answers carrying one are marked
//! `Cache-Control: no-store`. None of these routes reads a body.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::CACHE_CONTROL;
use schoolbell::http::{ApiError, Caller};
use schoolbell::services::IssuedSisKey;
use serde_json::{Value, json};

use crate::ApiState;

type Issued = (StatusCode, [(axum::http::HeaderName, &'static str); 1], Json<IssuedSisKey>);

fn issued(key: IssuedSisKey) -> Issued {
    (StatusCode::CREATED, [(CACHE_CONTROL, "no-store")], Json(key))
}

/// `POST /v1/sis-keys`: 201 `{"id", "key"}`, the key shown this once.
pub(crate) async fn create(State(state): State<ApiState>, Caller(caller): Caller) -> Result<Issued, ApiError> {
    Ok(issued(state.sis_keys.create(&caller).await?))
}

/// `GET /v1/sis-keys`: `{"items": [{"id", "created_at", "created_by", "revoked_at"}]}`.
pub(crate) async fn list(State(state): State<ApiState>, Caller(caller): Caller) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({"items": state.sis_keys.list(&caller).await?})))
}

/// `DELETE /v1/sis-keys/{id}`: 204; the key stops at once.
pub(crate) async fn revoke(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.sis_keys.revoke(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/sis-keys/{id}/rotate`: 201 `{"id", "key"}` of the new key; the
/// old one keeps working for 24 hours.
pub(crate) async fn rotate(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Issued, ApiError> {
    Ok(issued(state.sis_keys.rotate(&caller, &id).await?))
}
