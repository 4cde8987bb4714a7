//! The route through `router().oneshot()` over the embedded table: both
//! ways of presenting a SIS key and their failures, a batch with bad
//! events, a replay, and the EventBridge path on its Lambda event.

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use schoolbell::adapters::local::{EmbeddedTable, LocalQueue};
use schoolbell::domain::{DistrictId, Person, PersonId, PersonRole, SchoolId};
use schoolbell::ports::{Clock, FixedClock, Table, TimeOrderedIds, WorkQueue};
use schoolbell::root::{Ports, Services, Wiring};
use schoolbell::store::PeopleStore;
use serde_json::json;
use tower::ServiceExt as _;

use super::*;

struct World {
    router: Router,
    services: Services,
    plans: Arc<LocalQueue>,
    clock: Arc<FixedClock>,
    key: String,
    key_id: String,
}

fn district() -> DistrictId {
    DistrictId::parse("d-1").unwrap()
}

async fn world() -> World {
    let table: Arc<dyn Table> = Arc::new(EmbeddedTable::in_memory().unwrap());
    let plans = Arc::new(LocalQueue::new());
    let clock = Arc::new(FixedClock::midday_today());
    let ports = Ports::new(table.clone(), clock.clone(), Arc::new(TimeOrderedIds)).with_plan_queue(plans.clone());
    let services = Services::new(ports, Wiring::default());
    let student = Person {
        id: PersonId::parse("s-1").unwrap(),
        role: PersonRole::Student,
        given_name: "Leo".into(),
        family_name: "Diaz".into(),
        schools: vec![SchoolId::parse("sch-1").unwrap()],
        contacts: vec![],
    };
    PeopleStore::new(table).create(&district(), &student).await.unwrap();
    let issued = services.sis_keys().issue(&district(), "test").await.unwrap();
    let state = SisEventsState { keys: services.sis_keys(), events: services.sis_events().unwrap() };
    World { router: router(state), services, plans, clock, key: issued.key, key_id: issued.id.as_str().to_string() }
}

fn absent(id: &str) -> Value {
    json!({"id": id, "type": "attendance.absent", "student": "s-1",
        "occurred_at": "2026-12-04T08:05:00-05:00", "period": "1", "excused": false})
}

