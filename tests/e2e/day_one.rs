//! Day one of a district, over HTTP into the local gateway: right after a
//! OneRoster import in which nobody recorded consent anywhere, an
//! emergency on voice, text and email reaches every guardian who has any
//! phone or address (landline-only families by a call, cells by text), and
//! an attendance text waits for consent under `opt_in`, saying why for
//! each guardian, and goes under `number_provided`.

use std::collections::{BTreeMap, BTreeSet};

use schoolbell_tests::app::{TestApp, spawn_app};
use schoolbell_tests::roster_fixture::RosterFixture;
use serde_json::json;

const D: &str = "district-day-one";

/// Four families: a cell and an address; a landline only; an address
/// only; a cell, a home phone and an address.
async fn imported_district() -> (TestApp, String) {
    let mut fixture = RosterFixture::district(4);
    for student in &mut fixture.students {
        match student.n {
            1 => student.parent_sms = "(617) 555-6001".into(),
            2 => {
                student.parent_sms = String::new();
                student.parent_phone = "(617) 555-6002".into();
                student.parent_email = String::new();
            }
            3 => student.parent_sms = String::new(),
            _ => {
                student.parent_sms = "(617) 555-6004".into();
                student.parent_phone = "(617) 555-7004".into();
            }
        }
    }
    let app = spawn_app().await;
    let admin = app.token(D, "district_admin", &[]);
    let definition = json!({"name": "sis", "method": "oneroster"});
    assert_eq!(app.post("/v1/imports", Some(&admin), &definition.to_string()).await.0, 201);
    assert_eq!(app.put_file("/v1/imports/sis/file", &admin, "roster.zip", fixture.zip()).await.0, 200);
    let (status, run) = app.post("/v1/imports/sis/runs", Some(&admin), "").await;
    assert_eq!((status, run["state"].as_str()), (201, Some("applied")), "{run}");
    (app, admin)
}

/// Channels by which each person was sent something (delivered or sent).
async fn reached(app: &TestApp, admin: &str, id: &str) -> BTreeMap<String, BTreeSet<String>> {
    let (status, page) = app.get(&format!("/v1/broadcasts/{id}/deliveries?limit=1000"), Some(admin)).await;
    assert_eq!(status, 200, "{page}");
    let mut reached: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for delivery in page["items"].as_array().cloned().unwrap_or_default() {
        if !matches!(delivery["state"].as_str(), Some("sent" | "delivered")) {
            continue;
        }
        for person in delivery["people"].as_array().cloned().unwrap_or_default() {
            let channel = delivery["channel"].as_str().unwrap_or_default().to_string();
            reached.entry(person.as_str().unwrap_or_default().to_string()).or_default().insert(channel);
        }
    }
    reached
}

fn set(channels: &[&str]) -> BTreeSet<String> {
    channels.iter().map(|c| (*c).to_string()).collect()
}

#[tokio::test]
async fn right_after_a_oneroster_import_an_emergency_reaches_every_guardian_by_call_text_or_email() {
    let (app, admin) = imported_district().await;
    let emergency = json!({"reason": "emergency", "emergency": true, "channels": ["voice", "text", "email"],
        "content": {"voice": "The district is closed today.", "sms": "The district is closed today.",
                    "email": {"subject": "Closed today", "text": "The district is closed today."}},
        "audience": {"rule": {}, "target": "guardians"}});
    let report = app.broadcast_report(&admin, &emergency).await;
    let id = report["id"].as_str().unwrap_or_default().to_string();
    let reached = reached(&app, &admin, &id).await;
    assert_eq!(reached.get("pa-1"), Some(&set(&["cell_phone", "email", "text"])), "{reached:?}");
    assert_eq!(reached.get("pa-2"), Some(&set(&["home_phone"])), "the landline-only family gets a call: {reached:?}");
    assert_eq!(reached.get("pa-3"), Some(&set(&["email"])), "{reached:?}");
    assert_eq!(reached.get("pa-4"), Some(&set(&["cell_phone", "email", "home_phone", "text"])), "{reached:?}");
    let counts = &report["counts"];
    assert_eq!(counts["text"]["delivered"], 2, "both cells are texted without consent: {report}");
    assert_eq!(counts["voice"]["answered"], 4, "two cells, a landline and a home phone: {report}");
    assert_eq!(counts["email"]["delivered"], 3, "{report}");
    assert!(counts["people"].is_null(), "nobody is left out: {report}");
    app.stop().await;
}

#[tokio::test]
async fn right_after_a_oneroster_import_an_attendance_text_waits_for_consent_under_opt_in_and_goes_under_number_provided()
 {
    let (app, admin) = imported_district().await;
    let attendance = json!({"reason": "attendance", "channels": ["text"],
        "content": {"sms": "{{children}} was absent today."}, "audience": {"rule": {}, "target": "guardians"}});
    let report = app.broadcast_report(&admin, &attendance).await;
    assert!(app.carrier.sent().is_empty(), "nobody gave consent: {report}");
    let id = report["id"].as_str().unwrap_or_default().to_string();
    let (status, page) = app.get(&format!("/v1/broadcasts/{id}/deliveries"), Some(&admin)).await;
    assert_eq!(status, 200, "{page}");
    let why: BTreeMap<String, String> = page["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|d| (d["to"].as_str().unwrap_or_default().to_string(), d["reason"].as_str().unwrap_or_default().into()))
        .collect();
    assert_eq!(why.get("pa-1").map(String::as_str), Some("no_text_consent"), "{page}");
    assert_eq!(why.get("pa-4").map(String::as_str), Some("no_text_consent"), "{page}");

    let policy = json!({"text_consent": "number_provided"}).to_string();
    assert_eq!(app.put_json("/v1/settings", &admin, &policy).await.0, 200);
    let report = app.broadcast_report(&admin, &attendance).await;
    assert_eq!(report["counts"]["text"]["delivered"], 2, "every cell the SIS holds: {report}");
    let mut texted: Vec<String> = app.carrier.sent().iter().map(|t| t.to.as_e164().to_string()).collect();
    texted.sort();
    assert_eq!(texted, ["+16175556001", "+16175556004"]);
    app.stop().await;
}

#[tokio::test]
async fn a_broadcast_names_its_sender_and_each_family_s_school() {
    let (app, admin) = imported_district().await;
    let text = json!({"reason": "emergency", "emergency": true, "channels": ["text"],
        "content": {"sms": "{{sender}} at {{ school }}: buses run late."},
        "audience": {"rule": {}, "target": "guardians"}});
    app.broadcast_report(&admin, &text).await;
    let bodies: Vec<String> = app.carrier.sent().iter().map(|t| t.body.clone()).collect();
    assert!(!bodies.is_empty());
    assert!(bodies.iter().all(|b| b == "School notifications at Lincoln Elementary: buses run late."), "{bodies:?}");

    assert_eq!(app.put_json("/v1/settings", &admin, &json!({"name": "Maple ISD"}).to_string()).await.0, 200);
    app.broadcast_report(&admin, &text).await;
    let last = app.carrier.sent().last().map(|t| t.body.clone()).unwrap_or_default();
    assert_eq!(last, "Maple ISD at Lincoln Elementary: buses run late.");
    app.stop().await;
}
