//! Lists end to end, over HTTP on the local gateway: districts imported
//! through the imports API, lists built by grade, section, teacher,
//! profile data, includes and excludes, their members paged, school
//! scope, what a one-grade list reads, and membership after a re-import;
//! who may change a list and whom a teacher reaches (`rights`).

use std::collections::BTreeSet;
use std::io::Write as _;

use schoolbell_tests::app::{TestApp, spawn_app};
use serde_json::{Value, json};

mod rights;

const DISTRICT: &str = "district-l";

/// Two schools. School 1: students 1–30 in grade 05, 31–40 in grade 04;
/// school 2: students 41–50 in grade 05. Every student has a parent
/// `pa-n` (a messenger); every fifth also a relative `re-n` (not one).
/// Teacher `t-1` teaches `sec-a` (students 1–10) and `sec-d` (36–38),
/// `t-2` teaches `sec-b` (5–15 and 31–35), both in school 1; `t-3`
/// teaches `sec-c` (41–45) in school 2.
struct ListFixture {
    removed: Vec<usize>,
}

fn school_and_grade(n: usize) -> (&'static str, &'static str) {
    match n {
        1..=30 => ("sch-1", "05"),
        31..=40 => ("sch-1", "04"),
        _ => ("sch-2", "05"),
    }
}

fn sections_of(n: usize) -> Vec<&'static str> {
    let mut sections = Vec::new();
    if (1..=10).contains(&n) {
        sections.push("sec-a");
    }
    if (36..=38).contains(&n) {
        sections.push("sec-d");
    }
    if (5..=15).contains(&n) || (31..=35).contains(&n) {
        sections.push("sec-b");
    }
    if (41..=45).contains(&n) {
        sections.push("sec-c");
    }
    sections
}

impl ListFixture {
    fn full() -> Self {
        Self { removed: Vec::new() }
    }

    fn without(removed: &[usize]) -> Self {
        Self { removed: removed.to_vec() }
    }

    fn files(&self) -> Vec<(&'static str, String)> {
        let mut users = schoolbell_tests::roster_fixture::two_school_staff_users();
        let mut enrollments = String::from(
            "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate\r\n",
        );
        for (section, school, teacher) in
            [("sec-a", "sch-1", "t-1"), ("sec-b", "sch-1", "t-2"), ("sec-c", "sch-2", "t-3"), ("sec-d", "sch-1", "t-1")]
        {
            enrollments
                .push_str(&format!("e-{section},active,2026-09-01,{section},{school},{teacher},teacher,true,,\r\n"));
        }
        for n in (1..=50).filter(|n| !self.removed.contains(n)) {
            let (school, grade) = school_and_grade(n);
            let agents = if n % 5 == 0 { format!("\"pa-{n},re-{n}\"") } else { format!("pa-{n}") };
            users.push_str(&format!(
                "st-{n},active,2026-09-01,true,{school},student,st{n},,Kid{n},Family{n},,S{n},,,,{agents},{grade},\r\n"
            ));
            users.push_str(&format!(
                "pa-{n},active,2026-09-01,true,{school},parent,pa{n},,Parent{n},Family{n},,P{n},parent{n}@example.org,(617) 5{:02}-{:04},,,,\r\n",
                20 + n % 70,
                3000 + n
            ));
            if n % 5 == 0 {
                users.push_str(&format!(
                    "re-{n},active,2026-09-01,true,{school},relative,re{n},,Aunt{n},Family{n},,R{n},aunt{n}@example.org,,,,,\r\n"
                ));
            }
            for section in sections_of(n) {
                enrollments.push_str(&format!(
                    "e-{section}-{n},active,2026-09-01,{section},{school},st-{n},student,false,,\r\n"
                ));
            }
        }
        let classes = "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods\r\n\
            sec-a,active,2026-09-01,Homeroom 5A,05,c-1,HR5A,homeroom,Room 1,sch-1,term-1,,,1\r\n\
            sec-b,active,2026-09-01,Music,05,c-2,MUS,scheduled,Room 2,sch-1,term-1,,,2\r\n\
            sec-c,active,2026-09-01,Homeroom 5C,05,c-1,HR5C,homeroom,Room 3,sch-2,term-1,,,1\r\n\
            sec-d,active,2026-09-01,Reading 4,04,c-3,RD4,scheduled,Room 1,sch-1,term-1,,,3\r\n";
        vec![
            (
                "manifest.csv",
                "propertyName,value\r\nmanifest.version,1.0\r\noneroster.version,1.1\r\nfile.academicSessions,absent\r\nfile.categories,absent\r\nfile.classes,bulk\r\nfile.classResources,absent\r\nfile.courses,absent\r\nfile.courseResources,absent\r\nfile.demographics,absent\r\nfile.enrollments,bulk\r\nfile.lineItems,absent\r\nfile.orgs,bulk\r\nfile.resources,absent\r\nfile.results,absent\r\nfile.users,bulk\r\n".to_string(),
            ),
            (
                "orgs.csv",
                "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\r\nd-1,active,2026-09-01,Test District,district,D1,\r\nsch-1,active,2026-09-01,Lincoln Elementary,school,S1,d-1\r\nsch-2,active,2026-09-01,Adams Elementary,school,S2,d-1\r\n".to_string(),
            ),
            ("classes.csv", classes.to_string()),
            ("users.csv", users),
            ("enrollments.csv", enrollments),
        ]
    }

