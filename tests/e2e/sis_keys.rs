//! SIS API keys over HTTP into the local gateway: a district admin creates,
//! lists, rotates and revokes them; the key is shown once and never listed;
//! one district's admin cannot touch another's keys. Whether a key works is
//! asked of the service the SIS routes call, with the credential read from
//! request headers by the shared helper (the SIS routes themselves are
//! tested with them).

use axum::http::{HeaderMap, HeaderValue};
use chrono::Duration;
use schoolbell::domain::{DistrictId, SisKey};
use schoolbell::http::{KEY_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sis_credential};
use schoolbell::ports::Clock as _;
use schoolbell::services::ServiceError;
use schoolbell_tests::app::{TestApp, spawn_app};
use serde_json::Value;

const A: &str = "district-a";
const B: &str = "district-b";
const BODY: &[u8] = br#"{"events": [{"id": "e-1", "type": "attendance.absent", "student": "s-1"}]}"#;

fn header(value: &str) -> HeaderValue {
    HeaderValue::from_str(value).unwrap()
}

/// The district a request with this key as its bearer authenticates as.
async fn bearer(app: &TestApp, key: &str) -> Result<DistrictId, ServiceError> {
    let mut headers = HeaderMap::new();
    headers.insert("authorization", header(&format!("Bearer {key}")));
    let credential = sis_credential(&headers).unwrap();
    app.services.sis_keys().authenticate(credential, BODY).await
}

/// The district a request signed with this key now authenticates as.
async fn signed(app: &TestApp, key: &str, body: &[u8]) -> Result<DistrictId, ServiceError> {
    let key = SisKey::parse(key).unwrap();
    let timestamp = app.clock.now().timestamp().to_string();
    let mut headers = HeaderMap::new();
    headers.insert(KEY_ID_HEADER, header(key.id().as_str()));
    headers.insert(TIMESTAMP_HEADER, header(&timestamp));
    headers.insert(SIGNATURE_HEADER, header(&key.sign(&timestamp, body)));
    let credential = sis_credential(&headers).unwrap();
    app.services.sis_keys().authenticate(credential, BODY).await
}

fn district(outcome: Result<DistrictId, ServiceError>) -> String {
    outcome.map(|d| d.to_string()).unwrap_or_else(|e| format!("refused: {e}"))
}

/// Creates a key as `admin`; answers (id, key).
async fn create(app: &TestApp, admin: &str) -> (String, String) {
    let (status, body) = app.post("/v1/sis-keys", Some(admin), "").await;
    assert_eq!(status, 201, "{body}");
    let keys: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["id", "key"], "{body}");
    (body["id"].as_str().unwrap().to_string(), body["key"].as_str().unwrap().to_string())
}

