//! The contact clean-up list over HTTP: rows from the not-Ok index joined to
//! contacts and their students, filters, scope, paging, CSV, and how it
//! corrects itself.

use chrono::{DateTime, Utc};
use schoolbell::domain::{DistrictId, PhoneNumber, SmsStatus};
use schoolbell::store::{NumberStatus, SmsStatusStore};
use schoolbell_tests::app::{TestApp, spawn_app};
use schoolbell_tests::family_fixture::{CSV, MAPPING};
use schoolbell_tests::roster_fixture::RosterFixture;
use serde_json::{Value, json};

const D: &str = "district-a";

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).map(|t| t.to_utc()).unwrap()
}

async fn mark(app: &TestApp, number: &str, status: SmsStatus, when: &str) -> bool {
    let store = SmsStatusStore::new(app.table.clone());
    let district = DistrictId::parse(D).unwrap();
    let event = NumberStatus {
        number: PhoneNumber::parse_e164(number).unwrap(),
        status,
        last_event_at: at(when),
        last_event: format!("test:{status}"),
    };
    store.record(&district, &event, &uuid::Uuid::new_v4().to_string()).await.unwrap()
}

async fn district() -> (TestApp, String) {
    let app = spawn_app().await;
    let admin = app.token(D, "district_admin", &[]);
    let definition = json!({"name": "families", "method": "mapped", "mapping": MAPPING});
    assert_eq!(app.post("/v1/imports", Some(&admin), &definition.to_string()).await.0, 201);
    assert_eq!(app.put_file("/v1/imports/families/file", &admin, "f.csv", CSV.as_bytes().to_vec()).await.0, 200);
    assert_eq!(app.post("/v1/imports/families/runs", Some(&admin), "").await.0, 201);
    assert!(mark(&app, "+16175552345", SmsStatus::Landline, "2026-11-20T10:00:00Z").await);
    assert!(mark(&app, "+16175553000", SmsStatus::Blocked, "2026-11-20T10:00:00Z").await);
    assert!(mark(&app, "+16175552347", SmsStatus::OptOut, "2026-11-20T10:00:00Z").await);
    (app, admin)
}

