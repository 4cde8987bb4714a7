//! Sending numbers across districts, over HTTP into one local gateway that
//! holds two districts with the same families (a parent with children in
//! both): each district texts from its own number or the shared one; a STOP
//! stops what carriers say it stops (the pair of number texted and person);
//! a reply to a shared number reaches the district that last texted that
//! person from it.

use schoolbell::domain::DistrictId;
use schoolbell::services::NumberAssignment;
use schoolbell_tests::app::{TestApp, spawn_app};
use serde_json::{Value, json};

const A: &str = "district-a";
const B: &str = "district-b";
const ANA_CELL: &str = "+16175552345";
const KIM_CELL: &str = "+16175552347";
const A_OWN: &str = "+18005550100";
const B_OWN: &str = "+18005550200";
const SHARED: &str = "+18005550999";
const INBOUND: &str = "/webhooks/twilio/inbound";

/// Both districts hold the family fixture, and its messengers agreed to texts.
async fn two_districts() -> (TestApp, String, String) {
    let app = spawn_app().await;
    let mut admins = Vec::new();
    for district in [A, B] {
        let admin = app.import_families(district).await;
        for guardian in ["c-ana", "c-kim"] {
            let consent = json!({"channels": {"text": {"emergency": true}},
                "consent": {"source": "paper form", "at": "2026-09-01T12:00:00Z"}});
            let path = format!("/v1/people/{guardian}/preferences");
            let (status, body) = app.put_json(&path, &admin, &consent.to_string()).await;
            assert_eq!(status, 200, "{body}");
        }
        admins.push(admin);
    }
    let b = admins.pop().unwrap();
    let a = admins.pop().unwrap();
    (app, a, b)
}

/// The operator's act: a number for one district, or shared.
async fn assign(app: &TestApp, number: &str, district: Option<&str>) {
    let request = NumberAssignment {
        number: number.into(),
        district: district.map(|d| DistrictId::parse(d).unwrap()),
        shared: district.is_none(),
    };
    app.services.sending_numbers().assign(&request).await.unwrap();
}

/// An emergency text to every guardian; answers each delivery by number.
async fn text_everyone(app: &TestApp, admin: &str) -> Vec<Value> {
    let broadcast = json!({"reason": "emergency", "emergency": true, "channels": ["text"],
        "content": {"sms": "Early dismissal today."}, "audience": {"rule": {}, "target": "guardians"}});
    let (status, created) = app.post("/v1/broadcasts", Some(admin), &broadcast.to_string()).await;
    assert_eq!(status, 202, "{created}");
    app.drain().await;
    let id = created["id"].as_str().unwrap_or_default();
    let (status, page) = app.get(&format!("/v1/broadcasts/{id}/deliveries"), Some(admin)).await;
    assert_eq!(status, 200, "{page}");
    page["items"].as_array().cloned().unwrap_or_default()
}

/// The state of the text to `number` among `deliveries` (`sent`, `skipped:opt_out` ...).
fn state_of(deliveries: &[Value], number: &str) -> String {
    let text = deliveries
        .iter()
        .find(|d| d["to"] == number && d["channel"] == "text")
        .unwrap_or_else(|| panic!("no text to {number}: {deliveries:?}"));
    match text["reason"].as_str() {
        Some(reason) if text["state"] != "delivered" => format!("{}:{reason}", text["state"].as_str().unwrap_or("")),
        _ => text["state"].as_str().unwrap_or_default().to_string(),
    }
}

/// Ana texts `body` to `to`; answers the TwiML.
async fn ana_texts(app: &TestApp, id: &str, to: &str, body: &str) -> String {
    let params = [("MessageSid", id), ("From", ANA_CELL), ("To", to), ("Body", body), ("NumMedia", "0")];
    let (status, twiml) = app.post_twilio(INBOUND, &app.twilio_token(), &params).await;
    assert_eq!(status, 200, "{twiml}");
    twiml
}

/// The numbers the texts to Ana went from, oldest first.
fn froms_to_ana(app: &TestApp) -> Vec<Option<String>> {
    app.carrier
        .sent()
        .iter()
        .filter(|sms| sms.to.as_e164() == ANA_CELL)
        .map(|sms| sms.from.as_ref().map(|n| n.as_e164().to_string()))
        .collect()
}

#[tokio::test]
async fn each_district_texts_from_its_own_number_or_else_the_shared_one() {
    let (app, a, b) = two_districts().await;
    assign(&app, A_OWN, Some(A)).await;
    assign(&app, SHARED, None).await;
    assert_eq!(state_of(&text_everyone(&app, &a).await, ANA_CELL), "delivered");
    assert_eq!(state_of(&text_everyone(&app, &b).await, ANA_CELL), "delivered");
    assert_eq!(froms_to_ana(&app), [Some(A_OWN.to_string()), Some(SHARED.to_string())]);
    app.stop().await;
}

