//! Broadcast routes: create, the delivery report, deliveries (JSON pages or
//! CSV), personal messages, and the district settings they depend on.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use schoolbell::domain::{Broadcast, BroadcastInput, DistrictSettings};
use schoolbell::http::{ApiError, Caller, JsonBody, csv_download, wants_csv};
use schoolbell::services::{BroadcastReport, PersonalMessageInput};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::ApiState;

/// `POST /v1/broadcasts`: 202 with the stored broadcast (its `id`).
pub(crate) async fn create(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    JsonBody(input): JsonBody<BroadcastInput>,
) -> Result<(StatusCode, Json<Broadcast>), ApiError> {
    Ok((StatusCode::ACCEPTED, Json(state.broadcasts.create(&caller, &input).await?)))
}

#[derive(Deserialize)]
pub(crate) struct RecentQuery {
    limit: Option<u32>,
}

/// `GET /v1/broadcasts`: the newest broadcasts the caller may read.
pub(crate) async fn recent(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    Query(query): Query<RecentQuery>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({"broadcasts": state.broadcasts.recent(&caller, query.limit.unwrap_or(50)).await?})))
}

/// `GET /v1/broadcasts/{id}`: state and counts by channel and state.
pub(crate) async fn report(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Json<BroadcastReport>, ApiError> {
    Ok(Json(state.broadcasts.report(&caller, &id).await?))
}

#[derive(Deserialize)]
pub(crate) struct DeliveriesQuery {
    limit: Option<u32>,
    cursor: Option<String>,
    format: Option<String>,
}

/// `GET /v1/broadcasts/{id}/deliveries`: `{"items", "next"}`, or every
/// delivery as CSV with `Accept: text/csv` or `?format=csv`.
pub(crate) async fn deliveries(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(query): Query<DeliveriesQuery>,
) -> Result<Response, ApiError> {
    if wants_csv(&headers, query.format.as_deref()) {
        let csv = state.broadcasts.deliveries_csv(&caller, &id).await?;
        return Ok(csv_download("deliveries.csv", csv));
    }
    let page = state.broadcasts.deliveries(&caller, &id, query.limit, query.cursor.as_deref()).await?;
    Ok(Json(page).into_response())
}

/// `POST /v1/personal-messages`: 202 with the one-person broadcast.
pub(crate) async fn personal(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    JsonBody(input): JsonBody<PersonalMessageInput>,
) -> Result<(StatusCode, Json<Broadcast>), ApiError> {
    Ok((StatusCode::ACCEPTED, Json(state.personal.send(&caller, &input).await?)))
}

/// `GET /v1/settings`: the district's name, time zone and quiet hours.
pub(crate) async fn settings(
    State(state): State<ApiState>,
    Caller(caller): Caller,
) -> Result<Json<DistrictSettings>, ApiError> {
    Ok(Json(state.settings.settings(&caller).await?))
}

/// `PUT /v1/settings`: replaces them (district admins).
pub(crate) async fn save_settings(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    JsonBody(input): JsonBody<DistrictSettings>,
) -> Result<Json<DistrictSettings>, ApiError> {
    Ok(Json(state.settings.save(&caller, input).await?))
}

/// `GET /v1/settings/history?limit=`: audited changes of the settings
/// (the text consent policy), newest first (district admins).
pub(crate) async fn settings_history(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    Query(query): Query<RecentQuery>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({"changes": state.settings.history(&caller, query.limit.unwrap_or(50)).await?})))
}

/// `GET /v1/replies?limit=`: SMS replies stored for staff, newest first.
pub(crate) async fn replies(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    Query(query): Query<RecentQuery>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({"replies": state.inbox.recent(&caller, query.limit.unwrap_or(100)).await?})))
}
