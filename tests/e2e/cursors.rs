//! Page cursors over HTTP: sealed with the deployment's key, so they reveal
//! no key (nor the number a deliveries page masks), cannot be altered, and
//! are refused by another district, another broadcast or another kind of
//! page; paging with them still walks every item once.

use std::collections::BTreeSet;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use schoolbell_tests::app::{TestApp, spawn_family_district};
use serde_json::{Value, json};

const D: &str = "district-a";
const OTHER: &str = "district-b";

/// Texting consent for the fixture's messenger guardians, in `district`.
async fn consent(app: &TestApp, admin: &str) {
    for guardian in ["c-ana", "c-kim"] {
        let body = json!({"channels": {"text": {"emergency": true, "general": true}},
            "consent": {"source": "paper form", "at": "2026-09-01T12:00:00Z"}});
        let (status, answer) =
            app.put_json(&format!("/v1/people/{guardian}/preferences"), admin, &body.to_string()).await;
        assert_eq!(status, 200, "{answer}");
    }
}

/// Sends an emergency text and email to every guardian and runs the queues; answers its id.
async fn broadcast(app: &TestApp, admin: &str) -> String {
    let body = json!({
        "reason": "emergency", "emergency": true, "channels": ["text", "email"],
        "content": {"sms": "School is closed today.", "email": {"subject": "Closed", "text": "Closed today."}},
        "audience": {"rule": {}, "target": "guardians"}
    });
    let (status, created) = app.post("/v1/broadcasts", Some(admin), &body.to_string()).await;
    assert_eq!(status, 202, "{created}");
    app.drain().await;
    created["id"].as_str().unwrap_or_default().to_string()
}

/// The family district with one settled broadcast: (app, admin token, broadcast id).
async fn sent() -> (TestApp, String, String) {
    let (app, admin) = spawn_family_district(D).await;
    consent(&app, &admin).await;
    let id = broadcast(&app, &admin).await;
    (app, admin, id)
}

fn delivery_key(item: &Value) -> (String, String) {
    (item["channel"].as_str().unwrap_or_default().into(), item["to"].as_str().unwrap_or_default().into())
}

/// Every delivery, one page of `limit` at a time; and the cursors handed out.
async fn walk(app: &TestApp, token: &str, id: &str, limit: u32) -> (Vec<(String, String)>, Vec<String>) {
    let (mut seen, mut cursors) = (Vec::new(), Vec::new());
    let mut path = format!("/v1/broadcasts/{id}/deliveries?limit={limit}");
    loop {
        let (status, page) = app.get(&path, Some(token)).await;
        assert_eq!(status, 200, "{page}");
        seen.extend(page["items"].as_array().into_iter().flatten().map(delivery_key));
        match page["next"].as_str() {
            Some(next) => {
                cursors.push(next.to_string());
                path = format!("/v1/broadcasts/{id}/deliveries?limit={limit}&cursor={next}");
            }
            None => return (seen, cursors),
        }
    }
}

fn assert_refused(status: u16, error: &Value) {
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["code"], "invalid", "{error}");
    assert!(error["message"].as_str().is_some_and(|m| m.contains("cursor")), "{error}");
}

#[tokio::test]
async fn a_deliveries_cursor_reveals_no_number_and_paging_walks_every_delivery_once() {
    let (app, admin, id) = sent().await;
    let (everything, _) = walk(&app, &admin, &id, 1000).await;
    assert!(everything.len() >= 4, "texts and emails: {everything:?}");
    let (paged, cursors) = walk(&app, &admin, &id, 1).await;
    assert_eq!(paged, everything, "one at a time, in the same order");
    assert_eq!(paged.iter().collect::<BTreeSet<_>>().len(), paged.len(), "no delivery twice");
    let numbers: Vec<String> = everything
        .iter()
        .filter(|(channel, _)| channel == "text")
        .map(|(_, to)| to.chars().filter(char::is_ascii_digit).collect())
        .collect();
    assert!(!numbers.is_empty(), "{everything:?}");
    for cursor in &cursors {
        let decoded = URL_SAFE_NO_PAD.decode(cursor).map(|b| String::from_utf8_lossy(&b).into_owned());
        let decoded = decoded.unwrap_or_default();
        for digits in &numbers {
            let tail = &digits[digits.len().saturating_sub(7)..];
            assert!(!cursor.contains(tail) && !decoded.contains(tail), "cursor {cursor} reveals {digits}");
        }
        assert!(!decoded.contains("DLV#") && !decoded.contains("@example.org"), "cursor {cursor} is a key");
    }
    app.stop().await;
}

