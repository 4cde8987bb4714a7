//! Messages in the family's language, over HTTP into the local gateway: a
//! broadcast's content may come with variants by language code; each
//! guardian gets the variant of the language the import gave them (a call
//! in a voice for it), everyone else the content itself, and the report
//! counts messages by language. SIS events come in English and Spanish.

use schoolbell_tests::app::{TestApp, spawn_app};
use serde_json::{Value, json};

const D: &str = "district-languages";

/// Ana speaks Spanish (as the SIS writes it), Kim gave no language.
const CSV: &str = "sid,sfirst,slast,grade,school,household,cid,cfirst,clast,rel,messenger,hphone,cell,email,lang\r\n\
s-1,Leo,Diaz,05,sch-1,h-1,c-ana,Ana,Diaz,Mother,Y,,(617) 555-8001,ana@example.org,Spanish\r\n\
s-3,Sam,Lee,05,sch-1,h-2,c-kim,Kim,Lee,Mother,Y,,(617) 555-8002,kim@example.org,\r\n";

/// The family fixture's mapping, with the contact's language column.
fn mapping() -> String {
    format!("{}language = \"lang\"\n", schoolbell_tests::family_fixture::MAPPING)
}

async fn district() -> (TestApp, String) {
    let app = spawn_app().await;
    let admin = app.token(D, "district_admin", &[]);
    let definition = json!({"name": "sis", "method": "mapped", "mapping": mapping()});
    assert_eq!(app.post("/v1/imports", Some(&admin), &definition.to_string()).await.0, 201);
    assert_eq!(app.put_file("/v1/imports/sis/file", &admin, "sis.csv", CSV.as_bytes().to_vec()).await.0, 200);
    let (status, run) = app.post("/v1/imports/sis/runs", Some(&admin), "").await;
    assert_eq!((status, run["state"].as_str()), (201, Some("applied")), "{run}");
    (app, admin)
}

fn emergency(translations: Value) -> Value {
    json!({"reason": "emergency", "emergency": true, "channels": ["voice", "text"],
        "content": {"sms": "Schools close at noon.", "voice": "Schools close at noon today.",
                    "translations": translations},
        "audience": {"rule": {}, "target": "guardians"}})
}

fn text_to(app: &TestApp, number: &str) -> Option<String> {
    app.carrier.sent().iter().find(|t| t.to.as_e164() == number).map(|t| t.body.clone())
}

#[tokio::test]
async fn each_guardian_gets_the_variant_of_their_language_and_the_report_counts_them() {
    let (app, admin) = district().await;
    let spanish =
        json!({"es": {"sms": "Las escuelas cierran al mediodía.", "voice": "Las escuelas cierran hoy al mediodía."}});
    let report = app.broadcast_report(&admin, &emergency(spanish)).await;
    assert_eq!(text_to(&app, "+16175558001").as_deref(), Some("Las escuelas cierran al mediodía."));
    assert_eq!(text_to(&app, "+16175558002").as_deref(), Some("Schools close at noon."));
    let calls = app.calls.placed();
    let ana = calls.iter().find(|c| c.to.as_e164() == "+16175558001").cloned();
    assert_eq!(
        ana.map(|c| (c.script.as_str().to_string(), c.language)),
        Some(("Las escuelas cierran hoy al mediodía.".to_string(), Some("es".to_string()))),
        "a Spanish script in a Spanish voice"
    );
    assert_eq!(
        report["languages"],
        json!({"en": 2, "es": 2}),
        "the content itself in the district's language: {report}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_variant_must_name_a_language_and_carry_every_channel_s_content() {
    let (app, admin) = district().await;
    for (translations, names) in [
        (json!({"Klingon": {"sms": "x", "voice": "y"}}), "Klingon"),
        (json!({"es": {"sms": "Hola"}}), "content.translations.es.voice"),
        (json!({"es": {"sms": "Hola {{nombre}}", "voice": "y"}}), "content.translations.es.sms"),
    ] {
        let (status, error) = app.post("/v1/broadcasts", Some(&admin), &emergency(translations).to_string()).await;
        assert_eq!((status, error["code"].as_str()), (422, Some("invalid")), "{error}");
        assert!(error["message"].as_str().is_some_and(|m| m.contains(names)), "{names}: {error}");
    }
    app.stop().await;
}

#[tokio::test]
async fn an_sis_event_reaches_a_spanish_speaking_guardian_in_spanish() {
    let (app, admin) = district().await;
    let (status, issued) = app.post("/v1/sis-keys", Some(&admin), "").await;
    assert_eq!(status, 201, "{issued}");
    let key = issued["key"].as_str().unwrap_or_default().to_string();
    let policy = json!({"text_consent": "number_provided"}).to_string();
    assert_eq!(app.put_json("/v1/settings", &admin, &policy).await.0, 200);
    let events = json!({"events": [
        {"id": "e-1", "type": "attendance.absent", "student": "s-1", "occurred_at": "2026-12-04T08:05:00-05:00",
         "period": "1", "excused": false},
        {"id": "e-2", "type": "attendance.absent", "student": "s-3", "occurred_at": "2026-12-04T08:05:00-05:00",
         "excused": true}]});
    let (status, answer) = app.post("/v1/sis-events", Some(&key), &events.to_string()).await;
    assert_eq!((status, answer["accepted"].as_u64()), (200, Some(2)), "{answer}");
    app.drain().await;
    let ana = text_to(&app, "+16175558001").unwrap_or_default();
    assert!(ana.contains("Leo fue marcado/a ausente en el período 1 el viernes, 4 de diciembre"), "{ana}");
    let kim = text_to(&app, "+16175558002").unwrap_or_default();
    assert!(kim.contains("Sam was marked absent (excused) for the day on Friday, December 4"), "{kim}");
    app.stop().await;
}
