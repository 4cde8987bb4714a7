//! Broadcasts over HTTP through the local gateway's queues, simulated
//! carrier and outbox: dedupe across siblings and shared phones, every
//! suppression reason, quiet hours, permissions, the delivery report and
//! CSV, and personal messages with the 13-and-over rule.

use std::sync::Arc;

use chrono::Datelike as _;

use schoolbell::domain::{DistrictId, EmailAddress, EmailStatus, PhoneNumber, SmsStatus};
use schoolbell::ports::{Clock as _, FixedClock};
use schoolbell::store::{EmailStatusStore, NumberStatus, SmsStatusStore};
use schoolbell_tests::app::TestApp;
use serde_json::{Value, json};

const D: &str = "district-a";

async fn district() -> (TestApp, String) {
    district_at(FixedClock::midday_today()).await
}

/// The family district on a gateway whose clock starts at `clock`.
async fn district_at(clock: FixedClock) -> (TestApp, String) {
    let (app, admin) = schoolbell_tests::app::spawn_family_district_at(D, clock).await;
    for guardian in ["c-ana", "c-kim"] {
        let consent = json!({"channels": {"text": {"emergency": true, "general": true}},
            "consent": {"source": "paper form", "at": "2026-09-01T12:00:00Z"}});
        let (status, body) =
            app.put_json(&format!("/v1/people/{guardian}/preferences"), &admin, &consent.to_string()).await;
        assert_eq!(status, 200, "{body}");
    }
    (app, admin)
}

fn broadcast(reason: &str, emergency: bool, channels: &[&str]) -> Value {
    json!({
        "reason": reason, "emergency": emergency, "channels": channels,
        "content": {"sms": "School is closed today for {{children}}.",
                    "email": {"subject": "Closed today", "text": "Dear family of {{children}}: closed today."}},
        "audience": {"rule": {}, "target": "guardians"}
    })
}

async fn send(app: &TestApp, token: &str, body: &Value) -> String {
    let (status, created) = app.post("/v1/broadcasts", Some(token), &body.to_string()).await;
    assert_eq!(status, 202, "{created}");
    created["id"].as_str().unwrap_or_default().to_string()
}

/// Runs the queues and the receipts to the end, then answers the report.
async fn settled(app: &TestApp, token: &str, id: &str) -> Value {
    app.drain().await;
    let (status, report) = app.get(&format!("/v1/broadcasts/{id}"), Some(token)).await;
    assert_eq!(status, 200, "{report}");
    report
}

/// 03:30 UTC tomorrow: 22:30 in New York in winter, 23:30 in summer,
/// inside the default quiet hours (21:00–07:00 New York) either way.
fn tonight() -> FixedClock {
    FixedClock::new(FixedClock::midday_today().now() + chrono::Duration::minutes(10 * 60 + 30))
}

fn district_id() -> DistrictId {
    DistrictId::parse(D).unwrap()
}

