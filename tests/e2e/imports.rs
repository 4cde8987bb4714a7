//! Imports end to end: over HTTP on the local gateway (define, upload, run,
//! hold, approve, discard, delete), and through the same service on
//! DynamoDB and S3 on moto.

use std::sync::Arc;

use schoolbell::adapters::aws::{DynamoTable, S3FileStore, create_table};
use schoolbell::domain::{DistrictId, Principal, Role};
use schoolbell::ports::{FileStore, FixedClock, Table, TimeOrderedIds};
use schoolbell::root::{Ports, Services, Wiring};
use schoolbell::services::{ImportService, NewImport, upload_key};
use schoolbell_tests::app::{TestApp, spawn_app};
use schoolbell_tests::moto;
use schoolbell_tests::roster_fixture::RosterFixture;
use serde_json::{Value, json};

pub(crate) async fn define(app: &TestApp, token: &str, body: Value) {
    let (status, answer) = app.post("/v1/imports", Some(token), &body.to_string()).await;
    assert_eq!(status, 201, "{answer}");
}

pub(crate) async fn upload_and_run(app: &TestApp, token: &str, fixture: &RosterFixture) -> Value {
    let (status, answer) = app.put_file("/v1/imports/sis/file", token, "roster.zip", fixture.zip()).await;
    assert_eq!(status, 200, "{answer}");
    let (status, run) = app.post("/v1/imports/sis/runs", Some(token), "").await;
    assert_eq!(status, 201, "{run}");
    run
}

fn counts(run: &Value, kind: &str) -> [u64; 4] {
    ["added", "updated", "unchanged", "removed"].map(|k| run["counts"][kind][k].as_u64().unwrap_or(u64::MAX))
}

/// A gateway with a district admin and a OneRoster import named `sis`.
async fn sis_import() -> (TestApp, String) {
    let app = spawn_app().await;
    let admin = app.token("district-a", "district_admin", &[]);
    define(&app, &admin, json!({"name": "sis", "method": "oneroster"})).await;
    (app, admin)
}

#[tokio::test]
async fn an_uploaded_roster_imports_and_an_unchanged_one_writes_nothing() {
    let (app, admin) = sis_import().await;
    let (_, listed) = app.get("/v1/imports/sis", Some(&admin)).await;
    assert_eq!((listed["status"].as_str(), listed["file_date"].is_null()), (Some("new"), true));

    let first = upload_and_run(&app, &admin, &RosterFixture::district(10)).await;
    assert_eq!(first["state"], "applied", "{first}");
    assert_eq!(counts(&first, "students"), [10, 0, 0, 0]);
    assert_eq!(counts(&first, "guardians"), [10, 0, 0, 0]);
    assert_eq!(counts(&first, "staff"), [1, 0, 0, 0]);
    assert_eq!(counts(&first, "relationships"), [10, 0, 0, 0]);
    assert_eq!(counts(&first, "enrollments"), [11, 0, 0, 0]);
    assert_eq!(first["students_without_messenger"], 0);

    let (status, parent) = app.get("/v1/people/pa-3", Some(&admin)).await;
    assert_eq!(status, 200, "{parent}");
    assert_eq!(parent["contacts"][0]["value"], "+16175232003");

    let again = upload_and_run(&app, &admin, &RosterFixture::district(10)).await;
    assert_eq!(counts(&again, "students"), [0, 0, 10, 0]);
    assert_eq!(counts(&again, "enrollments"), [0, 0, 11, 0]);
    let (_, definition) = app.get("/v1/imports/sis", Some(&admin)).await;
    assert_eq!(definition["status"], "ok");
    assert!(definition["file_date"].is_string() && definition["last_run"].is_string());
    let (_, runs) = app.get("/v1/imports/sis/runs", Some(&admin)).await;
    assert_eq!(runs["runs"].as_array().map(Vec::len), Some(2));
    app.stop().await;
}

