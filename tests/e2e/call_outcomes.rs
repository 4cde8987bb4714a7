//! What calls come to, over HTTP into the local gateway: the simulated
//! voice service answers each call as its magic number says, the report
//! counts calls by outcome, and a busy or unanswered line is called again
//! (the district's retries, minutes apart on the clock) until it answers or
//! its tries are spent.

use schoolbell::domain::{DistrictId, PhoneNumber, SmsStatus};
use schoolbell::store::SmsStatusStore;
use schoolbell_tests::app::{TestApp, spawn_app};
use schoolbell_tests::family_fixture::MAPPING;
use serde_json::{Value, json};

const D: &str = "district-calls";

/// One household per outcome; each guardian has only a household phone.
const CSV: &str = "sid,sfirst,slast,grade,school,household,cid,cfirst,clast,rel,messenger,hphone,cell,email\r\n\
s-1,Ada,One,05,sch-1,h-1,g-1,Gia,One,Mother,Y,(617) 555-4000,,\r\n\
s-2,Ben,Two,05,sch-1,h-2,g-2,Hal,Two,Father,Y,(617) 555-0110,,\r\n\
s-3,Cy,Three,05,sch-1,h-3,g-3,Ivy,Three,Mother,Y,(617) 555-0111,,\r\n\
s-4,Dee,Four,05,sch-1,h-4,g-4,Jon,Four,Father,Y,(617) 555-0112,,\r\n\
s-5,Eve,Five,05,sch-1,h-5,g-5,Kay,Five,Mother,Y,(617) 555-0113,,\r\n\
s-6,Fay,Six,05,sch-1,h-6,g-6,Lou,Six,Father,Y,(617) 555-0114,,\r\n\
s-7,Gus,Seven,05,sch-1,h-7,g-7,May,Seven,Mother,Y,(617) 555-0115,,\r\n";

async fn district() -> (TestApp, String) {
    district_of(CSV).await
}

async fn district_of(csv: &str) -> (TestApp, String) {
    let app = spawn_app().await;
    let admin = app.token(D, "district_admin", &[]);
    let definition = json!({"name": "calls", "method": "mapped", "mapping": MAPPING});
    assert_eq!(app.post("/v1/imports", Some(&admin), &definition.to_string()).await.0, 201);
    let upload = app.put_file("/v1/imports/calls/file", &admin, "calls.csv", csv.as_bytes().to_vec()).await;
    assert_eq!(upload.0, 200, "{:?}", upload.1);
    let (status, run) = app.post("/v1/imports/calls/runs", Some(&admin), "").await;
    assert_eq!((status, run["state"].as_str()), (201, Some("applied")), "{run}");
    (app, admin)
}

fn emergency_call() -> Value {
    json!({"reason": "emergency", "emergency": true, "channels": ["voice"],
        "content": {"voice": "A water main broke: schools close at noon."},
        "audience": {"rule": {}, "target": "guardians"}})
}

async fn report_of(app: &TestApp, admin: &str, id: &str) -> Value {
    let (status, report) = app.get(&format!("/v1/broadcasts/{id}"), Some(admin)).await;
    assert_eq!(status, 200, "{report}");
    report
}

fn calls_to(app: &TestApp, number: &str) -> usize {
    app.calls.placed().iter().filter(|call| call.to.as_e164() == number).count()
}

