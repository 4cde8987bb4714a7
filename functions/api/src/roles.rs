//! Role routes: the district's roles, the caller's own grants, and role
//! assignments one by one or in bulk from CSV.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use schoolbell::domain::roles::{Assignment, Grants, RoleDefinition, RoleInput};
use schoolbell::http::{ApiError, Caller, JsonBody};
use schoolbell::services::roles::{AssignmentFilter, AssignmentInput, BulkOutcome};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::ApiState;

fn bad_query(rejection: QueryRejection) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "bad_request", rejection.body_text())
}

pub(crate) async fn list(State(state): State<ApiState>, Caller(caller): Caller) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({"roles": state.roles.roles(&caller).await?})))
}

pub(crate) async fn create(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    JsonBody(input): JsonBody<RoleInput>,
) -> Result<(StatusCode, Json<RoleDefinition>), ApiError> {
    Ok((StatusCode::CREATED, Json(state.roles.create_role(&caller, input).await?)))
}

pub(crate) async fn update(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<RoleInput>,
) -> Result<Json<RoleDefinition>, ApiError> {
    Ok(Json(state.roles.update_role(&caller, &id, input).await?))
}

pub(crate) async fn delete(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.roles.delete_role(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's effective permissions, as every other route reads them.
pub(crate) async fn me(State(state): State<ApiState>, Caller(caller): Caller) -> Result<Json<Grants>, ApiError> {
    Ok(Json(state.roles.grants(&caller).await?))
}

pub(crate) async fn assignments(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    query: Result<Query<AssignmentFilter>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(filter) = query.map_err(bad_query)?;
    let found: Vec<Assignment> = state.roles.assignments(&caller, &filter).await?;
    Ok(Json(json!({"assignments": found})))
}

pub(crate) async fn assign(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    JsonBody(input): JsonBody<AssignmentInput>,
) -> Result<(StatusCode, Json<Assignment>), ApiError> {
    Ok((StatusCode::CREATED, Json(state.roles.assign(&caller, &input).await?)))
}

#[derive(Deserialize)]
pub(crate) struct RevokeQuery {
    staff: String,
    #[serde(default)]
    school: Option<String>,
    role: String,
}

pub(crate) async fn unassign(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    query: Result<Query<RevokeQuery>, QueryRejection>,
) -> Result<StatusCode, ApiError> {
    let Query(query) = query.map_err(bad_query)?;
    let input = AssignmentInput { staff_id: query.staff, school: query.school, role: query.role };
    state.roles.unassign(&caller, &input).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The body is the CSV itself (`text/csv`, header `staff_id,school,role`).
pub(crate) async fn upload(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    body: Bytes,
) -> Result<Json<BulkOutcome>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "empty_file", "the request body holds no CSV"));
    }
    Ok(Json(state.roles.assign_csv(&caller, &body).await?))
}
