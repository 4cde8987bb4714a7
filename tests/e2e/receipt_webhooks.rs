//! Carrier receipts over HTTP into the local gateway: a broadcast goes out
//! through the simulated carrier, then a signed Twilio status callback for
//! one of its messages marks that delivery failed (landline) and puts the
//! number on the clean-up list; the same callback again changes nothing; an
//! unknown message id and a forged signature get their answers.

use schoolbell_tests::app::{TestApp, spawn_app};
use serde_json::{Value, json};

const D: &str = "district-a";
const ANA_CELL: &str = "+16175552345";
const PATH: &str = "/webhooks/twilio/status";

async fn district_with_a_sent_broadcast() -> (TestApp, String, String) {
    let app = spawn_app().await;
    let admin = app.import_families(D).await;
    for guardian in ["c-ana", "c-kim"] {
        let consent = json!({"channels": {"text": {"emergency": true}},
            "consent": {"source": "paper form", "at": "2026-09-01T12:00:00Z"}});
        let (status, body) =
            app.put_json(&format!("/v1/people/{guardian}/preferences"), &admin, &consent.to_string()).await;
        assert_eq!(status, 200, "{body}");
    }
    let broadcast = json!({"reason": "emergency", "emergency": true, "channels": ["text"],
        "content": {"sms": "School is closed today for {{children}}."},
        "audience": {"rule": {}, "target": "guardians"}});
    let (status, created) = app.post("/v1/broadcasts", Some(&admin), &broadcast.to_string()).await;
    assert_eq!(status, 202, "{created}");
    let id = created["id"].as_str().unwrap_or_default().to_string();
    app.drain().await;
    let (_, report) = app.get(&format!("/v1/broadcasts/{id}"), Some(&admin)).await;
    assert_eq!(
        (report["progress"].as_str(), report["totals"]["sent"].as_u64()),
        (Some("complete"), Some(0)),
        "{report}"
    );
    assert_eq!(report["counts"]["text"]["delivered"], 2, "{report}");
    (app, admin, id)
}

async fn text_to(app: &TestApp, admin: &str, broadcast: &str, number: &str) -> Value {
    let (status, page) = app.get(&format!("/v1/broadcasts/{broadcast}/deliveries"), Some(admin)).await;
    assert_eq!(status, 200, "{page}");
    page["items"]
        .as_array()
        .and_then(|items| items.iter().find(|d| d["to"] == number && d["channel"] == "text"))
        .cloned()
        .unwrap_or_else(|| panic!("no text to {number}: {page}"))
}

/// Posts a Twilio status callback signed with `token`; answers (status, body).
async fn post_twilio(app: &TestApp, token: &str, params: &[(&str, &str)]) -> (u16, String) {
    app.post_twilio(PATH, token, params).await
}

