//! Where text consent comes from, over HTTP into the local gateway: the
//! SIS's consent column (a mapped import), a family texting YES, Y or START
//! (answered once), and what recorded consent does: the person takes the
//! district's text default for each reason, as everybody does under
//! `number_provided`, where a district may name its own text defaults. The
//! preference view says, per reason, whether a text goes and why not.

use schoolbell::domain::DistrictId;
use schoolbell::services::NumberAssignment;
use schoolbell_tests::app::{TestApp, spawn_app, spawn_family_district};
use schoolbell_tests::family_fixture::MAPPING;
use serde_json::{Value, json};

const D: &str = "district-a";
const ANA_CELL: &str = "+16175552345";
const KIM_CELL: &str = "+16175552347";
const OUR_NUMBER: &str = "+18005550123";
const INBOUND: &str = "/webhooks/twilio/inbound";

/// The family fixture with a consent column: Ana says yes, Kim nothing.
const WITH_CONSENT: &str = "sid,sfirst,slast,grade,school,household,cid,cfirst,clast,rel,messenger,hphone,cell,email,Text Opt In\r\n\
s-1,Leo,Diaz,05,sch-1,h-1,c-ana,Ana,Diaz,Mother,Y,(617) 555-3000,(617) 555-2345,ana@example.org,Y\r\n\
s-1,Leo,Diaz,05,sch-1,h-1,c-luis,Luis,Diaz,Father,N,(617) 555-3000,(617) 555-2346,,\r\n\
s-2,Mia,Diaz,03,sch-1,h-1,c-ana,Ana,Diaz,Mother,Y,(617) 555-3000,(617) 555-2345,ana@example.org,\r\n\
s-3,Sam,Lee,05,sch-2,h-2,c-kim,Kim,Lee,Mother,Y,,(617) 555-2347,kim@example.org,\r\n";

/// A text broadcast for `reason` to every guardian; answers its report.
async fn text_report(app: &TestApp, admin: &str, reason: &str) -> Value {
    let broadcast = json!({"reason": reason, "channels": ["text"],
        "content": {"sms": "A note from school about {{children}}."}, "audience": {"rule": {}, "target": "guardians"}});
    app.broadcast_report(admin, &broadcast).await
}

/// Uploads `csv` for the `families` import and runs it.
async fn run_import(app: &TestApp, admin: &str, csv: &str) {
    let upload = app.put_file("/v1/imports/families/file", admin, "families.csv", csv.as_bytes().to_vec()).await;
    assert_eq!(upload.0, 200, "{}", upload.1);
    let (status, run) = app.post("/v1/imports/families/runs", Some(admin), "").await;
    assert_eq!((status, run["state"].as_str()), (201, Some("applied")), "{run}");
}

/// A person's preference view, as the admin reads it.
async fn view_of(app: &TestApp, admin: &str, person: &str) -> Value {
    let (status, view) = app.get(&format!("/v1/people/{person}/preferences"), Some(admin)).await;
    assert_eq!(status, 200, "{view}");
    view
}

/// `from` texts `body` to the district's number; answers the TwiML.
async fn texts(app: &TestApp, id: &str, from: &str, body: &str) -> String {
    let params = [("MessageSid", id), ("From", from), ("To", OUR_NUMBER), ("Body", body), ("NumMedia", "0")];
    let (status, twiml) = app.post_twilio(INBOUND, &app.twilio_token(), &params).await;
    assert_eq!(status, 200, "{twiml}");
    twiml
}

#[tokio::test]
async fn an_import_with_a_text_opt_in_column_records_consent_and_an_attendance_text_reaches_that_guardian_under_opt_in()
{
    let app = spawn_app().await;
    let admin = app.token(D, "district_admin", &[]);
    let mapping = format!("{MAPPING}text_consent = \"Text Opt In\"\n");
    let definition = json!({"name": "families", "method": "mapped", "mapping": mapping});
    let (status, created) = app.post("/v1/imports", Some(&admin), &definition.to_string()).await;
    assert_eq!(status, 201, "the mapping names the consent column: {created}");
    run_import(&app, &admin, WITH_CONSENT).await;

    let report = text_report(&app, &admin, "attendance").await;
    assert_eq!(report["counts"]["text"]["delivered"], 1, "Ana's cell, on the SIS's consent: {report}");
    assert_eq!(report["counts"]["people"]["skipped"], json!({"no_text_consent": 1}), "Kim said nothing: {report}");
    let ana = view_of(&app, &admin, "c-ana").await;
    assert_eq!(ana["text_consent"]["source"], "import", "{ana}");
    assert_eq!(ana["text_consent_policy"], "opt_in");
    assert_eq!(
        (ana["text_verdicts"]["attendance"].as_str(), ana["text_verdicts"]["general"].as_str()),
        (Some("on"), Some("off"))
    );
    let kim = view_of(&app, &admin, "c-kim").await;
    assert_eq!(kim["text_verdicts"]["attendance"], "no_consent", "{kim}");

    // The SIS withdraws what it recorded.
    run_import(&app, &admin, &WITH_CONSENT.replace("ana@example.org,Y", "ana@example.org,N")).await;
    let report = text_report(&app, &admin, "attendance").await;
    assert_eq!(report["counts"]["people"]["skipped"], json!({"no_text_consent": 2}), "{report}");
    assert_eq!(view_of(&app, &admin, "c-ana").await["text_consent"], Value::Null);
    app.stop().await;
}

