//! Roles end to end, over HTTP on the local gateway: the built-in
//! permission sets, custom roles, assignments by API and their revocation
//! taking effect at the next request, the bulk CSV with applied and
//! rejected rows, and refusals (403 without manage-roles, 4xx for bad input).

use std::io::Write as _;

use schoolbell::domain::{DistrictId, Principal, Role, SchoolId};
use schoolbell_local::token::{TokenRequest, mint};
use schoolbell_tests::app::{TestApp, spawn_app};
use serde_json::{Value, json};

const DISTRICT: &str = "district-r";

/// Two schools; teachers t-1, t-2 (sch-1) and t-3 (sch-2); administrator
/// ad-1 (sch-1); student st-1 and parent pa-1 (sch-1).
fn roster_zip() -> Vec<u8> {
    let mut users = schoolbell_tests::roster_fixture::two_school_staff_users();
    users.push_str("st-1,active,2026-09-01,true,sch-1,student,st1,,Kid,One,,S1,,,,pa-1,05,\r\n");
    users.push_str(
        "pa-1,active,2026-09-01,true,sch-1,parent,pa1,,Parent,One,,P1,parent1@example.org,(617) 555-4001,,,,\r\n",
    );
    let files = [
        (
            "manifest.csv",
            "propertyName,value\r\nmanifest.version,1.0\r\noneroster.version,1.1\r\nfile.academicSessions,absent\r\nfile.categories,absent\r\nfile.classes,bulk\r\nfile.classResources,absent\r\nfile.courses,absent\r\nfile.courseResources,absent\r\nfile.demographics,absent\r\nfile.enrollments,bulk\r\nfile.lineItems,absent\r\nfile.orgs,bulk\r\nfile.resources,absent\r\nfile.results,absent\r\nfile.users,bulk\r\n".to_string(),
        ),
        (
            "orgs.csv",
            "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\r\nd-1,active,2026-09-01,Test District,district,D1,\r\nsch-1,active,2026-09-01,Lincoln Elementary,school,S1,d-1\r\nsch-2,active,2026-09-01,Adams Elementary,school,S2,d-1\r\n".to_string(),
        ),
        (
            "classes.csv",
            "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods\r\nsec-1,active,2026-09-01,Homeroom 5A,05,c-1,HR5A,homeroom,Room 1,sch-1,term-1,,,1\r\n".to_string(),
        ),
        ("users.csv", users),
        (
            "enrollments.csv",
            "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate\r\ne-t,active,2026-09-01,sec-1,sch-1,t-1,teacher,true,,\r\ne-s,active,2026-09-01,sec-1,sch-1,st-1,student,false,,\r\n".to_string(),
        ),
    ];
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, content) in files {
        writer.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
        writer.write_all(content.as_bytes()).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

/// The gateway with the roster imported, and a district admin's token.
async fn district() -> (TestApp, String) {
    let app = spawn_app().await;
    let admin = app.token(DISTRICT, "district_admin", &[]);
    let (status, answer) = app.post("/v1/imports", Some(&admin), r#"{"name":"sis","method":"oneroster"}"#).await;
    assert_eq!(status, 201, "{answer}");
    let (status, answer) = app.put_file("/v1/imports/sis/file", &admin, "roster.zip", roster_zip()).await;
    assert_eq!(status, 200, "{answer}");
    let (status, run) = app.post("/v1/imports/sis/runs", Some(&admin), "").await;
    assert_eq!((status, run["state"].as_str()), (201, Some("applied")), "{run}");
    (app, admin)
}

/// A token for a staff member: their person id, one role, their schools.
fn staff_token(app: &TestApp, person: &str, role: &str, schools: &[&str]) -> String {
    let request = TokenRequest {
        district: DISTRICT.into(),
        roles: vec![role.into()],
        person: Some(person.into()),
        schools: schools.iter().map(|s| (*s).to_string()).collect(),
        hours: 1,
    };
    mint(&app.data, &request).unwrap_or_else(|e| panic!("token: {e}"))
}

async fn post_csv(app: &TestApp, token: &str, body: &str) -> (u16, Value) {
    let response = app
        .client
        .post(format!("{}/v1/roles/assignments.csv", app.address))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

async fn assign(app: &TestApp, token: &str, staff: &str, school: &str, role: &str) -> (u16, Value) {
    let body = json!({"staff_id": staff, "school": school, "role": role});
    app.post("/v1/roles/assignments", Some(token), &body.to_string()).await
}

fn permissions_at(grants: &Value, school: &str) -> Vec<String> {
    grants["schools"][school]
        .as_array()
        .map(|names| names.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

fn school(id: &str) -> SchoolId {
    SchoolId::parse(id).unwrap()
}

#[tokio::test]
async fn school_admins_have_personal_messages_by_default_and_technical_admins_and_viewers_do_not() {
    let (app, admin) = district().await;
    let (status, answer) = app.get("/v1/roles", Some(&admin)).await;
    assert_eq!(status, 200, "{answer}");
    let roles = answer["roles"].as_array().cloned().unwrap_or_default();
    let personal = |id: &str| {
        roles
            .iter()
            .find(|r| r["id"] == id)
            .unwrap_or_else(|| panic!("no role {id} in {answer}"))
            .get("permissions")
            .and_then(Value::as_array)
            .is_some_and(|p| p.iter().any(|name| name == "personal_messages"))
    };
    assert!(personal("school_admin") && personal("district_admin"));
    assert!(!personal("technical_school_admin") && !personal("school_viewer") && !personal("teacher"));
    assert!(roles.iter().all(|r| r["built_in"] == true), "{answer}");

    for (role, has_personal) in [("school_admin", true), ("technical_school_admin", false), ("school_viewer", false)] {
        let (status, grants) = app.get("/v1/roles/me", Some(&app.token(DISTRICT, role, &["sch-1"]))).await;
        assert_eq!(status, 200, "{grants}");
        assert_eq!(permissions_at(&grants, "sch-1").contains(&"personal_messages".to_string()), has_personal, "{role}");
        assert_eq!(grants["district_admin"], false);
    }
    let (_, viewer) = app.get("/v1/roles/me", Some(&app.token(DISTRICT, "school_viewer", &["sch-1"]))).await;
    assert_eq!(permissions_at(&viewer, "sch-1"), ["view_cleanup"]);
}

#[tokio::test]
async fn a_custom_role_can_grant_personal_messages() {
    let (app, admin) = district().await;
    let role =
        json!({"id": "messenger", "name": "Messenger", "permissions": ["personal_messages", "broadcast:teacher"]});
    let (status, made) = app.post("/v1/roles", Some(&admin), &role.to_string()).await;
    assert_eq!((status, made["built_in"].as_bool()), (201, Some(false)), "{made}");
    assert_eq!(made["permissions"], json!(["broadcast:teacher", "personal_messages"]));

    let viewer = staff_token(&app, "t-1", "school_viewer", &["sch-1"]);
    let (_, before) = app.get("/v1/roles/me", Some(&viewer)).await;
    assert!(!permissions_at(&before, "sch-1").contains(&"personal_messages".to_string()), "{before}");
    let (status, assigned) = assign(&app, &admin, "t-1", "sch-1", "messenger").await;
    assert_eq!(status, 201, "{assigned}");
    assert_eq!((assigned["staff_id"].as_str(), assigned["role"].as_str()), (Some("t-1"), Some("messenger")));
    let (_, after) = app.get("/v1/roles/me", Some(&viewer)).await;
    assert_eq!(permissions_at(&after, "sch-1"), ["broadcast:teacher", "personal_messages", "view_cleanup"]);

    let changed = json!({"name": "Messenger", "permissions": ["view_cleanup"]});
    let (status, answer) = app.put_json("/v1/roles/messenger", &admin, &changed.to_string()).await;
    assert_eq!(status, 200, "{answer}");
    let (_, narrowed) = app.get("/v1/roles/me", Some(&viewer)).await;
    assert_eq!(permissions_at(&narrowed, "sch-1"), ["view_cleanup"], "a changed role applies at the next request");
    assert_eq!(app.delete("/v1/roles/messenger", &admin).await.0, 204);
    let (_, listed) = app.get("/v1/roles/assignments?staff=t-1", Some(&admin)).await;
    assert_eq!(listed["assignments"], json!([]), "a deleted role's assignments go with it");
}

#[tokio::test]
async fn a_revoked_role_takes_effect_at_once() {
    let (app, admin) = district().await;
    let roles = app.services.roles();
    let t2 = Principal {
        subject: "t-2".into(),
        district: DistrictId::parse(DISTRICT).unwrap(),
        roles: vec![Role::Teacher],
        schools: vec![school("sch-1")],
    };
    let token = staff_token(&app, "t-2", "teacher", &["sch-1"]);
    let (status, refused) = assign(&app, &token, "t-1", "sch-1", "teacher").await;
    assert_eq!((status, refused["code"].as_str()), (403, Some("forbidden")), "{refused}");

    let (status, answer) = assign(&app, &admin, "t-2", "sch-1", "school_admin").await;
    assert_eq!(status, 201, "{answer}");
    let grants = roles.grants(&t2).await.unwrap();
    assert!(grants.may_manage_roles(&school("sch-1")) && grants.may_send_personal(&school("sch-1")));
    let (status, answer) = assign(&app, &token, "t-1", "sch-1", "teacher").await;
    assert_eq!(status, 201, "a school admin by assignment manages roles: {answer}");

    let (status, answer) = app.delete("/v1/roles/assignments?staff=t-2&school=sch-1&role=school_admin", &admin).await;
    assert_eq!(status, 204, "{answer}");
    let grants = roles.grants(&t2).await.unwrap();
    assert!(!grants.may_manage_roles(&school("sch-1")) && !grants.may_send_personal(&school("sch-1")));
    let (status, refused) = assign(&app, &token, "t-3", "sch-1", "teacher").await;
    assert_eq!(status, 403, "the revoked role no longer counts: {refused}");
}

#[tokio::test]
async fn a_bulk_csv_applies_the_good_rows_and_reports_each_rejected_one() {
    let (app, admin) = district().await;
    let body = "staff_id,school,role\r\n\
        t-1,sch-1,school_admin\r\n\
        ghost,sch-1,teacher\r\n\
        pa-1,sch-1,teacher\r\n\
        t-3,sch-9,teacher\r\n\
        t-3,sch-2,janitor\r\n\
        t-3,sch-2\r\n\
        t-3,sch-2,Technical School Admin\r\n\
        ad-1,,district_admin\r\n";
    let (status, outcome) = post_csv(&app, &admin, body).await;
    assert_eq!((status, outcome["applied"].as_u64()), (200, Some(3)), "{outcome}");
    let rejected = outcome["rejected"].as_array().cloned().unwrap_or_default();
    let expected = [
        (3, "unknown staff id"),
        (4, "unknown staff id"),
        (5, "unknown school"),
        (6, "unknown role"),
        (7, "malformed row"),
    ];
    assert_eq!(rejected.len(), expected.len(), "{outcome}");
    for (got, (row, reason)) in rejected.iter().zip(expected) {
        assert_eq!(got["row"].as_u64(), Some(row), "{got}");
        assert!(got["message"].as_str().is_some_and(|m| m.contains(reason)), "row {row}: {got}");
    }
    let (status, again) = post_csv(&app, &admin, body).await;
    assert_eq!((status, again["applied"].as_u64()), (200, Some(3)), "re-applying is fine: {again}");

    let (_, listed) = app.get("/v1/roles/assignments?staff=t-3", Some(&admin)).await;
    assert_eq!(listed["assignments"].as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(listed["assignments"][0]["role"], "technical_school_admin");
    let (_, district_wide) = app.get("/v1/roles/me", Some(&staff_token(&app, "ad-1", "teacher", &["sch-1"]))).await;
    assert_eq!(district_wide["district_admin"], true, "{district_wide}");

    let school_admin = staff_token(&app, "t-1", "teacher", &[]);
    let (status, scoped) =
        post_csv(&app, &school_admin, "staff_id,school,role\nt-2,sch-1,teacher\nt-3,sch-2,teacher\n").await;
    assert_eq!((status, scoped["applied"].as_u64()), (200, Some(1)), "{scoped}");
    assert_eq!(scoped["rejected"][0]["row"], 3, "{scoped}");
    assert!(scoped["rejected"][0]["message"].as_str().is_some_and(|m| m.contains("may not grant")), "{scoped}");
}

#[tokio::test]
async fn a_caller_without_manage_roles_is_forbidden() {
    let (app, _) = district().await;
    let viewer = staff_token(&app, "t-1", "school_viewer", &["sch-1"]);
    let technical = app.token(DISTRICT, "technical_school_admin", &["sch-1"]);
    for token in [&viewer, &technical] {
        let calls = [
            assign(&app, token, "t-2", "sch-1", "teacher").await,
            post_csv(&app, token, "staff_id,school,role\nt-2,sch-1,teacher\n").await,
            app.get("/v1/roles", Some(token)).await,
            app.get("/v1/roles/assignments?staff=t-2", Some(token)).await,
            app.delete("/v1/roles/assignments?staff=t-2&school=sch-1&role=teacher", token).await,
        ];
        for (status, answer) in calls {
            assert_eq!((status, answer["code"].as_str()), (403, Some("forbidden")), "{answer}");
            assert!(answer["message"].as_str().is_some_and(|m| !m.is_empty()), "{answer}");
        }
    }
    let school_admin = app.token(DISTRICT, "school_admin", &["sch-1"]);
    let (status, answer) = app.post("/v1/roles", Some(&school_admin), r#"{"id":"x","name":"X"}"#).await;
    assert_eq!((status, answer["code"].as_str()), (403, Some("forbidden")), "only district admins define roles");
    let (status, answer) = assign(&app, &school_admin, "t-2", "sch-1", "district_admin").await;
    assert_eq!(status, 422, "district_admin takes no school: {answer}");
    let body = json!({"staff_id": "t-2", "role": "district_admin"}).to_string();
    let (status, answer) = app.post("/v1/roles/assignments", Some(&school_admin), &body).await;
    assert_eq!((status, answer["code"].as_str()), (403, Some("forbidden")), "{answer}");
}

#[tokio::test]
async fn bad_input_gets_a_code_and_a_message() {
    let (app, admin) = district().await;
    let cases = [
        (post_csv(&app, &admin, "").await, 400, "empty_file"),
        (post_csv(&app, &admin, "t-1,sch-1,teacher\n").await, 422, "invalid"),
        (post_csv(&app, &admin, "staff_id,school,role,action\nt-1,sch-1,teacher,revoke\n").await, 422, "invalid"),
        (post_csv(&app, &admin, "staff_id,school,role\n").await, 422, "invalid"),
        (app.post("/v1/roles/assignments", Some(&admin), "{not json").await, 400, "malformed_json"),
        (
            app.post("/v1/roles/assignments", Some(&admin), r#"{"staff_id":"t-1","role":"teacher","x":1}"#).await,
            422,
            "invalid",
        ),
        (assign(&app, &admin, "t-1", "sch-1", "guardian").await, 422, "invalid"),
        (assign(&app, &admin, "t#1", "sch-1", "teacher").await, 422, "invalid"),
        (app.post("/v1/roles", Some(&admin), r#"{"id":"c","name":"C","permissions":["fly"]}"#).await, 422, "invalid"),
        (app.post("/v1/roles", Some(&admin), r#"{"id":"teacher","name":"T"}"#).await, 422, "invalid"),
        (app.put_json("/v1/roles/school_admin", &admin, r#"{"name":"S"}"#).await, 409, "conflict"),
        (app.delete("/v1/roles/nobody", &admin).await, 404, "not_found"),
        (app.delete("/v1/roles/assignments?staff=t-1", &admin).await, 400, "bad_request"),
        (app.delete("/v1/roles/assignments?staff=t-1&school=sch-1&role=teacher", &admin).await, 404, "not_found"),
        (app.get("/v1/roles/assignments", Some(&admin)).await, 422, "invalid"),
        (app.get("/v1/roles/me", None).await, 401, "unauthorized"),
    ];
    for (at, ((status, answer), want_status, want_code)) in cases.into_iter().enumerate() {
        assert_eq!((status, answer["code"].as_str()), (want_status, Some(want_code)), "case {at}: {answer}");
        assert!(answer["message"].as_str().is_some_and(|m| !m.is_empty()), "case {at}: {answer}");
    }
}

#[tokio::test]
async fn a_custom_role_with_view_cleanup_opens_the_clean_up_list_and_revoking_it_closes_it() {
    let (app, admin) = district().await;
    let role = json!({"id": "cleanup-clerk", "name": "Clean-up clerk", "permissions": ["view_cleanup"]});
    assert_eq!(app.post("/v1/roles", Some(&admin), &role.to_string()).await.0, 201);
    let teacher = staff_token(&app, "t-1", "teacher", &["sch-1"]);
    assert_eq!(app.get("/v1/contact-cleanup", Some(&teacher)).await.0, 403, "teachers do not see it by default");
    assert_eq!(assign(&app, &admin, "t-1", "sch-1", "cleanup-clerk").await.0, 201);
    let (status, page) = app.get("/v1/contact-cleanup", Some(&teacher)).await;
    assert_eq!(status, 200, "{page}");
    let removed = app.delete("/v1/roles/assignments?staff=t-1&school=sch-1&role=cleanup-clerk", &admin).await;
    assert!(removed.0 == 204 || removed.0 == 200, "{removed:?}");
    assert_eq!(app.get("/v1/contact-cleanup", Some(&teacher)).await.0, 403, "revoked at once");
    app.stop().await;
}

#[tokio::test]
async fn a_custom_role_with_manage_preferences_lets_a_teacher_change_a_students_preferences() {
    let (app, admin) = district().await;
    let role = json!({"id": "prefs-clerk", "name": "Preferences clerk", "permissions": ["manage_preferences"]});
    assert_eq!(app.post("/v1/roles", Some(&admin), &role.to_string()).await.0, 201);
    let teacher = staff_token(&app, "t-2", "teacher", &["sch-1"]);
    let change = r#"{"channels": {"email": {"general": false}}}"#;
    assert_eq!(
        app.put_json("/v1/people/pa-1/preferences", &teacher, change).await.0,
        403,
        "not a teacher's by default"
    );
    assert_eq!(assign(&app, &admin, "t-2", "sch-1", "prefs-clerk").await.0, 201);
    let (status, view) = app.put_json("/v1/people/pa-1/preferences", &teacher, change).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["channels"]["email"]["general"]["on"], false, "{view}");
    app.stop().await;
}

#[tokio::test]
async fn a_district_admin_by_stored_assignment_manages_imports_and_district_defaults() {
    let (app, admin) = district().await;
    let body = json!({"staff_id": "t-2", "role": "district_admin"}).to_string();
    let (status, answer) = app.post("/v1/roles/assignments", Some(&admin), &body).await;
    assert!(status == 200 || status == 201, "{answer}");
    // The token says teacher; the stored assignment makes t-2 a district admin.
    let t2 = app.person_token(DISTRICT, "teacher", "t-2");
    let (status, answer) = app.post("/v1/imports", Some(&t2), r#"{"name":"second","method":"oneroster"}"#).await;
    assert_eq!(status, 201, "{answer}");
    let upload = app.put_file("/v1/imports/second/file", &t2, "roster.zip", roster_zip()).await;
    assert_eq!(upload.0, 200, "{}", upload.1);
    let defaults = r#"{"on": {"email": ["emergency", "general"]}}"#;
    assert_eq!(app.put_json("/v1/preferences/defaults", &t2, defaults).await.0, 200);
    let t1 = app.person_token(DISTRICT, "teacher", "t-1");
    assert_eq!(app.post("/v1/imports", Some(&t1), r#"{"name":"third","method":"oneroster"}"#).await.0, 403);
    assert_eq!(app.put_json("/v1/preferences/defaults", &t1, defaults).await.0, 403);
    app.stop().await;
}

#[tokio::test]
async fn assigning_to_someone_the_caller_may_not_see_is_answered_as_to_nobody() {
    let (app, admin) = district().await;
    let school_admin = staff_token(&app, "ad-1", "school_admin", &["sch-1"]);
    let answer = |token: String, staff: &'static str| {
        let app = &app;
        async move {
            let (status, body) = assign(app, &token, staff, "sch-1", "teacher").await;
            let message = body["message"].as_str().unwrap_or_default().replace(staff, "<id>");
            (status, body["code"].clone(), message)
        }
    };
    let nobody = answer(admin.clone(), "ghost").await;
    assert_eq!((nobody.0, nobody.1.as_str()), (404, Some("not_found")), "{nobody:?}");
    assert_eq!(answer(admin.clone(), "pa-1").await, nobody, "a parent is no staff member");
    assert_eq!(answer(school_admin.clone(), "ghost").await, nobody);
    assert_eq!(answer(school_admin.clone(), "t-3").await, nobody, "t-3 works at sch-2 only");
    assert_eq!(answer(school_admin, "t-2").await.0, 201, "t-2 works at sch-1");
}
