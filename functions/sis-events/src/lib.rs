//! `schoolbell-sis-events`: events from the student information system
//! (absences, tardies, behavior incidents, meal balances, failing grades,
//! missing assignments) into messages, exactly once
//! ([`schoolbell::services::SisEventService`]).
//!
//! `POST /v1/sis-events` takes `{"events": [...]}` (up to 500) or one event
//! object. The SIS authenticates with a SIS key of its district —
//! `Authorization: Bearer <key>`, or signed (`X-Schoolbell-Key-Id`,
//! `X-Schoolbell-Timestamp`, `X-Schoolbell-Signature`) — checked before the
//! body is read as JSON; the district is the key's, never the body's. A
//! staff token is no SIS key (401). Answers 200 `{"accepted", "merged",
//! "duplicates", "rejected": [{"index", "id", "code", "message"}]}`; a
//! body that is not JSON, or more than 500 events, is a 400/422 and changes
//! nothing.
//!
//! The same events arrive through Amazon EventBridge (`bridge`, the Lambda
//! feature): the rule's event carries `{"district", "events"}` in its
//! detail, and only principals the operator allows may put events on the
//! stack's SIS event bus.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use schoolbell::http::{ApiError, no_route, sis_credential, wrong_method};
use schoolbell::services::{EventsAnswer, SisCredential, SisEventService, SisKeyService};
use serde_json::Value;

#[cfg(feature = "lambda")]
pub mod bridge;

/// What the route needs.
#[derive(Clone)]
pub struct SisEventsState {
    /// Who the SIS key belongs to.
    pub keys: SisKeyService,
    /// Events into broadcasts.
    pub events: SisEventService,
}

/// The routes without fallbacks (for merging).
pub fn routes(state: SisEventsState) -> Router {
    Router::new().route("/v1/sis-events", post(receive)).with_state(state)
}

/// The routes as their own service, with JSON fallbacks.
pub fn router(state: SisEventsState) -> Router {
    routes(state).fallback(no_route).method_not_allowed_fallback(wrong_method)
}

/// The key's id as the broadcasts record it (`created_by: sis:<id>`); never
/// the secret.
fn key_id<'a>(credential: &SisCredential<'a>) -> &'a str {
    match credential {
        SisCredential::Signed { key_id, .. } => key_id,
        SisCredential::Bearer(key) => key
            .strip_prefix(schoolbell::domain::sis_key::KEY_PREFIX)
            .and_then(|rest| rest.split('_').next())
            .unwrap_or("bearer"),
    }
}

/// The events of a body: `{"events": [...]}`, or one event object.
pub fn events_of(body: &Value) -> Result<Vec<Value>, ApiError> {
    match body {
        Value::Object(object) if object.contains_key("events") => match object.get("events") {
            Some(Value::Array(events)) => Ok(events.clone()),
            _ => Err(ApiError::new(StatusCode::BAD_REQUEST, "invalid", "`events` is a list of events")),
        },
        Value::Object(_) => Ok(vec![body.clone()]),
        _ => Err(ApiError::new(StatusCode::BAD_REQUEST, "invalid", "the body is an event or {\"events\": [...]}")),
    }
}

async fn receive(State(state): State<SisEventsState>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    let credential = sis_credential(&headers)?;
    let district = state.keys.authenticate(credential, &body).await?;
    let value: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_json", format!("the body is not JSON: {e}")))?;
    let events = events_of(&value)?;
    let answer: EventsAnswer = state.events.receive(&district, key_id(&credential), &events).await?;
    Ok((StatusCode::OK, axum::Json(answer)).into_response())
}

#[cfg(test)]
mod tests;