#[tokio::test]
async fn a_guardian_who_texts_yes_is_texted_afterwards_and_is_answered_once() {
    let (app, admin) = spawn_family_district(D).await;
    let district = Some(DistrictId::parse(D).unwrap());
    let request = NumberAssignment { number: OUR_NUMBER.into(), district, shared: false };
    app.services.sending_numbers().assign(&request).await.unwrap();
    assert_eq!(app.put_json("/v1/settings", &admin, &json!({"name": "Maple ISD"}).to_string()).await.0, 200);
    let report = text_report(&app, &admin, "attendance").await;
    assert_eq!(report["counts"]["people"]["skipped"], json!({"no_text_consent": 2}), "{report}");

    let confirmation = "<Message>You will now get texts from Maple ISD. Reply STOP to end.</Message>";
    let twiml = texts(&app, "SMyes1", ANA_CELL, " yes ").await;
    assert_eq!(twiml.matches("<Message>").count(), 1, "one answer: {twiml}");
    assert!(twiml.contains(confirmation), "{twiml}");
    let again = texts(&app, "SMyes1", ANA_CELL, " yes ").await;
    assert!(!again.contains("<Message>"), "the same message again is answered no more: {again}");
    let ana = view_of(&app, &admin, "c-ana").await;
    assert_eq!(ana["text_consent"]["source"], "text", "{ana}");
    assert_eq!(ana["text_verdicts"]["attendance"], "on", "{ana}");

    // Kim had opted out: START lifts it and is her consent, answered once.
    assert!(texts(&app, "SMstop", KIM_CELL, "STOP").await.contains("unsubscribed"));
    let twiml = texts(&app, "SMstart", KIM_CELL, "START").await;
    assert_eq!(twiml.matches("<Message>").count(), 1, "one answer: {twiml}");
    assert!(twiml.contains(confirmation), "{twiml}");

    let report = text_report(&app, &admin, "attendance").await;
    assert_eq!(report["counts"]["text"]["delivered"], 2, "Ana and Kim, on their word: {report}");
    assert!(app.carrier.sent().iter().all(|sms| !sms.body.contains("You will now get texts")), "answered inline");
    app.stop().await;
}

#[tokio::test]
async fn a_district_s_text_default_per_reason_applies_under_number_provided_and_a_person_s_own_off_wins() {
    let (app, admin) = spawn_family_district(D).await;
    let defaults =
        json!({"on": {"email": ["emergency"], "cell_phone": ["emergency", "attendance"], "text": ["general"]}});
    let (status, saved) = app.put_json("/v1/preferences/defaults", &admin, &defaults.to_string()).await;
    assert_eq!((status, &saved), (200, &defaults), "{saved}");
    let report = text_report(&app, &admin, "general").await;
    assert_eq!(
        report["counts"]["people"]["skipped"],
        json!({"no_text_consent": 2}),
        "opt_in waits for consent: {report}"
    );

    let policy = json!({"text_consent": "number_provided"}).to_string();
    assert_eq!(app.put_json("/v1/settings", &admin, &policy).await.0, 200);
    let report = text_report(&app, &admin, "general").await;
    assert_eq!(report["counts"]["text"]["delivered"], 2, "the district's text default for general: {report}");
    let report = text_report(&app, &admin, "attendance").await;
    assert_eq!(
        report["counts"]["people"]["skipped"],
        json!({"preferences_off": 2}),
        "its own text defaults replace the cell phone's: {report}"
    );
    let kim = view_of(&app, &admin, "c-kim").await;
    assert_eq!(kim["text_consent_policy"], "number_provided", "{kim}");
    assert_eq!(
        (kim["text_verdicts"]["general"].as_str(), kim["text_verdicts"]["attendance"].as_str()),
        (Some("on"), Some("off"))
    );

    let ana = app.person_token(D, "guardian", "c-ana");
    let off = json!({"channels": {"text": {"general": false}}}).to_string();
    let (status, view) = app.put_json("/v1/me/preferences", &ana, &off).await;
    assert_eq!((status, view["text_verdicts"]["general"].as_str()), (200, Some("off")), "{view}");
    let report = text_report(&app, &admin, "general").await;
    assert_eq!(report["counts"]["text"]["delivered"], 1, "{report}");
    assert_eq!(report["counts"]["people"]["skipped"], json!({"preferences_off": 1}), "Ana's own Off wins: {report}");
    app.stop().await;
}