#[tokio::test]
async fn a_stop_to_a_shared_number_stops_every_district_texting_from_it_until_start() {
    let (app, a, b) = two_districts().await;
    assign(&app, SHARED, None).await;
    text_everyone(&app, &a).await;
    let twiml = ana_texts(&app, "SMstop1", SHARED, "STOP").await;
    assert!(twiml.contains("<Message>") && twiml.contains("unsubscribed"), "{twiml}");
    for admin in [&a, &b] {
        let deliveries = text_everyone(&app, admin).await;
        assert_eq!(state_of(&deliveries, ANA_CELL), "skipped:opt_out", "{deliveries:?}");
        assert_eq!(state_of(&deliveries, KIM_CELL), "delivered");
    }
    // START lifts the opt-out and is Ana's consent to texts: one answer, the consent confirmation.
    assert!(ana_texts(&app, "SMstart1", SHARED, "START").await.contains("You will now get texts"));
    for admin in [&a, &b] {
        assert_eq!(state_of(&text_everyone(&app, admin).await, ANA_CELL), "delivered");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_stop_to_a_district_s_own_number_stops_that_district_only() {
    let (app, a, b) = two_districts().await;
    assign(&app, A_OWN, Some(A)).await;
    assign(&app, B_OWN, Some(B)).await;
    ana_texts(&app, "SMstop2", A_OWN, "stop texting me").await;
    assert_eq!(state_of(&text_everyone(&app, &a).await, ANA_CELL), "skipped:opt_out");
    assert_eq!(state_of(&text_everyone(&app, &b).await, ANA_CELL), "delivered");
    // START to another number lifts nothing of district A's.
    ana_texts(&app, "SMstart2", B_OWN, "START").await;
    assert_eq!(state_of(&text_everyone(&app, &a).await, ANA_CELL), "skipped:opt_out");
    app.stop().await;
}

#[tokio::test]
async fn a_stop_to_a_number_no_district_holds_is_honoured() {
    // No number is assigned: texts go from the carrier's default number, and
    // Ana's STOP arrives at a number the store does not know.
    let (app, a, _) = two_districts().await;
    let twiml = ana_texts(&app, "SMstop3", "+18005550777", "STOP").await;
    assert!(twiml.contains("unsubscribed"), "confirmed even so: {twiml}");
    assert_eq!(state_of(&text_everyone(&app, &a).await, ANA_CELL), "skipped:opt_out");
    app.stop().await;
}

#[tokio::test]
async fn a_reply_to_a_shared_number_reaches_the_district_that_last_texted_that_person() {
    let (app, a, b) = two_districts().await;
    assign(&app, SHARED, None).await;
    let replies = |admin: String| {
        let app = &app;
        async move {
            let (status, page) = app.get("/v1/replies", Some(&admin)).await;
            assert_eq!(status, 200, "{page}");
            page["replies"].as_array().cloned().unwrap_or_default()
        }
    };
    let never_texted = ana_texts(&app, "SMq0", SHARED, "hello?").await;
    assert!(never_texted.ends_with("<Response/>"), "{never_texted}");
    assert!(replies(a.clone()).await.is_empty() && replies(b.clone()).await.is_empty(), "kept for the operator");

    text_everyone(&app, &a).await;
    text_everyone(&app, &b).await;
    ana_texts(&app, "SMq1", SHARED, "Who is this? my kid is sick").await;
    let (of_a, of_b) = (replies(a.clone()).await, replies(b.clone()).await);
    assert!(of_a.is_empty(), "{of_a:?}");
    assert_eq!(of_b.len(), 1, "{of_b:?}");
    assert_eq!(of_b[0]["body"], "Who is this? my kid is sick");

    text_everyone(&app, &a).await;
    ana_texts(&app, "SMq2", SHARED, "ok thanks").await;
    assert_eq!(replies(a.clone()).await.first().map(|r| r["body"].clone()), Some(json!("ok thanks")));
    assert_eq!(replies(b).await.len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn a_school_reads_only_the_replies_of_its_own_families() {
    // Ana's children are at sch-1, Kim's son at sch-2.
    let (app, a, _) = two_districts().await;
    assign(&app, A_OWN, Some(A)).await;
    ana_texts(&app, "SMs1", A_OWN, "Leo is sick today").await;
    let params =
        [("MessageSid", "SMs2"), ("From", KIM_CELL), ("To", A_OWN), ("Body", "Sam is late"), ("NumMedia", "0")];
    assert_eq!(app.post_twilio(INBOUND, &app.twilio_token(), &params).await.0, 200);
    let bodies = |token: String| {
        let app = &app;
        async move {
            let (status, page) = app.get("/v1/replies", Some(&token)).await;
            assert_eq!(status, 200, "{page}");
            let replies = page["replies"].as_array().cloned().unwrap_or_default();
            let mut bodies: Vec<String> = replies.iter().map(|r| r["body"].as_str().unwrap_or("").into()).collect();
            bodies.sort();
            bodies
        }
    };
    assert_eq!(bodies(app.token(A, "school_viewer", &["sch-1"])).await, ["Leo is sick today"]);
    assert_eq!(bodies(app.token(A, "school_viewer", &["sch-2"])).await, ["Sam is late"]);
    assert_eq!(bodies(a).await, ["Leo is sick today", "Sam is late"]);
    app.stop().await;
}
