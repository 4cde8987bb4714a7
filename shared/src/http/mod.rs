//! HTTP pieces every HTTP function shares (axum): `ApiError` (errors as
//! `{"code", "message"}`), the `Caller` extractor (bearer JWT → principal),
//! `JsonBody` (JSON with JSON rejections) and `sis_credential` (a SIS
//! request's key or signature, from its headers).

mod error;
mod extract;
mod sis_credential;

pub use error::ApiError;
pub use extract::{Allowed, Caller, CallerRule, JsonBody, Operator};
pub use sis_credential::{KEY_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sis_credential};

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

/// The URL a provider called, as it signed it: the configured public base
/// URL (a proxy or custom domain changes `Host`), else the request's own
/// scheme (`X-Forwarded-Proto`, default `http`) and `Host`; then the path
/// and query as received.
pub fn public_request_url(public_url: Option<&str>, headers: &axum::http::HeaderMap, uri: &axum::http::Uri) -> String {
    let path_and_query = uri.path_and_query().map_or("/", |p| p.as_str());
    if let Some(base) = public_url {
        return format!("{}{path_and_query}", base.trim_end_matches('/'));
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let scheme = header("x-forwarded-proto").and_then(|p| p.split(',').next()).map_or("http", str::trim);
    let host = header("host").or_else(|| uri.authority().map(|a| a.as_str())).unwrap_or_default();
    format!("{scheme}://{host}{path_and_query}")
}

/// Fallback for unknown routes: a JSON 404.
pub async fn no_route() -> ApiError {
    ApiError::no_route()
}

/// Fallback for known routes called with another method: a JSON 405.
pub async fn wrong_method() -> ApiError {
    ApiError::wrong_method()
}
