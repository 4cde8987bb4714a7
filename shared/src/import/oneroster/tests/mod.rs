//! Tests of the OneRoster reader, on small synthetic sets with the traits
//! of real exports (BOM, CRLF, quoted lists, vendor columns ...), and one
//! check of the saved sample sets when they are present.

use std::error::Error;

use proptest::prelude::*;

use super::read_oneroster;
use crate::domain::{
    Channel, EnrollmentRole, FileMode, FileRejected, PersonRole, ReadOutcome, Region, RelationshipKind, RosterPerson,
};
use crate::import::CsvFiles;

mod district;

const MANIFEST: &str = "propertyName,value
manifest.version,1.0
oneroster.version,1.1
file.academicSessions,absent
file.orgs,bulk
file.users,bulk
file.classes,bulk
file.enrollments,bulk
file.demographics,absent
";

const ORGS: &str = "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId
d1,,,Springfield District,district,,
sch1,,,Lincoln Elementary,school,,d1
dep1,,,Lincoln Music,department,,sch1
";

const USERS: &str = "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,givenName,familyName,email,sms,phone,agentSourcedIds,grades
s1,active,,true,sch1,student,ana,Ana,Diaz,ana@example.org,,,\"p1,p2\",5
p1,,,true,sch1,parent,maria,Maria,Diaz,Maria@Example.org,(617) 555-0101,(617) 555-0102,,
p2,,,true,sch1,relative,rosa,Rosa,Diaz,,,617-555-0103,,
t1,,,true,\"d1,dep1\",teacher,john,John,Doe,john@school.org,,6175550104,,
";

const CLASSES: &str = "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds
c1,,,Math 5,\"05,06\",crs1,,homeroom,,sch1,t1
";

const ENROLLMENTS: &str = "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary
e1,,,c1,sch1,s1,student,
e2,,,c1,sch1,t1,teacher,true
";

fn set(files: &[(&str, &str)]) -> CsvFiles {
    let mut set = CsvFiles::new();
    for (name, text) in files {
        set.insert(name, text.as_bytes().to_vec());
    }
    set
}

fn base_with(replace: &[(&str, &str)]) -> CsvFiles {
    let mut files = vec![
        ("manifest.csv", MANIFEST),
        ("orgs.csv", ORGS),
        ("users.csv", USERS),
        ("classes.csv", CLASSES),
        ("enrollments.csv", ENROLLMENTS),
    ];
    for (name, text) in replace {
        match files.iter_mut().find(|(n, _)| n == name) {
            Some(entry) => entry.1 = text,
            None => files.push((name, text)),
        }
    }
    set(&files)
}

fn read(files: &CsvFiles) -> Result<ReadOutcome, FileRejected> {
    read_oneroster(files, Region::US)
}

fn person<'a>(outcome: &'a ReadOutcome, id: &str) -> Option<&'a RosterPerson> {
    outcome.roster.people.records.iter().find(|p| p.id.as_str() == id)
}

fn contact(person: Option<&RosterPerson>, channel: Channel) -> Option<String> {
    person?.contacts.iter().find(|c| c.channel == channel).map(|c| c.value.as_raw().to_string())
}

fn links(outcome: &ReadOutcome) -> Vec<(String, String, RelationshipKind, bool)> {
    let mut links: Vec<_> = outcome
        .roster
        .relationships
        .records
        .iter()
        .map(|r| (r.student.to_string(), r.guardian.to_string(), r.kind, r.messenger))
        .collect();
    links.sort();
    links
}

fn rejected_at(outcome: &ReadOutcome, file: &str, row: u64) -> Vec<String> {
    outcome
        .rejected
        .iter()
        .filter(|r| r.file == file && r.row == row)
        .map(|r| format!("{}: {}", r.column.as_deref().unwrap_or("-"), r.reason))
        .collect()
}

