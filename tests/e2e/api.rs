//! The people API over real HTTP, through auth, the port and the store.

use schoolbell_tests::app::spawn_app;
use serde_json::json;

const ANA: &str = r#"{"id": "g-1", "role": "guardian", "given_name": "Ana", "family_name": "Diaz",
    "contacts": [{"channel": "cell_phone", "value": "(617) 555-0199"}, {"channel": "email", "value": "Ana@Example.org"}]}"#;

#[tokio::test]
async fn the_gateway_answers_health_checks() {
    let app = spawn_app().await;
    assert_eq!(app.get("/healthz", None).await, (200, json!({"status": "ok"})));
    app.stop().await;
}

#[tokio::test]
async fn an_admin_creates_a_person_and_reads_it_back_normalized() {
    let app = spawn_app().await;
    let admin = app.token("district-a", "district_admin", &[]);
    let (status, created) = app.post("/v1/people", Some(&admin), ANA).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(
        created["contacts"],
        json!([
            {"channel": "cell_phone", "value": "+16175550199"},
            {"channel": "email", "value": "ana@example.org"}
        ])
    );
    assert_eq!(app.get("/v1/people/g-1", Some(&admin)).await, (200, created));
    app.stop().await;
}

#[tokio::test]
async fn calls_without_a_valid_token_are_unauthorized() {
    let app = spawn_app().await;
    let (status, error) = app.get("/v1/people/g-1", None).await;
    assert_eq!((status, error["code"].as_str()), (401, Some("unauthorized")));
    let (status, _) = app.get("/v1/people/g-1", Some("not-a-jwt")).await;
    assert_eq!(status, 401);
    let foreign = spawn_app().await.token("district-a", "district_admin", &[]);
    assert_eq!(app.get("/v1/people/g-1", Some(&foreign)).await.0, 401, "a token of another secret is refused");
    app.stop().await;
}

#[tokio::test]
async fn another_district_cannot_read_the_person() {
    let app = spawn_app().await;
    let a = app.token("district-a", "district_admin", &[]);
    let b = app.token("district-b", "district_admin", &[]);
    assert_eq!(app.post("/v1/people", Some(&a), ANA).await.0, 201);
    let (status, error) = app.get("/v1/people/g-1", Some(&b)).await;
    assert_eq!((status, error["code"].as_str()), (404, Some("not_found")));
    assert_eq!(app.post("/v1/people", Some(&b), ANA).await.0, 201, "ids are per district");
    app.stop().await;
}

#[tokio::test]
async fn creating_the_same_person_twice_conflicts() {
    let app = spawn_app().await;
    let admin = app.token("district-a", "district_admin", &[]);
    assert_eq!(app.post("/v1/people", Some(&admin), ANA).await.0, 201);
    let (status, error) = app.post("/v1/people", Some(&admin), ANA).await;
    assert_eq!((status, error["code"].as_str()), (409, Some("conflict")));
    app.stop().await;
}

#[tokio::test]
async fn bad_input_gets_a_json_error_never_a_500() {
    let app = spawn_app().await;
    let admin = app.token("district-a", "district_admin", &[]);
    let cases = [
        ("{\"id\": ", 400),
        ("[]", 422),
        (r#"{"id": "g-2", "role": "guardian", "given_name": "A", "family_name": "B", "shoe_size": 9}"#, 422),
        (
            r#"{"id": "g-2", "role": "guardian", "given_name": "A", "family_name": "B", "contacts": [{"channel": "cell_phone", "value": "555"}]}"#,
            422,
        ),
        (r#"{"id": "g-2", "role": "wizard", "given_name": "A", "family_name": "B"}"#, 422),
        (
            r#"{"id": "g-2", "role": "guardian", "given_name": "A", "family_name": "B", "contacts": [{"channel": "fax", "value": "1"}]}"#,
            422,
        ),
    ];
    for (body, expected) in cases {
        let (status, error) = app.post("/v1/people", Some(&admin), body).await;
        assert_eq!(status, expected, "{body}: {error}");
        assert!(error["code"].is_string() && error["message"].is_string(), "{body}: {error}");
    }
    let wrong_type = app
        .client
        .post(format!("{}/v1/people", app.address))
        .bearer_auth(&admin)
        .header("content-type", "text/plain")
        .body(ANA)
        .send()
        .await
        .map(|r| r.status().as_u16());
    assert_eq!(wrong_type.ok(), Some(415));
    app.stop().await;
}

#[tokio::test]
async fn a_school_admin_works_only_within_their_schools() {
    let app = spawn_app().await;
    let admin = app.token("district-a", "school_admin", &["s-1"]);
    let in_school =
        r#"{"id": "st-1", "role": "student", "given_name": "Leo", "family_name": "Diaz", "schools": ["s-1"]}"#;
    let elsewhere =
        r#"{"id": "st-2", "role": "student", "given_name": "Mia", "family_name": "Diaz", "schools": ["s-2"]}"#;
    assert_eq!(app.post("/v1/people", Some(&admin), in_school).await.0, 201);
    assert_eq!(app.post("/v1/people", Some(&admin), elsewhere).await.0, 403);
    let district = app.token("district-a", "district_admin", &[]);
    assert_eq!(app.post("/v1/people", Some(&district), elsewhere).await.0, 201);
    assert_eq!(app.get("/v1/people/st-2", Some(&admin)).await.0, 404, "as if st-2 did not exist");
    let viewer = app.token("district-a", "school_viewer", &["s-1"]);
    assert_eq!(app.get("/v1/people/st-1", Some(&viewer)).await.0, 200);
    app.stop().await;
}