fn rows(page: &Value) -> Vec<(String, String, String)> {
    page["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|i| {
                    (
                        i["student"].as_str().unwrap_or("").into(),
                        i["contact"].as_str().unwrap_or("").into(),
                        i["status"].as_str().unwrap_or("").into(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn the_list_shows_each_student_with_each_contact_that_cannot_be_texted() {
    let (app, admin) = district().await;
    let (status, page) = app.get("/v1/contact-cleanup", Some(&admin)).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(rows(&page).len(), 6, "{page}");
    let first = &page["items"][0];
    for key in
        ["student", "grade", "school", "contact", "relationship", "number", "status", "severity", "last_event_at"]
    {
        assert!(first.get(key).is_some(), "{key} in {first}");
    }
    let sam: Vec<_> = rows(&page).into_iter().filter(|(s, _, _)| s == "Sam Lee").collect();
    assert_eq!(sam, [("Sam Lee".to_string(), "Kim Lee".to_string(), "opt_out".to_string())]);
    assert!(
        page["items"]
            .as_array()
            .is_some_and(|items| items.iter().any(|i| i["status"] == "landline" && i["severity"] == "yellow"))
    );
    assert!(page["next"].is_null());
    app.stop().await;
}

#[tokio::test]
async fn filters_narrow_by_status_grade_name_teacher_and_scope() {
    let (app, admin) = district().await;
    assert_eq!(rows(&app.get("/v1/contact-cleanup?status=landline", Some(&admin)).await.1).len(), 2);
    assert_eq!(rows(&app.get("/v1/contact-cleanup?status=landline,opt_out", Some(&admin)).await.1).len(), 3);
    assert_eq!(rows(&app.get("/v1/contact-cleanup?grade=3", Some(&admin)).await.1).len(), 2, "Mia's two rows");
    assert_eq!(rows(&app.get("/v1/contact-cleanup?student=sam", Some(&admin)).await.1).len(), 1);
    assert_eq!(rows(&app.get("/v1/contact-cleanup?teacher=t-nobody", Some(&admin)).await.1).len(), 0);
    let other_school = app.token(D, "school_admin", &["sch-2"]);
    assert_eq!(rows(&app.get("/v1/contact-cleanup", Some(&other_school)).await.1).len(), 1, "only sch-2's students");
    let teacher = app.token(D, "teacher", &["sch-1"]);
    assert_eq!(app.get("/v1/contact-cleanup", Some(&teacher)).await.0, 403);
    assert_eq!(app.get("/v1/contact-cleanup?status=sleepy", Some(&admin)).await.0, 422);
    app.stop().await;
}

#[tokio::test]
async fn pages_and_the_csv_download_hold_every_row() {
    let (app, admin) = district().await;
    let mut seen = Vec::new();
    let mut path = "/v1/contact-cleanup?limit=4".to_string();
    loop {
        let (_, page) = app.get(&path, Some(&admin)).await;
        seen.extend(rows(&page));
        match page["next"].as_str() {
            Some(next) => path = format!("/v1/contact-cleanup?limit=4&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 6);
    let (status, csv) = app.get("/v1/contact-cleanup?format=csv", Some(&admin)).await;
    assert_eq!(status, 200);
    let text = csv.as_str().unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.first().copied(),
        Some("student,grade,school,contact,relationship,number,status,severity,last_event_at")
    );
    assert_eq!(lines.len(), 7, "{text}");
    app.stop().await;
}

#[tokio::test]
async fn a_good_delivery_clears_a_number_and_an_older_event_changes_nothing() {
    let (app, admin) = district().await;
    assert!(!mark(&app, "+16175552345", SmsStatus::Ok, "2026-11-19T10:00:00Z").await, "an older event is ignored");
    assert_eq!(rows(&app.get("/v1/contact-cleanup?status=landline", Some(&admin)).await.1).len(), 2);
    assert!(mark(&app, "+16175552345", SmsStatus::Ok, "2026-11-21T10:00:00Z").await);
    assert_eq!(rows(&app.get("/v1/contact-cleanup?status=landline", Some(&admin)).await.1).len(), 0);
    assert_eq!(rows(&app.get("/v1/contact-cleanup", Some(&admin)).await.1).len(), 4);
    app.stop().await;
}

#[tokio::test]
async fn a_corrected_number_from_the_sis_drops_the_old_status_by_itself() {
    let (app, admin) = district().await;
    let corrected = CSV.replace("(617) 555-2347", "(617) 555-2399");
    assert_eq!(app.put_file("/v1/imports/families/file", &admin, "f2.csv", corrected.into_bytes()).await.0, 200);
    let (_, run) = app.post("/v1/imports/families/runs", Some(&admin), "").await;
    assert_eq!(run["state"], "applied", "{run}");
    let (_, page) = app.get("/v1/contact-cleanup?student=sam", Some(&admin)).await;
    assert_eq!(rows(&page).len(), 0, "Kim's new number has no bad status: {page}");
    app.stop().await;
}

#[tokio::test]
async fn a_made_up_cursor_is_refused_and_a_real_one_is_not_an_offset() {
    let (app, admin) = district().await;
    // What a caller could make of an offset cursor: the largest offset there is.
    for offset in [u64::MAX.to_string(), "999999".to_string(), "1".to_string()] {
        let cursor = base64_url(&offset);
        let (status, error) = app.get(&format!("/v1/contact-cleanup?cursor={cursor}"), Some(&admin)).await;
        assert_eq!((status, error["code"].as_str()), (400, Some("invalid")), "{error}");
    }
    let (_, page) = app.get("/v1/contact-cleanup?limit=1", Some(&admin)).await;
    let next = page["next"].as_str().unwrap_or_default();
    assert!(next.len() > 16, "a sealed cursor: {page}");
    let (status, second) = app.get(&format!("/v1/contact-cleanup?limit=1&cursor={next}"), Some(&admin)).await;
    assert_eq!((status, rows(&second).len()), (200, 1), "{second}");
    app.stop().await;
}

/// Students past the CSV's old page of 1000 rows, each with a parent whose number is a landline.
const MANY: usize = 1001;

#[tokio::test]
async fn the_csv_download_reads_the_list_once_however_many_pages_it_holds() {
    let app = spawn_app().await;
    let admin = app.token(D, "district_admin", &[]);
    let fixture = RosterFixture::district(MANY);
    let definition = json!({"name": "sis", "method": "oneroster"});
    assert_eq!(app.post("/v1/imports", Some(&admin), &definition.to_string()).await.0, 201);
    assert_eq!(app.put_file("/v1/imports/sis/file", &admin, "roster.zip", fixture.zip()).await.0, 200);
    let (status, run) = app.post("/v1/imports/sis/runs", Some(&admin), "").await;
    assert_eq!((status, run["state"].as_str()), (201, Some("applied")), "{run}");
    for student in &fixture.students {
        let number = PhoneNumber::parse(&student.parent_sms, schoolbell::domain::Region::US).unwrap();
        assert!(mark(&app, number.as_e164(), SmsStatus::Landline, "2026-11-20T10:00:00Z").await);
    }
    let reads = || app.table.stats().read_requests;

    let before = reads();
    let (status, page) = app.get("/v1/contact-cleanup?limit=1", Some(&admin)).await;
    assert_eq!((status, rows(&page).len()), (200, 1), "{page}");
    let one_page = reads() - before;

    let before = reads();
    let (status, csv) = app.get("/v1/contact-cleanup?format=csv", Some(&admin)).await;
    assert_eq!(status, 200);
    assert_eq!(csv.as_str().unwrap_or_default().lines().count(), MANY + 1, "a header and every row");
    let download = reads() - before;
    assert!(download <= one_page + one_page / 10, "the CSV read {download} times, one page {one_page}");
    app.stop().await;
}

fn base64_url(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}