#[tokio::test]
async fn an_altered_deliveries_cursor_is_refused_with_400() {
    let (app, admin, id) = sent().await;
    let (_, page) = app.get(&format!("/v1/broadcasts/{id}/deliveries?limit=1"), Some(&admin)).await;
    let next = page["next"].as_str().unwrap_or_default().to_string();
    assert!(!next.is_empty(), "{page}");
    let mut bytes = URL_SAFE_NO_PAD.decode(&next).unwrap_or_default();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 1;
    for altered in [URL_SAFE_NO_PAD.encode(&bytes), format!("{next}A"), "%25%25".to_string()] {
        let (status, error) =
            app.get(&format!("/v1/broadcasts/{id}/deliveries?limit=1&cursor={altered}"), Some(&admin)).await;
        assert_refused(status, &error);
    }
    app.stop().await;
}

#[tokio::test]
async fn a_cursor_is_refused_by_another_district_another_broadcast_and_another_kind_of_page() {
    let (app, admin, id) = sent().await;
    let (_, page) = app.get(&format!("/v1/broadcasts/{id}/deliveries?limit=1"), Some(&admin)).await;
    let next = page["next"].as_str().unwrap_or_default().to_string();
    let second = broadcast(&app, &admin).await;
    let other_admin = app.import_families(OTHER).await;
    consent(&app, &other_admin).await;
    let theirs = broadcast(&app, &other_admin).await;
    let (status, answer) = app.get(&format!("/v1/broadcasts/{theirs}/deliveries?limit=1"), Some(&other_admin)).await;
    assert_eq!((status, answer["next"].is_string()), (200, true), "the other district pages too: {answer}");

    let (status, error) =
        app.get(&format!("/v1/broadcasts/{theirs}/deliveries?cursor={next}"), Some(&other_admin)).await;
    assert_refused(status, &error);
    let (status, error) = app.get(&format!("/v1/broadcasts/{second}/deliveries?cursor={next}"), Some(&admin)).await;
    assert_refused(status, &error);
    let (status, error) = app.get(&format!("/v1/contact-cleanup?cursor={next}"), Some(&admin)).await;
    assert_refused(status, &error);
    let list = json!({"name": "everyone", "target": "students_and_guardians", "rule": {}});
    let (status, created) = app.post("/v1/lists", Some(&admin), &list.to_string()).await;
    assert_eq!(status, 201, "{created}");
    let list = created["id"].as_str().unwrap_or_default();
    let (status, error) = app.get(&format!("/v1/lists/{list}/members?cursor={next}"), Some(&admin)).await;
    assert_refused(status, &error);
    app.stop().await;
}

#[tokio::test]
async fn a_members_cursor_pages_its_own_list_only() {
    let (app, admin) = spawn_family_district(D).await;
    let mut ids = Vec::new();
    for name in ["one", "two"] {
        let list = json!({"name": name, "target": "students_and_guardians", "rule": {}});
        let (status, created) = app.post("/v1/lists", Some(&admin), &list.to_string()).await;
        assert_eq!(status, 201, "{created}");
        ids.push(created["id"].as_str().unwrap_or_default().to_string());
    }
    let (_, page) = app.get(&format!("/v1/lists/{}/members?limit=1", ids[0]), Some(&admin)).await;
    let next = page["cursor"].as_str().unwrap_or_default().to_string();
    assert!(!next.is_empty(), "{page}");
    let decoded = URL_SAFE_NO_PAD.decode(&next).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    let first = page["members"][0]["id"].as_str().unwrap_or_default();
    assert!(!decoded.contains(first), "the cursor names no person: {decoded}");
    let (status, _) = app.get(&format!("/v1/lists/{}/members?limit=1&cursor={next}", ids[0]), Some(&admin)).await;
    assert_eq!(status, 200);
    let (status, error) = app.get(&format!("/v1/lists/{}/members?cursor={next}", ids[1]), Some(&admin)).await;
    assert_refused(status, &error);
    app.stop().await;
}