#[tokio::test]
async fn a_run_removing_too_much_is_held_until_approved_and_changes_nothing_before() {
    let app = spawn_app().await;
    let admin = app.token("district-a", "district_admin", &[]);
    define(&app, &admin, json!({"name": "sis", "method": "oneroster", "hold_threshold_percent": 20})).await;
    upload_and_run(&app, &admin, &RosterFixture::district(10)).await;

    let small_change = upload_and_run(&app, &admin, &RosterFixture::district(10).without(&[1])).await;
    assert_eq!(small_change["state"], "applied", "10% is within a 20% threshold: {small_change}");
    assert_eq!(counts(&small_change, "students"), [0, 0, 9, 1]);

    let held = upload_and_run(&app, &admin, &RosterFixture::district(10).without(&[1, 2, 3, 4])).await;
    assert_eq!(held["state"], "held", "{held}");
    assert!(held["hold_reason"].as_str().is_some_and(|r| r.contains("students")), "{held}");
    assert_eq!(app.get("/v1/people/pa-2", Some(&admin)).await.1["id"], "pa-2", "a held run changes nothing");
    assert_eq!(app.get("/v1/imports/sis", Some(&admin)).await.1["status"], "held");

    let run = held["id"].as_str().unwrap_or_default();
    let (status, approved) = app.post(&format!("/v1/imports/sis/runs/{run}/approve"), Some(&admin), "").await;
    assert_eq!((status, approved["state"].as_str()), (200, Some("applied")), "{approved}");
    assert_eq!(counts(&approved, "students"), [0, 0, 6, 3]);
    let (status, again) = app.post(&format!("/v1/imports/sis/runs/{run}/approve"), Some(&admin), "").await;
    assert_eq!(status, 409, "an applied run cannot be approved twice: {again}");
    app.stop().await;
}

#[tokio::test]
async fn a_discarded_run_leaves_the_data_as_it_was() {
    let (app, admin) = sis_import().await;
    upload_and_run(&app, &admin, &RosterFixture::district(10)).await;
    let held = upload_and_run(&app, &admin, &RosterFixture::district(2)).await;
    assert_eq!(held["state"], "held");
    let run = held["id"].as_str().unwrap_or_default();
    let (status, discarded) = app.post(&format!("/v1/imports/sis/runs/{run}/discard"), Some(&admin), "").await;
    assert_eq!((status, discarded["state"].as_str()), (200, Some("discarded")));
    assert_eq!(app.get("/v1/imports/sis", Some(&admin)).await.1["status"], "ok");
    assert_eq!(app.get("/v1/people/st-9", Some(&admin)).await.0, 200);
    app.stop().await;
}

#[tokio::test]
async fn deleting_an_import_shows_what_goes_then_leaves_no_orphans() {
    let (app, admin) = sis_import().await;
    upload_and_run(&app, &admin, &RosterFixture::district(3)).await;
    let (status, plan) = app.delete("/v1/imports/sis?dry_run=true", &admin).await;
    assert_eq!(status, 200, "{plan}");
    assert_eq!((plan["deleted"].as_bool(), plan["removes"]["students"]["removed"].as_u64()), (Some(false), Some(3)));
    assert_eq!(app.get("/v1/people/st-1", Some(&admin)).await.0, 200, "a dry run deletes nothing");
    let (status, done) = app.delete("/v1/imports/sis", &admin).await;
    assert_eq!((status, done["deleted"].as_bool()), (200, Some(true)), "{done}");
    for person in ["st-1", "pa-1", "t-1"] {
        assert_eq!(app.get(&format!("/v1/people/{person}"), Some(&admin)).await.0, 404, "{person} is gone");
    }
    assert_eq!(app.get("/v1/imports/sis", Some(&admin)).await.0, 404);
    let leftovers = schoolbell_tests::contract::table::read_all(
        app_table(&app).as_ref(),
        schoolbell::ports::table::Query::partition("D#district-a#SEC#sec-1"),
    )
    .await;
    assert!(leftovers.is_empty(), "no enrollment or section item is left: {leftovers:?}");
    app.stop().await;
}

fn app_table(app: &TestApp) -> Arc<dyn Table> {
    app.table.clone()
}

#[tokio::test]
async fn an_on_upload_import_runs_when_its_file_arrives() {
    let app = spawn_app().await;
    let admin = app.token("district-a", "district_admin", &[]);
    define(&app, &admin, json!({"name": "sis", "method": "oneroster", "trigger": "on_upload"})).await;
    let (status, answer) =
        app.put_file("/v1/imports/sis/file", &admin, "roster.zip", RosterFixture::district(4).zip()).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["run"]["state"], "applied", "{answer}");
    assert_eq!(answer["run"]["counts"]["students"]["added"], 4);
    app.stop().await;
}