async fn post(router: &Router, headers: &[(&str, String)], body: &str) -> (u16, Value) {
    let mut request = Request::post("/v1/sis-events").header("content-type", "application/json");
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = router.clone().oneshot(request.body(Body::from(body.to_string())).unwrap()).await.unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

fn admin() -> schoolbell::domain::Principal {
    schoolbell::domain::Principal {
        subject: "admin".into(),
        district: district(),
        roles: vec![schoolbell::domain::Role::DistrictAdmin],
        schools: vec![],
    }
}

fn bearer(key: &str) -> Vec<(&'static str, String)> {
    vec![("authorization", format!("Bearer {key}"))]
}

#[tokio::test]
async fn a_batch_is_answered_event_by_event_and_its_bad_events_do_not_stop_the_rest() {
    let world = world().await;
    let body = json!({"events": [
        absent("e-1"),
        {"id": "e-2", "type": "attendance.present", "student": "s-1", "occurred_at": "2026-12-04T08:05:00Z"},
        {"id": "e-3", "type": "attendance.absent", "student": "s-404", "occurred_at": "2026-12-04T08:05:00Z", "excused": true},
        absent("e-4"),
        {"id": "e-5", "type": "food_service.negative_balance", "student": "s-1", "occurred_at": "2026-12-04T12:00:00Z"},
        absent("e-1"),
    ]});
    let (status, answer) = post(&world.router, &bearer(&world.key), &body.to_string()).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!((&answer["accepted"], &answer["merged"], &answer["duplicates"]), (&json!(1), &json!(1), &json!(1)));
    let rejected = answer["rejected"].as_array().cloned().unwrap_or_default();
    let why: Vec<(u64, &str, &str)> = rejected
        .iter()
        .map(|r| (r["index"].as_u64().unwrap_or(99), r["id"].as_str().unwrap_or(""), r["code"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(why, [(1, "e-2", "unknown_type"), (2, "e-3", "unknown_student"), (4, "e-5", "missing_field")]);
    let queued = world.plans.receive(10, std::time::Duration::ZERO).await.unwrap();
    assert_eq!(queued.len(), 1, "one plan: the first absence's");

    let (_, again) = post(&world.router, &bearer(&world.key), &absent("e-1").to_string()).await;
    assert_eq!((again["accepted"].as_u64(), again["duplicates"].as_u64()), (Some(0), Some(1)), "a replay: {again}");
    let recent = world.services.broadcasts().unwrap();
    let sent = recent.recent(&admin(), 10).await.unwrap();
    assert_eq!(sent.len(), 1);
    let event = sent[0].event.clone().unwrap();
    assert_eq!((event.id.as_str(), event.kind.as_str(), event.student.as_str()), ("e-1", "attendance.absent", "s-1"));
    assert_eq!(sent[0].created_by, format!("sis:{}", world.key_id));
}

#[tokio::test]
async fn without_a_valid_sis_key_nothing_is_read_and_the_answer_is_401() {
    let world = world().await;
    let body = absent("e-1").to_string();
    for headers in [
        vec![],
        bearer("sbk_sk-000000000000000000000000_AAAA"),
        bearer("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJl"),
    ] {
        let (status, error) = post(&world.router, &headers, &body).await;
        assert_eq!((status, error["code"].as_str()), (401, Some("unauthorized")), "{headers:?}: {error}");
    }
    world.services.sis_keys().revoke(&admin(), &world.key_id).await.unwrap();
    assert_eq!(post(&world.router, &bearer(&world.key), &body).await.0, 401, "a revoked key");
    assert!(world.plans.receive(10, std::time::Duration::ZERO).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_signed_request_is_taken_and_a_tampered_or_stale_one_is_not() {
    let world = world().await;
    let body = absent("e-1").to_string();
    let sign = |timestamp: i64, body: &str| {
        let key = schoolbell::domain::SisKey::parse(&world.key).unwrap();
        let signature = key.sign(&timestamp.to_string(), body.as_bytes());
        vec![
            ("x-schoolbell-key-id", world.key_id.clone()),
            ("x-schoolbell-timestamp", timestamp.to_string()),
            ("x-schoolbell-signature", signature),
        ]
    };
    let now = world.clock.now().timestamp();
    let tampered = body.replace("\"excused\":false", "\"excused\":true");
    assert_ne!(tampered, body);
    assert_eq!(post(&world.router, &sign(now, &body), &tampered).await.0, 401, "tampered");
    assert_eq!(post(&world.router, &sign(now - 301, &body), &body).await.0, 401, "stale");
    let (status, answer) = post(&world.router, &sign(now, &body), &body).await;
    assert_eq!((status, answer["accepted"].as_u64()), (200, Some(1)), "{answer}");
}

#[tokio::test]
async fn a_body_that_is_not_events_is_refused_whole() {
    let world = world().await;
    let (status, error) = post(&world.router, &bearer(&world.key), "not json").await;
    assert_eq!((status, error["code"].as_str()), (400, Some("invalid_json")));
    let many: Vec<Value> = (0..501).map(|n| absent(&format!("e-{n}"))).collect();
    let (status, error) = post(&world.router, &bearer(&world.key), &json!({"events": many}).to_string()).await;
    assert_eq!((status, error["code"].as_str()), (422, Some("invalid")), "{error}");
    assert!(world.plans.receive(10, std::time::Duration::ZERO).await.unwrap().is_empty(), "nothing of it applied");
}

#[tokio::test]
async fn events_from_the_bus_are_handled_like_the_route_s_and_others_are_refused() {
    use aws_lambda_events::event::eventbridge::EventBridgeEvent;

    use crate::bridge::{BridgeError, SisEventsDetail, handle_bridge_event};
    let world = world().await;
    let bus_event = |source: &str, detail: Value| -> EventBridgeEvent<SisEventsDetail> {
        serde_json::from_value(json!({
            "version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718", "detail-type": "SIS Events",
            "source": source, "account": "111122223333", "time": "2026-12-04T13:05:00Z", "region": "us-east-1",
            "resources": [], "detail": detail
        }))
        .unwrap()
    };
    let events = world.services.sis_events().unwrap();
    let detail = json!({"district": "d-1", "events": [absent("e-9")]});
    let answer = handle_bridge_event(&events, bus_event("schoolbell.sis", detail.clone())).await.unwrap();
    assert_eq!(answer.accepted, 1);
    let again = handle_bridge_event(&events, bus_event("schoolbell.sis", detail)).await.unwrap();
    assert_eq!(again.duplicates, 1, "the bus retried: no second message");
    let foreign = handle_bridge_event(&events, bus_event("aws.ec2", json!({"district": "d-1", "events": []}))).await;
    assert!(matches!(foreign, Err(BridgeError::Refused(_))));
    let bad = handle_bridge_event(&events, bus_event("schoolbell.sis", json!({"district": "", "events": []}))).await;
    assert!(bad.is_err_and(|e| !e.is_retryable()));
}
