//! `schoolbell-api`: the HTTP API staff, portals and apps call.
//!
//! [`router`] builds the axum router over [`ApiState`]; `main.rs` runs it on
//! Lambda (API Gateway HTTP API), and the local gateway mounts the same
//! router. Handlers only parse, call one service, and shape the answer.
//!
//! Routes:
//! - people: `POST /v1/people`, `GET /v1/people/{id}`;
//! - imports: `POST/GET /v1/imports`, `GET/DELETE /v1/imports/{id}`
//!   (`?dry_run=true` shows what would go), `PUT /v1/imports/{id}/file`,
//!   `POST/GET /v1/imports/{id}/runs`, `POST .../runs/{run}/approve|discard`;
//! - lists: `POST/GET /v1/lists`, `GET/PUT/DELETE /v1/lists/{id}`,
//!   `GET /v1/lists/{id}/members?limit=&cursor=`;
//! - roles: `GET/POST /v1/roles`, `PUT/DELETE /v1/roles/{id}`, `GET /v1/roles/me`
//!   (the caller's effective grants), `GET /v1/roles/assignments?staff=&role=`,
//!   `POST /v1/roles/assignments`, `DELETE /v1/roles/assignments?staff=&school=&role=`,
//!   `POST /v1/roles/assignments.csv` (body `staff_id,school,role`);
//! - broadcasts: `POST/GET /v1/broadcasts`, `GET /v1/broadcasts/{id}` (the
//!   delivery report), `GET /v1/broadcasts/{id}/deliveries` (pages, or CSV
//!   with `Accept: text/csv`), `POST /v1/personal-messages`,
//!   `GET/PUT /v1/settings` (district name, time zone, quiet hours, HELP
//!   answer; sending numbers read-only), `GET /v1/replies` (replies stored for staff);
//! - the operator's: `GET/POST /v1/operator/numbers`, `DELETE /v1/operator/numbers/{number}`
//!   (`operator` role only).
//! - SIS keys: `POST/GET /v1/sis-keys`, `DELETE /v1/sis-keys/{id}`,
//!   `POST /v1/sis-keys/{id}/rotate` (district admins; the key is shown once).
//! - templates: `POST/GET /v1/templates`, `GET/PUT/DELETE /v1/templates/{id}`
//!   (district admins write; staff read).

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
use axum::routing::{delete, get, post, put};
use schoolbell::auth::Authenticator;
use schoolbell::http::{no_route, wrong_method};
use schoolbell::root::{MissingPort, Services};
use schoolbell::services::roles::RoleService;
use schoolbell::services::{
    BroadcastService, CleanupService, ImportService, InboxService, ListService, PeopleService, PersonalMessageService,
    SendingNumberService, SettingsService,
};

mod broadcasts;
mod cleanup;
mod imports;
mod lists;
mod numbers;
mod people;
mod roles;
mod sis_keys;
mod templates;

/// Largest import file the upload route takes (API Gateway itself stops at
/// 10 MB: larger districts upload to the imports bucket directly).
pub const MAX_UPLOAD_BYTES: usize = 512 * 1024 * 1024;

/// What the handlers need: the services and the token verifier.
#[derive(Clone)]
pub struct ApiState {
    /// People use cases.
    pub people: PeopleService,
    /// Import use cases.
    pub imports: ImportService,
    /// The contact clean-up list.
    pub cleanup: CleanupService,
    /// List use cases.
    pub lists: ListService,
    /// Roles, assignments and each caller's grants.
    pub roles: RoleService,
    /// Broadcasts, their reports, district settings.
    pub broadcasts: BroadcastService,
    /// Personal messages.
    pub personal: PersonalMessageService,
    /// District settings.
    pub settings: SettingsService,
    /// The replies inbox.
    pub inbox: InboxService,
    /// The operator's sending numbers.
    pub numbers: SendingNumberService,
    /// SIS API keys.
    pub sis_keys: schoolbell::services::SisKeyService,
    /// The district's saved message templates.
    pub templates: schoolbell::services::TemplateService,
    /// Verifies bearer tokens.
    pub auth: Arc<Authenticator>,
}

impl ApiState {
    /// The API's services from the composition root (it needs the file
    /// store and the plan queue), with the token verifier.
    pub fn new(services: &Services, auth: Arc<Authenticator>) -> Result<Self, MissingPort> {
        Ok(Self {
            people: services.people(),
            imports: services.imports()?,
            cleanup: services.cleanup(),
            lists: services.lists(),
            roles: services.roles(),
            broadcasts: services.broadcasts()?,
            personal: services.personal()?,
            settings: services.settings(),
            inbox: services.inbox(),
            numbers: services.sending_numbers(),
            sis_keys: services.sis_keys(),
            templates: services.templates(),
            auth,
        })
    }
}

impl FromRef<ApiState> for Arc<Authenticator> {
    fn from_ref(state: &ApiState) -> Self {
        Arc::clone(&state.auth)
    }
}

