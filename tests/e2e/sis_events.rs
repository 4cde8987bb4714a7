//! SIS events over HTTP into the local gateway: the SIS posts with its SIS
//! key, each event becomes a message to the student's messenger guardians
//! (through the same fan-out and send as any broadcast, listed with its
//! event), one attendance message per student per school day in the
//! district's time zone, quiet hours unless the type is urgent, and an
//! unexcused absence as an emergency where the district says so.

use schoolbell_tests::app::{TestApp, spawn_family_district, spawn_family_district_at};
use serde_json::{Value, json};

const D: &str = "district-a";

async fn sis_key(app: &TestApp, admin: &str) -> String {
    let (status, issued) = app.post("/v1/sis-keys", Some(admin), "").await;
    assert_eq!(status, 201, "{issued}");
    issued["key"].as_str().unwrap_or_default().to_string()
}

fn event(id: &str, kind: &str, occurred_at: &str, extra: Value) -> Value {
    let mut event = json!({"id": id, "type": kind, "student": "s-1", "occurred_at": occurred_at});
    if let (Some(event), Some(extra)) = (event.as_object_mut(), extra.as_object()) {
        event.extend(extra.clone());
    }
    event
}

fn absent(id: &str, occurred_at: &str, excused: bool) -> Value {
    event(id, "attendance.absent", occurred_at, json!({"period": "1", "excused": excused}))
}

async fn post_events(app: &TestApp, key: &str, events: &[Value]) -> Value {
    let (status, answer) = app.post("/v1/sis-events", Some(key), &json!({"events": events}).to_string()).await;
    assert_eq!(status, 200, "{answer}");
    app.drain().await;
    answer
}

/// The reports of the district's event broadcasts, newest first.
async fn event_reports(app: &TestApp, admin: &str) -> Vec<Value> {
    let (status, listed) = app.get("/v1/broadcasts", Some(admin)).await;
    assert_eq!(status, 200, "{listed}");
    let mut reports = Vec::new();
    for broadcast in listed["broadcasts"].as_array().cloned().unwrap_or_default() {
        if broadcast["event"].is_null() {
            continue;
        }
        let id = broadcast["id"].as_str().unwrap_or_default();
        reports.push(app.get(&format!("/v1/broadcasts/{id}"), Some(admin)).await.1);
    }
    reports
}

#[tokio::test]
async fn an_absence_reaches_the_student_s_messenger_guardians_once_and_its_broadcast_names_the_event() {
    let (app, admin) = spawn_family_district(D).await;
    let key = sis_key(&app, &admin).await;
    let answer = post_events(&app, &key, &[absent("e-1", "2026-12-04T08:05:00-05:00", false)]).await;
    assert_eq!(answer, json!({"accepted": 1, "merged": 0, "duplicates": 0, "rejected": []}));
    let reports = event_reports(&app, &admin).await;
    assert_eq!(reports.len(), 1);
    let report = &reports[0];
    assert_eq!(report["event"], json!({"id": "e-1", "type": "attendance.absent", "student": "s-1"}), "{report}");
    assert_eq!(report["reason"], "attendance");
    // Ana: her email, her cell and the household phone by call; no text
    // without consent under opt_in. Luis is no messenger.
    assert_eq!(report["counts"]["email"]["delivered"], 1, "{report}");
    assert_eq!(report["counts"]["voice"]["answered"], 2, "{report}");
    assert!(report["counts"]["text"].is_null(), "{report}");
    let script = app.calls.placed().first().map(|c| c.script.as_str().to_string()).unwrap_or_default();
    assert!(script.contains("Leo was marked absent for period 1 on Friday, December 4"), "{script}");
    assert!(app.carrier.sent().is_empty());

    let again = post_events(&app, &key, &[absent("e-1", "2026-12-04T08:05:00-05:00", false)]).await;
    assert_eq!((again["accepted"].as_u64(), again["duplicates"].as_u64()), (Some(0), Some(1)));
    assert_eq!(app.calls.placed().len(), 2, "a replay sends nothing");

    let staff = app.token(D, "district_admin", &[]);
    let (status, error) = app.post("/v1/sis-events", Some(&staff), &json!({"events": []}).to_string()).await;
    assert_eq!((status, error["code"].as_str()), (401, Some("unauthorized")), "a staff token is no SIS key");
    app.stop().await;
}

