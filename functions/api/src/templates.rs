//! Template routes: a district's saved message templates (content per
//! channel and language; one may word an SIS event type). District admins
//! write them; the district's staff read them.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use schoolbell::domain::{MessageTemplate, TemplateInput};
use schoolbell::http::{ApiError, Caller, JsonBody};
use serde_json::{Value, json};

use crate::ApiState;

/// `POST /v1/templates`: 201 with the template and its id.
pub(crate) async fn create(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    JsonBody(input): JsonBody<TemplateInput>,
) -> Result<(StatusCode, Json<MessageTemplate>), ApiError> {
    Ok((StatusCode::CREATED, Json(state.templates.create(&caller, &input).await?)))
}

/// `GET /v1/templates`: `{"templates": [...]}`.
pub(crate) async fn list(State(state): State<ApiState>, Caller(caller): Caller) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({"templates": state.templates.list(&caller).await?})))
}

/// `GET /v1/templates/{id}`.
pub(crate) async fn get(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Json<MessageTemplate>, ApiError> {
    Ok(Json(state.templates.get(&caller, &id).await?))
}

/// `PUT /v1/templates/{id}`: replaces it.
pub(crate) async fn replace(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<TemplateInput>,
) -> Result<Json<MessageTemplate>, ApiError> {
    Ok(Json(state.templates.replace(&caller, &id, &input).await?))
}

/// `DELETE /v1/templates/{id}`: 204.
pub(crate) async fn delete(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.templates.delete(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
