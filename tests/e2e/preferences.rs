//! Preferences over HTTP: the contract shape, self-service and admin rules,
//! text consent, household propagation, the batch tool's grid, and the AWS
//! path on moto.

use schoolbell_tests::app::TestApp;
use serde_json::{Value, json};

const D: &str = "district-a";

async fn district() -> (TestApp, String) {
    schoolbell_tests::app::spawn_family_district(D).await
}

async fn batch(app: &TestApp, token: &str, body: Value) -> (u16, Value) {
    app.post("/v1/preferences/batch", Some(token), &body.to_string()).await
}

#[tokio::test]
async fn a_person_reads_their_channels_with_defaults_in_the_contract_shape() {
    let (app, admin) = district().await;
    let (status, view) = app.get("/v1/people/c-ana/preferences", Some(&admin)).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["person"], "c-ana");
    let channels: Vec<&str> =
        view["channels"].as_object().map(|m| m.keys().map(String::as_str).collect()).unwrap_or_default();
    assert_eq!(channels, ["cell_phone", "email", "household_phone", "text"], "only the channels she has");
    assert_eq!(view["channels"]["email"]["emergency"], json!({"on": true, "source": "default", "updated_at": null}));
    assert_eq!(view["channels"]["text"]["general"]["on"], false, "texts are never on by default");
    assert_eq!(view["channels"]["cell_phone"].as_object().map(|m| m.len()), Some(8), "every reason");
    app.stop().await;
}

