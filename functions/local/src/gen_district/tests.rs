//! Tests of the generator: determinism, OneRoster 1.1 shape, references,
//! links, phones, e-mails, birth dates and the summary.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::Path;

use anyhow::{Context as _, ensure};
use chrono::NaiveDate;
use schoolbell::domain::{PhoneNumber, Region};

use super::contact::GUARDIAN_DOMAINS;
use super::reference::GRADES;
use super::{GenOptions, GenSummary, generate};

type Row = HashMap<String, String>;
type Pairs = HashSet<(String, String)>;

fn district(students: usize, seed: u64) -> anyhow::Result<(tempfile::TempDir, GenSummary)> {
    let dir = tempfile::tempdir()?;
    let summary = generate(&GenOptions { students, seed, reachable: false }, dir.path())?;
    Ok((dir, summary))
}

fn table(dir: &Path, file: &str) -> anyhow::Result<(Vec<String>, Vec<Row>)> {
    let mut reader = csv::Reader::from_path(dir.join(file))?;
    let headers: Vec<String> = reader.headers()?.iter().map(str::to_string).collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record?;
        rows.push(headers.iter().cloned().zip(record.iter().map(str::to_string)).collect());
    }
    Ok((headers, rows))
}

fn rows(dir: &Path, file: &str) -> anyhow::Result<Vec<Row>> {
    Ok(table(dir, file)?.1)
}

fn cell<'a>(row: &'a Row, column: &str) -> &'a str {
    row.get(column).map_or("", String::as_str)
}

fn list(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').filter(|v| !v.is_empty())
}

fn ids(rows: &[Row]) -> HashSet<String> {
    rows.iter().map(|r| cell(r, "sourcedId").to_string()).collect()
}

fn is_guardian(role: &str) -> bool {
    matches!(role, "parent" | "guardian" | "relative")
}

/// (student, guardian) pairs as listed on student rows and on guardian rows.
fn links(users: &[Row]) -> (Pairs, Pairs) {
    let mut from_students = HashSet::new();
    let mut from_guardians = HashSet::new();
    for user in users {
        let id = cell(user, "sourcedId").to_string();
        for agent in list(cell(user, "agentSourcedIds")) {
            if cell(user, "role") == "student" {
                from_students.insert((id.clone(), agent.to_string()));
            } else {
                from_guardians.insert((agent.to_string(), id.clone()));
            }
        }
    }
    (from_students, from_guardians)
}

#[test]
fn the_same_students_and_seed_write_byte_identical_files() -> anyhow::Result<()> {
    let (a, first) = district(700, 7)?;
    let (b, second) = district(700, 7)?;
    ensure!(first == second);
    let mut names: Vec<_> = fs::read_dir(a.path())?.map(|e| e.map(|e| e.file_name())).collect::<Result<_, _>>()?;
    names.sort();
    ensure!(names.len() == 8, "{names:?}");
    for name in &names {
        ensure!(fs::read(a.path().join(name))? == fs::read(b.path().join(name))?, "{name:?} differs");
    }
    let (c, _) = district(700, 8)?;
    ensure!(fs::read(a.path().join("users.csv"))? != fs::read(c.path().join("users.csv"))?);
    Ok(())
}

