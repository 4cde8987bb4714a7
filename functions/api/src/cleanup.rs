//! The contact clean-up list route: JSON pages, or the whole list as CSV.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use schoolbell::http::{ApiError, Caller, csv_download, wants_csv};
use schoolbell::services::CleanupFilter;
use serde::Deserialize;

use crate::ApiState;

#[derive(Deserialize)]
pub(crate) struct CleanupQuery {
    #[serde(flatten)]
    filter: CleanupFilter,
    limit: Option<u32>,
    cursor: Option<String>,
    format: Option<String>,
}

/// `GET /v1/contact-cleanup`: `{"items", "next"}`, or CSV with `?format=csv`
/// or `Accept: text/csv` (every row, read in one pass, not page by page).
pub(crate) async fn list(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    headers: HeaderMap,
    Query(query): Query<CleanupQuery>,
) -> Result<Response, ApiError> {
    if wants_csv(&headers, query.format.as_deref()) {
        return Ok(csv_download("contact-cleanup.csv", state.cleanup.csv(&caller, &query.filter).await?));
    }
    let page = state.cleanup.list(&caller, &query.filter, query.limit.unwrap_or(100), query.cursor.as_deref()).await?;
    Ok(Json(page).into_response())
}