async fn listed(app: &TestApp, admin: &str) -> Vec<Value> {
    let (status, body) = app.get("/v1/sis-keys", Some(admin)).await;
    assert_eq!(status, 200, "{body}");
    body["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn only_a_district_admin_creates_a_key_and_it_works_as_a_bearer_and_as_a_signature() {
    let app = spawn_app().await;
    for role in ["school_admin", "technical_school_admin", "teacher", "school_viewer", "guardian", "operator"] {
        let (status, error) = app.post("/v1/sis-keys", Some(&app.token(A, role, &["s-1"])), "").await;
        assert_eq!((status, error["code"].as_str()), (403, Some("forbidden")), "{role}: {error}");
        assert_eq!(app.get("/v1/sis-keys", Some(&app.token(A, role, &["s-1"]))).await.0, 403, "{role}");
    }
    let (status, error) = app.post("/v1/sis-keys", None, "").await;
    assert_eq!((status, error["code"].as_str()), (401, Some("unauthorized")));
    assert!(listed(&app, &app.token(A, "district_admin", &[])).await.is_empty(), "nothing was made");

    let admin = app.token(A, "district_admin", &[]);
    let (id, key) = create(&app, &admin).await;
    assert!(key.starts_with(&format!("sbk_{id}_")), "{key}");
    assert_eq!(district(bearer(&app, &key).await), A);
    assert_eq!(district(signed(&app, &key, BODY).await), A);
    assert!(signed(&app, &key, b"{\"events\": []}").await.is_err(), "a signature over another body");
    assert!(matches!(bearer(&app, &admin).await, Err(ServiceError::Unauthorized(_))), "a staff JWT is no SIS key");
}

#[tokio::test]
async fn the_list_shows_ids_and_dates_and_never_the_key_or_its_hash() {
    let app = spawn_app().await;
    let admin = app.token(A, "district_admin", &[]);
    let (first, first_key) = create(&app, &admin).await;
    let (second, second_key) = create(&app, &admin).await;
    let items = listed(&app, &admin).await;
    let mut ids: Vec<&str> = items.iter().map(|item| item["id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    let mut expected = [first.as_str(), second.as_str()];
    expected.sort_unstable();
    assert_eq!(ids, expected);
    for item in &items {
        let fields: Vec<&str> = item.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(fields, ["created_at", "created_by", "id", "revoked_at"], "{item}");
        assert!(item["revoked_at"].is_null() && item["created_at"].is_string(), "{item}");
    }
    let text = serde_json::to_string(&items).unwrap();
    for key in [&first_key, &second_key] {
        assert!(!text.contains(&key[key.len() - 43..]), "the secret is never listed: {text}");
    }
    assert!(!text.contains("hash") && !text.contains("sealed"), "{text}");
    assert!(listed(&app, &app.token(B, "district_admin", &[])).await.is_empty(), "B lists only its own");
}

#[tokio::test]
async fn a_key_of_district_a_cannot_be_revoked_or_rotated_by_district_b_s_admin() {
    let app = spawn_app().await;
    let (id, key) = create(&app, &app.token(A, "district_admin", &[])).await;
    let b_admin = app.token(B, "district_admin", &[]);
    let (status, error) = app.delete(&format!("/v1/sis-keys/{id}"), &b_admin).await;
    assert_eq!((status, error["code"].as_str()), (404, Some("not_found")), "{error}");
    let (status, error) = app.post(&format!("/v1/sis-keys/{id}/rotate"), Some(&b_admin), "").await;
    assert_eq!((status, error["code"].as_str()), (404, Some("not_found")), "{error}");
    assert_eq!(app.delete("/v1/sis-keys/sk-000000000000000000000000", &b_admin).await.0, 404, "unknown");
    assert_eq!(district(bearer(&app, &key).await), A, "A's key still works");
    assert_eq!(listed(&app, &app.token(A, "district_admin", &[])).await[0]["revoked_at"], Value::Null);
}

#[tokio::test]
async fn a_revoked_key_stops_at_once() {
    let app = spawn_app().await;
    let admin = app.token(A, "district_admin", &[]);
    let (id, key) = create(&app, &admin).await;
    let (status, body) = app.delete(&format!("/v1/sis-keys/{id}"), &admin).await;
    assert_eq!(status, 204, "{body}");
    assert!(matches!(bearer(&app, &key).await, Err(ServiceError::Unauthorized(_))));
    assert!(matches!(signed(&app, &key, BODY).await, Err(ServiceError::Unauthorized(_))));
    assert!(listed(&app, &admin).await[0]["revoked_at"].is_string());
    let (status, error) = app.post(&format!("/v1/sis-keys/{id}/rotate"), Some(&admin), "").await;
    assert_eq!((status, error["code"].as_str()), (409, Some("conflict")), "{error}");
}

#[tokio::test]
async fn rotating_issues_a_new_working_key_and_the_old_one_stops_after_a_day() {
    let app = spawn_app().await;
    let admin = app.token(A, "district_admin", &[]);
    let (old_id, old_key) = create(&app, &admin).await;
    let (status, body) = app.post(&format!("/v1/sis-keys/{old_id}/rotate"), Some(&admin), "").await;
    assert_eq!(status, 201, "{body}");
    let (new_id, new_key) = (body["id"].as_str().unwrap(), body["key"].as_str().unwrap());
    assert_ne!(new_id, old_id);
    assert_eq!(district(bearer(&app, new_key).await), A);
    assert_eq!(district(signed(&app, new_key, BODY).await), A);
    assert_eq!(district(bearer(&app, &old_key).await), A, "the old key works during the change-over");

    let items = listed(&app, &admin).await;
    let old = items.iter().find(|item| item["id"] == old_id.as_str()).unwrap();
    let ends = chrono::DateTime::parse_from_rfc3339(old["revoked_at"].as_str().unwrap()).unwrap();
    assert_eq!(ends.timestamp(), (app.clock.now() + Duration::hours(24)).timestamp(), "{old}");

    app.clock.advance(Duration::hours(24));
    assert!(matches!(bearer(&app, &old_key).await, Err(ServiceError::Unauthorized(_))), "a day later");
    assert_eq!(district(bearer(&app, new_key).await), A);
}