#[test]
fn headers_and_manifest_follow_oneroster_1_1() -> anyhow::Result<()> {
    let (dir, _) = district(300, 1)?;
    let expected: [(&str, &str); 8] = [
        ("manifest.csv", "propertyName,value"),
        ("orgs.csv", "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId"),
        (
            "academicSessions.csv",
            "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear",
        ),
        (
            "courses.csv",
            "sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,orgSourcedId,subjects,\
             subjectCodes",
        ),
        (
            "classes.csv",
            "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,\
             schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods",
        ),
        (
            "users.csv",
            "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,\
             familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password",
        ),
        (
            "enrollments.csv",
            "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,\
             beginDate,endDate",
        ),
        (
            "demographics.csv",
            "sourcedId,status,dateLastModified,birthDate,sex,americanIndianOrAlaskaNative,asian,\
             blackOrAfricanAmerican,nativeHawaiianOrOtherPacificIslander,white,demographicRaceTwoOrMoreRaces,\
             hispanicOrLatinoEthnicity,countryOfBirthCode,stateOfBirthAbbreviation,cityOfBirth,\
             publicSchoolResidenceStatus",
        ),
    ];
    for (file, header) in expected {
        let (headers, rows) = table(dir.path(), file)?;
        ensure!(headers.join(",") == header, "{file}: {headers:?}");
        if file != "manifest.csv" {
            ensure!(!rows.is_empty(), "{file} is empty");
            for row in &rows {
                ensure!(cell(row, "status").is_empty() && cell(row, "dateLastModified").is_empty(), "{file}: {row:?}");
            }
        }
    }

    let manifest: HashMap<String, String> = rows(dir.path(), "manifest.csv")?
        .iter()
        .map(|r| (cell(r, "propertyName").to_string(), cell(r, "value").to_string()))
        .collect();
    ensure!(manifest.get("oneroster.version").map(String::as_str) == Some("1.1"));
    let mut declared = 0;
    for (key, value) in &manifest {
        let Some(file) = key.strip_prefix("file.") else { continue };
        declared += 1;
        let present = dir.path().join(format!("{file}.csv")).exists();
        match value.as_str() {
            "bulk" => ensure!(present, "{file} declared bulk but missing"),
            "absent" => ensure!(!present, "{file} declared absent but present"),
            other => anyhow::bail!("{file}: {other}"),
        }
    }
    ensure!(declared == 13, "{declared} file.* keys");
    for entry in fs::read_dir(dir.path())? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        let stem = name.trim_end_matches(".csv");
        ensure!(stem == "manifest" || manifest.get(&format!("file.{stem}")).map(String::as_str) == Some("bulk"));
    }

    // Multi-value cells are quoted; a parse gives them back whole.
    let classes = fs::read_to_string(dir.path().join("classes.csv"))?;
    ensure!(classes.contains("\"as-2026-t1,as-2026-t2\"") && classes.contains("\"09,10,11,12\""));
    let users = fs::read_to_string(dir.path().join("users.csv"))?;
    ensure!(users.contains(",\"gdn-") && users.contains(",\"stu-") && users.contains(",\"{SIS:"));
    Ok(())
}

