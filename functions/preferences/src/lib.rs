//! `schoolbell-preferences`: how every family wants to be reached.
//!
//! Routes (bearer token on each):
//! - `GET/PUT /v1/me/preferences`: a parent, student or staff member for themself;
//! - `GET/PUT /v1/people/{id}/preferences`, `GET .../preferences/history`:
//!   staff with the right role, within their school scope (a view also says
//!   the district's `text_consent_policy` and, per reason, `text_verdicts`:
//!   `on`, `off` or `no_consent`);
//! - `POST /v1/preferences/batch`: the batch tool (never touches `text`);
//! - `GET/PUT /v1/preferences/defaults`: the district's defaults (`{"on": {"<channel>": ["<reason>", ...]}}`);
//!   `text` reasons apply only to people whose consent is recorded, or to
//!   everybody under `number_provided`; without them text follows `cell_phone`.
//!
//! [`routes`] is mounted by the local gateway; [`router`] adds JSON
//! fallbacks for Lambda (`main.rs`).

use std::sync::Arc;

use axum::extract::{FromRef, Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use schoolbell::auth::Authenticator;
use schoolbell::domain::PreferenceDefaults;
use schoolbell::http::{ApiError, Caller, JsonBody, no_route, wrong_method};
use schoolbell::services::{BatchRequest, BatchResult, PreferenceService, PreferencesUpdate, PreferencesView};
use serde::Deserialize;
use serde_json::{Value, json};

/// What the handlers need.
#[derive(Clone)]
pub struct PreferencesState {
    /// Preference use cases.
    pub preferences: PreferenceService,
    /// Verifies bearer tokens.
    pub auth: Arc<Authenticator>,
}

impl FromRef<PreferencesState> for Arc<Authenticator> {
    fn from_ref(state: &PreferencesState) -> Self {
        Arc::clone(&state.auth)
    }
}

/// The routes without fallbacks (for merging).
pub fn routes(state: PreferencesState) -> Router {
    Router::new()
        .route("/v1/me/preferences", get(my_preferences).put(update_my_preferences))
        .route("/v1/people/{id}/preferences", get(preferences).put(update_preferences))
        .route("/v1/people/{id}/preferences/history", get(history))
        .route("/v1/preferences/batch", post(batch))
        .route("/v1/preferences/defaults", get(defaults).put(set_defaults))
        .with_state(state)
}

/// The routes as their own service, with JSON fallbacks.
pub fn router(state: PreferencesState) -> Router {
    routes(state).fallback(no_route).method_not_allowed_fallback(wrong_method)
}

async fn my_preferences(
    State(state): State<PreferencesState>,
    Caller(caller): Caller,
) -> Result<Json<PreferencesView>, ApiError> {
    let me = caller.subject.clone();
    Ok(Json(state.preferences.view(&caller, &me).await?))
}

async fn update_my_preferences(
    State(state): State<PreferencesState>,
    Caller(caller): Caller,
    JsonBody(update): JsonBody<PreferencesUpdate>,
) -> Result<Json<PreferencesView>, ApiError> {
    let me = caller.subject.clone();
    Ok(Json(state.preferences.update(&caller, &me, &update).await?))
}

async fn preferences(
    State(state): State<PreferencesState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Json<PreferencesView>, ApiError> {
    Ok(Json(state.preferences.view(&caller, &id).await?))
}

async fn update_preferences(
    State(state): State<PreferencesState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    JsonBody(update): JsonBody<PreferencesUpdate>,
) -> Result<Json<PreferencesView>, ApiError> {
    Ok(Json(state.preferences.update(&caller, &id, &update).await?))
}

#[derive(Deserialize)]
struct HistoryQuery {
    limit: Option<u32>,
}

async fn history(
    State(state): State<PreferencesState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    Query(query): Query<HistoryQuery>,
) -> Result<Json<Value>, ApiError> {
    let changes = state.preferences.history(&caller, &id, query.limit.unwrap_or(100)).await?;
    Ok(Json(json!({"person": id, "changes": changes})))
}

async fn defaults(
    State(state): State<PreferencesState>,
    Caller(caller): Caller,
) -> Result<Json<PreferenceDefaults>, ApiError> {
    Ok(Json(state.preferences.district_defaults(&caller).await?))
}

async fn set_defaults(
    State(state): State<PreferencesState>,
    Caller(caller): Caller,
    JsonBody(defaults): JsonBody<PreferenceDefaults>,
) -> Result<Json<PreferenceDefaults>, ApiError> {
    Ok(Json(state.preferences.set_district_defaults(&caller, &defaults).await?))
}

async fn batch(
    State(state): State<PreferencesState>,
    Caller(caller): Caller,
    JsonBody(request): JsonBody<BatchRequest>,
) -> Result<Json<BatchResult>, ApiError> {
    Ok(Json(state.preferences.batch(&caller, &request).await?))
}