#[tokio::test]
async fn a_parent_sets_her_own_and_texts_need_her_or_a_recorded_consent() {
    let (app, admin) = district().await;
    let ana = app.person_token(D, "guardian", "c-ana");
    let (status, view) = app
        .put_json(
            "/v1/me/preferences",
            &ana,
            r#"{"channels": {"text": {"general": true}, "email": {"general": false}}}"#,
        )
        .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["channels"]["text"]["general"]["source"], "self");
    assert_eq!(view["text_consent"]["source"], "self");
    assert_eq!(view["channels"]["email"]["general"]["on"], false);

    let (status, error) =
        app.put_json("/v1/people/c-kim/preferences", &admin, r#"{"channels": {"text": {"attendance": true}}}"#).await;
    assert_eq!((status, error["code"].as_str()), (422, Some("invalid")), "an admin needs a recorded consent: {error}");
    let with_consent = r#"{"channels": {"text": {"attendance": true}}, "consent": {"source": "paper form", "at": "2026-09-01T12:00:00Z"}}"#;
    let (status, view) = app.put_json("/v1/people/c-kim/preferences", &admin, with_consent).await;
    assert_eq!((status, view["channels"]["text"]["attendance"]["source"].as_str()), (200, Some("admin")), "{view}");
    assert_eq!(view["text_consent"]["source"], "paper form");

    let (status, _) = app
        .put_json("/v1/people/c-kim/preferences", &admin, r#"{"channels": {"work_phone": {"general": true}}}"#)
        .await;
    assert_eq!(status, 422, "a channel she does not have");
    let (status, _) =
        app.put_json("/v1/people/c-kim/preferences", &admin, r#"{"channels": {"email": {"gossip": true}}}"#).await;
    assert_eq!(status, 422, "an unknown reason");
    let (status, _) =
        app.put_json("/v1/people/c-kim/preferences", &ana, r#"{"channels": {"email": {"general": true}}}"#).await;
    assert_eq!(status, 404, "a parent changes only her own, and sees nobody else");

    let (_, history) = app.get("/v1/people/c-ana/preferences/history", Some(&admin)).await;
    let cells = &history["changes"][0]["cells"];
    assert!(
        cells
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["channel"] == "email" && c["from"] == true && c["to"] == false)),
        "{history}"
    );
    assert_eq!(history["changes"][0]["source"], "self");
    app.stop().await;
}

#[tokio::test]
async fn household_phone_settings_reach_every_member_of_the_household() {
    let (app, admin) = district().await;
    let (status, _) = app
        .put_json("/v1/people/c-ana/preferences", &admin, r#"{"channels": {"household_phone": {"general": true}}}"#)
        .await;
    assert_eq!(status, 200);
    let (_, luis) = app.get("/v1/people/c-luis/preferences", Some(&admin)).await;
    assert_eq!(luis["channels"]["household_phone"]["general"]["on"], true, "{luis}");
    let (_, kim) = app.get("/v1/people/c-kim/preferences", Some(&admin)).await;
    assert!(kim["channels"]["household_phone"].is_null(), "another household is untouched");
    app.stop().await;
}

#[tokio::test]
async fn the_batch_tool_answers_its_grid_and_a_rerun_changes_nothing() {
    let (app, admin) = district().await;
    let request = json!({"mode": "student_contacts", "filter": {"school": "sch-1", "grade": "05"},
        "cells": {"behavior": {"cell_phone": "on", "email": "on", "work_phone": "on", "household_phone": "no_change"}}});
    let (status, result) = batch(&app, &admin, request.clone()).await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["matched_people"], 1, "Luis is not a messenger contact: {result}");
    assert_eq!(result["grid"]["behavior"]["cell_phone"], 1);
    assert_eq!(result["grid"]["behavior"]["email"], 0, "already on by default");
    assert_eq!(result["grid"]["behavior"]["work_phone"], 0, "nobody has one");
    assert_eq!(result["grid"]["behavior"]["household_phone"], "no_change");
    assert_eq!(result["grid"]["general"]["email"], "no_change");
    assert_eq!(result["grid"].as_object().map(|m| m.len()), Some(8));
    assert_eq!(result["grid"]["emergency"].as_object().map(|m| m.len()), Some(7));

    let writes = app.table.stats().items_written;
    let (_, again) = batch(&app, &admin, request).await;
    assert_eq!(again["grid"]["behavior"]["cell_phone"], 0);
    assert_eq!(app.table.stats().items_written, writes, "a rerun writes nothing");
    app.stop().await;
}

#[tokio::test]
async fn a_dry_run_counts_without_writing_and_text_is_refused_in_batch() {
    let (app, admin) = district().await;
    let writes = app.table.stats().items_written;
    let (status, result) =
        batch(&app, &admin, json!({"mode": "students", "cells": {"general": {"email": "off"}}, "dry_run": true})).await;
    assert_eq!((status, result["matched_people"].as_u64()), (200, Some(3)), "{result}");
    assert_eq!(app.table.stats().items_written, writes, "a dry run writes nothing");
    let (status, error) =
        batch(&app, &admin, json!({"mode": "student_contacts", "cells": {"general": {"text": "on"}}})).await;
    assert_eq!((status, error["code"].as_str()), (422, Some("invalid")), "{error}");
    assert!(error["message"].as_str().is_some_and(|m| m.contains("text")));
    let (status, _) =
        batch(&app, &admin, json!({"mode": "student_contacts", "cells": {"general": {"text": "no_change"}}})).await;
    assert_eq!(status, 422, "any text cell");
    let (status, _) = batch(&app, &admin, json!({"mode": "parents", "cells": {}})).await;
    assert_eq!(status, 422);
    app.stop().await;
}

#[tokio::test]
async fn batches_overwrite_self_set_choices_unless_told_to_preserve_them() {
    let (app, admin) = district().await;
    let ana = app.person_token(D, "guardian", "c-ana");
    assert_eq!(
        app.put_json("/v1/me/preferences", &ana, r#"{"channels": {"cell_phone": {"general": true}}}"#).await.0,
        200
    );
    let request = |preserve: bool| {
        json!({"mode": "student_contacts", "filter": {"school": "sch-1"},
        "cells": {"general": {"cell_phone": "off"}}, "preserve_self_set": preserve})
    };
    let (_, kept) = batch(&app, &admin, request(true)).await;
    assert_eq!(
        (kept["self_set_preserved"].as_u64(), kept["grid"]["general"]["cell_phone"].as_u64()),
        (Some(1), Some(0)),
        "{kept}"
    );
    let (_, view) = app.get("/v1/me/preferences", Some(&ana)).await;
    assert_eq!(view["channels"]["cell_phone"]["general"]["on"], true);
    let (_, overwritten) = batch(&app, &admin, request(false)).await;
    assert_eq!(
        (overwritten["self_set_overwritten"].as_u64(), overwritten["grid"]["general"]["cell_phone"].as_u64()),
        (Some(1), Some(1))
    );
    let (_, view) = app.get("/v1/me/preferences", Some(&ana)).await;
    assert_eq!(
        view["channels"]["cell_phone"]["general"],
        json!({"on": false, "source": "batch", "updated_at": view["channels"]["cell_phone"]["general"]["updated_at"]})
    );
    app.stop().await;
}

#[tokio::test]
async fn a_batch_on_the_household_phone_reaches_the_whole_household() {
    let (app, admin) = district().await;
    let (_, result) = batch(
        &app,
        &admin,
        json!({"mode": "student_contacts", "filter": {"school": "sch-1", "grade": "05"},
        "cells": {"staff": {"household_phone": "on"}}}),
    )
    .await;
    assert_eq!(result["grid"]["staff"]["household_phone"], 2, "Ana matched, Luis shares the household: {result}");
    let (_, luis) = app.get("/v1/people/c-luis/preferences", Some(&admin)).await;
    assert_eq!(luis["channels"]["household_phone"]["staff"]["source"], "batch");
    app.stop().await;
}

#[tokio::test]
async fn school_scope_limits_who_may_read_change_and_batch() {
    let (app, _) = district().await;
    let other_school = app.token(D, "school_admin", &["sch-2"]);
    let (status, _) = batch(
        &app,
        &other_school,
        json!({"mode": "students", "filter": {"school": "sch-1"}, "cells": {"general": {"email": "on"}}}),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(app.get("/v1/people/c-ana/preferences", Some(&other_school)).await.0, 404);
    assert_eq!(
        app.put_json("/v1/people/c-ana/preferences", &other_school, r#"{"channels": {"email": {"general": true}}}"#)
            .await
            .0,
        404
    );
    let (status, own) =
        batch(&app, &other_school, json!({"mode": "student_contacts", "cells": {"general": {"cell_phone": "on"}}}))
            .await;
    assert_eq!((status, own["matched_people"].as_u64()), (200, Some(1)), "only Kim, in sch-2: {own}");
    let viewer = app.token(D, "school_viewer", &["sch-1"]);
    assert_eq!(batch(&app, &viewer, json!({"mode": "students", "cells": {}})).await.0, 403);
    assert_eq!(app.get("/v1/people/c-ana/preferences", Some(&viewer)).await.0, 200);
    app.stop().await;
}

#[tokio::test]
async fn the_batch_tool_runs_the_same_on_dynamodb() {
    use std::sync::Arc;

    use schoolbell::domain::{Principal, Role};
    use schoolbell::ports::{FixedClock, Table, TimeOrderedIds};
    use schoolbell::root::{Ports, Services, Wiring};
    use schoolbell::services::BatchRequest;
    use schoolbell_tests::moto;

    let Some(config) = moto::config("the_batch_tool_runs_the_same_on_dynamodb") else { return };
    let (table, district) = schoolbell_tests::aws_district::family_district_on_dynamodb(&config, D).await;

    let ports = Ports::new(table.clone(), Arc::new(FixedClock::midday_today()), Arc::new(TimeOrderedIds));
    let preferences = Services::new(ports, Wiring::default()).preferences();
    let admin = Principal { subject: "admin".into(), district, roles: vec![Role::DistrictAdmin], schools: vec![] };
    let request: BatchRequest = serde_json::from_value(
        json!({"mode": "student_contacts", "cells": {"staff": {"household_phone": "on", "cell_phone": "on"}}}),
    )
    .unwrap();
    let result = preferences.batch(&admin, &request).await.unwrap();
    let grid = serde_json::to_value(&result.grid).unwrap_or_default();
    assert_eq!(
        (result.matched_people, grid["staff"]["household_phone"].as_u64(), grid["staff"]["cell_phone"].as_u64()),
        (2, Some(2), Some(2)),
        "{grid}"
    );
    let writes = table.stats().items_written;
    let again = preferences.batch(&admin, &request).await.unwrap();
    assert_eq!((again.people_changed, table.stats().items_written), (0, writes));
    let view = preferences.view(&admin, "c-luis").await.unwrap();
    assert!(view.channels[&schoolbell::domain::Channel::HouseholdPhone][&schoolbell::domain::ContactReason::Staff].on);
}

#[tokio::test]
async fn a_district_sets_its_own_defaults_and_text_defaults_never_text_without_consent() {
    let (app, admin) = district().await;
    let (status, defaults) = app.get("/v1/preferences/defaults", Some(&admin)).await;
    assert_eq!(status, 200);
    assert!(defaults["on"]["email"].as_array().is_some_and(|r| r.iter().any(|r| r == "emergency")), "{defaults}");
    let mine = r#"{"on": {"email": ["emergency", "general"], "cell_phone": ["emergency", "food_service"]}}"#;
    assert_eq!(app.put_json("/v1/preferences/defaults", &admin, mine).await.0, 200);
    let (_, ana) = app.get("/v1/people/c-ana/preferences", Some(&admin)).await;
    assert_eq!(
        ana["channels"]["cell_phone"]["food_service"],
        json!({"on": true, "source": "default", "updated_at": null})
    );
    assert_eq!(
        ana["channels"]["email"]["attendance"]["on"], false,
        "the district's defaults replace the built-in ones"
    );
    // Text defaults may be named: they apply only where consent is recorded or the policy is `number_provided`.
    let (status, _) = app.put_json("/v1/preferences/defaults", &admin, r#"{"on": {"text": ["emergency"]}}"#).await;
    assert_eq!(status, 200);
    let (_, ana) = app.get("/v1/people/c-ana/preferences", Some(&admin)).await;
    assert_eq!(ana["text_verdicts"]["emergency"], "no_consent", "{ana}");
    let school_admin = app.token(D, "school_admin", &["sch-1"]);
    assert_eq!(app.put_json("/v1/preferences/defaults", &school_admin, mine).await.0, 403);
    let (status, _) = app.put_json("/v1/preferences/defaults", &admin, r#"{"on": {"fax": ["emergency"]}}"#).await;
    assert_eq!(status, 422, "unknown channels are refused");
    app.stop().await;
}

#[tokio::test]
async fn a_batch_filters_by_a_saved_list_or_an_ad_hoc_rule() {
    let (app, admin) = district().await;
    let list =
        json!({"name": "sch-2 fifth grade", "target": "students", "rule": {"schools": ["sch-2"], "grades": ["05"]}});
    let (status, created) = app.post("/v1/lists", Some(&admin), &list.to_string()).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap_or_default();
    let (_, by_list) = batch(&app, &admin, json!({"mode": "student_contacts", "filter": {"list": id}, "cells": {"general": {"cell_phone": "on"}}, "dry_run": true})).await;
    assert_eq!(by_list["matched_people"], 1, "Kim: {by_list}");
    let (_, by_rule) = batch(&app, &admin, json!({"mode": "students", "filter": {"rule": {"grades": ["03"]}}, "cells": {"general": {"email": "on"}}, "dry_run": true})).await;
    assert_eq!(by_rule["matched_people"], 1, "Mia: {by_rule}");
    let (status, _) = batch(
        &app,
        &admin,
        json!({"mode": "students", "filter": {"rule": {"grades": ["03"]}, "list": id}, "cells": {}}),
    )
    .await;
    assert_eq!(status, 422);
    app.stop().await;
}

/// What `token` is answered about `person` on every route that names one,
/// with the id taken out of the messages: (route, status, code, message).
async fn answers_about(app: &TestApp, token: &str, person: &str) -> Vec<(String, u16, Value, String)> {
    let change = r#"{"channels": {"email": {"general": true}}}"#;
    let message = json!({"to": person, "channels": ["email"],
        "content": {"email": {"subject": "Hello", "text": "A word about school."}}});
    let answers = [
        ("read", app.get(&format!("/v1/people/{person}"), Some(token)).await),
        ("preferences", app.get(&format!("/v1/people/{person}/preferences"), Some(token)).await),
        ("history", app.get(&format!("/v1/people/{person}/preferences/history"), Some(token)).await),
        ("change", app.put_json(&format!("/v1/people/{person}/preferences"), token, change).await),
        ("personal message", app.post("/v1/personal-messages", Some(token), &message.to_string()).await),
    ];
    answers
        .into_iter()
        .map(|(route, (status, body))| {
            let text = body["message"].as_str().unwrap_or_default().replace(person, "<id>");
            (route.to_string(), status, body["code"].clone(), text)
        })
        .collect()
}

#[tokio::test]
async fn a_person_of_another_school_is_answered_exactly_as_one_who_does_not_exist() {
    let (app, _) = district().await;
    let other_school = app.token(D, "school_admin", &["sch-2"]);
    let kim = app.person_token(D, "guardian", "c-kim");
    for (token, who) in [(&other_school, "sch-2's school admin"), (&kim, "another family's parent")] {
        for (person, nobody) in [("c-ana", "c-nobody"), ("s-1", "s-nobody")] {
            let hidden = answers_about(&app, token, person).await;
            let missing = answers_about(&app, token, nobody).await;
            assert_eq!(hidden, missing, "{who} asking about {person}");
            for (route, status, code, _) in &hidden {
                assert_eq!((*status, code.as_str()), (404, Some("not_found")), "{who}, {route} of {person}");
            }
        }
    }
    app.stop().await;
}
