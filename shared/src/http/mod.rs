//! HTTP pieces every HTTP function shares (axum): `ApiError` (errors as
//! `{"code", "message"}`), the `Caller` extractor (bearer JWT → principal)
//! and `JsonBody` (JSON with JSON rejections).

mod error;
mod extract;

pub use error::ApiError;
pub use extract::{Caller, JsonBody};

/// Fallback for unknown routes: a JSON 404.
pub async fn no_route() -> ApiError {
    ApiError::no_route()
}

/// Fallback for known routes called with another method: a JSON 405.
pub async fn wrong_method() -> ApiError {
    ApiError::wrong_method()
}