#[tokio::test]
async fn import_routes_need_a_district_admin_and_refuse_bad_files_clearly() {
    let app = spawn_app().await;
    let admin = app.token("district-a", "district_admin", &[]);
    let viewer = app.token("district-a", "school_viewer", &["sch-1"]);
    let (status, _) = app.post("/v1/imports", Some(&viewer), r#"{"name": "sis", "method": "oneroster"}"#).await;
    assert_eq!(status, 403);
    let (status, error) = app.post("/v1/imports", Some(&admin), r#"{"name": "sis", "method": "excel"}"#).await;
    assert_eq!((status, error["code"].as_str()), (422, Some("invalid")));
    define(&app, &admin, json!({"name": "sis", "method": "oneroster"})).await;
    let (status, _) = app.post("/v1/imports", Some(&admin), r#"{"name": "sis", "method": "oneroster"}"#).await;
    assert_eq!(status, 409);
    let (status, _) = app.post("/v1/imports/sis/runs", Some(&admin), "").await;
    assert_eq!(status, 409, "no file yet");
    let (status, _) = app.put_file("/v1/imports/sis/file", &admin, "junk.zip", b"PK\x03\x04 not really".to_vec()).await;
    assert_eq!(status, 200, "a file is taken as it is; reading it is the run's job");
    let (status, rejected) = app.post("/v1/imports/sis/runs", Some(&admin), "").await;
    assert_eq!((status, rejected["state"].as_str()), (201, Some("rejected")), "{rejected}");
    assert!(!rejected["rejected"].as_array().map(Vec::is_empty).unwrap_or(true));
    assert_eq!(app.get("/v1/imports/sis", Some(&admin)).await.1["status"], "failed");
    app.stop().await;
}

#[tokio::test]
async fn the_same_import_runs_on_dynamodb_and_s3() {
    let Some(config) = moto::config("the_same_import_runs_on_dynamodb_and_s3") else { return };
    let dynamo = aws_sdk_dynamodb::Client::new(&config);
    let table_name = moto::unique_name("imports");
    create_table(&dynamo, &table_name).await.unwrap();
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&config).force_path_style(true).build());
    let bucket = moto::unique_name("imports");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let table = Arc::new(DynamoTable::new(dynamo, table_name));
    let files = Arc::new(S3FileStore::new(s3, bucket, None));
    let service = Services::new(
        Ports::new(table.clone(), Arc::new(FixedClock::midday_today()), Arc::new(TimeOrderedIds))
            .with_files(files.clone()),
        Wiring::default(),
    )
    .imports()
    .unwrap();
    let district = DistrictId::parse("district-a").unwrap();
    let admin = Principal {
        subject: "admin".into(),
        district: district.clone(),
        roles: vec![Role::DistrictAdmin],
        schools: vec![],
    };
    let new = oneroster_import("sis", "on_upload", None);
    service.create(&admin, new).await.unwrap();

    let key = upload_key(&district, &"sis".parse().unwrap(), "first.zip");
    files.put(&key, RosterFixture::district(5).zip().into()).await.unwrap();
    let (_, run) = service.file_arrived(&key).await.unwrap();
    let run = run.unwrap_or_else(|| panic!("an on-upload import runs"));
    assert_eq!(run.counts.students.added, 5);
    assert_eq!(run.counts.relationships.added, 5);

    let writes_before = table.stats().items_written;
    let key = upload_key(&district, &"sis".parse().unwrap(), "second.zip");
    files.put(&key, RosterFixture::district(5).zip().into()).await.unwrap();
    let (_, run) = service.file_arrived(&key).await.unwrap();
    assert_eq!(run.map(|r| r.counts.students.unchanged), Some(5));
    let roster_writes = table.stats().items_written - writes_before;
    assert_eq!(
        roster_writes, 6,
        "an unchanged re-import writes only its run, the definition's file date and its status, \
         its lease (taken, let go) and which run took the file"
    );
    let parent =
        schoolbell::store::PeopleStore::new(table.clone()).get(&district, &"pa-2".parse().unwrap()).await.unwrap();
    assert_eq!(parent.map(|p| p.contacts.len()), Some(2));
}

#[tokio::test]
async fn an_s3_object_created_event_runs_the_matching_import_and_skips_strangers() {
    use aws_lambda_events::event::s3::S3Event;
    use schoolbell::adapters::local::{DirFileStore, EmbeddedTable};

    let dir = tempfile::tempdir().unwrap();
    let table = Arc::new(EmbeddedTable::in_memory().unwrap());
    let files = Arc::new(DirFileStore::new(dir.path()));
    let service = Services::new(
        Ports::new(table, Arc::new(FixedClock::midday_today()), Arc::new(TimeOrderedIds)).with_files(files.clone()),
        Wiring::default(),
    )
    .imports()
    .unwrap();
    let district = DistrictId::parse("district-a").unwrap();
    let new = oneroster_import("sis", "on_upload", None);
    service.create_in(&district, new).await.unwrap();
    let key = "imports/district-a/sis/2026 roster.zip";
    files.put(key, RosterFixture::district(3).zip().into()).await.unwrap();

    let recorded: Value =
        serde_json::from_str(include_str!("../../functions/import-ingest/events/object-created.json"))
            .unwrap_or_default();
    let record_for = |key: &str| {
        let mut record = recorded["Records"][0].clone();
        record["s3"]["object"]["key"] = json!(key);
        record
    };
    let event = json!({"Records": [
        record_for("imports/district-a/sis/2026+roster.zip"),
        record_for("exports/cleanup.csv"),
        record_for("imports/district-a/unknown/x.zip"),
    ]});
    let event: S3Event = serde_json::from_value(event).unwrap();
    let report = schoolbell_import_ingest::handle(&service, event).await.unwrap();
    assert_eq!(report.handled, [key]);
    assert_eq!(report.skipped.len(), 2);
    let admin = Principal { subject: "a".into(), district, roles: vec![Role::DistrictAdmin], schools: vec![] };
    let runs = service.runs(&admin, "sis", 10).await.unwrap();
    assert_eq!(runs.first().map(|r| r.counts.students.added), Some(3));
}

#[tokio::test]
async fn a_mapped_flat_file_imports_students_contacts_and_plus_data() {
    let app = spawn_app().await;
    let admin = app.token("district-a", "district_admin", &[]);
    define(&app, &admin, json!({"name": "flat", "method": "mapped", "mapping": "schoolmessenger"})).await;
    let csv = "Student ID,Student First Name,Student Last Name,Grade,School,Contact First Name,Contact Last Name,Relationship,Messenger,Household ID,Home Phone,Work Phone,Cell Phone,Email,Language,Meal Balance,Bus Route\r\n\
               s-1,Leo,Diaz,5,sch-1,Ana,Diaz,Mother,Y,h-1,,,(617) 555-2345,ana@example.org,es,12.50,Route 7\r\n\
               s-1,Leo,Diaz,5,sch-1,Luis,Diaz,Father,N,h-1,(617) 555-3456,,,,es,12.50,Route 7\r\n\
               s-2,Mia,Diaz,3,sch-1,Ana,Diaz,Mother,Y,h-1,,,(617) 555-2345,ana@example.org,es,3.00,Route 7\r\n";
    let (status, answer) = app.put_file("/v1/imports/flat/file", &admin, "flat.csv", csv.as_bytes().to_vec()).await;
    assert_eq!(status, 200, "{answer}");
    let (status, run) = app.post("/v1/imports/flat/runs", Some(&admin), "").await;
    assert_eq!((status, run["state"].as_str()), (201, Some("applied")), "{run}");
    assert_eq!(counts(&run, "students"), [2, 0, 0, 0]);
    assert_eq!(counts(&run, "relationships")[0], 3, "{run}");
    assert_eq!(run["students_without_messenger"], 0);
    let profile = app
        .table
        .get(&schoolbell::ports::table::Key::new("D#district-a#P#s-1", "#PERSON"))
        .await
        .unwrap()
        .unwrap_or_default();
    assert_eq!(profile["plus"]["bus_route"], "Route 7", "{profile:?}");
    assert_eq!(profile["grade"], "05");
    app.stop().await;
}

/// An import service over an in-memory table and a directory, at 01:00 UTC
/// the night before a `daily 02:00` slot.
struct Scheduled {
    service: ImportService,
    clock: Arc<schoolbell::ports::FixedClock>,
    files: Arc<schoolbell::adapters::local::DirFileStore>,
    dir: tempfile::TempDir,
    district: DistrictId,
}

impl Scheduled {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(schoolbell::ports::FixedClock::new(at("2026-11-23T01:00:00Z")));
        let files = Arc::new(schoolbell::adapters::local::DirFileStore::new(dir.path()));
        let table = Arc::new(schoolbell::adapters::local::EmbeddedTable::in_memory().unwrap());
        let ports = Ports::new(table, clock.clone(), Arc::new(TimeOrderedIds)).with_files(files.clone());
        let service = Services::new(ports, Wiring::default()).imports().unwrap();
        Self { service, clock, files, dir, district: DistrictId::parse("district-a").unwrap() }
    }

    fn import(name: &str, schedule: Option<&str>) -> NewImport {
        oneroster_import(name, "scheduled", schedule)
    }
}