#[tokio::test]
async fn an_emergency_reaches_each_messenger_guardian_once_naming_all_their_children() {
    let (app, admin) = district().await;
    let id = send(&app, &admin, &broadcast("emergency", true, &["text", "email"])).await;
    let report = settled(&app, &admin, &id).await;
    assert_eq!(report["counts"]["text"]["delivered"], 2, "Ana once for Leo and Mia, Kim once: {report}");
    assert_eq!(report["counts"]["email"]["delivered"], 2, "{report}");
    assert_eq!(report["totals"]["failed"], 0, "{report}");
    let (_, page) = app.get(&format!("/v1/broadcasts/{id}/deliveries"), Some(&admin)).await;
    let ana_text = page["items"]
        .as_array()
        .and_then(|items| items.iter().find(|d| d["to"] == "+16175552345"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(ana_text["people"], json!(["c-ana"]), "Luis is not a messenger: {page}");
    assert_eq!(ana_text["segments"], 1);
    let outbox = std::fs::read_dir(app.data.outbox_dir()).map(|d| d.count()).unwrap_or_default();
    assert_eq!(outbox, 2);
    let mails: Vec<String> = std::fs::read_dir(app.data.outbox_dir())
        .map(|dir| dir.flatten().map(|f| std::fs::read_to_string(f.path()).unwrap_or_default()).collect())
        .unwrap_or_default();
    assert!(mails.iter().any(|m| m.contains("Leo and Mia")), "one email names both children");
    app.stop().await;
}

#[tokio::test]
async fn suppressed_numbers_and_addresses_are_skipped_with_their_reason() {
    let (app, admin) = district().await;
    let at = app.clock.now();
    let sms = SmsStatusStore::new(Arc::clone(&app.table));
    let kim_cell = PhoneNumber::parse_e164("+16175552347").unwrap();
    let blocked =
        NumberStatus { number: kim_cell, status: SmsStatus::Blocked, last_event_at: at, last_event: "t".into() };
    sms.record(&district_id(), &blocked, "e1").await.unwrap();
    let ana_cell = PhoneNumber::parse_e164("+16175552345").unwrap();
    let landline =
        NumberStatus { number: ana_cell, status: SmsStatus::Landline, last_event_at: at, last_event: "t".into() };
    sms.record(&district_id(), &landline, "e2").await.unwrap();
    let email = EmailStatusStore::new(Arc::clone(&app.table));
    let ana = EmailAddress::parse("ana@example.org").unwrap();
    email.record(&district_id(), &ana, EmailStatus::Complaint, (at, "t", "e3")).await.unwrap();
    let kim = EmailAddress::parse("kim@example.org").unwrap();
    email.record(&district_id(), &kim, EmailStatus::BouncedPermanent, (at, "t", "e4")).await.unwrap();

    // Without the landline autocall (a call reading the text), the landline is a skip too.
    let mut body = broadcast("emergency", true, &["text", "email"]);
    body["landline_autocall"] = json!(false);
    let id = send(&app, &admin, &body).await;
    let report = settled(&app, &admin, &id).await;
    assert_eq!(report["counts"]["text"]["skipped"], json!({"blocked": 1, "landline": 1}), "{report}");
    assert_eq!(report["counts"]["email"]["skipped"], json!({"bounced_permanent": 1, "complaint": 1}), "{report}");
    assert_eq!(report["totals"]["delivered"], 0, "{report}");
    app.stop().await;
}

#[tokio::test]
async fn opted_out_inactive_and_people_with_nothing_on_are_explained() {
    let (app, admin) = district().await;
    let at = app.clock.now();
    let sms = SmsStatusStore::new(Arc::clone(&app.table));
    for (number, status) in [("+16175552347", SmsStatus::OptOut), ("+16175552345", SmsStatus::Inactive)] {
        let number = PhoneNumber::parse_e164(number).unwrap();
        let record = NumberStatus { number, status, last_event_at: at, last_event: "t".into() };
        sms.record(&district_id(), &record, "e").await.unwrap();
    }
    let id = send(&app, &admin, &broadcast("general", false, &["text"])).await;
    let report = settled(&app, &admin, &id).await;
    assert_eq!(report["progress"], "complete", "midday: nothing waits for quiet hours: {report}");
    assert_eq!(report["counts"]["text"]["skipped"], json!({"inactive": 1, "opt_out": 1}), "{report}");

    let id = send(&app, &admin, &broadcast("behavior", false, &["text"])).await;
    let report = settled(&app, &admin, &id).await;
    assert_eq!(
        report["counts"]["people"]["skipped"],
        json!({"preferences_off": 2}),
        "texts are off for behavior: {report}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_district_window_defers_texts_until_it_ends_while_email_goes_at_once() {
    let (app, admin) = district().await;
    let now = app.clock.now();
    let start = (now - chrono::Duration::hours(1)).format("%H:%M").to_string();
    let end = (now + chrono::Duration::hours(1)).format("%H:%M").to_string();
    let settings = json!({"time_zone": "UTC", "quiet_hours": {"start": start, "end": end}});
    let (status, body) = app.put_json("/v1/settings", &admin, &settings.to_string()).await;
    assert_eq!(status, 200, "{body}");

    let id = send(&app, &admin, &broadcast("general", false, &["text"])).await;
    let report = settled(&app, &admin, &id).await;
    assert_eq!(report["progress"], "deferred", "{report}");
    assert!(report["deferred_until"].as_str().is_some_and(|t| t.contains(&end)), "{report}");
    assert_eq!(report["totals"]["delivered"], 0);

    let id = send(&app, &admin, &broadcast("general", false, &["email"])).await;
    let report = settled(&app, &admin, &id).await;
    assert_eq!(report["progress"], "complete", "quiet hours do not hold email: {report}");
    assert_eq!(report["totals"]["delivered"], 2, "{report}");
    app.stop().await;
}

#[tokio::test]
async fn at_night_a_non_emergency_emails_at_once_and_texts_when_quiet_hours_end() {
    let (app, admin) = district_at(tonight()).await;
    let id = send(&app, &admin, &broadcast("general", false, &["text", "email"])).await;
    let report = settled(&app, &admin, &id).await;
    assert_eq!(report["progress"], "deferred", "{report}");
    assert_eq!(report["parts"]["email"], json!({"progress": "complete"}), "{report}");
    assert_eq!(report["parts"]["text"]["progress"], "deferred", "{report}");
    assert_eq!(report["parts"]["text"]["until"], report["deferred_until"], "{report}");
    let until: chrono::DateTime<chrono::Utc> =
        report["deferred_until"].as_str().and_then(|t| t.parse().ok()).unwrap_or_else(|| panic!("{report}"));
    let seven_in_new_york = ["11:00:00", "12:00:00"]; // 07:00 EDT, 07:00 EST
    assert!(seven_in_new_york.contains(&until.format("%H:%M:%S").to_string().as_str()), "{until}");
    assert!(until > app.clock.now() && until - app.clock.now() < chrono::Duration::hours(10), "{until}");
    assert_eq!(report["counts"]["email"]["delivered"], 2, "the email went at once: {report}");
    assert_eq!(report["counts"]["text"], Value::Null, "no text at night: {report}");

    app.clock.set(until - chrono::Duration::minutes(1));
    assert_eq!(app.tick().await, 0, "a minute before the end, nothing is due");
    app.clock.set(until + chrono::Duration::seconds(30));
    assert_eq!(app.tick().await, 1, "the texts are due when quiet hours end");
    let report = settled(&app, &admin, &id).await;
    assert_eq!(report["progress"], "complete", "{report}");
    assert_eq!(report["parts"]["text"], json!({"progress": "complete"}), "{report}");
    assert_eq!(report["counts"]["text"]["delivered"], 2, "Ana and Kim, once each: {report}");
    assert_eq!(report["counts"]["email"]["delivered"], 2, "no email twice: {report}");
    assert_eq!(app.tick().await, 0, "nothing left to release");
    let mails = std::fs::read_dir(app.data.outbox_dir()).map(|d| d.count()).unwrap_or_default();
    assert_eq!(mails, 2);
    app.stop().await;
}

#[tokio::test]
async fn at_night_an_emergency_and_a_personal_email_go_at_once() {
    let (app, admin) = district_at(tonight()).await;
    let id = send(&app, &admin, &broadcast("emergency", true, &["text", "email"])).await;
    let report = settled(&app, &admin, &id).await;
    assert_eq!(report["progress"], "complete", "{report}");
    assert_eq!(
        (report["counts"]["text"]["delivered"].as_u64(), report["counts"]["email"]["delivered"].as_u64()),
        (Some(2), Some(2))
    );

    let school_admin = app.token(D, "school_admin", &["sch-1"]);
    let message = json!({"to": "c-ana", "channels": ["email"],
        "content": {"email": {"subject": "Leo's project", "text": "Leo did great."}}});
    let (status, sent) = app.post("/v1/personal-messages", Some(&school_admin), &message.to_string()).await;
    assert_eq!(status, 202, "{sent}");
    let report = settled(&app, &school_admin, sent["id"].as_str().unwrap_or_default()).await;
    assert_eq!((report["progress"].as_str(), report["totals"]["delivered"].as_u64()), (Some("complete"), Some(1)));
    app.stop().await;
}

#[tokio::test]
async fn a_broadcast_for_later_is_released_when_its_time_comes() {
    let (app, admin) = district().await;
    let at = app.clock.now() + chrono::Duration::hours(2);
    let mut later = broadcast("general", false, &["text", "email"]);
    later["send_at"] = json!(at.to_rfc3339());
    let id = send(&app, &admin, &later).await;
    let report = settled(&app, &admin, &id).await;
    assert_eq!((report["progress"].as_str(), report["totals"]["delivered"].as_u64()), (Some("scheduled"), Some(0)));
    assert_eq!(report["parts"]["text"], json!({"progress": "scheduled"}), "{report}");

    app.clock.advance(chrono::Duration::minutes(119));
    assert_eq!(app.tick().await, 0, "not yet");
    app.clock.advance(chrono::Duration::minutes(1));
    assert_eq!(app.tick().await, 1, "its time has come");
    let report = settled(&app, &admin, &id).await;
    assert_eq!(report["progress"], "complete", "{report}");
    assert_eq!(report["totals"]["delivered"], 4, "two texts and two emails: {report}");
    app.stop().await;
}

#[tokio::test]
async fn senders_need_the_reason_in_every_school_of_the_audience() {
    let (app, _) = district().await;
    let teacher = app.token(D, "teacher", &["sch-1"]);
    let (status, error) =
        app.post("/v1/broadcasts", Some(&teacher), &broadcast("general", false, &["email"]).to_string()).await;
    assert_eq!((status, error["code"].as_str()), (403, Some("forbidden")), "{error}");
    let school_admin = app.token(D, "school_admin", &["sch-1"]);
    let (status, _) =
        app.post("/v1/broadcasts", Some(&school_admin), &broadcast("emergency", true, &["email"]).to_string()).await;
    assert_eq!(status, 202, "their own school by default");
    let mut elsewhere = broadcast("general", false, &["email"]);
    elsewhere["audience"]["rule"] = json!({"schools": ["sch-2"]});
    let (status, _) = app.post("/v1/broadcasts", Some(&school_admin), &elsewhere.to_string()).await;
    assert_eq!(status, 403, "another school");
    let viewer = app.token(D, "school_viewer", &["sch-1"]);
    let (status, _) =
        app.post("/v1/broadcasts", Some(&viewer), &broadcast("general", false, &["email"]).to_string()).await;
    assert_eq!(status, 403);
    app.stop().await;
}

#[tokio::test]
async fn a_call_without_a_script_and_bad_requests_get_422_with_a_reason() {
    let (app, admin) = district().await;
    let voice = broadcast("emergency", true, &["text", "voice"]);
    let (status, error) = app.post("/v1/broadcasts", Some(&admin), &voice.to_string()).await;
    assert_eq!((status, error["code"].as_str()), (422, Some("invalid")));
    assert!(error["message"].as_str().is_some_and(|m| m.contains("content.voice")), "{error}");
    let (status, _) = app.post("/v1/broadcasts", Some(&admin), r#"{"reason": "general"}"#).await;
    assert!(status == 400 || status == 422, "{status}");
    let (status, _) = app.get("/v1/broadcasts/nope", Some(&admin)).await;
    assert_eq!(status, 404);
    app.stop().await;
}

#[tokio::test]
async fn the_deliveries_download_as_csv_and_hide_numbers_from_teachers() {
    let (app, admin) = district().await;
    let id = send(&app, &admin, &broadcast("emergency", true, &["text"])).await;
    settled(&app, &admin, &id).await;
    let response = app
        .client
        .get(format!("{}/v1/broadcasts/{id}/deliveries", app.address))
        .bearer_auth(&admin)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    let csv = response.text().await.unwrap_or_default();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines.first().copied(),
        Some("channel,to,people,state,reason,provider_message_id,segments,updated_at,outcome,attempts")
    );
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(csv.contains("+16175552345"));
    app.stop().await;
}

#[tokio::test]
async fn personal_messages_follow_the_role_and_the_13_and_over_rule() {
    let (app, _) = district().await;
    let school_admin = app.token(D, "school_admin", &["sch-1"]);
    let message = json!({"to": "c-ana", "channels": ["email"],
        "content": {"email": {"subject": "Leo's project", "text": "Leo did great."}}});
    let (status, sent) = app.post("/v1/personal-messages", Some(&school_admin), &message.to_string()).await;
    assert_eq!(status, 202, "{sent}");
    assert_eq!(sent["kind"], "personal");
    let report = settled(&app, &school_admin, sent["id"].as_str().unwrap_or_default()).await;
    assert_eq!(report["totals"]["delivered"], 1, "{report}");

    for role in ["technical_school_admin", "school_viewer"] {
        let token = app.token(D, role, &["sch-1"]);
        let (status, _) = app.post("/v1/personal-messages", Some(&token), &message.to_string()).await;
        assert_eq!(status, 403, "{role}");
    }
    let other_school = app.token(D, "school_admin", &["sch-2"]);
    let (status, _) = app.post("/v1/personal-messages", Some(&other_school), &message.to_string()).await;
    assert_eq!(status, 404, "Ana's children are not at sch-2: she is not there for sch-2");

    let to_student = json!({"to": "s-1", "channels": ["email"], "content": {"email": {"subject": "s", "text": "t"}}});
    let (status, error) = app.post("/v1/personal-messages", Some(&school_admin), &to_student.to_string()).await;
    assert_eq!(status, 403);
    assert!(error["message"].as_str().is_some_and(|m| m.contains("birth date")), "{error}");
    app.stop().await;
}

#[tokio::test]
async fn a_student_of_13_or_over_can_be_written_to_and_a_younger_one_cannot() {
    let (app, admin) = district().await;
    let mapping = r#"
name = "students with birth dates"
[student]
id = "sid"
given_name = "first"
family_name = "last"
grade = "grade"
school = "school"
birth_date = "born"
email = "email"
"#;
    let today = app.clock.now().date_naive();
    let born = |years: i32| today.with_year(today.year() - years).unwrap_or(today).format("%Y-%m-%d").to_string();
    let csv = format!(
        "sid,first,last,grade,school,born,email\r\n\
         s-10,Ivy,Park,08,sch-1,{},ivy@students.example.org\r\n\
         s-11,Max,Park,07,sch-1,{},max@students.example.org\r\n",
        born(13),
        today.with_year(today.year() - 13).and_then(|d| d.succ_opt()).unwrap_or(today).format("%Y-%m-%d")
    );
    let definition = json!({"name": "teens", "method": "mapped", "mapping": mapping});
    assert_eq!(app.post("/v1/imports", Some(&admin), &definition.to_string()).await.0, 201);
    assert_eq!(app.put_file("/v1/imports/teens/file", &admin, "teens.csv", csv.into_bytes()).await.0, 200);
    let (status, run) = app.post("/v1/imports/teens/runs", Some(&admin), "").await;
    assert_eq!((status, run["state"].as_str()), (201, Some("applied")), "{run}");

    let school_admin = app.token(D, "school_admin", &["sch-1"]);
    let message = |to: &str| {
        json!({"to": to, "channels": ["email"], "content": {"email": {"subject": "Your project", "text": "Well done."}}})
            .to_string()
    };
    let (status, sent) = app.post("/v1/personal-messages", Some(&school_admin), &message("s-10")).await;
    assert_eq!(status, 202, "13 today: {sent}");
    let report = settled(&app, &school_admin, sent["id"].as_str().unwrap_or_default()).await;
    assert_eq!(report["totals"]["delivered"], 1, "{report}");
    let (status, error) = app.post("/v1/personal-messages", Some(&school_admin), &message("s-11")).await;
    assert_eq!(status, 403, "13 tomorrow: {error}");
    assert!(error["message"].as_str().is_some_and(|m| m.contains("under 13")), "{error}");
    app.stop().await;
}

#[tokio::test]
async fn a_personal_message_s_reason_needs_the_sender_s_permission_for_it() {
    let (app, admin) = district().await;
    let role =
        json!({"id": "counselor", "name": "Counselor", "permissions": ["personal_messages", "broadcast:general"]});
    assert_eq!(app.post("/v1/roles", Some(&admin), &role.to_string()).await.0, 201);
    let counselor = json!({"id": "couns-1", "role": "staff", "given_name": "Casey", "family_name": "Lee",
        "schools": ["sch-1"]});
    assert_eq!(app.post("/v1/people", Some(&admin), &counselor.to_string()).await.0, 201);
    let assignment = json!({"staff_id": "couns-1", "school": "sch-1", "role": "counselor"});
    let (status, body) = app.post("/v1/roles/assignments", Some(&admin), &assignment.to_string()).await;
    assert!(status == 200 || status == 201, "{body}");
    let token = app.person_token(D, "teacher", "couns-1");
    let message = |reason: &str| {
        json!({"to": "c-ana", "channels": ["email"], "reason": reason,
            "content": {"email": {"subject": "Leo", "text": "A word about Leo."}}})
        .to_string()
    };
    let (status, error) = app.post("/v1/personal-messages", Some(&token), &message("emergency")).await;
    assert_eq!((status, error["code"].as_str()), (403, Some("forbidden")), "{error}");
    let (status, sent) = app.post("/v1/personal-messages", Some(&token), &message("general")).await;
    assert_eq!(status, 202, "{sent}");
    app.stop().await;
}