/// The API's routes without fallbacks, for the local gateway to merge with
/// other functions' routes. Every `/v1` route needs a bearer token.
pub fn routes(state: ApiState) -> Router {
    Router::new()
        .route("/v1/people", post(people::create_person))
        .route("/v1/people/{id}", get(people::get_person))
        .route("/v1/contact-cleanup", get(cleanup::list))
        .route("/v1/imports", post(imports::create).get(imports::list))
        .route("/v1/imports/{id}", get(imports::get).delete(imports::delete))
        .route("/v1/imports/{id}/file", put(imports::upload))
        .route("/v1/imports/{id}/runs", post(imports::run).get(imports::runs))
        .route("/v1/imports/{id}/runs/{run}/approve", post(imports::approve))
        .route("/v1/imports/{id}/runs/{run}/discard", post(imports::discard))
        .route("/v1/lists", post(lists::create).get(lists::list))
        .route("/v1/lists/{id}", get(lists::get).put(lists::update).delete(lists::delete))
        .route("/v1/lists/{id}/members", get(lists::members))
        .route("/v1/lists/{id}/history", get(lists::history))
        .route("/v1/broadcasts", post(broadcasts::create).get(broadcasts::recent))
        .route("/v1/broadcasts/{id}", get(broadcasts::report))
        .route("/v1/broadcasts/{id}/deliveries", get(broadcasts::deliveries))
        .route("/v1/personal-messages", post(broadcasts::personal))
        .route("/v1/settings", get(broadcasts::settings).put(broadcasts::save_settings))
        .route("/v1/settings/history", get(broadcasts::settings_history))
        .route("/v1/replies", get(broadcasts::replies))
        .route("/v1/operator/numbers", get(numbers::list).post(numbers::assign))
        .route("/v1/operator/numbers/{number}", delete(numbers::release))
        .route("/v1/roles", get(roles::list).post(roles::create))
        .route("/v1/roles/me", get(roles::me))
        .route("/v1/roles/assignments", get(roles::assignments).post(roles::assign).delete(roles::unassign))
        .route("/v1/roles/assignments.csv", post(roles::upload))
        .route("/v1/roles/{id}", put(roles::update).delete(roles::delete))
        .route("/v1/sis-keys", post(sis_keys::create).get(sis_keys::list))
        .route("/v1/sis-keys/{id}", delete(sis_keys::revoke))
        .route("/v1/sis-keys/{id}/rotate", post(sis_keys::rotate))
        .route("/v1/templates", post(templates::create).get(templates::list))
        .route("/v1/templates/{id}", get(templates::get).put(templates::replace).delete(templates::delete))
        .with_state(state)
}