#[test]
fn a_one_point_one_set_gives_schools_people_links_sections_and_enrollments() -> Result<(), FileRejected> {
    let outcome = read(&base_with(&[]))?;
    let roster = &outcome.roster;
    assert_eq!(outcome.rejected, vec![], "{:?}", outcome.rejected);
    assert_eq!(roster.schools.mode, FileMode::Bulk);
    let schools: Vec<_> = roster.schools.records.iter().map(|s| (s.id.as_str(), s.name.as_str())).collect();
    assert_eq!(schools, vec![("sch1", "Lincoln Elementary")]);

    let ana = person(&outcome, "s1");
    assert_eq!(
        ana.map(|p| (p.role, p.sis_role.as_str(), p.grade.as_deref())),
        Some((PersonRole::Student, "student", Some("05")))
    );
    assert_eq!(ana.map(|p| p.schools.iter().map(|s| s.as_str()).collect::<Vec<_>>()), Some(vec!["sch1"]));
    let maria = person(&outcome, "p1");
    assert_eq!(
        maria.map(|p| (p.role, p.sis_role.as_str(), p.grade.clone())),
        Some((PersonRole::Guardian, "parent", None))
    );
    assert_eq!(contact(maria, Channel::CellPhone).as_deref(), Some("+16175550101"));
    assert_eq!(contact(maria, Channel::HomePhone).as_deref(), Some("+16175550102"));
    assert_eq!(contact(maria, Channel::Email).as_deref(), Some("maria@example.org"));
    let john = person(&outcome, "t1");
    assert_eq!(john.map(|p| (p.role, p.sis_role.as_str())), Some((PersonRole::Staff, "teacher")));
    // The district org is no school; the department stands for its school.
    assert_eq!(john.map(|p| p.schools.iter().map(|s| s.as_str()).collect::<Vec<_>>()), Some(vec!["sch1"]));

    assert_eq!(
        links(&outcome),
        vec![
            ("s1".into(), "p1".into(), RelationshipKind::Parent, true),
            ("s1".into(), "p2".into(), RelationshipKind::Relative, false),
        ]
    );
    assert_eq!(roster.relationships.mode, FileMode::Bulk);
    let sections: Vec<_> =
        roster.sections.records.iter().map(|s| (s.id.as_str(), s.school.as_str(), s.title.as_str())).collect();
    assert_eq!(sections, vec![("c1", "sch1", "Math 5")]);
    let enrollments: Vec<_> = roster
        .enrollments
        .records
        .iter()
        .map(|e| (e.id.as_str(), e.section.as_str(), e.person.as_str(), e.role))
        .collect();
    assert_eq!(
        enrollments,
        vec![("e1", "c1", "s1", EnrollmentRole::Student), ("e2", "c1", "t1", EnrollmentRole::Teacher)]
    );
    Ok(())
}

#[test]
fn a_bom_crlf_reordered_headers_in_any_case_and_vendor_columns_read_the_same() -> Result<(), FileRejected> {
    let plain = read(&base_with(&[]))?;
    let users = "\u{feff}FamilyName,metadata.homeRoom, givenName ,ROLE,sourcedId,orgSourcedIds,agentSourcedIds,grades,sms,phone,email,ext_x\r\n\
        Diaz,12B,Ana,student,s1,sch1,\"p1,p2\",5,,,ana@example.org,1\r\n\
        Diaz,,Maria,parent,p1,sch1,,,(617) 555-0101,(617) 555-0102,Maria@Example.org,\r\n\
        Diaz,,Rosa,relative,p2,sch1,,,,617-555-0103,,\r\n\
        Doe,,John,teacher,t1,\"d1,dep1\",,,,6175550104,john@school.org,";
    let manifest = format!("\u{feff}{}", MANIFEST.replace('\n', "\r\n"));
    let outcome = read(&base_with(&[("users.csv", users), ("manifest.csv", &manifest)]))?;
    assert_eq!(outcome.roster, plain.roster);
    assert_eq!(outcome.rejected, vec![]);
    let vendor: Vec<_> = outcome.warnings.iter().filter(|w| w.starts_with("users.csv: columns ignored")).collect();
    assert_eq!(vendor.len(), 1, "{:?}", outcome.warnings);
    assert!(vendor[0].contains("metadata.homeRoom") && vendor[0].contains("ext_x"), "{}", vendor[0]);
    Ok(())
}

