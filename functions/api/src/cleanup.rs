//! The contact clean-up list route: JSON pages, or the whole list as CSV.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use schoolbell::http::{ApiError, Caller, csv_download, wants_csv};
use schoolbell::services::{CleanupFilter, CleanupItem, cleanup_csv};
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
/// or `Accept: text/csv` (every row, not one page).
pub(crate) async fn list(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    headers: HeaderMap,
    Query(query): Query<CleanupQuery>,
) -> Result<Response, ApiError> {
    if !wants_csv(&headers, query.format.as_deref()) {
        let page =
            state.cleanup.list(&caller, &query.filter, query.limit.unwrap_or(100), query.cursor.as_deref()).await?;
        return Ok(Json(page).into_response());
    }
    let mut rows: Vec<CleanupItem> = Vec::new();
    let mut cursor = None;
    loop {
        let page = state.cleanup.list(&caller, &query.filter, 1000, cursor.as_deref()).await?;
        rows.extend(page.items);
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    Ok(csv_download("contact-cleanup.csv", cleanup_csv(&rows)?))
}
