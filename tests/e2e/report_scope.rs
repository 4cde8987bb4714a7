//! Who sees which numbers in a delivery report: contacts are unmasked per
//! delivery, for callers who may see contacts in the school of the
//! delivery's people (a guardian's through their students).

use schoolbell_tests::app::TestApp;
use serde_json::json;

const D: &str = "district-scope";
/// Ana's cell: her children are at sch-1.
const ANA: &str = "+16175552345";
/// Kim's cell: her son is at sch-2.
const KIM: &str = "+16175552347";

/// The deliveries of `id` as `token` reads them: the JSON page and the CSV.
async fn deliveries(app: &TestApp, token: &str, id: &str) -> (String, String) {
    let (status, page) = app.get(&format!("/v1/broadcasts/{id}/deliveries"), Some(token)).await;
    assert_eq!(status, 200, "{page}");
    let csv = app
        .client
        .get(format!("{}/v1/broadcasts/{id}/deliveries", app.address))
        .bearer_auth(token)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    (page.to_string(), csv.text().await.unwrap_or_default())
}

#[tokio::test]
async fn a_two_school_report_unmasks_only_the_families_of_the_callers_school() {
    let (app, admin) = schoolbell_tests::app::spawn_family_district(D).await;
    let emergency = json!({
        "reason": "emergency", "emergency": true, "channels": ["text"],
        "content": {"sms": "School is closed today."},
        "audience": {"rule": {"schools": ["sch-1", "sch-2"]}, "target": "guardians"}
    });
    let (status, created) = app.post("/v1/broadcasts", Some(&admin), &emergency.to_string()).await;
    assert_eq!(status, 202, "{created}");
    let id = created["id"].as_str().unwrap_or_default().to_string();
    app.drain().await;

    let (page, csv) = deliveries(&app, &admin, &id).await;
    assert!(page.contains(ANA) && page.contains(KIM) && csv.contains(ANA) && csv.contains(KIM), "{page}\n{csv}");

    let viewer = app.token(D, "school_viewer", &["sch-1"]);
    let (page, csv) = deliveries(&app, &viewer, &id).await;
    assert!(page.contains(ANA) && csv.contains(ANA), "sch-1's families unmasked: {page}\n{csv}");
    assert!(!page.contains(KIM) && !csv.contains(KIM), "sch-2's family stays masked: {page}\n{csv}");
    assert!(page.contains("c-kim") && csv.contains("c-kim"), "the delivery itself is listed");

    let sender = app.token(D, "school_admin", &["sch-2"]);
    let (page, csv) = deliveries(&app, &sender, &id).await;
    assert!(page.contains(KIM) && !page.contains(ANA) && csv.contains(KIM) && !csv.contains(ANA), "{page}\n{csv}");
    app.stop().await;
}