#[test]
fn a_bom_on_a_quoted_first_header_is_stripped_too() -> Result<(), FileRejected> {
    let orgs = "\u{feff}\"sourcedId\",\"name\",\"type\"\nsch1,Lincoln Elementary,school\n";
    let outcome = read(&base_with(&[("orgs.csv", orgs)]))?;
    assert_eq!(outcome.roster.schools.records.len(), 1);
    Ok(())
}

#[test]
fn a_parent_listing_the_student_links_them_like_the_other_direction() -> Result<(), FileRejected> {
    let users = "sourcedId,role,givenName,familyName,agentSourcedIds,orgSourcedIds
s1,student,Ana,Diaz,,sch1
p1,guardian,Maria,Diaz,s1,sch1
";
    let outcome = read(&base_with(&[
        ("users.csv", users),
        ("enrollments.csv", "sourcedId,classSourcedId,userSourcedId,role\n"),
    ]))?;
    assert_eq!(links(&outcome), vec![("s1".into(), "p1".into(), RelationshipKind::Guardian, true)]);
    Ok(())
}

#[test]
fn links_listed_in_both_directions_give_one_relationship() -> Result<(), FileRejected> {
    let users = "sourcedId,role,givenName,familyName,agentSourcedIds
s1,student,Ana,Diaz,\"p1, p1\"
p1,parent,Maria,Diaz,s1
";
    let outcome = read(&base_with(&[
        ("users.csv", users),
        ("enrollments.csv", "sourcedId,classSourcedId,userSourcedId,role\n"),
    ]))?;
    assert_eq!(links(&outcome), vec![("s1".into(), "p1".into(), RelationshipKind::Parent, true)]);
    Ok(())
}

#[test]
fn links_to_unknown_users_are_rejected_and_links_to_teachers_ignored() -> Result<(), FileRejected> {
    let users = "sourcedId,role,givenName,familyName,agentSourcedIds
s1,student,Ana,Diaz,\"p9,t1,p1\"
p1,parent,Maria,Diaz,
t1,teacher,John,Doe,
";
    let outcome = read(&base_with(&[
        ("users.csv", users),
        ("enrollments.csv", "sourcedId,classSourcedId,userSourcedId,role\n"),
    ]))?;
    assert_eq!(links(&outcome), vec![("s1".into(), "p1".into(), RelationshipKind::Parent, true)]);
    assert_eq!(
        rejected_at(&outcome, "users.csv", 2),
        vec!["agentSourcedIds: user `p9` is not in users.csv; link dropped"]
    );
    assert!(
        outcome.warnings.iter().any(|w| w.contains("1 agent link(s) between users that are not a student")),
        "{:?}",
        outcome.warnings
    );
    Ok(())
}

#[test]
fn tobedeleted_rows_of_a_delta_file_are_deletions() -> Result<(), FileRejected> {
    let manifest = "propertyName,value\noneroster.version,1.1\nfile.users,delta\nfile.enrollments,delta\n";
    let users = "sourcedId,status,dateLastModified,role,givenName,familyName,agentSourcedIds
s1,active,2024-01-02,student,Ana,Diaz,p-stored
s2,tobedeleted,2024-01-02,student,Leo,Diaz,
p3,inactive,2024-01-02,parent,Eva,Diaz,
";
    let enrollments = "sourcedId,status,classSourcedId,userSourcedId,role
e1,tobedeleted,c1,s2,student
e2,active,c-stored,s-stored,student
";
    let outcome = read(&set(&[("manifest.csv", manifest), ("users.csv", users), ("enrollments.csv", enrollments)]))?;
    let people = &outcome.roster.people;
    assert_eq!(people.mode, FileMode::Delta);
    assert_eq!(people.records.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), vec!["s1"]);
    assert_eq!(people.deleted, vec!["s2", "p3"]);
    assert_eq!(outcome.roster.relationships.mode, FileMode::Delta);
    assert_eq!(outcome.roster.enrollments.deleted, vec!["e1"]);
    // A delta file may refer to what earlier runs stored.
    assert_eq!(outcome.roster.enrollments.records.len(), 1);
    assert_eq!(outcome.roster.schools.mode, FileMode::Absent);
    assert_eq!(outcome.rejected, vec![]);
    assert!(outcome.warnings.iter().any(|w| w.contains("not in this delta file")), "{:?}", outcome.warnings);
    Ok(())
}