    fn zip(&self) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, content) in self.files() {
            writer.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
            writer.write_all(content.as_bytes()).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }
}

async fn import(app: &TestApp, admin: &str, fixture: &ListFixture) {
    let (status, answer) = app.put_file("/v1/imports/sis/file", admin, "roster.zip", fixture.zip()).await;
    assert_eq!(status, 200, "{answer}");
    let (status, run) = app.post("/v1/imports/sis/runs", Some(admin), "").await;
    assert_eq!((status, run["state"].as_str()), (201, Some("applied")), "{run}");
}

/// The gateway with the fixture district imported, and a district admin's token.
async fn district() -> (TestApp, String) {
    let app = spawn_app().await;
    let admin = app.token(DISTRICT, "district_admin", &[]);
    let definition = json!({"name": "sis", "method": "oneroster", "hold_threshold_percent": 50});
    let (status, answer) = app.post("/v1/imports", Some(&admin), &definition.to_string()).await;
    assert_eq!(status, 201, "{answer}");
    import(&app, &admin, &ListFixture::full()).await;
    (app, admin)
}

async fn create(app: &TestApp, token: &str, body: Value) -> Value {
    let (status, list) = app.post("/v1/lists", Some(token), &body.to_string()).await;
    assert_eq!(status, 201, "{list}");
    list
}

fn id_of(list: &Value) -> String {
    list["id"].as_str().unwrap_or_else(|| panic!("no id in {list}")).to_string()
}

/// Every member of a list, paging with `limit`; checks the count on each page.
async fn members(app: &TestApp, token: &str, list: &str, limit: u32) -> Vec<(String, String)> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/v1/lists/{list}/members?limit={limit}");
        if let Some(cursor) = &cursor {
            path.push_str(&format!("&cursor={cursor}"));
        }
        let (status, page) = app.get(&path, Some(token)).await;
        assert_eq!(status, 200, "{page}");
        let rows = page["members"].as_array().cloned().unwrap_or_default();
        assert!(rows.len() <= limit as usize, "{page}");
        for row in &rows {
            all.push((
                row["id"].as_str().unwrap_or_default().to_string(),
                row["role"].as_str().unwrap_or_default().to_string(),
            ));
        }
        let count = page["count"].as_u64().unwrap_or(u64::MAX) as usize;
        match page["cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => {
                assert_eq!(all.len(), count, "the pages hold the count");
                return all;
            }
        }
        assert!(all.len() < 10_000, "paging ends");
    }
}

fn ids(members: &[(String, String)], role: &str) -> BTreeSet<String> {
    members.iter().filter(|(_, r)| r == role).map(|(id, _)| id.clone()).collect()
}

fn people(prefix: &str, range: impl IntoIterator<Item = usize>) -> BTreeSet<String> {
    range.into_iter().map(|n| format!("{prefix}-{n}")).collect()
}