/// The API as its own service (on Lambda): [`routes`] plus JSON answers for
/// unknown routes and methods. Errors are `{"code", "message"}` JSON.
pub fn router(state: ApiState) -> Router {
    routes(state).fallback(no_route).method_not_allowed_fallback(wrong_method)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use schoolbell::adapters::local::{DirFileStore, EmbeddedTable};
    use schoolbell::auth::{Claims, mint_hs256};
    use schoolbell::ports::{SystemClock, TimeOrderedIds};
    use schoolbell::root::{Ports, Wiring};
    use tower::ServiceExt;

    const SECRET: &[u8] = b"a-local-secret-of-thirty-two-byte";

    fn app() -> Router {
        let table = Arc::new(EmbeddedTable::in_memory().unwrap());
        let files =
            Arc::new(DirFileStore::new(std::env::temp_dir().join(format!("schoolbell-api-test-{}", uuid_like()))));
        let ports = Ports::new(table, Arc::new(SystemClock), Arc::new(TimeOrderedIds))
            .with_files(files)
            .with_plan_queue(Arc::new(schoolbell::adapters::local::LocalQueue::new()));
        let services = Services::new(ports, Wiring::default());
        let auth = Arc::new(Authenticator::hs256(SECRET).unwrap());
        router(ApiState::new(&services, auth).unwrap())
    }

    fn uuid_like() -> String {
        format!("{}-{:?}", std::process::id(), std::thread::current().id()).replace(['(', ')'], "")
    }

    fn token(role: &str) -> String {
        let claims = Claims {
            sub: "admin".into(),
            district: "d-1".into(),
            roles: vec![role.into()],
            schools: vec![],
            exp: chrono::Utc::now().timestamp() + 600,
            iat: None,
            iss: None,
        };
        mint_hs256(SECRET, &claims).unwrap()
    }

    use axum::http::StatusCode;

    async fn call(app: &Router, request: Request<Body>) -> (StatusCode, serde_json::Value) {
        let response = app.clone().oneshot(request).await.unwrap_or_else(|e| match e {});
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap_or_default();
        (status, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null))
    }

    fn post_person(token: &str, body: &str) -> Request<Body> {
        post_json(token, "/v1/people", body)
    }

    #[tokio::test]
    async fn a_district_admin_creates_and_reads_a_person() {
        let app = app();
        let body = r#"{"id":"g-1","role":"guardian","given_name":"Ana","family_name":"Diaz","contacts":[{"channel":"cell_phone","value":"(617) 555-0199"}]}"#;
        let (status, created) = call(&app, post_person(&token("district_admin"), body)).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        assert_eq!(created["contacts"][0]["value"], "+16175550199");
        let get = Request::get("/v1/people/g-1")
            .header("authorization", format!("Bearer {}", token("district_admin")))
            .body(Body::empty())
            .unwrap();
        assert_eq!(call(&app, get).await, (StatusCode::OK, created));
    }

    #[tokio::test]
    async fn bad_bodies_get_json_errors_never_500() {
        let app = app();
        let admin = token("district_admin");
        let cases = [
            ("{not json", StatusCode::BAD_REQUEST, "malformed_json"),
            (
                r#"{"id":"g-1","role":"guardian","given_name":"A","family_name":"B","age":3}"#,
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
            ),
            (
                r#"{"id":"g-1","role":"guardian","given_name":"A","family_name":"B","contacts":[{"channel":"cell_phone","value":"12"}]}"#,
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
            ),
            (
                r#"{"id":"g#1","role":"guardian","given_name":"A","family_name":"B"}"#,
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
            ),
        ];
        for (body, status, code) in cases {
            let (got, error) = call(&app, post_person(&admin, body)).await;
            assert_eq!((got, error["code"].as_str()), (status, Some(code)), "{body}: {error}");
            assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
        }
    }

    #[tokio::test]
    async fn a_role_without_the_right_is_forbidden_and_no_token_is_unauthorized() {
        let app = app();
        let body = r#"{"id":"g-1","role":"guardian","given_name":"A","family_name":"B"}"#;
        assert_eq!(call(&app, post_person(&token("school_viewer"), body)).await.0, StatusCode::FORBIDDEN);
        let anonymous = Request::get("/v1/people/g-1").body(Body::empty()).unwrap();
        let (status, error) = call(&app, anonymous).await;
        assert_eq!((status, error["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthorized")));
    }

    fn post_json(token: &str, path: &str, body: &str) -> Request<Body> {
        Request::post(path)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    }

    #[tokio::test]
    async fn only_the_operator_assigns_sending_numbers_and_a_held_number_is_not_taken() {
        let app = app();
        let body = r#"{"number": "+18005550000", "district": "d-1"}"#;
        for role in ["district_admin", "school_admin", "guardian"] {
            let (status, error) = call(&app, post_json(&token(role), "/v1/operator/numbers", body)).await;
            assert_eq!((status, error["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")), "{role}");
        }
        let operator = token("operator");
        let (status, assigned) = call(&app, post_json(&operator, "/v1/operator/numbers", body)).await;
        assert_eq!(status, StatusCode::CREATED, "{assigned}");
        assert_eq!(assigned, serde_json::json!({"number": "+18005550000", "district": "d-1"}));
        let other = r#"{"number": "+18005550000", "district": "evil"}"#;
        let (status, error) = call(&app, post_json(&operator, "/v1/operator/numbers", other)).await;
        assert_eq!((status, error["code"].as_str()), (StatusCode::CONFLICT, Some("conflict")), "{error}");
        let settings = Request::get("/v1/settings")
            .header("authorization", format!("Bearer {}", token("district_admin")))
            .body(Body::empty())
            .unwrap();
        assert_eq!(call(&app, settings).await.1["sms_numbers"], serde_json::json!(["+18005550000"]));
        let release = Request::delete("/v1/operator/numbers/+18005550000")
            .header("authorization", format!("Bearer {operator}"))
            .body(Body::empty())
            .unwrap();
        assert_eq!(call(&app, release).await.0, StatusCode::NO_CONTENT);
    }

    #[tokio::test]
    async fn district_settings_are_for_staff_not_for_families() {
        let app = app();
        let get = |token: String| {
            Request::get("/v1/settings").header("authorization", format!("Bearer {token}")).body(Body::empty()).unwrap()
        };
        let teacher = Claims {
            sub: "t-1".into(),
            district: "d-1".into(),
            roles: vec!["teacher".into()],
            schools: vec!["s-1".into()],
            exp: chrono::Utc::now().timestamp() + 600,
            iat: None,
            iss: None,
        };
        let teacher = mint_hs256(SECRET, &teacher).unwrap();
        for (token, status) in [
            (token("district_admin"), StatusCode::OK),
            (teacher, StatusCode::OK),
            (token("guardian"), StatusCode::FORBIDDEN),
            (token("student"), StatusCode::FORBIDDEN),
        ] {
            assert_eq!(call(&app, get(token)).await.0, status);
        }
    }

    #[tokio::test]
    async fn unknown_routes_and_methods_answer_in_json() {
        let app = app();
        let missing = Request::get("/v1/nothing").body(Body::empty()).unwrap();
        assert_eq!(call(&app, missing).await.1["code"], "not_found");
        let wrong = Request::delete("/v1/people").body(Body::empty()).unwrap();
        assert_eq!(call(&app, wrong).await.0, StatusCode::METHOD_NOT_ALLOWED);
    }
}