#[test]
fn tobedeleted_rows_of_a_bulk_file_are_not_imported_and_counted() -> Result<(), FileRejected> {
    let users = "sourcedId,status,role,givenName,familyName
s1,active,student,Ana,Diaz
s2,tobedeleted,student,Leo,Diaz
s3,Inactive,student,Eva,Diaz
";
    let outcome = read(&base_with(&[
        ("users.csv", users),
        ("enrollments.csv", "sourcedId,classSourcedId,userSourcedId,role\n"),
    ]))?;
    assert_eq!(outcome.roster.people.records.len(), 1);
    assert!(outcome.roster.people.deleted.is_empty());
    assert!(
        outcome.warnings.iter().any(|w| w.starts_with("users.csv: 2 row(s) marked tobedeleted")),
        "{:?}",
        outcome.warnings
    );
    Ok(())
}

#[test]
fn duplicate_sourced_ids_reject_the_later_rows() -> Result<(), FileRejected> {
    let users = "sourcedId,role,givenName,familyName
s1,student,Ana,Diaz
s1,student,Ana,Diaz
s2,student,Leo,Diaz
s1,teacher,Ana,Diaz
";
    let outcome = read(&base_with(&[
        ("users.csv", users),
        ("enrollments.csv", "sourcedId,classSourcedId,userSourcedId,role\n"),
    ]))?;
    assert_eq!(outcome.roster.people.records.len(), 2);
    assert_eq!(rejected_at(&outcome, "users.csv", 3), vec!["sourcedId: duplicate sourcedId, first at row 2"]);
    assert_eq!(rejected_at(&outcome, "users.csv", 5), vec!["sourcedId: duplicate sourcedId, first at row 2"]);
    Ok(())
}

#[test]
fn an_invalid_phone_or_email_keeps_the_person_and_rejects_that_cell_without_echoing_it() -> Result<(), FileRejected> {
    let users = "sourcedId,role,givenName,familyName,email,sms,phone
p1,parent,Maria,Diaz,maria-at-example,603121567,6175550102
p2,parent,Rosa,Diaz,rosa@example.org,6175550103,(617) 555-0103
";
    let outcome = read(&base_with(&[
        ("users.csv", users),
        ("enrollments.csv", "sourcedId,classSourcedId,userSourcedId,role\n"),
    ]))?;
    let maria = person(&outcome, "p1");
    assert_eq!(maria.map(|p| p.contacts.len()), Some(1));
    assert_eq!(contact(maria, Channel::HomePhone).as_deref(), Some("+16175550102"));
    let columns: Vec<_> = outcome.rejected.iter().map(|r| (r.row, r.column.as_deref())).collect();
    assert_eq!(columns, vec![(2, Some("sms")), (2, Some("email"))]);
    for rejected in &outcome.rejected {
        for secret in ["603121567", "maria-at-example", "Maria", "Diaz"] {
            assert!(!rejected.reason.contains(secret), "{}", rejected.reason);
        }
    }
    // The same number as sms and phone is only the cell phone.
    let rosa = person(&outcome, "p2");
    assert_eq!(contact(rosa, Channel::CellPhone).as_deref(), Some("+16175550103"));
    assert_eq!(contact(rosa, Channel::HomePhone), None);
    Ok(())
}

#[test]
fn a_file_of_bad_rows_keeps_the_first_ones_and_counts_them_all() -> Result<(), FileRejected> {
    let bad = crate::domain::MAX_REPORTED_ROWS * 4;
    let mut users = String::from("sourcedId,role,givenName,familyName,enabledUser\n");
    for n in 0..bad {
        users.push_str(&format!("s{n},wizard,Leo,Diaz,true\n"));
    }
    let outcome = read(&base_with(&[
        ("users.csv", &users),
        ("enrollments.csv", "sourcedId,classSourcedId,userSourcedId,role\n"),
    ]))?;
    assert_eq!(outcome.rejected.len(), crate::domain::MAX_REPORTED_ROWS, "kept while reading, not trimmed after");
    assert_eq!(outcome.rejected_total, bad as u64);
    assert_eq!(outcome.rejected.first().map(|r| r.row), Some(2));
    Ok(())
}