#[test]
fn every_reference_points_to_a_row_that_exists() -> anyhow::Result<()> {
    let (dir, _) = district(1500, 42)?;
    let dir = dir.path();
    let orgs = rows(dir, "orgs.csv")?;
    let org_ids = ids(&orgs);
    let schools: HashSet<String> =
        orgs.iter().filter(|o| cell(o, "type") == "school").map(|o| cell(o, "sourcedId").to_string()).collect();
    let districts: Vec<&Row> = orgs.iter().filter(|o| cell(o, "type") == "district").collect();
    ensure!(districts.len() == 1 && schools.len() + 1 == orgs.len());
    for org in &orgs {
        let parent = cell(org, "parentSourcedId");
        ensure!(parent.is_empty() || org_ids.contains(parent));
    }

    let sessions = ids(&rows(dir, "academicSessions.csv")?);
    let courses = rows(dir, "courses.csv")?;
    for course in &courses {
        ensure!(
            schools.contains(cell(course, "orgSourcedId")) && sessions.contains(cell(course, "schoolYearSourcedId"))
        );
    }
    let course_ids = ids(&courses);

    let classes = rows(dir, "classes.csv")?;
    let mut class_school = HashMap::new();
    for class in &classes {
        ensure!(schools.contains(cell(class, "schoolSourcedId")), "{class:?}");
        ensure!(course_ids.contains(cell(class, "courseSourcedId")), "{class:?}");
        ensure!(list(cell(class, "termSourcedIds")).all(|t| sessions.contains(t)), "{class:?}");
        ensure!(matches!(cell(class, "classType"), "homeroom" | "scheduled"));
        class_school.insert(cell(class, "sourcedId").to_string(), cell(class, "schoolSourcedId").to_string());
    }

    let users = rows(dir, "users.csv")?;
    let role: HashMap<String, String> =
        users.iter().map(|u| (cell(u, "sourcedId").to_string(), cell(u, "role").to_string())).collect();
    ensure!(role.len() == users.len(), "duplicate user ids");
    let usernames: HashSet<&str> = users.iter().map(|u| cell(u, "username")).collect();
    ensure!(usernames.len() == users.len(), "duplicate usernames");
    for user in &users {
        ensure!(list(cell(user, "orgSourcedIds")).all(|o| schools.contains(o)), "{user:?}");
        let own = cell(user, "role");
        for agent in list(cell(user, "agentSourcedIds")) {
            let other = role.get(agent).map_or("", String::as_str);
            let fits = if own == "student" { is_guardian(other) } else { is_guardian(own) && other == "student" };
            ensure!(fits, "{own} {} lists {other} {agent}", cell(user, "sourcedId"));
        }
    }
    let (from_students, from_guardians) = links(&users);
    let linked: HashSet<&String> = from_students.iter().chain(&from_guardians).map(|(s, _)| s).collect();
    let students: Vec<&String> = role.iter().filter(|(_, r)| *r == "student").map(|(id, _)| id).collect();
    ensure!(!students.is_empty() && students.iter().all(|s| linked.contains(s)), "a student without a guardian");

    let enrollments = rows(dir, "enrollments.csv")?;
    ensure!(ids(&enrollments).len() == enrollments.len());
    let mut primaries: HashMap<&str, usize> = HashMap::new();
    let mut homerooms: HashMap<&str, usize> = HashMap::new();
    let homeroom_ids: HashSet<&str> =
        classes.iter().filter(|c| cell(c, "classType") == "homeroom").map(|c| cell(c, "sourcedId")).collect();
    for enrollment in &enrollments {
        let class = cell(enrollment, "classSourcedId");
        let user = cell(enrollment, "userSourcedId");
        ensure!(class_school.get(class).map(String::as_str) == Some(cell(enrollment, "schoolSourcedId")));
        ensure!(role.get(user).map(String::as_str) == Some(cell(enrollment, "role")), "{enrollment:?}");
        if cell(enrollment, "primary") == "true" {
            *primaries.entry(class).or_default() += 1;
        }
        if cell(enrollment, "role") == "student" && homeroom_ids.contains(class) {
            *homerooms.entry(user).or_default() += 1;
        }
    }
    ensure!(classes.iter().all(|c| primaries.get(cell(c, "sourcedId")) == Some(&1)), "one primary per class");
    ensure!(students.iter().all(|s| homerooms.get(s.as_str()) == Some(&1)), "one homeroom per student");

    let demographics = rows(dir, "demographics.csv")?;
    ensure!(demographics.len() == students.len());
    ensure!(demographics.iter().all(|d| role.get(cell(d, "sourcedId")).map(String::as_str) == Some("student")));
    Ok(())
}