#[tokio::test]
async fn a_one_grade_list_holds_that_grade_of_its_school_and_reads_about_one_item_per_member() {
    let (app, admin) = district().await;
    let fifth = create(
        &app,
        &admin,
        json!({"name": "Lincoln 5", "target": "students", "rule": {"schools": ["sch-1"], "grades": ["5"]}}),
    )
    .await;
    assert_eq!(fifth["rule"]["grades"], json!(["05"]), "grades are stored as imports store them");
    assert_eq!(fifth["schools"], json!(["sch-1"]));

    let before = app.table.stats();
    let (status, page) = app.get(&format!("/v1/lists/{}/members?limit=1", id_of(&fifth)), Some(&admin)).await;
    let read = app.table.stats().items_read - before.items_read;
    assert_eq!((status, page["count"].as_u64()), (200, Some(30)), "{page}");
    assert!(read as f64 <= 1.2 * 30.0, "a one-grade list of 30 read {read} items");
    let first = &page["members"][0];
    assert_eq!(
        (first["id"].as_str(), first["role"].as_str(), first["grade"].as_str(), first["given_name"].as_str()),
        (Some("st-1"), Some("student"), Some("05"), Some("Kid1")),
        "{page}"
    );
    assert_eq!(first["schools"], json!(["sch-1"]));
    assert_eq!(ids(&members(&app, &admin, &id_of(&fifth), 100).await, "student"), people("st", 1..=30));

    let everywhere =
        create(&app, &admin, json!({"name": "All fifth", "target": "students", "rule": {"grades": ["05"]}})).await;
    assert_eq!(everywhere["schools"], json!([]), "a district admin's list without schools covers the district");
    let before = app.table.stats();
    let (_, page) = app.get(&format!("/v1/lists/{}/members?limit=1", id_of(&everywhere)), Some(&admin)).await;
    let read = app.table.stats().items_read - before.items_read;
    assert_eq!(page["count"], 40, "{page}");
    assert!(read as f64 <= 1.2 * 40.0, "a district-wide grade list of 40 read {read} items");
    app.stop().await;
}

#[tokio::test]
async fn a_section_list_and_a_teacher_list_hold_the_students_of_those_classes() {
    let (app, admin) = district().await;
    let section =
        create(&app, &admin, json!({"name": "Music", "target": "students", "rule": {"section": "sec-b"}})).await;
    let expected: BTreeSet<String> = people("st", (5..=15).chain(31..=35));
    assert_eq!(ids(&members(&app, &admin, &id_of(&section), 50).await, "student"), expected);

    let fourth_in_music = create(
        &app,
        &admin,
        json!({"name": "Music 4", "target": "students", "rule": {"section": "sec-b", "grades": ["04"]}}),
    )
    .await;
    assert_eq!(ids(&members(&app, &admin, &id_of(&fourth_in_music), 50).await, "student"), people("st", 31..=35));

    let teacher =
        create(&app, &admin, json!({"name": "Tess's", "target": "students", "rule": {"teacher": "t-1"}})).await;
    let expected: BTreeSet<String> = people("st", (1..=10).chain(36..=38));
    assert_eq!(ids(&members(&app, &admin, &id_of(&teacher), 50).await, "student"), expected);

    let teachers =
        create(&app, &admin, json!({"name": "Music staff", "target": "staff", "rule": {"section": "sec-b"}})).await;
    assert_eq!(members(&app, &admin, &id_of(&teachers), 50).await, [("t-2".to_string(), "staff".to_string())]);

    let staff =
        create(&app, &admin, json!({"name": "Lincoln staff", "target": "staff", "rule": {"schools": ["sch-1"]}})).await;
    assert_eq!(
        ids(&members(&app, &admin, &id_of(&staff), 50).await, "staff"),
        people("t", 1..=2).into_iter().chain(["ad-1".to_string()]).collect()
    );
    app.stop().await;
}