/// A OneRoster import definition with this trigger (and schedule).
fn oneroster_import(name: &str, trigger: &str, schedule: Option<&str>) -> NewImport {
    NewImport {
        name: name.into(),
        method: "oneroster".parse().unwrap(),
        trigger: trigger.parse().unwrap(),
        schedule: schedule.map(str::to_string),
        mapping: None,
        hold_threshold_percent: None,
    }
}

fn at(time: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(time).map(|t| t.to_utc()).unwrap()
}

#[tokio::test]
async fn a_scheduled_import_runs_once_per_slot_when_it_has_a_file() {
    let Scheduled { service, clock, files, district, .. } = Scheduled::new();
    let new = |schedule: Option<&str>| Scheduled::import("nightly", schedule);
    assert!(service.create_in(&district, new(Some("at 2am"))).await.is_err(), "a malformed schedule is refused");
    assert!(service.create_in(&district, new(None)).await.is_err(), "a scheduled import needs a schedule");
    service.create_in(&district, new(Some("daily 02:00"))).await.unwrap();
    assert!(service.run_due().await.unwrap().is_empty(), "no file yet");

    let key = upload_key(&district, &"nightly".parse().unwrap(), "roster.zip");
    files.put(&key, RosterFixture::district(2).zip().into()).await.unwrap();
    let (_, ran) = service.file_arrived(&key).await.unwrap();
    assert!(ran.is_none(), "a scheduled import waits for its slot");
    clock.set(at("2026-11-23T02:05:00Z"));
    let runs = service.run_due().await.unwrap();
    assert_eq!(runs.iter().map(|r| r.counts.students.added).collect::<Vec<_>>(), [2]);
    assert!(service.run_due().await.unwrap().is_empty(), "a slot runs once");
}

