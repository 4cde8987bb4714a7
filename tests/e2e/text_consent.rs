//! Who is texted right after an import, when nobody recorded consent: an
//! emergency texts every messenger's cell (FCC 16-88); other reasons wait
//! for consent under the district's `opt_in` policy and follow the cell
//! phone's defaults under `number_provided`, a change only district admins
//! make and that is audited.

use schoolbell_tests::app::{TestApp, spawn_family_district};
use serde_json::{Value, json};

const D: &str = "district-a";

async fn report_of(app: &TestApp, admin: &str, reason: &str, emergency: bool) -> Value {
    let broadcast = json!({"reason": reason, "emergency": emergency, "channels": ["text"],
        "content": {"sms": "A note from school about {{children}}."}, "audience": {"rule": {}, "target": "guardians"}});
    app.broadcast_report(admin, &broadcast).await
}

#[tokio::test]
async fn right_after_an_import_an_emergency_texts_every_messenger_s_cell() {
    let (app, admin) = spawn_family_district(D).await;
    let report = report_of(&app, &admin, "emergency", true).await;
    assert_eq!(report["counts"]["text"]["delivered"], 2, "Ana's and Kim's cells, no consent needed: {report}");
    app.stop().await;
}

#[tokio::test]
async fn an_attendance_text_waits_for_consent_under_opt_in_and_goes_under_number_provided() {
    let (app, admin) = spawn_family_district(D).await;
    let report = report_of(&app, &admin, "attendance", false).await;
    assert_eq!(report["counts"]["people"]["skipped"], json!({"no_text_consent": 2}), "{report}");
    assert_eq!(report["totals"]["sent"].as_u64().unwrap_or(0) + report["totals"]["delivered"].as_u64().unwrap_or(0), 0);

    let policy = json!({"name": "Maple ISD", "text_consent": "number_provided"}).to_string();
    let principal = app.token(D, "school_admin", &["sch-1"]);
    assert_eq!(app.put_json("/v1/settings", &principal, &policy).await.0, 403, "district admins only");
    let (status, saved) = app.put_json("/v1/settings", &admin, &policy).await;
    assert_eq!((status, saved["text_consent"].as_str()), (200, Some("number_provided")), "{saved}");
    assert_eq!(app.put_json("/v1/settings", &admin, &policy).await.0, 200, "saving it again changes nothing");
    let (status, history) = app.get("/v1/settings/history", Some(&admin)).await;
    assert_eq!(status, 200, "{history}");
    let changes = history["changes"].as_array().cloned().unwrap_or_default();
    assert_eq!(changes.len(), 1, "one change, audited once: {history}");
    assert_eq!((changes[0]["setting"].as_str(), changes[0]["from"].as_str()), (Some("text_consent"), Some("opt_in")));
    assert_eq!(changes[0]["to"], "number_provided");
    assert_eq!(app.get("/v1/settings/history", Some(&principal)).await.0, 403);

    let report = report_of(&app, &admin, "attendance", false).await;
    assert_eq!(report["counts"]["text"]["delivered"], 2, "the cell phone's attendance default: {report}");
    // A person's own Off always wins.
    let ana = app.person_token(D, "guardian", "c-ana");
    let off = json!({"channels": {"text": {"attendance": false}}}).to_string();
    let (status, body) = app.put_json("/v1/people/c-ana/preferences", &ana, &off).await;
    assert_eq!(status, 200, "{body}");
    let report = report_of(&app, &admin, "attendance", false).await;
    assert_eq!(report["counts"]["text"]["delivered"], 1, "{report}");
    assert_eq!(report["counts"]["people"]["skipped"], json!({"preferences_off": 1}), "{report}");
    app.stop().await;
}