#[tokio::test]
async fn a_guardians_list_reaches_only_messenger_guardians() {
    let (app, admin) = district().await;
    let guardians =
        create(&app, &admin, json!({"name": "HR 5A parents", "target": "guardians", "rule": {"section": "sec-a"}}))
            .await;
    let found = members(&app, &admin, &id_of(&guardians), 50).await;
    assert_eq!(ids(&found, "guardian"), people("pa", 1..=10), "relatives re-5 and re-10 are not messengers");
    assert!(ids(&found, "student").is_empty());

    let both = create(
        &app,
        &admin,
        json!({"name": "HR 5A families", "target": "students_and_guardians", "rule": {"section": "sec-a"}}),
    )
    .await;
    let found = members(&app, &admin, &id_of(&both), 7).await;
    assert_eq!((ids(&found, "student"), ids(&found, "guardian")), (people("st", 1..=10), people("pa", 1..=10)));

    let all_guardians = create(
        &app,
        &admin,
        json!({"name": "Adams guardians", "target": "guardians", "rule": {"role": "guardian", "schools": ["sch-2"]}}),
    )
    .await;
    let expected: BTreeSet<String> = people("pa", 41..=50).into_iter().chain(people("re", [45, 50])).collect();
    assert_eq!(ids(&members(&app, &admin, &id_of(&all_guardians), 50).await, "guardian"), expected);
    app.stop().await;
}

#[tokio::test]
async fn includes_are_added_and_excludes_removed_whatever_the_rule_says() {
    let (app, admin) = district().await;
    let list = create(
        &app,
        &admin,
        json!({"name": "Fourth families", "target": "guardians", "rule": {"schools": ["sch-1"], "grades": ["04"]},
               "includes": ["st-1", "t-2", "re-35"], "excludes": ["st-31", "pa-32"]}),
    )
    .await;
    let found = members(&app, &admin, &id_of(&list), 50).await;
    let expected: BTreeSet<String> =
        people("pa", [1].into_iter().chain(33..=40)).into_iter().chain(["re-35".to_string()]).collect();
    assert_eq!(ids(&found, "guardian"), expected, "st-1 brings pa-1; st-31 takes pa-31; pa-32 is excluded");
    assert_eq!(ids(&found, "staff"), people("t", [2]));
    assert!(ids(&found, "student").is_empty());

    let (status, error) = app
        .post(
            "/v1/lists",
            Some(&admin),
            &json!({"name": "n", "target": "students", "includes": ["st-1"], "excludes": ["st-1"]}).to_string(),
        )
        .await;
    assert_eq!((status, error["code"].as_str()), (422, Some("invalid")), "{error}");
    let (status, error) = app
        .post(
            "/v1/lists",
            Some(&admin),
            &json!({"name": "n", "target": "students", "includes": ["nobody"]}).to_string(),
        )
        .await;
    assert_eq!(status, 422, "{error}");
    app.stop().await;
}

#[tokio::test]
async fn a_school_admin_sees_and_builds_lists_only_within_their_schools() {
    let (app, admin) = district().await;
    let lincoln = create(
        &app,
        &admin,
        json!({"name": "Lincoln 5", "target": "students", "rule": {"schools": ["sch-1"], "grades": ["05"]}}),
    )
    .await;
    let district_wide = create(&app, &admin, json!({"name": "Everyone", "target": "students"})).await;
    let adams = app.token(DISTRICT, "school_admin", &["sch-2"]);

    for list in [&lincoln, &district_wide] {
        let path = format!("/v1/lists/{}", id_of(list));
        assert_eq!(app.get(&path, Some(&adams)).await.0, 404);
        assert_eq!(app.get(&format!("{path}/members"), Some(&adams)).await.0, 404);
        assert_eq!(
            app.put_json(&path, &adams, &json!({"name": "mine", "target": "students"}).to_string()).await.0,
            404
        );
        assert_eq!(app.delete(&path, &adams).await.0, 404);
    }
    let (status, error) = app
        .post(
            "/v1/lists",
            Some(&adams),
            &json!({"name": "x", "target": "students", "rule": {"schools": ["sch-1"]}}).to_string(),
        )
        .await;
    assert_eq!((status, error["code"].as_str()), (403, Some("forbidden")), "{error}");
    let (status, error) = app
        .post(
            "/v1/lists",
            Some(&adams),
            &json!({"name": "x", "target": "students", "rule": {"section": "sec-a"}}).to_string(),
        )
        .await;
    assert_eq!(status, 422, "a section of another school is not theirs: {error}");
    let (status, error) = app
        .post("/v1/lists", Some(&adams), &json!({"name": "x", "target": "students", "includes": ["st-1"]}).to_string())
        .await;
    assert_eq!(status, 422, "a person of another school is not theirs: {error}");

    let mine = create(&app, &adams, json!({"name": "Adams", "target": "students"})).await;
    assert_eq!(mine["schools"], json!(["sch-2"]), "no schools means the caller's schools");
    assert_eq!(ids(&members(&app, &adams, &id_of(&mine), 50).await, "student"), people("st", 41..=50));
    let (_, listed) = app.get("/v1/lists", Some(&adams)).await;
    let names: Vec<&str> =
        listed["lists"].as_array().into_iter().flatten().filter_map(|l| l["name"].as_str()).collect();
    assert_eq!(names, ["Adams"]);
    let (_, listed) = app.get("/v1/lists", Some(&admin)).await;
    assert_eq!(listed["lists"].as_array().map(Vec::len), Some(3), "a district admin sees every list");

    let parent = app.person_token(DISTRICT, "guardian", "pa-41");
    assert_eq!(app.get("/v1/lists", Some(&parent)).await.0, 403);
    assert_eq!(app.get("/v1/lists", None).await.0, 401);
    app.stop().await;
}