#[test]
fn rows_without_names_or_with_unknown_roles_are_rejected() -> Result<(), FileRejected> {
    let users = "sourcedId,role,givenName,familyName,enabledUser
s1,student,,Diaz,true
s2,student,Leo,  ,true
s3,wizard,Leo,Diaz,true
s4,Student,Eva,Diaz,FALSE
";
    let outcome = read(&base_with(&[
        ("users.csv", users),
        ("enrollments.csv", "sourcedId,classSourcedId,userSourcedId,role\n"),
    ]))?;
    assert_eq!(outcome.roster.people.records.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), vec!["s4"]);
    assert_eq!(rejected_at(&outcome, "users.csv", 2), vec!["givenName: givenName is empty"]);
    assert_eq!(rejected_at(&outcome, "users.csv", 3), vec!["familyName: familyName is empty"]);
    assert_eq!(rejected_at(&outcome, "users.csv", 4), vec!["role: unknown role `wizard`"]);
    assert!(outcome.warnings.iter().any(|w| w.contains("1 user(s) have enabledUser=false")), "{:?}", outcome.warnings);
    Ok(())
}

#[test]
fn every_missing_required_column_and_missing_file_is_listed_at_once() {
    let manifest = "propertyName,value\nfile.users,bulk\nfile.orgs,bulk\nfile.classes,bulk\nfile.courses,bulk\n";
    let files = set(&[
        ("manifest.csv", manifest),
        ("users.csv", "sourcedId,role,givenname\n1,student,Ana\n"),
        ("orgs.csv", "sourcedId,name\n"),
        ("classes.csv", "id,title\n"),
    ]);
    let problems = match read(&files) {
        Err(rejected) => rejected.problems,
        Ok(outcome) => panic!("expected a rejected file set, got {outcome:?}"),
    };
    let listed: Vec<_> =
        problems.iter().map(|p| format!("{} {}", p.file, p.column.as_deref().unwrap_or("-"))).collect();
    for expected in [
        "courses.csv -",
        "users.csv familyName",
        "orgs.csv type",
        "classes.csv sourcedId",
        "classes.csv schoolSourcedId",
    ] {
        assert!(listed.iter().any(|l| l == expected), "{expected} not in {listed:?}");
    }
}

#[test]
fn no_users_file_and_a_file_that_is_not_utf8_are_fatal() {
    let no_users = set(&[("manifest.csv", "propertyName,value\nfile.orgs,bulk\n"), ("orgs.csv", ORGS)]);
    assert!(read(&no_users).is_err_and(|e| e.problems.iter().any(|p| p.file == "users.csv")));
    let mut latin1 = base_with(&[]);
    latin1.insert("users.csv", b"sourcedId,role,givenName,familyName\ns1,student,Jos\xE9,D\xEDaz\n".to_vec());
    let problems = read(&latin1).err().map(|e| e.problems).unwrap_or_default();
    assert_eq!(problems.iter().map(|p| (p.file.as_str(), p.row)).collect::<Vec<_>>(), vec![("users.csv", 2)]);
    assert!(problems[0].reason.contains("not UTF-8"));
}

#[test]
fn without_a_manifest_the_files_present_are_bulk_with_a_warning() -> Result<(), FileRejected> {
    let files = set(&[("Users.CSV", USERS), ("orgs.csv", ORGS)]);
    let outcome = read(&files)?;
    assert_eq!(outcome.roster.people.mode, FileMode::Bulk);
    assert_eq!(outcome.roster.sections.mode, FileMode::Absent);
    assert_eq!(outcome.roster.people.records.len(), 4);
    assert!(outcome.warnings.iter().any(|w| w.starts_with("no manifest.csv")));
    Ok(())
}

