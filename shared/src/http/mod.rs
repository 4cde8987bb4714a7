//! HTTP pieces every HTTP function shares (axum): `ApiError` (errors as
//! `{"code", "message"}`), the `Caller` extractor (bearer JWT → principal)
//! and `JsonBody` (JSON with JSON rejections).

mod error;
mod extract;

pub use error::ApiError;
pub use extract::{Caller, JsonBody};

/// Whether a listing route should answer CSV: `?format=csv` or an
/// `Accept` header naming `text/csv` (downloads take every row, not a page).
pub fn wants_csv(headers: &axum::http::HeaderMap, format: Option<&str>) -> bool {
    format == Some("csv")
        || headers.get(axum::http::header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/csv"))
}

/// A CSV download answer: the body with its content type and file name.
pub fn csv_download(file_name: &str, csv: String) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let disposition = format!("attachment; filename=\"{file_name}\"");
    (
        [
            (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
        ],
        csv,
    )
        .into_response()
}

/// Fallback for unknown routes: a JSON 404.
pub async fn no_route() -> ApiError {
    ApiError::no_route()
}

/// Fallback for known routes called with another method: a JSON 405.
pub async fn wrong_method() -> ApiError {
    ApiError::wrong_method()
}