#[tokio::test]
async fn paging_with_small_limits_returns_every_member_once() {
    let (app, admin) = district().await;
    let list = create(
        &app,
        &admin,
        json!({"name": "Lincoln families", "target": "students_and_guardians", "rule": {"schools": ["sch-1"]}}),
    )
    .await;
    let everyone = members(&app, &admin, &id_of(&list), 500).await;
    assert_eq!(everyone.len(), 40 + 40, "{everyone:?}");
    for limit in [1, 3, 7] {
        let paged = members(&app, &admin, &id_of(&list), limit).await;
        assert_eq!(paged, everyone, "limit {limit}");
        let unique: BTreeSet<&String> = paged.iter().map(|(id, _)| id).collect();
        assert_eq!(unique.len(), paged.len(), "no member twice with limit {limit}");
    }
    let (status, error) = app.get(&format!("/v1/lists/{}/members?cursor=%25%25", id_of(&list)), Some(&admin)).await;
    assert_eq!(status, 400, "{error}");
    app.stop().await;
}

#[tokio::test]
async fn membership_follows_a_reimport_and_a_list_is_replaced_only_at_its_version() {
    let (app, admin) = district().await;
    let fifth = create(&app, &admin, json!({"name": "Lincoln 5", "target": "students_and_guardians", "rule": {"schools": ["sch-1"], "grades": ["05"]}})).await;
    let id = id_of(&fifth);
    let before = members(&app, &admin, &id, 100).await;
    assert!(before.contains(&("st-3".to_string(), "student".to_string())) && before.len() == 60, "{before:?}");

    import(&app, &admin, &ListFixture::without(&[3])).await;
    let after = members(&app, &admin, &id, 100).await;
    assert_eq!(after.len(), 58, "{after:?}");
    assert!(!after.iter().any(|(id, _)| id == "st-3" || id == "pa-3"), "st-3 and their parent left: {after:?}");

    let path = format!("/v1/lists/{id}");
    let change = json!({"name": "Lincoln 4", "target": "students", "rule": {"schools": ["sch-1"], "grades": ["4"]}, "version": 1});
    let (status, changed) = app.put_json(&path, &admin, &change.to_string()).await;
    assert_eq!(
        (status, changed["version"].as_u64(), changed["name"].as_str()),
        (200, Some(2), Some("Lincoln 4")),
        "{changed}"
    );
    assert_eq!(changed["created_at"], fifth["created_at"]);
    let (status, stale) = app.put_json(&path, &admin, &change.to_string()).await;
    assert_eq!((status, stale["code"].as_str()), (409, Some("conflict")), "{stale}");
    assert_eq!(ids(&members(&app, &admin, &id, 100).await, "student"), people("st", 31..=40));

    let (status, _) = app.delete(&path, &admin).await;
    assert_eq!(status, 204);
    assert_eq!(app.get(&path, Some(&admin)).await.0, 404);
    app.stop().await;
}

