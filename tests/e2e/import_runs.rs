//! Import runs that meet each other, end to end: a held run approved after
//! another file was applied (409, stale), and the API upload and the S3
//! event of one file running it once.

use schoolbell_tests::app::spawn_app;
use schoolbell_tests::roster_fixture::RosterFixture;
use serde_json::{Value, json};

use crate::imports::{define, upload_and_run};

#[tokio::test]
async fn approving_a_held_run_after_another_file_was_applied_answers_409_stale_and_changes_nothing() {
    let app = spawn_app().await;
    let admin = app.token("district-a", "district_admin", &[]);
    define(&app, &admin, json!({"name": "sis", "method": "oneroster", "hold_threshold_percent": 20})).await;
    upload_and_run(&app, &admin, &RosterFixture::district(10)).await;
    let held = upload_and_run(&app, &admin, &RosterFixture::district(10).without(&[1, 2, 3, 4])).await;
    assert_eq!(held["state"], "held", "{held}");
    app.clock.advance(chrono::Duration::minutes(1)); // a new upload time: its own file
    let newer = upload_and_run(&app, &admin, &RosterFixture::district(10).without(&[1])).await;
    assert_eq!(newer["state"], "applied", "{newer}");

    let run = held["id"].as_str().unwrap_or_default();
    let (status, error) = app.post(&format!("/v1/imports/sis/runs/{run}/approve"), Some(&admin), "").await;
    assert_eq!((status, error["code"].as_str()), (409, Some("conflict")), "{error}");
    assert!(error["message"].as_str().is_some_and(|m| m.starts_with("stale")), "{error}");
    assert_eq!(app.get("/v1/people/st-2", Some(&admin)).await.0, 200, "the held run changed nothing");
    let (_, runs) = app.get("/v1/imports/sis/runs", Some(&admin)).await;
    let kept = runs["runs"].as_array().into_iter().flatten().find(|r| r["id"] == held["id"]);
    assert_eq!(kept.map(|r| &r["state"]), Some(&json!("held")), "it can still be discarded: {runs}");
    app.stop().await;
}

#[tokio::test]
async fn an_api_upload_and_the_s3_event_of_the_same_file_run_it_once() {
    use aws_lambda_events::event::s3::S3Event;

    let app = spawn_app().await;
    let admin = app.token("district-a", "district_admin", &[]);
    define(&app, &admin, json!({"name": "sis", "method": "oneroster", "trigger": "on_upload"})).await;
    let (status, answer) =
        app.put_file("/v1/imports/sis/file", &admin, "roster.zip", RosterFixture::district(4).zip()).await;
    assert_eq!((status, answer["run"]["state"].as_str()), (200, Some("applied")), "{answer}");
    let key = answer["import"]["file_key"].as_str().unwrap_or_default().to_string();

    let recorded: Value =
        serde_json::from_str(include_str!("../../functions/import-ingest/events/object-created.json"))
            .unwrap_or_default();
    let mut record = recorded["Records"][0].clone();
    record["s3"]["object"]["key"] = json!(key);
    let event: S3Event = serde_json::from_value(json!({"Records": [record]})).unwrap();
    let writes = app.table.stats().items_written;
    let service = app.services.imports().unwrap();
    let report = schoolbell_import_ingest::handle(&service, event).await.unwrap();
    assert_eq!(report.handled, [key]);
    assert_eq!(app.table.stats().items_written, writes, "the second arrival writes nothing");
    let (_, runs) = app.get("/v1/imports/sis/runs", Some(&admin)).await;
    assert_eq!(runs["runs"].as_array().map(Vec::len), Some(1), "one run: {runs}");
    app.stop().await;
}