#[test]
fn a_zip_and_a_folder_of_the_same_files_give_the_same_roster() -> Result<(), Box<dyn Error>> {
    use std::io::Write;
    let dir = tempfile::tempdir()?;
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for (name, text) in [
        ("manifest.csv", MANIFEST),
        ("orgs.csv", ORGS),
        ("users.csv", USERS),
        ("classes.csv", CLASSES),
        ("enrollments.csv", ENROLLMENTS),
    ] {
        std::fs::write(dir.path().join(name), text)?;
        writer.start_file(format!("oneroster/{name}"), options)?;
        writer.write_all(text.as_bytes())?;
    }
    let zip = writer.finish()?.into_inner();
    let from_zip = read(&CsvFiles::from_bytes_auto("upload.zip", &zip)?)?;
    let from_dir = read(&CsvFiles::from_dir(dir.path())?)?;
    assert_eq!(from_zip, from_dir);
    assert_eq!(from_zip.roster.people.records.len(), 4);
    Ok(())
}

#[test]
fn version_1_2_roles_give_each_user_a_role_and_schools_and_guardian_roles_link() -> Result<(), FileRejected> {
    let manifest = "propertyName,value\noneroster.version,1.2\nfile.orgs,bulk\nfile.users,bulk\nfile.roles,bulk\n";
    let users = "sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password,userMasterIdentifier,preferredGivenName,preferredMiddleName,preferredFamilyName,primaryOrgSourcedId,pronouns
s1,,,true,ana,,Ana,Diaz,,,,,,t1,K,,,,,,sch1,
t1,,,true,john,,John,Doe,,,,,,,,,,,,,sch1,
a1,,,true,kim,,Kim,Lee,,,,,,s1,,,,,,,sch1,
";
    let roles = "sourcedId,status,dataLastModified,userSourcedId,roleType,role,beginDate,endDate,orgSourcedId,,
r1,,,s1,primary,student,,,sch1
r2,,,t1,primary,teacher,,,sch1
r3,,,t1,secondary,guardian,,,sch1
r4,,,a1,secondary,siteAdministrator,,,d1
r5,,,x9,primary,student,,,sch1
";
    let outcome =
        read(&set(&[("manifest.csv", manifest), ("orgs.csv", ORGS), ("users.csv", users), ("roles.csv", roles)]))?;
    let ana = person(&outcome, "s1");
    assert_eq!(ana.map(|p| (p.role, p.grade.as_deref())), Some((PersonRole::Student, Some("KG"))));
    assert_eq!(person(&outcome, "t1").map(|p| (p.role, p.sis_role.as_str())), Some((PersonRole::Staff, "teacher")));
    let kim = person(&outcome, "a1");
    assert_eq!(
        kim.map(|p| (p.role, p.sis_role.as_str(), p.schools.len())),
        Some((PersonRole::Staff, "siteAdministrator", 0))
    );
    // The teacher who is also a guardian is linked; the administrator is not.
    assert_eq!(links(&outcome), vec![("s1".into(), "t1".into(), RelationshipKind::Guardian, true)]);
    assert_eq!(
        rejected_at(&outcome, "roles.csv", 6),
        vec!["userSourcedId: user `x9` is not in users.csv; role dropped"]
    );
    assert!(
        outcome.warnings.iter().any(|w| w.contains("roles.csv: 2 header cell(s) are blank")),
        "{:?}",
        outcome.warnings
    );
    Ok(())
}