#[tokio::test]
async fn bad_list_bodies_get_json_errors() {
    let (app, admin) = district().await;
    let cases = [
        (json!({"name": "n", "target": "parents"}), 422),
        (json!({"name": "n", "target": "staff", "rule": {"grades": ["05"]}}), 422),
        (json!({"name": "n", "target": "students", "rule": {"grade": "05"}}), 422),
        (json!({"name": "", "target": "students"}), 422),
        (json!({"name": "n", "target": "students", "rule": {"conditions": [{"field": "x", "op": "in"}]}}), 422),
        (json!({"name": "n", "target": "students", "rule": {"teacher": "st-1"}}), 422),
        (json!({"name": "n", "target": "students", "rule": {"section": "sec-zz"}}), 422),
    ];
    for (body, expected) in cases {
        let (status, error) = app.post("/v1/lists", Some(&admin), &body.to_string()).await;
        assert_eq!(status, expected, "{body}: {error}");
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}: {error}");
    }
    assert_eq!(app.post("/v1/lists", Some(&admin), "{not json").await.0, 400);
    assert_eq!(app.get("/v1/lists/no-such-list", Some(&admin)).await.0, 404);
    app.stop().await;
}

#[tokio::test]
async fn language_bus_route_and_plus_data_narrow_a_list() {
    let app = spawn_app().await;
    let admin = app.token(DISTRICT, "district_admin", &[]);
    let definition = json!({"name": "flat", "method": "mapped", "mapping": "schoolmessenger"});
    assert_eq!(app.post("/v1/imports", Some(&admin), &definition.to_string()).await.0, 201);
    let csv = "Student ID,Student First Name,Student Last Name,Grade,School,Contact First Name,Contact Last Name,Relationship,Messenger,Household ID,Home Phone,Work Phone,Cell Phone,Email,Language,Meal Balance,Bus Route\r\n\
               s-1,Leo,Diaz,5,sch-1,Ana,Diaz,Mother,Y,h-1,,,(617) 555-2345,ana@example.org,es,12.50,Route 7\r\n\
               s-1,Leo,Diaz,5,sch-1,Luis,Diaz,Father,N,h-1,(617) 555-3456,,,,es,12.50,Route 7\r\n\
               s-2,Mia,Ruiz,5,sch-1,Eva,Ruiz,Mother,Y,h-2,,,(617) 555-2346,eva@example.org,en,0.00,Route 9\r\n\
               s-3,Kai,Lee,4,sch-1,Jo,Lee,Father,Y,h-3,,,(617) 555-2347,jo@example.org,es,,Route 7\r\n";
    assert_eq!(app.put_file("/v1/imports/flat/file", &admin, "flat.csv", csv.as_bytes().to_vec()).await.0, 200);
    let (status, run) = app.post("/v1/imports/flat/runs", Some(&admin), "").await;
    assert_eq!((status, run["state"].as_str()), (201, Some("applied")), "{run}");

    let cases = [
        (json!({"language": "ES"}), vec!["s-1", "s-3"]),
        (json!({"bus_route": "route 7", "grades": ["5"]}), vec!["s-1"]),
        (json!({"conditions": [{"field": "meal_balance", "op": "exists"}]}), vec!["s-1", "s-2"]),
        (json!({"conditions": [{"field": "meal_balance", "op": "in", "values": ["0.00", "3.00"]}]}), vec!["s-2"]),
        (json!({"conditions": [{"field": "bus_route", "op": "equals", "value": "Route 9"}]}), vec!["s-2"]),
    ];
    for (rule, expected) in cases {
        let list = create(&app, &admin, json!({"name": "n", "target": "students", "rule": rule})).await;
        let found: Vec<String> = members(&app, &admin, &id_of(&list), 10).await.into_iter().map(|(id, _)| id).collect();
        assert_eq!(found, expected, "{rule}");
    }
    let parents = create(
        &app,
        &admin,
        json!({"name": "Route 7 families", "target": "guardians", "rule": {"bus_route": "Route 7"}}),
    )
    .await;
    let found = members(&app, &admin, &id_of(&parents), 10).await;
    assert_eq!(found.len(), 2, "s-1's mother and s-3's father, not s-1's father (no messenger): {found:?}");
    app.stop().await;
}