#[tokio::test]
async fn one_attendance_message_a_day_counts_days_in_the_district_s_time_zone() {
    let (app, admin) = spawn_family_district(D).await;
    let key = sis_key(&app, &admin).await;
    let answer = post_events(
        &app,
        &key,
        &[
            absent("e-1", "2026-12-04T08:05:00-05:00", false),
            // 22:00 in New York, already the 5th in UTC: the same school day.
            event("e-2", "attendance.tardy", "2026-12-05T03:00:00Z", json!({"period": "7"})),
            // 00:10 on the 5th in New York: a new day.
            absent("e-3", "2026-12-05T00:10:00-05:00", true),
            // Not attendance: its own message.
            event(
                "e-4",
                "food_service.low_balance",
                "2026-12-04T12:00:00-05:00",
                json!({"balance": 3.25, "threshold": 5}),
            ),
        ],
    )
    .await;
    assert_eq!((answer["accepted"].as_u64(), answer["merged"].as_u64()), (Some(3), Some(1)), "{answer}");
    let reports = event_reports(&app, &admin).await;
    let mut ids: Vec<&str> = reports.iter().filter_map(|r| r["event"]["id"].as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["e-1", "e-3", "e-4"]);
    let balance = reports.iter().find(|r| r["event"]["id"] == "e-4").cloned().unwrap_or_default();
    assert_eq!(balance["reason"], "food_service", "{balance}");
    app.stop().await;
}

#[tokio::test]
async fn at_night_an_absence_s_calls_wait_for_quiet_hours_to_end_unless_the_district_marks_absences_urgent() {
    // 23:30 in New York.
    let night = schoolbell::ports::FixedClock::midday_today();
    night.advance(chrono::Duration::minutes(11 * 60 + 30));
    let (app, admin) = spawn_family_district_at(D, night).await;
    let key = sis_key(&app, &admin).await;
    post_events(&app, &key, &[absent("e-1", "2026-12-04T08:05:00-05:00", false)]).await;
    assert!(app.calls.placed().is_empty(), "calls wait for the morning");
    let report = event_reports(&app, &admin).await.remove(0);
    assert_eq!(report["parts"]["voice"]["progress"], "deferred", "{report}");
    assert_eq!(report["counts"]["email"]["delivered"], 1, "email goes at once: {report}");

    let urgent = json!({"sis_events": {"urgent": ["attendance.absent"]}}).to_string();
    assert_eq!(app.put_json("/v1/settings", &admin, &urgent).await.0, 200);
    post_events(
        &app,
        &key,
        &[event("e-2", "attendance.absent", "2026-12-03T09:00:00-05:00", json!({"excused": true}))],
    )
    .await;
    assert_eq!(app.calls.placed().len(), 2, "an urgent type calls whatever the hour");
    app.stop().await;
}

#[tokio::test]
async fn an_unexcused_absence_texts_every_cell_without_consent_only_where_the_district_classes_it_as_an_emergency() {
    let (app, admin) = spawn_family_district(D).await;
    let key = sis_key(&app, &admin).await;
    post_events(&app, &key, &[absent("e-1", "2026-12-01T08:05:00-05:00", false)]).await;
    assert!(app.carrier.sent().is_empty(), "opt_in: no consent, no text");

    let emergency = json!({"sis_events": {"unexcused_absence_is_emergency": true}}).to_string();
    assert_eq!(app.put_json("/v1/settings", &admin, &emergency).await.0, 200);
    post_events(&app, &key, &[absent("e-2", "2026-12-02T08:05:00-05:00", true)]).await;
    assert!(app.carrier.sent().is_empty(), "an excused absence is no emergency");
    post_events(&app, &key, &[absent("e-3", "2026-12-03T08:05:00-05:00", false)]).await;
    let texted: Vec<String> = app.carrier.sent().iter().map(|t| t.to.as_e164().to_string()).collect();
    assert_eq!(texted, ["+16175552345"], "Ana's cell (FCC 16-88)");
    app.stop().await;
}
