//! The `voice` channel over HTTP into the local gateway: a call reads the
//! script to every phone whose preference is On for the reason (household,
//! home, work and cell), once per number, and waits for quiet hours unless
//! it is an emergency.

use schoolbell::ports::FixedClock;
use schoolbell_tests::app::{TestApp, spawn_family_district, spawn_family_district_at};
use serde_json::{Value, json};

const D: &str = "district-a";

fn broadcast(reason: &str, emergency: bool, voice: &str) -> Value {
    json!({"reason": reason, "emergency": emergency, "channels": ["voice"],
        "content": {"voice": voice}, "audience": {"rule": {}, "target": "guardians"}})
}

fn called(app: &TestApp) -> Vec<String> {
    let mut numbers: Vec<String> = app.calls.placed().iter().map(|c| c.to.as_e164().to_string()).collect();
    numbers.sort();
    numbers
}

#[tokio::test]
async fn an_emergency_call_reaches_every_phone_of_the_messengers_once() {
    let (app, admin) = spawn_family_district(D).await;
    let report =
        app.broadcast_report(&admin, &broadcast("emergency", true, "Schools are closed today for {{children}}.")).await;
    // Ana: the household phone and her cell; Kim: her cell (Luis is no messenger).
    assert_eq!(called(&app), ["+16175552345", "+16175552347", "+16175553000"], "{report}");
    assert_eq!(report["counts"]["voice"]["answered"], 3, "{report}");
    let script =
        app.calls.placed().iter().find(|c| c.to.as_e164() == "+16175552347").map(|c| c.script.as_str().to_string());
    assert_eq!(script.as_deref(), Some("Schools are closed today for Sam."), "the template is filled in");
    app.stop().await;
}

#[tokio::test]
async fn a_general_call_goes_only_where_a_phone_is_switched_on() {
    let (app, admin) = spawn_family_district(D).await;
    let report = app.broadcast_report(&admin, &broadcast("general", false, "Picture day is Tuesday.")).await;
    assert!(called(&app).is_empty(), "phones default Off for general news");
    assert_eq!(report["counts"]["people"]["skipped"], json!({"preferences_off": 2}), "{report}");
    app.stop().await;
}

#[tokio::test]
async fn at_night_a_non_emergency_call_waits_for_the_end_of_quiet_hours() {
    // 23:30 in New York.
    let night = FixedClock::midday_today();
    night.advance(chrono::Duration::minutes(11 * 60 + 30));
    let (app, admin) = spawn_family_district_at(D, night).await;
    let report = app.broadcast_report(&admin, &broadcast("attendance", false, "Leo was absent today.")).await;
    assert_eq!(report["parts"]["voice"]["progress"], "deferred", "{report}");
    assert!(called(&app).is_empty());
    app.clock.advance(chrono::Duration::hours(8));
    app.tick().await;
    assert_eq!(called(&app), ["+16175552345", "+16175552347", "+16175553000"], "attendance calls default On");
    app.stop().await;
}

#[tokio::test]
async fn a_call_needs_a_script_of_the_length_the_voice_service_takes() {
    let (app, admin) = spawn_family_district(D).await;
    let missing = json!({"reason": "emergency", "emergency": true, "channels": ["voice"],
        "content": {"sms": "no script"}, "audience": {"rule": {}, "target": "guardians"}});
    for (body, why) in [
        (missing, "content.voice"),
        (broadcast("emergency", true, &"a".repeat(3001)), "3000"),
        (broadcast("emergency", true, &format!("<speak>{}</speak>", "a".repeat(6000))), "6000"),
    ] {
        let (status, error) = app.post("/v1/broadcasts", Some(&admin), &body.to_string()).await;
        assert_eq!((status, error["code"].as_str()), (422, Some("invalid")), "{error}");
        assert!(error["message"].as_str().is_some_and(|m| m.contains(why)), "{error}");
    }
    let ssml = broadcast("emergency", true, &format!("<speak>{}</speak>", "a".repeat(4000)));
    assert_eq!(app.post("/v1/broadcasts", Some(&admin), &ssml.to_string()).await.0, 202, "SSML may be longer");
    let (status, error) = app
        .post(
            "/v1/broadcasts",
            Some(&admin),
            &json!({"reason": "emergency", "channels": ["cell_phone"], "content": {}, "audience": {"rule": {}}})
                .to_string(),
        )
        .await;
    assert_eq!(status, 422, "{error}");
    assert!(error["message"].as_str().is_some_and(|m| m.contains("`voice`")), "{error}");
    app.stop().await;
}

#[tokio::test]
async fn a_text_to_a_landline_goes_as_a_call_reading_it_unless_turned_off() {
    use schoolbell::domain::{DistrictId, PhoneNumber, SmsStatus};
    use schoolbell::ports::Clock as _;
    use schoolbell::store::{NumberStatus, SmsStatusStore};
    let (app, admin) = spawn_family_district(D).await;
    let ana_cell = PhoneNumber::parse_e164("+16175552345").unwrap();
    let landline = NumberStatus {
        number: ana_cell,
        status: SmsStatus::Landline,
        last_event_at: app.clock.now(),
        last_event: "t".into(),
    };
    SmsStatusStore::new(app.table.clone()).record(&DistrictId::parse(D).unwrap(), &landline, "e").await.unwrap();
    let text = |autocall: Option<bool>| {
        let mut body = json!({"reason": "emergency", "emergency": true, "channels": ["text"],
            "content": {"sms": "Schools close at noon."}, "audience": {"rule": {}, "target": "guardians"}});
        if let Some(autocall) = autocall {
            body["landline_autocall"] = json!(autocall);
        }
        body
    };
    let report = app.broadcast_report(&admin, &text(None)).await;
    assert_eq!(called(&app), ["+16175552345"], "{report}");
    assert_eq!(app.calls.placed()[0].script.as_str(), "Schools close at noon.");
    assert_eq!(
        (report["counts"]["voice"]["answered"].as_u64(), report["counts"]["text"]["delivered"].as_u64()),
        (Some(1), Some(1))
    );

    let report = app.broadcast_report(&admin, &text(Some(false))).await;
    assert_eq!(report["counts"]["text"]["skipped"], json!({"landline": 1}), "the broadcast turned it off: {report}");
    let off = json!({"name": "Maple ISD", "landline_autocall": false}).to_string();
    let (status, saved) = app.put_json("/v1/settings", &admin, &off).await;
    assert_eq!((status, saved["landline_autocall"].as_bool()), (200, Some(false)), "{saved}");
    let report = app.broadcast_report(&admin, &text(None)).await;
    assert_eq!(report["counts"]["text"]["skipped"], json!({"landline": 1}), "the district turned it off: {report}");
    assert_eq!(app.calls.placed().len(), 1, "no call after the first broadcast");
    app.stop().await;
}
