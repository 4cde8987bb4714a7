//! Import routes: definitions, file uploads, runs, holds and deletion.

use axum::Json;
use axum::body::Body;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use futures::StreamExt as _;
use schoolbell::domain::Principal;
use schoolbell::domain::{ImportDefinition, ImportRun};
use schoolbell::http::{ApiError, Caller, JsonBody};
use schoolbell::ports::{FileChunks, FileError};
use schoolbell::services::{DeletionPlan, NewImport, ServiceError};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{ApiState, MAX_UPLOAD_BYTES};

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

/// The caller of an upload, who may manage imports (token roles or stored
/// assignments): checked before the body is read, so nobody else's upload
/// is ever read.
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

/// The file is the raw request body, streamed to the file store as it
/// arrives (at most [`MAX_UPLOAD_BYTES`]: 413 beyond); its name comes from
/// `X-File-Name` (default `upload`).
pub(crate) async fn upload(
    State(state): State<ApiState>,
    ImportManager(caller): ImportManager,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let mut chunks = limited_chunks(body, MAX_UPLOAD_BYTES as u64);
    let first = loop {
        match chunks.next().await {
            Some(Ok(chunk)) if chunk.is_empty() => {}
            other => break other,
        }
    };
    let Some(first) = first else {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "empty_file", "the request body holds no file"));
    };
    let first = first.map_err(ServiceError::from)?;
    let chunks: FileChunks = Box::pin(futures::stream::once(async move { Ok(first) }).chain(chunks));
    let name = headers.get("x-file-name").and_then(|v| v.to_str().ok()).unwrap_or("upload");
    let (definition, run) = state.imports.upload_chunks(&caller, &id, name, chunks).await?;
    Ok(Json(json!({"import": definition, "run": run})))
}

/// The request body as a file's chunks, failing once more than `limit`
/// bytes have come (nothing is stored then).
fn limited_chunks(body: Body, limit: u64) -> FileChunks {
    let mut received = 0u64;
    Box::pin(body.into_data_stream().map(move |chunk| {
        let chunk = chunk.map_err(|e| FileError::Incoming(e.to_string()))?;
        received += chunk.len() as u64;
        if received > limit { Err(FileError::TooLarge { limit }) } else { Ok(chunk) }
    }))
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

#[cfg(test)]
mod tests {
    use axum::response::IntoResponse as _;

    use super::*;

    #[tokio::test]
    async fn an_upload_past_its_limit_fails_the_stream_and_answers_413() {
        let mut chunks = limited_chunks(Body::from("id,name\n1,Ana\n"), 4);
        let error = loop {
            match chunks.next().await {
                Some(Ok(_)) => {}
                Some(Err(error)) => break error,
                None => panic!("the stream must fail past its limit"),
            }
        };
        assert_eq!(error, FileError::TooLarge { limit: 4 });
        let response = ApiError::from(ServiceError::from(error)).into_response();
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let within = limited_chunks(Body::from("id\n"), 4).collect::<Vec<_>>().await;
        assert_eq!(within.into_iter().map(|c| c.map(|b| b.len())).collect::<Vec<_>>(), [Ok(3)]);
    }
}
