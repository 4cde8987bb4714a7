//! List routes: saved recipient lists and their members.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use schoolbell::domain::{ListInput, RecipientList};
use schoolbell::http::{ApiError, Caller, JsonBody};
use schoolbell::services::MembersPage;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::ApiState;

pub(crate) async fn create(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    JsonBody(input): JsonBody<ListInput>,
) -> Result<(StatusCode, Json<RecipientList>), ApiError> {
    Ok((StatusCode::CREATED, Json(state.lists.create(&caller, input).await?)))
}

pub(crate) async fn list(State(state): State<ApiState>, Caller(caller): Caller) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({"lists": state.lists.list(&caller).await?})))
}

pub(crate) async fn get(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Json<RecipientList>, ApiError> {
    Ok(Json(state.lists.get(&caller, &id).await?))
}

pub(crate) async fn update(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<ListInput>,
) -> Result<Json<RecipientList>, ApiError> {
    Ok(Json(state.lists.update(&caller, &id, input).await?))
}

pub(crate) async fn delete(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.lists.delete(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A list's audit trail (changes and deletion), newest first: for its owner and admins of all its schools.
pub(crate) async fn history(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({"changes": state.lists.history(&caller, &id).await?})))
}

#[derive(Deserialize)]
pub(crate) struct MembersQuery {
    limit: Option<u32>,
    cursor: Option<String>,
}

pub(crate) async fn members(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    query: Result<Query<MembersQuery>, QueryRejection>,
) -> Result<Json<MembersPage>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", e.body_text()))?;
    Ok(Json(state.lists.members(&caller, &id, query.limit, query.cursor.as_deref()).await?))
}