#[tokio::test]
async fn an_upload_by_someone_who_may_not_import_is_refused_before_its_body_is_read() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let app = spawn_app().await;
    let guardian = app.token("district-a", "guardian", &[]);
    let address = app.address.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    // Announces half a gigabyte and sends a few bytes of it: a server that
    // read the body before checking the caller would wait for the rest.
    let head = format!(
        "PUT /v1/imports/families/file HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {guardian}\r\n\
         X-File-Name: big.csv\r\nContent-Length: 536870000\r\n\r\nsourcedId,"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 1024];
    let read = tokio::time::timeout(std::time::Duration::from_secs(20), stream.read(&mut answer))
        .await
        .unwrap_or_else(|_| panic!("no answer while the body is still coming: it was being read"))
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..read]);
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    assert!(answer.contains("forbidden"), "{answer}");
    app.stop().await;
}

#[tokio::test]
async fn one_failing_scheduled_import_does_not_keep_the_others_from_running() {
    let Scheduled { service, clock, files, dir, district } = Scheduled::new();
    for name in ["nightly-a", "nightly-b"] {
        service.create_in(&district, Scheduled::import(name, Some("daily 02:00"))).await.unwrap();
        let key = upload_key(&district, &name.parse().unwrap(), "roster.zip");
        files.put(&key, RosterFixture::district(2).zip().into()).await.unwrap();
        service.file_arrived(&key).await.unwrap();
    }
    // The first import's file is gone from the store by the time its slot comes.
    std::fs::remove_file(dir.path().join(upload_key(&district, &"nightly-a".parse().unwrap(), "roster.zip"))).unwrap();
    clock.set(at("2026-11-23T02:05:00Z"));
    let runs = service.run_due().await.unwrap();
    assert_eq!(runs.iter().map(|r| r.import.as_str()).collect::<Vec<_>>(), ["nightly-b"], "b ran although a failed");
}