async fn cleanup_statuses(app: &TestApp, admin: &str, number: &str) -> Vec<String> {
    let (status, page) = app.get("/v1/contact-cleanup", Some(admin)).await;
    assert_eq!(status, 200, "{page}");
    page["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter(|row| row["number"] == number)
                .map(|row| row["status"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_signed_twilio_receipt_marks_the_delivery_landline_and_lists_the_number_for_clean_up() {
    let (app, admin, broadcast) = district_with_a_sent_broadcast().await;
    let token = app.twilio_token();
    let before = text_to(&app, &admin, &broadcast, ANA_CELL).await;
    assert_eq!(before["state"], "delivered", "the simulated carrier answered first: {before}");
    let message_id = before["provider_message_id"].as_str().unwrap_or_default().to_string();
    assert!(!message_id.is_empty(), "{before}");
    assert!(cleanup_statuses(&app, &admin, ANA_CELL).await.is_empty());

    let receipt = [
        ("MessageSid", message_id.as_str()),
        ("MessageStatus", "undelivered"),
        ("ErrorCode", "30006"),
        ("To", ANA_CELL),
        ("From", "+16175550000"),
        ("AccountSid", "ACtest"),
        ("ApiVersion", "2010-04-01"),
    ];
    let forged = post_twilio(&app, "not-the-token", &receipt).await;
    assert_eq!(forged.0, 403, "{}", forged.1);
    assert_eq!(text_to(&app, &admin, &broadcast, ANA_CELL).await, before, "a forged receipt changes nothing");

    assert_eq!(post_twilio(&app, &token, &receipt).await, (200, "{}".to_string()));
    let after = text_to(&app, &admin, &broadcast, ANA_CELL).await;
    assert_eq!((after["state"].as_str(), after["reason"].as_str()), (Some("failed"), Some("landline")), "{after}");
    assert_eq!(after["raw_code"], "30006");
    let listed = cleanup_statuses(&app, &admin, ANA_CELL).await;
    assert!(!listed.is_empty() && listed.iter().all(|s| s == "landline"), "one row per student of Ana: {listed:?}");

    assert_eq!(post_twilio(&app, &token, &receipt).await, (200, "{}".to_string()), "the replay is acknowledged");
    assert_eq!(text_to(&app, &admin, &broadcast, ANA_CELL).await, after, "and changes nothing");
    assert_eq!(cleanup_statuses(&app, &admin, ANA_CELL).await, listed);

    let unknown = [("MessageSid", "SMdoesnotexist"), ("MessageStatus", "delivered"), ("To", ANA_CELL)];
    assert_eq!(post_twilio(&app, &token, &unknown).await, (200, "{}".to_string()));
    app.stop().await;
}

/// Sends the family an emergency text and answers the state of Ana's text.
async fn ana_text_of_a_new_broadcast(app: &TestApp, admin: &str) -> Value {
    let broadcast = json!({"reason": "emergency", "emergency": true, "channels": ["text"],
        "content": {"sms": "Early dismissal today."}, "audience": {"rule": {}, "target": "guardians"}});
    let (status, created) = app.post("/v1/broadcasts", Some(admin), &broadcast.to_string()).await;
    assert_eq!(status, 202, "{created}");
    let id = created["id"].as_str().unwrap_or_default().to_string();
    app.drain().await;
    let (_, report) = app.get(&format!("/v1/broadcasts/{id}"), Some(admin)).await;
    assert_eq!(
        (report["progress"].as_str(), report["totals"]["sent"].as_u64()),
        (Some("complete"), Some(0)),
        "{report}"
    );
    text_to(app, admin, &id, ANA_CELL).await
}

#[tokio::test]
async fn a_stop_reply_opts_the_number_out_of_every_later_broadcast_until_start() {
    let (app, admin, _) = district_with_a_sent_broadcast().await;
    assign_number(&app, "+18005550123", D).await;
    let settings = json!({"name": "Maple ISD"});
    assert_eq!(app.put_json("/v1/settings", &admin, &settings.to_string()).await.0, 200);
    let token = app.twilio_token();
    let reply = |id: &'static str, body: &'static str| {
        [("MessageSid", id), ("From", ANA_CELL), ("To", "+18005550123"), ("Body", body), ("NumMedia", "0")]
    };
    let inbound = "/webhooks/twilio/inbound";
    let (status, twiml) = app.post_twilio(inbound, &token, &reply("SMin1", "Stop")).await;
    assert_eq!(status, 200, "{twiml}");
    assert!(twiml.contains("<Message>Maple ISD: You are unsubscribed"), "answered in the TwiML: {twiml}");
    assert_eq!(app.post_twilio(inbound, "forged", &reply("SMin9", "START")).await.0, 403);
    assert_eq!(cleanup_statuses(&app, &admin, ANA_CELL).await.first().map(String::as_str), Some("opt_out"));

    let skipped = ana_text_of_a_new_broadcast(&app, &admin).await;
    assert_eq!((skipped["state"].as_str(), skipped["reason"].as_str()), (Some("skipped"), Some("opt_out")));

    let question = reply("SMin3", "Is school open tomorrow?");
    assert_eq!(app.post_twilio(inbound, &token, &question).await.0, 200);
    let (status, stored) = app.get("/v1/replies", Some(&admin)).await;
    assert_eq!(status, 200, "{stored}");
    assert_eq!(stored["replies"][0]["body"], "Is school open tomorrow?", "{stored}");
    let teacher = app.token(D, "teacher", &["sch-1"]);
    assert_eq!(app.get("/v1/replies", Some(&teacher)).await.0, 403);

    assert_eq!(app.post_twilio(inbound, &token, &reply("SMin2", "START")).await.0, 200);
    let sent = ana_text_of_a_new_broadcast(&app, &admin).await;
    assert_eq!(sent["state"], "delivered", "{sent}");
    app.stop().await;
}

/// The operator assigns a sending number to a district.
async fn assign_number(app: &TestApp, number: &str, district: &str) {
    let district = Some(schoolbell::domain::DistrictId::parse(district).unwrap());
    let request = schoolbell::services::NumberAssignment { number: number.into(), district, shared: false };
    app.services.sending_numbers().assign(&request).await.unwrap();
}

#[tokio::test]
async fn a_district_admin_cannot_take_another_district_s_number_or_read_its_replies() {
    // The review's reproduction: `evil` names `district-a`'s number in its
    // settings, then a parent of district-a replies to that number.
    let (app, admin, _) = district_with_a_sent_broadcast().await;
    assign_number(&app, "+18005550000", D).await;
    let evil = app.token("evil", "district_admin", &[]);
    let takeover = json!({"sms_numbers": ["+18005550000"]});
    let (status, error) = app.put_json("/v1/settings", &evil, &takeover.to_string()).await;
    assert_eq!((status, error["code"].as_str()), (422, Some("invalid")), "{error}");
    assert!(error["message"].as_str().is_some_and(|m| m.contains("operator")), "{error}");
    assert_eq!(app.get("/v1/settings", Some(&evil)).await.1["sms_numbers"], json!([]));
    assert_eq!(app.get("/v1/settings", Some(&admin)).await.1["sms_numbers"], json!(["+18005550000"]));
    let own = json!({"name": "Maple ISD", "sms_numbers": ["+18005550000"]});
    assert_eq!(app.put_json("/v1/settings", &admin, &own.to_string()).await.0, 200, "its own numbers, unchanged");

    let token = app.twilio_token();
    let reply = [
        ("MessageSid", "SMin7"),
        ("From", ANA_CELL),
        ("To", "+18005550000"),
        ("Body", "Who is this? my kid is sick"),
        ("NumMedia", "0"),
    ];
    assert_eq!(app.post_twilio("/webhooks/twilio/inbound", &token, &reply).await.0, 200);
    let (_, theirs) = app.get("/v1/replies", Some(&evil)).await;
    assert_eq!(theirs["replies"], json!([]), "nothing for evil: {theirs}");
    let (_, ours) = app.get("/v1/replies", Some(&admin)).await;
    assert_eq!(ours["replies"][0]["body"], "Who is this? my kid is sick", "{ours}");
    app.stop().await;
}
