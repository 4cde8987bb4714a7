//! Saved templates over HTTP into the local gateway: checked when saved,
//! written by district admins, read by staff; a broadcast names one in
//! place of its content; one per SIS event type words that type's messages.

use schoolbell_tests::app::spawn_family_district;
use serde_json::json;

const D: &str = "district-a";

#[tokio::test]
async fn a_broadcast_sends_a_saved_template_and_a_template_is_checked_when_saved() {
    let (app, admin) = spawn_family_district(D).await;
    let closing = json!({"name": "Closing", "content": {"sms": "{{sender}}: schools close at noon, {{first_name}}."}});
    let (status, saved) = app.post("/v1/templates", Some(&admin), &closing.to_string()).await;
    assert_eq!(status, 201, "{saved}");
    let id = saved["id"].as_str().unwrap_or_default().to_string();
    assert_eq!(saved["channels"], json!(["text"]));

    let principal = app.token(D, "school_admin", &["sch-1"]);
    assert_eq!(app.post("/v1/templates", Some(&principal), &closing.to_string()).await.0, 403, "admins write");
    let (status, listed) = app.get("/v1/templates", Some(&principal)).await;
    assert_eq!((status, listed["templates"].as_array().map(Vec::len)), (200, Some(1)), "staff read");

    let unknown = json!({"name": "Bad", "content": {"sms": "Hi {{nickname}}"}});
    let (status, error) = app.post("/v1/templates", Some(&admin), &unknown.to_string()).await;
    assert_eq!((status, error["code"].as_str()), (422, Some("invalid")), "{error}");
    assert!(error["message"].as_str().is_some_and(|m| m.contains("nickname")), "{error}");

    let broadcast = json!({"reason": "emergency", "emergency": true, "channels": ["text"], "template": id,
        "audience": {"rule": {}, "target": "guardians"}});
    let report = app.broadcast_report(&admin, &broadcast).await;
    assert_eq!(report["counts"]["text"]["delivered"], 2, "{report}");
    let mut bodies: Vec<String> = app.carrier.sent().iter().map(|t| t.body.clone()).collect();
    bodies.sort();
    assert_eq!(
        bodies,
        ["School notifications: schools close at noon, Ana.", "School notifications: schools close at noon, Kim."]
    );

    let both = json!({"reason": "emergency", "channels": ["text"], "template": id, "content": {"sms": "x"},
        "audience": {"rule": {}}});
    assert_eq!(app.post("/v1/broadcasts", Some(&admin), &both.to_string()).await.0, 422, "content or template");
    let missing = json!({"reason": "emergency", "channels": ["text"], "template": "t-none", "audience": {"rule": {}}});
    assert_eq!(app.post("/v1/broadcasts", Some(&admin), &missing.to_string()).await.0, 422);
    assert_eq!(app.delete(&format!("/v1/templates/{id}"), &admin).await.0, 204);
    assert_eq!(app.get(&format!("/v1/templates/{id}"), Some(&admin)).await.0, 404);
    app.stop().await;
}

#[tokio::test]
async fn a_district_s_template_for_an_event_type_words_its_messages_and_only_one_per_type() {
    let (app, admin) = spawn_family_district(D).await;
    let wording = json!({"name": "Our absence note", "event_type": "attendance.absent",
        "content": {"sms": "{{sender}}: we missed {{student}} {{when}} today ({{date}})."}});
    let (status, saved) = app.post("/v1/templates", Some(&admin), &wording.to_string()).await;
    assert_eq!(status, 201, "{saved}");
    assert_eq!(app.post("/v1/templates", Some(&admin), &wording.to_string()).await.0, 409, "one per type");
    let policy = json!({"name": "Maple ISD", "text_consent": "number_provided"}).to_string();
    assert_eq!(app.put_json("/v1/settings", &admin, &policy).await.0, 200);

    let (_, issued) = app.post("/v1/sis-keys", Some(&admin), "").await;
    let key = issued["key"].as_str().unwrap_or_default().to_string();
    let events = json!({"events": [{"id": "e-1", "type": "attendance.absent", "student": "s-1",
        "occurred_at": "2026-12-04T08:05:00-05:00", "period": "2", "excused": false}]});
    let (status, answer) = app.post("/v1/sis-events", Some(&key), &events.to_string()).await;
    assert_eq!((status, answer["accepted"].as_u64()), (200, Some(1)), "{answer}");
    app.drain().await;
    let texts: Vec<String> = app.carrier.sent().iter().map(|t| t.body.clone()).collect();
    assert_eq!(texts, ["Maple ISD: we missed Leo for period 2 today (Friday, December 4)."]);
    assert!(app.calls.placed().is_empty(), "the district's wording is text only");
    app.stop().await;
}