#[tokio::test]
async fn calls_are_counted_by_outcome_and_busy_or_unanswered_lines_are_called_twice_more_five_minutes_apart() {
    let (app, admin) = district().await;
    let first = app.broadcast_report(&admin, &emergency_call()).await;
    let id = first["id"].as_str().unwrap_or_default().to_string();
    let voice = &first["counts"]["voice"];
    assert_eq!((voice["answered"].as_u64(), voice["machine"].as_u64()), (Some(1), Some(1)), "{first}");
    assert_eq!(voice["failed"], json!({"call_failed": 1, "inactive": 1}), "{first}");
    assert_eq!(voice["sent"], 3, "busy, unanswered and busy-then-answered wait for their next try: {first}");
    assert_eq!(app.calls.placed().len(), 7);

    // Not before five minutes.
    app.clock.advance(chrono::Duration::minutes(4));
    app.tick().await;
    assert_eq!(app.calls.placed().len(), 7, "no try before its time");
    app.clock.advance(chrono::Duration::minutes(1));
    app.tick().await;
    assert_eq!(app.calls.placed().len(), 10, "the three lines are called again");
    let second = report_of(&app, &admin, &id).await;
    assert_eq!(second["counts"]["voice"]["answered"], 2, "busy once, then answered: {second}");

    app.clock.advance(chrono::Duration::minutes(5));
    app.tick().await;
    app.clock.advance(chrono::Duration::minutes(5));
    app.tick().await;
    assert_eq!(calls_to(&app, "+16175550111"), 3, "the first try and two more");
    assert_eq!(calls_to(&app, "+16175550112"), 3);
    assert_eq!(calls_to(&app, "+16175550115"), 2, "answered on its second try");
    let last = report_of(&app, &admin, &id).await;
    let voice = &last["counts"]["voice"];
    let outcomes = ["answered", "machine", "busy", "no_answer", "sent", "delivered"].map(|k| voice[k].as_u64());
    assert_eq!(outcomes, [2, 1, 1, 1, 0, 3].map(Some), "{last}");
    assert_eq!(last["progress"], "complete", "{last}");

    let (status, page) = app.get(&format!("/v1/broadcasts/{id}/deliveries"), Some(&admin)).await;
    assert_eq!(status, 200, "{page}");
    let busy = page["items"].as_array().and_then(|items| items.iter().find(|d| d["outcome"] == "busy")).cloned();
    assert_eq!(busy.map(|d| (d["attempts"].clone(), d["state"].clone())), Some((json!(3), json!("failed"))));
    let response = app
        .client
        .get(format!("{}/v1/broadcasts/{id}/deliveries", app.address))
        .bearer_auth(&admin)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let csv = response.text().await.unwrap_or_default();
    assert!(csv.lines().any(|line| line.ends_with(",no_answer,3")), "{csv}");

    // A disconnected number is on the clean-up list.
    let store = SmsStatusStore::new(app.table.clone());
    let number = PhoneNumber::parse_e164("+16175550113").unwrap_or_else(|e| panic!("{e}"));
    let status = store.get(&DistrictId::parse(D).unwrap_or_else(|e| panic!("{e}")), &number).await;
    assert_eq!(status.ok().flatten().map(|s| s.status), Some(SmsStatus::Inactive));
    app.stop().await;
}

#[tokio::test]
async fn a_district_that_wants_no_retries_counts_a_busy_line_at_once() {
    let (app, admin) = district().await;
    let (status, body) = app.put_json("/v1/settings", &admin, &json!({"call_retries": 0}).to_string()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(app.get("/v1/settings", Some(&admin)).await.1["call_retries"], 0);
    let report = app.broadcast_report(&admin, &emergency_call()).await;
    let voice = &report["counts"]["voice"];
    assert_eq!(
        (voice["busy"].as_u64(), voice["no_answer"].as_u64(), voice["sent"].as_u64()),
        (Some(2), Some(1), Some(0))
    );
    app.clock.advance(chrono::Duration::minutes(30));
    app.tick().await;
    assert_eq!(app.calls.placed().len(), 7, "nothing is called again");
    let (status, error) = app.put_json("/v1/settings", &admin, &json!({"call_retries": 9}).to_string()).await;
    assert_eq!((status, error["code"].as_str()), (422, Some("invalid")), "{error}");
    app.stop().await;
}

#[tokio::test]
async fn a_text_the_carrier_refuses_as_sent_to_a_landline_goes_as_a_call_reading_it_unless_the_broadcast_says_not() {
    // Gia's cell is the simulated carrier's landline (555-0100); nobody knew.
    let csv = "sid,sfirst,slast,grade,school,household,cid,cfirst,clast,rel,messenger,hphone,cell,email\r\n\
        s-1,Ada,One,05,sch-1,h-1,g-1,Gia,One,Mother,Y,,(617) 555-0100,\r\n\
        s-2,Ben,Two,05,sch-1,h-2,g-2,Hal,Two,Father,Y,,(617) 555-4002,\r\n";
    let (app, admin) = district_of(csv).await;
    let text = |autocall: bool| {
        json!({"reason": "emergency", "emergency": true, "channels": ["text"], "landline_autocall": autocall,
            "content": {"sms": "{{first_name}}: buses run late today."},
            "audience": {"rule": {}, "target": "guardians"}})
    };
    let report = app.broadcast_report(&admin, &text(true)).await;
    assert_eq!(report["counts"]["text"]["failed"], json!({"landline": 1}), "{report}");
    assert!(app.calls.placed().is_empty(), "the call waits for the scheduler");
    app.tick().await;
    let placed = app.calls.placed();
    assert_eq!(placed.len(), 1, "one call, to the landline");
    assert_eq!((placed[0].to.as_e164(), placed[0].script.as_str()), ("+16175550100", "Gia: buses run late today."));
    let id = report["id"].as_str().unwrap_or_default();
    let after = report_of(&app, &admin, id).await;
    assert_eq!(after["counts"]["voice"]["answered"], 1, "{after}");
    app.tick().await;
    assert_eq!(app.calls.placed().len(), 1, "called once");

    // Now known as a landline: the next broadcast that turns autocalls off calls nobody.
    let off = app.broadcast_report(&admin, &text(false)).await;
    app.tick().await;
    assert_eq!(app.calls.placed().len(), 1, "{off}");
    assert_eq!(off["counts"]["text"]["skipped"], json!({"landline": 1}), "{off}");
    app.stop().await;
}
