//! Sending-number routes, the operator's (`operator` role, which no
//! district token carries): assign a number to a district or share it,
//! list them, release one. Districts read their numbers in `/v1/settings`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use schoolbell::http::{Allowed, ApiError, JsonBody, Operator};
use schoolbell::services::NumberAssignment;
use serde_json::{Value, json};

use crate::ApiState;

/// `POST /v1/operator/numbers {"number", "district" | "shared": true}`: 201,
/// or 409 when another district holds the number.
pub(crate) async fn assign(
    State(state): State<ApiState>,
    _operator: Allowed<Operator>,
    JsonBody(request): JsonBody<NumberAssignment>,
) -> Result<(StatusCode, Json<NumberAssignment>), ApiError> {
    Ok((StatusCode::CREATED, Json(state.numbers.assign(&request).await?)))
}

/// `GET /v1/operator/numbers`: every assigned number.
pub(crate) async fn list(State(state): State<ApiState>, _operator: Allowed<Operator>) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({"numbers": state.numbers.list().await?})))
}

/// `DELETE /v1/operator/numbers/{number}`: 204; nobody texts from it any more.
pub(crate) async fn release(
    State(state): State<ApiState>,
    _operator: Allowed<Operator>,
    Path(number): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.numbers.release(&number).await?;
    Ok(StatusCode::NO_CONTENT)
}
