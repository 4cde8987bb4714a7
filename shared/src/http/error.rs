//! `ApiError`: every HTTP error as `{"code", "message"}` with its status,
//! mapped once from the service, auth and body errors.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::auth::AuthError;
use crate::ports::FileError;
use crate::services::ServiceError;

/// An error answer. Server-side failures carry an opaque message; their
/// detail goes to the log only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code (`not_found`, `invalid` ...).
    pub code: &'static str,
    /// What a person should read.
    pub message: String,
}

impl ApiError {
    /// An error with its status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into() }
    }

    /// 404 for routes that do not exist.
    pub fn no_route() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "no such route")
    }

    /// 405 for routes that exist with other methods.
    pub fn wrong_method() -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this route does not take that method")
    }

    fn internal(detail: &dyn std::fmt::Display, retryable: bool) -> Self {
        tracing::error!(error = %detail, retryable, "request failed on the server side");
        if retryable {
            Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the service is busy; try again shortly")
        } else {
            Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "something went wrong on our side")
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({"code": self.code, "message": self.message}))).into_response()
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        match &error {
            ServiceError::Invalid(e) => Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", e.to_string()),
            ServiceError::Cursor(e) => Self::new(StatusCode::BAD_REQUEST, "invalid", e.to_string()),
            ServiceError::Unauthorized(m) => Self::new(StatusCode::UNAUTHORIZED, "unauthorized", m.clone()),
            ServiceError::Forbidden(m) => Self::new(StatusCode::FORBIDDEN, "forbidden", m.clone()),
            ServiceError::NotFound(m) => Self::new(StatusCode::NOT_FOUND, "not_found", m.clone()),
            ServiceError::Conflict(m) => Self::new(StatusCode::CONFLICT, "conflict", m.clone()),
            ServiceError::FileRejected(e) => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "file_rejected", e.to_string())
            }
            ServiceError::Store(e) => Self::internal(e, error.is_retryable()),
            ServiceError::Queue(e) => Self::internal(e, error.is_retryable()),
            ServiceError::Files(e @ FileError::TooLarge { .. }) => {
                Self::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", e.to_string())
            }
            ServiceError::Files(e @ FileError::Incoming(_)) => {
                Self::new(StatusCode::BAD_REQUEST, "unreadable_upload", e.to_string())
            }
            ServiceError::Files(e) => Self::internal(e, error.is_retryable()),
            ServiceError::Internal(e) => Self::internal(e, false),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::Configuration(_) => Self::internal(&error, false),
            _ => Self::new(StatusCode::UNAUTHORIZED, "unauthorized", error.to_string()),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let code = match &rejection {
            JsonRejection::JsonDataError(_) => "invalid",
            JsonRejection::JsonSyntaxError(_) => "malformed_json",
            JsonRejection::MissingJsonContentType(_) => "unsupported_media_type",
            _ => "bad_request",
        };
        Self::new(rejection.status(), code, rejection.body_text())
    }
}