#[test]
fn demographics_give_birth_dates_and_a_bad_date_is_a_rejected_cell() -> Result<(), FileRejected> {
    let manifest = "propertyName,value\nfile.users,bulk\nfile.demographics,bulk\n";
    let users = "sourcedId,role,givenName,familyName\ns1,student,Ana,Diaz\ns2,student,Leo,Diaz\ns3,student,Eva,Diaz\n";
    let demographics =
        "sourcedId,birthDate,sex\ns1,2012-05-06,female\ns2,13/45/2012,male\ns3,5/6/2011,\ns9,2010-01-01,\n";
    let outcome = read(&set(&[("manifest.csv", manifest), ("users.csv", users), ("demographics.csv", demographics)]))?;
    let birth = |id| person(&outcome, id).and_then(|p| p.birth_date).map(|d| d.to_string());
    assert_eq!(birth("s1").as_deref(), Some("2012-05-06"));
    assert_eq!(birth("s2"), None);
    assert_eq!(birth("s3").as_deref(), Some("2011-05-06"));
    assert_eq!(person(&outcome, "s2").map(|p| p.given_name.as_str()), Some("Leo"));
    assert_eq!(rejected_at(&outcome, "demographics.csv", 3).len(), 1);
    assert_eq!(rejected_at(&outcome, "demographics.csv", 5), vec!["sourcedId: user `s9` is not in users.csv"]);
    Ok(())
}

#[test]
fn enrollments_with_dangling_references_are_rejected_and_other_roles_skipped() -> Result<(), FileRejected> {
    let classes = "sourcedId,status,title,schoolSourcedId
c1,,Math 5,sch1
c2,tobedeleted,History,sch1
c3,,Art,sch-nowhere
c4,,Civics,d1
";
    let enrollments = "sourcedId,classSourcedId,userSourcedId,role
e1,c1,s1,student
e2,c9,s1,student
e3,c1,x9,student
e4,c2,s1,student
e5,c1,t1,administrator
e6,c1,t1,Teacher
";
    let outcome = read(&base_with(&[("classes.csv", classes), ("enrollments.csv", enrollments)]))?;
    assert_eq!(outcome.roster.sections.records.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), vec!["c1"]);
    assert_eq!(rejected_at(&outcome, "classes.csv", 4), vec!["schoolSourcedId: org `sch-nowhere` is not in orgs.csv"]);
    assert_eq!(rejected_at(&outcome, "classes.csv", 5).len(), 1);
    let ids: Vec<_> = outcome.roster.enrollments.records.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, vec!["e1", "e6"]);
    assert_eq!(rejected_at(&outcome, "enrollments.csv", 3), vec!["classSourcedId: class `c9` is not in classes.csv"]);
    assert_eq!(rejected_at(&outcome, "enrollments.csv", 4), vec!["userSourcedId: user `x9` is not in users.csv"]);
    assert_eq!(
        rejected_at(&outcome, "enrollments.csv", 5),
        vec!["classSourcedId: class `c2` was not imported (deleted or rejected)"]
    );
    assert!(outcome.warnings.iter().any(|w| w.contains("enrollments.csv: 1 enrollment(s) with a role other")));
    Ok(())
}

#[test]
fn an_org_reference_missing_from_a_bulk_orgs_file_drops_that_school_only() -> Result<(), FileRejected> {
    let users = "sourcedId,role,givenName,familyName,orgSourcedIds\ns1,student,Ana,Diaz,\"sch1,sch9\"\n";
    let outcome = read(&base_with(&[
        ("users.csv", users),
        ("enrollments.csv", "sourcedId,classSourcedId,userSourcedId,role\n"),
    ]))?;
    assert_eq!(person(&outcome, "s1").map(|p| p.schools.len()), Some(1));
    assert_eq!(
        rejected_at(&outcome, "users.csv", 2),
        vec!["orgSourcedIds: org `sch9` is not in orgs.csv; school dropped"]
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn reading_never_panics_on_arbitrary_users_files(text in "[a-z0-9,\"\r\n\u{feff} @+()-]{0,300}") {
        let header = "sourcedId,status,role,givenName,familyName,sms,phone,email,agentSourcedIds,grades,orgSourcedIds\n";
        let users = format!("{header}{text}");
        let _ = read(&base_with(&[("users.csv", &users)]));
        let _ = read(&base_with(&[("users.csv", &text), ("orgs.csv", &text)]));
    }

    #[test]
    fn reading_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut files = base_with(&[]);
        files.insert("users.csv", bytes.clone());
        let _ = read(&files);
        let _ = CsvFiles::from_bytes_auto("x.zip", &[b"PK\x03\x04".as_slice(), &bytes].concat());
    }
}
