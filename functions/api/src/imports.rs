//! Import routes: definitions, file uploads, runs, holds and deletion.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use schoolbell::domain::Principal;
use schoolbell::domain::{ImportDefinition, ImportRun};
use schoolbell::http::{ApiError, Caller, JsonBody};
use schoolbell::services::{DeletionPlan, NewImport};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::ApiState;

pub(crate) async fn create(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    JsonBody(new): JsonBody<NewImport>,
) -> Result<(StatusCode, Json<ImportDefinition>), ApiError> {
    Ok((StatusCode::CREATED, Json(state.imports.create(&caller, new).await?)))
}

pub(crate) async fn list(State(state): State<ApiState>, Caller(caller): Caller) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({"imports": state.imports.list(&caller).await?})))
}

pub(crate) async fn get(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Json<ImportDefinition>, ApiError> {
    Ok(Json(state.imports.get(&caller, &id).await?))
}

/// The file is the raw request body; its name comes from `X-File-Name`
/// (default `upload`).
/// The caller of an upload, who may manage imports (token roles or stored
/// assignments): checked before the body (up to 512 MiB) is read, so
/// nobody else's upload is ever buffered.
pub(crate) struct ImportManager(Principal);

impl FromRequestParts<ApiState> for ImportManager {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, Self::Rejection> {
        let Caller(caller) = Caller::from_request_parts(parts, state).await?;
        if !state.imports.may_manage(&caller).await? {
            return Err(ApiError::new(StatusCode::FORBIDDEN, "forbidden", "only district admins manage imports"));
        }
        Ok(ImportManager(caller))
    }
}

pub(crate) async fn upload(
    State(state): State<ApiState>,
    ImportManager(caller): ImportManager,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    if body.is_empty() {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "empty_file", "the request body holds no file"));
    }
    let name = headers.get("x-file-name").and_then(|v| v.to_str().ok()).unwrap_or("upload");
    let (definition, run) = state.imports.upload(&caller, &id, name, body).await?;
    Ok(Json(json!({"import": definition, "run": run})))
}

pub(crate) async fn run(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<ImportRun>), ApiError> {
    Ok((StatusCode::CREATED, Json(state.imports.run(&caller, &id).await?)))
}

#[derive(Deserialize)]
pub(crate) struct RunsQuery {
    limit: Option<u32>,
}

pub(crate) async fn runs(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    Query(query): Query<RunsQuery>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({"runs": state.imports.runs(&caller, &id, query.limit.unwrap_or(50)).await?})))
}

pub(crate) async fn approve(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    Path((id, run)): Path<(String, String)>,
) -> Result<Json<ImportRun>, ApiError> {
    Ok(Json(state.imports.approve(&caller, &id, &run).await?))
}

pub(crate) async fn discard(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    Path((id, run)): Path<(String, String)>,
) -> Result<Json<ImportRun>, ApiError> {
    Ok(Json(state.imports.discard(&caller, &id, &run).await?))
}

#[derive(Deserialize)]
pub(crate) struct DeleteQuery {
    #[serde(default)]
    dry_run: bool,
}

pub(crate) async fn delete(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    Query(query): Query<DeleteQuery>,
) -> Result<Json<DeletionPlan>, ApiError> {
    Ok(Json(state.imports.delete(&caller, &id, query.dry_run).await?))
}