#[test]
fn links_run_both_ways_except_about_one_in_ten() -> anyhow::Result<()> {
    let (dir, summary) = district(5000, 3)?;
    let users = rows(dir.path(), "users.csv")?;
    let (from_students, from_guardians) = links(&users);
    let all: HashSet<_> = from_students.union(&from_guardians).collect();
    let one_way = from_students.symmetric_difference(&from_guardians).count();
    ensure!(all.len() == summary.relationships && one_way == summary.one_way_relationships);
    let share = one_way as f64 / all.len() as f64;
    ensure!((0.07..0.13).contains(&share), "one-way share {share}");

    let mut per_student: HashMap<&str, usize> = HashMap::new();
    for (student, _) in &all {
        *per_student.entry(student.as_str()).or_default() += 1;
    }
    ensure!(per_student.len() == summary.students && per_student.values().all(|n| (1..=3).contains(n)));
    let two = per_student.values().filter(|n| **n == 2).count() as f64 / summary.students as f64;
    ensure!(two > 0.6, "two guardians: {two}");
    let siblings = summary.students_with_siblings as f64 / summary.students as f64;
    ensure!((0.22..0.38).contains(&siblings), "siblings {siblings}");

    let guardians: Vec<&Row> = users.iter().filter(|u| is_guardian(cell(u, "role"))).collect();
    ensure!(guardians.len() == summary.guardians);
    let share_of = |r: &str| guardians.iter().filter(|g| cell(g, "role") == r).count() as f64 / guardians.len() as f64;
    ensure!(share_of("parent") > 0.75 && share_of("guardian") > 0.03 && share_of("relative") > 0.01);
    Ok(())
}

#[test]
fn phones_are_mostly_mobiles_with_some_landlines_invalid_magic_and_none() -> anyhow::Result<()> {
    let (dir, summary) = district(5000, 11)?;
    let users = rows(dir.path(), "users.csv")?;
    let mix = &summary.guardian_phones;
    let total = summary.guardians as f64;
    let share = |n: usize| n as f64 / total;
    ensure!(mix.mobile + mix.landline_only + mix.invalid + mix.magic + mix.none == summary.guardians);
    ensure!((0.62..0.78).contains(&share(mix.mobile)), "{mix:?}");
    ensure!((0.16..0.24).contains(&share(mix.landline_only)), "{mix:?}");
    ensure!((0.015..0.045).contains(&share(mix.invalid)), "{mix:?}");
    ensure!((0.01..0.03).contains(&share(mix.magic)), "{mix:?}");
    ensure!((0.03..0.07).contains(&share(mix.none)), "{mix:?}");

    let (mut invalid, mut magic, mut none, mut landline_only) = (0, 0, 0, 0);
    let mut shapes = [false; 4];
    for user in users.iter().filter(|u| is_guardian(cell(u, "role")) || cell(u, "role") == "student") {
        let guardian = is_guardian(cell(user, "role"));
        let (sms, phone) = (cell(user, "sms"), cell(user, "phone"));
        if guardian && sms.is_empty() && phone.is_empty() {
            none += 1;
        }
        let mut bad = false;
        for number in [sms, phone].into_iter().filter(|n| !n.is_empty()) {
            shapes[0] |= number.starts_with('(');
            shapes[1] |= number.len() == 12 && number.chars().filter(|c| *c == '-').count() == 2;
            shapes[2] |= number.len() == 10 && number.chars().all(|c| c.is_ascii_digit());
            shapes[3] |= number.starts_with("+1") && number.len() == 12;
            match PhoneNumber::parse(number, Region::US) {
                Ok(parsed) => {
                    let e164 = parsed.as_e164();
                    if e164.starts_with("+1617555010") {
                        ensure!(guardian && e164 <= "+16175550105", "{e164}");
                        magic += 1;
                    } else {
                        ensure!(!e164.ends_with("99") && !e164[5..].starts_with("555"), "{e164}");
                    }
                }
                Err(_) => bad = true,
            }
        }
        ensure!(guardian || !bad, "a student with an invalid number");
        if guardian && bad {
            invalid += 1;
        }
        if guardian && sms.is_empty() && !phone.is_empty() && !bad {
            landline_only += 1;
        }
    }
    ensure!(shapes.iter().all(|s| *s), "{shapes:?}");
    ensure!(invalid == mix.invalid && magic == mix.magic && none == mix.none, "{invalid} {magic} {none} {mix:?}");
    ensure!(landline_only == mix.landline_only);
    let students_with_sms = users.iter().filter(|u| cell(u, "role") == "student" && !cell(u, "sms").is_empty());
    ensure!(students_with_sms.clone().count() > 0);
    ensure!(students_with_sms.clone().all(|u| ["09", "10", "11", "12"].contains(&cell(u, "grades"))));
    Ok(())
}

