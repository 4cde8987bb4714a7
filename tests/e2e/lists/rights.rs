//! Who may change a list, what a broadcast keeps of its lists, and whom a
//! teacher reaches: over HTTP on the list fixture district.

use std::collections::BTreeSet;

use schoolbell::ports::Clock as _;
use schoolbell_tests::app::TestApp;
use serde_json::{Value, json};

use super::{DISTRICT, create, district, id_of, people};

/// Every person a broadcast's deliveries name (the district admin reads them).
async fn reached(app: &TestApp, admin: &str, id: &str) -> BTreeSet<String> {
    let (status, page) = app.get(&format!("/v1/broadcasts/{id}/deliveries?limit=1000"), Some(admin)).await;
    assert_eq!(status, 200, "{page}");
    page["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| d["state"] != "skipped")
        .flat_map(|d| d["people"].as_array().cloned().unwrap_or_default())
        .filter_map(|p| p.as_str().map(str::to_string))
        .collect()
}

fn email_broadcast(reason: &str, audience: Value) -> Value {
    json!({"reason": reason, "channels": ["email"], "audience": audience,
           "content": {"email": {"subject": "Concert", "text": "The concert is on Friday."}}})
}

async fn broadcast(app: &TestApp, token: &str, body: &Value) -> String {
    let (status, created) = app.post("/v1/broadcasts", Some(token), &body.to_string()).await;
    assert_eq!(status, 202, "{created}");
    created["id"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn a_scheduled_broadcast_reaches_what_its_list_meant_when_it_was_accepted_and_a_viewer_cannot_delete_the_list() {
    let (app, admin) = district().await;
    let principal = app.token(DISTRICT, "school_admin", &["sch-1"]);
    let fourth = create(
        &app,
        &principal,
        json!({"name": "Lincoln 4 families", "target": "guardians", "rule": {"schools": ["sch-1"], "grades": ["4"]}}),
    )
    .await;
    let path = format!("/v1/lists/{}", id_of(&fourth));
    let at = app.clock.now() + chrono::Duration::hours(1);
    let mut body = email_broadcast("general", json!({"lists": [id_of(&fourth)]}));
    body["send_at"] = json!(at.to_rfc3339());
    let id = broadcast(&app, &principal, &body).await;

    let viewer = app.token(DISTRICT, "school_viewer", &["sch-1"]);
    let (status, refused) = app.delete(&path, &viewer).await;
    assert_eq!((status, refused["code"].as_str()), (403, Some("forbidden")), "{refused}");
    let emptied = json!({"name": "nobody", "target": "guardians", "excludes": ["st-31"], "rule": {"grades": ["12"]}});
    assert_eq!(app.put_json(&path, &viewer, &emptied.to_string()).await.0, 403);
    let adams = app.token(DISTRICT, "school_admin", &["sch-2"]);
    assert_eq!(app.delete(&path, &adams).await.0, 404, "a list they cannot see is not found");
    assert_eq!(app.get(&path, Some(&admin)).await.1["version"], 1, "nothing changed");

    let fifth =
        json!({"name": "Lincoln 5 families", "target": "guardians", "rule": {"schools": ["sch-1"], "grades": ["5"]}});
    let (status, changed) = app.put_json(&path, &admin, &fifth.to_string()).await;
    assert_eq!((status, changed["version"].as_u64()), (200, Some(2)), "{changed}");
    let (status, trail) = app.get(&format!("{path}/history"), Some(&admin)).await;
    assert_eq!(status, 200, "{trail}");
    let entry = &trail["changes"][0];
    assert_eq!(trail["changes"].as_array().map(Vec::len), Some(1), "{trail}");
    assert_eq!((entry["action"].as_str(), entry["by"].as_str()), (Some("updated"), Some("local-district_admin")));
    assert_eq!(entry["before"]["rule"]["grades"], json!(["04"]), "the entry keeps what the list was");
    assert_eq!(app.get(&format!("{path}/history"), Some(&viewer)).await.0, 403, "a viewer cannot read it");

    app.clock.set(at);
    assert_eq!(app.tick().await, 1);
    assert_eq!(reached(&app, &admin, &id).await, people("pa", 31..=40), "fourth-grade families, as accepted");

    assert_eq!(app.delete(&path, &principal).await.0, 204, "the owner deletes their list");
    let (_, report) = app.get(&format!("/v1/broadcasts/{id}"), Some(&admin)).await;
    assert_eq!(report["progress"], "complete", "{report}");
    app.stop().await;
}

#[tokio::test]
async fn a_broadcast_kept_its_list_even_when_the_list_is_deleted_before_it_goes() {
    let (app, admin) = district().await;
    let list =
        create(&app, &admin, json!({"name": "Adams", "target": "guardians", "rule": {"schools": ["sch-2"]}})).await;
    let at = app.clock.now() + chrono::Duration::hours(1);
    let mut body = email_broadcast("general", json!({"lists": [id_of(&list)]}));
    body["send_at"] = json!(at.to_rfc3339());
    let id = broadcast(&app, &admin, &body).await;
    assert_eq!(app.delete(&format!("/v1/lists/{}", id_of(&list)), &admin).await.0, 204);
    app.clock.set(at);
    assert_eq!(app.tick().await, 1);
    assert_eq!(reached(&app, &admin, &id).await, people("pa", 41..=50));
    app.stop().await;
}

#[tokio::test]
async fn a_teacher_s_teacher_broadcast_reaches_only_their_own_sections_families_whatever_the_list() {
    let (app, admin) = district().await;
    let everyone = create(
        &app,
        &admin,
        json!({"name": "Lincoln families", "target": "guardians", "rule": {"schools": ["sch-1"]}}),
    )
    .await;
    let tess = teacher_token(&app);

    let id = broadcast(&app, &tess, &email_broadcast("teacher", json!({"lists": [id_of(&everyone)]}))).await;
    app.drain().await;
    let mine: BTreeSet<String> = people("pa", (1..=10).chain(36..=38));
    assert_eq!(reached(&app, &admin, &id).await, mine, "the families of Tess's sections sec-a and sec-d only");
    app.stop().await;
}

#[tokio::test]
async fn a_teacher_s_lists_are_bound_to_their_own_sections() {
    let (app, _) = district().await;
    let tess = teacher_token(&app);
    let list = create(&app, &tess, json!({"name": "My fifth", "target": "guardians", "rule": {"grades": ["5"]}})).await;
    assert_eq!(list["rule"]["teacher"], "t-1", "a teacher's list is bound to their sections: {list}");
    let members = super::members(&app, &tess, &id_of(&list), 50).await;
    assert_eq!(super::ids(&members, "guardian"), people("pa", 1..=10), "fifth graders of sec-a; sec-d is fourth grade");
    for refused in [
        json!({"name": "Staff", "target": "staff"}),
        json!({"name": "Music", "target": "guardians", "rule": {"teacher": "t-2"}}),
        json!({"name": "Parents", "target": "guardians", "rule": {"role": "guardian"}}),
    ] {
        let (status, error) = app.post("/v1/lists", Some(&tess), &refused.to_string()).await;
        assert_eq!((status, error["code"].as_str()), (403, Some("forbidden")), "{refused}: {error}");
    }
    let (status, error) = app
        .post("/v1/lists", Some(&tess), &json!({"name": "n", "target": "guardians", "includes": ["st-20"]}).to_string())
        .await;
    assert_eq!(status, 422, "a student of another class: {error}");
    app.stop().await;
}

/// A token for teacher Tess (`t-1`) at Lincoln.
fn teacher_token(app: &TestApp) -> String {
    schoolbell_local::token::mint(
        &app.data,
        &schoolbell_local::token::TokenRequest {
            district: DISTRICT.into(),
            roles: vec!["teacher".into()],
            person: Some("t-1".into()),
            schools: vec!["sch-1".into()],
            hours: 1,
        },
    )
    .unwrap_or_else(|e| panic!("token: {e}"))
}