#[test]
fn emails_use_reserved_domains_only() -> anyhow::Result<()> {
    let (dir, _) = district(2000, 5)?;
    let users = rows(dir.path(), "users.csv")?;
    let mut guardians_with_email = 0usize;
    let mut guardians = 0usize;
    for user in &users {
        let email = cell(user, "email");
        let role = cell(user, "role");
        if !email.is_empty() {
            ensure!(email.is_ascii() && email.matches('@').count() == 1, "{email}");
        }
        match role {
            "teacher" => ensure!(email.ends_with("@district.example.org"), "{email}"),
            "student" if cell(user, "grades") >= "06" && cell(user, "grades") != "KG" => {
                ensure!(email.ends_with("@students.example.org"), "{email}")
            }
            "student" => ensure!(email.is_empty(), "{email}"),
            _ => {
                guardians += 1;
                if !email.is_empty() {
                    guardians_with_email += 1;
                    let domain = email.rsplit('@').next().unwrap_or("");
                    ensure!(GUARDIAN_DOMAINS.contains(&domain), "{email}");
                }
            }
        }
    }
    let share = guardians_with_email as f64 / guardians as f64;
    ensure!((0.8..0.9).contains(&share), "{share}");
    Ok(())
}

#[test]
fn birth_dates_match_grades() -> anyhow::Result<()> {
    let (dir, _) = district(1300, 9)?;
    let grade: HashMap<String, String> = rows(dir.path(), "users.csv")?
        .iter()
        .filter(|u| cell(u, "role") == "student")
        .map(|u| (cell(u, "sourcedId").to_string(), cell(u, "grades").to_string()))
        .collect();
    let cutoff = NaiveDate::from_ymd_opt(2025, 9, 1).context("date")?;
    for row in rows(dir.path(), "demographics.csv")? {
        let born = NaiveDate::parse_from_str(cell(&row, "birthDate"), "%Y-%m-%d")?;
        let code = grade.get(cell(&row, "sourcedId")).context("student")?;
        let g = GRADES.iter().position(|c| c == code).context("grade code")? as u32;
        let age = cutoff.years_since(born).context("age")?;
        ensure!(age == 5 + g || age == 6 + g, "grade {code}, born {born}, {age} on {cutoff}");
        ensure!(matches!(cell(&row, "sex"), "male" | "female"));
    }
    Ok(())
}

#[test]
fn the_summary_counts_the_rows_written() -> anyhow::Result<()> {
    let (dir, summary) = district(3000, 2)?;
    for (file, count) in &summary.files {
        ensure!(rows(dir.path(), file)?.len() == *count, "{file}");
    }
    let files = |f: &str| summary.files.get(f).copied().unwrap_or(0);
    ensure!(files("users.csv") == summary.students + summary.guardians + summary.teachers);
    ensure!(files("orgs.csv") == summary.schools + 1 && files("classes.csv") == summary.sections);
    ensure!(files("enrollments.csv") == summary.enrollments && files("courses.csv") == summary.courses);
    ensure!(summary.students == 3000 && files("demographics.csv") == 3000);
    ensure!((5..=7).contains(&summary.schools), "{} schools", summary.schools);
    ensure!((135..=165).contains(&summary.teachers), "{} teachers", summary.teachers);
    ensure!(summary.guardians > summary.students, "{} guardians", summary.guardians);
    Ok(())
}

#[test]
fn a_district_without_students_still_writes_valid_files() -> anyhow::Result<()> {
    let (dir, summary) = district(0, 1)?;
    ensure!(summary.students == 0 && summary.guardians == 0 && summary.schools == 3);
    for file in summary.files.keys() {
        rows(dir.path(), file)?;
    }
    Ok(())
}
