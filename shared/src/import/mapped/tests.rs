//! Tests of the mapped reader and its presets.

use proptest::prelude::*;

use super::{Mapping, MappingError, read_mapped};
use crate::domain::{Channel, FileMode, FileRejected, PersonRole, ReadOutcome, Region, RelationshipKind, RosterPerson};

const SCHOOLMESSENGER: &str = "\u{feff}Student ID,Student First Name,Student Last Name,Grade,School,Contact First Name,Contact Last Name,Relationship,Messenger,Household ID,Home Phone,Work Phone,Cell Phone,Email,Language,Meal Balance,Bus Route,Locker\r
1001,Ana,Diaz,5,lincoln,Maria,Diaz,Mother,Y,H-1,(617) 555-0102,,(617) 555-0101,Maria@Example.org,es,-3.50,12,A7\r
1001,Ana,Diaz,5,lincoln,Jose,Diaz,Father,N,H-1,(617) 555-0102,617 555 0105,not a phone,,es,-3.50,12,A7\r
1002,Leo,Diaz,K,lincoln,Maria,Diaz,Mother,,H-1,(617) 555-0102,,(617) 555-0101,maria@example.org,es,0.00,12,\r
1003,Eva,\"Smith, Jr\",12,\"lincoln\",,,,,,,,,,en,,,\r
";

fn read(csv: &str, mapping: &Mapping) -> Result<ReadOutcome, FileRejected> {
    read_mapped(csv.as_bytes(), "export.csv", mapping, Region::US)
}

fn preset(name: &str) -> Result<Mapping, MappingError> {
    Mapping::preset(name).ok_or_else(|| MappingError::Invalid(format!("no preset {name}")))
}

fn people(outcome: &ReadOutcome, role: PersonRole) -> Vec<&RosterPerson> {
    outcome.roster.people.records.iter().filter(|p| p.role == role).collect()
}

fn contact(person: &RosterPerson, channel: Channel) -> Option<&str> {
    person.contacts.iter().find(|c| c.channel == channel).map(|c| c.value.as_raw())
}

#[test]
fn both_presets_load_and_unknown_names_are_none() {
    for name in Mapping::PRESETS {
        assert!(Mapping::preset(name).is_some(), "{name}");
    }
    assert!(Mapping::preset(" SchoolMessenger ").is_some());
    assert!(Mapping::preset("powerschool").is_none());
}

#[test]
fn the_schoolmessenger_preset_reads_students_contacts_links_and_plus_data() -> Result<(), Box<dyn std::error::Error>> {
    let outcome = read(SCHOOLMESSENGER, &preset("schoolmessenger")?)?;
    let roster = &outcome.roster;
    for mode in [roster.people.mode, roster.relationships.mode, roster.schools.mode, roster.sections.mode] {
        assert_eq!(mode, FileMode::Bulk);
    }
    let students = people(&outcome, PersonRole::Student);
    let summary: Vec<_> = students.iter().map(|s| (s.id.as_str(), s.grade.as_deref(), s.schools.len())).collect();
    assert_eq!(summary, vec![("1001", Some("05"), 1), ("1002", Some("KG"), 1), ("1003", Some("12"), 1)]);
    assert_eq!(students[0].plus.get("meal_balance").map(String::as_str), Some("-3.50"));
    assert_eq!(students[0].plus.get("bus_route").map(String::as_str), Some("12"));
    assert_eq!(students[0].household.as_deref(), Some("H-1"));
    assert_eq!(students[2].family_name, "Smith, Jr");
    assert!(students[2].plus.is_empty());

    // Maria is the same name under two students but has no id column: one contact per student.
    let contacts = people(&outcome, PersonRole::Guardian);
    assert_eq!(contacts.len(), 3);
    let maria = contacts[0];
    assert_eq!((maria.sis_role.as_str(), maria.language.as_deref()), ("contact", Some("es")));
    assert_eq!(contact(maria, Channel::CellPhone), Some("+16175550101"));
    assert_eq!(contact(maria, Channel::HomePhone), Some("+16175550102"));
    assert_eq!(contact(maria, Channel::Email), Some("maria@example.org"));
    assert_eq!(maria.schools.iter().map(|s| s.as_str()).collect::<Vec<_>>(), vec!["lincoln"]);
    assert!(maria.id.as_str().starts_with("1001.c"));
    let jose = contacts[1];
    assert_eq!(contact(jose, Channel::WorkPhone), Some("+16175550105"));
    assert_eq!(contact(jose, Channel::CellPhone), None);

    let links: Vec<_> =
        roster.relationships.records.iter().map(|r| (r.student.as_str(), r.kind, r.messenger)).collect();
    assert_eq!(
        links,
        vec![
            ("1001", RelationshipKind::Parent, true),
            ("1001", RelationshipKind::Parent, false),
            ("1002", RelationshipKind::Parent, true),
        ]
    );
    let rejected: Vec<_> = outcome.rejected.iter().map(|r| (r.row, r.column.as_deref())).collect();
    assert_eq!(rejected, vec![(3, Some("Cell Phone"))]);
    assert!(!outcome.rejected[0].reason.contains("not a phone"));
    assert_eq!(roster.schools.records.len(), 1);
    assert!(outcome.warnings.iter().any(|w| w.contains("columns ignored: Locker")), "{:?}", outcome.warnings);
    Ok(())
}

const CLEVER: &str = "School_id,Student_id,Student_number,Last_name,First_name,Grade,DOB,Home_language,Student_email,Contact_relationship,Contact_type,Contact_name,Contact_phone,Contact_phone_type,Contact_email,Contact_sis_id
sch-1,S1,001,Diaz,Ana,3,05/06/2015,Spanish,,Parent,Primary,Maria de la Cruz,6175550101,Cell,maria@example.org,C-9
sch-1,S1,001,Diaz,Ana,3,05/06/2015,Spanish,,Grandparent,Emergency,\"Diaz, Rosa\",6175550103,Home,,
sch-1,S1,001,Diaz,Ana,3,05/06/2015,Spanish,,Aunt/Uncle,Parent/Guardian,Tío Pepe,6175550104,,,
sch-2,S2,002,Cruz,Leo,K,2018-01-31,Spanish,leo@student.org,Parent,primary,Maria de la Cruz,6175550101,Cell,maria@example.org,C-9
sch-2,S3,003,Cruz,Eva,1,13/31/2017,Spanish,,,,,,,,
";

#[test]
fn the_clever_preset_splits_names_and_flags_only_primary_and_parent_contacts() -> Result<(), Box<dyn std::error::Error>>
{
    let outcome = read(CLEVER, &preset("clever")?)?;
    let students = people(&outcome, PersonRole::Student);
    assert_eq!(students.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), vec!["S1", "S2", "S3"]);
    assert_eq!(students[0].birth_date.map(|d| d.to_string()).as_deref(), Some("2015-05-06"));
    assert_eq!(students[1].birth_date.map(|d| d.to_string()).as_deref(), Some("2018-01-31"));
    assert_eq!(students[1].grade.as_deref(), Some("KG"));
    assert_eq!(contact(students[1], Channel::Email), Some("leo@student.org"));
    assert_eq!(students[0].language.as_deref(), Some("Spanish"));

    let contacts = people(&outcome, PersonRole::Guardian);
    let names: Vec<_> = contacts.iter().map(|c| (c.given_name.as_str(), c.family_name.as_str())).collect();
    assert_eq!(names, vec![("Maria", "de la Cruz"), ("Rosa", "Diaz"), ("Tío", "Pepe")]);
    // The contact with a Contact_sis_id is one person for both students, in both schools.
    assert_eq!(contacts[0].id.as_str(), "C-9");
    assert_eq!(contacts[0].schools.iter().map(|s| s.as_str()).collect::<Vec<_>>(), vec!["sch-1", "sch-2"]);
    assert_eq!(contact(contacts[0], Channel::CellPhone), Some("+16175550101"));
    assert_eq!(contact(contacts[1], Channel::HomePhone), Some("+16175550103"));
    // A blank phone type is the home phone: nothing is texted unless known to be a cell.
    assert_eq!(contact(contacts[2], Channel::HomePhone), Some("+16175550104"));

    let links: Vec<_> = outcome
        .roster
        .relationships
        .records
        .iter()
        .map(|r| (r.student.as_str(), r.guardian.as_str(), r.kind, r.messenger))
        .collect();
    assert_eq!(links.len(), 4);
    assert_eq!(links[0], ("S1", "C-9", RelationshipKind::Parent, true));
    assert_eq!((links[1].2, links[1].3), (RelationshipKind::Relative, false));
    assert_eq!((links[2].2, links[2].3), (RelationshipKind::Relative, true));
    assert_eq!(links[3], ("S2", "C-9", RelationshipKind::Parent, true));
    let rejected: Vec<_> = outcome.rejected.iter().map(|r| (r.row, r.column.as_deref())).collect();
    assert_eq!(rejected, vec![(6, Some("DOB"))]);
    Ok(())
}

#[test]
fn a_student_on_many_rows_keeps_the_first_row_and_disagreements_warn() -> Result<(), Box<dyn std::error::Error>> {
    let csv = "Student ID,Student First Name,Student Last Name,Grade,School,Contact First Name,Contact Last Name
1,Ana,Diaz,5,s1,Maria,Diaz
1,Ana,Diaz,6,s1,Jose,Diaz
1,Ana,Diaz,5,s1,Maria,Diaz
";
    let outcome = read(csv, &preset("schoolmessenger")?)?;
    let students = people(&outcome, PersonRole::Student);
    assert_eq!(students.len(), 1);
    assert_eq!(students[0].grade.as_deref(), Some("05"));
    assert_eq!(people(&outcome, PersonRole::Guardian).len(), 2);
    assert_eq!(outcome.roster.relationships.records.len(), 2);
    assert!(
        outcome
            .warnings
            .iter()
            .any(|w| w.contains("1 student row(s) and 0 contact row(s) disagree") && w.ends_with("rows 3")),
        "{:?}",
        outcome.warnings
    );
    Ok(())
}

#[test]
fn missing_required_columns_are_fatal_and_missing_optional_ones_are_a_warning() -> Result<(), Box<dyn std::error::Error>>
{
    let mapping = preset("schoolmessenger")?;
    let problems = read("Student ID,Grade\n1,5\n", &mapping).err().map(|e| e.problems).unwrap_or_default();
    let columns: Vec<_> = problems.iter().filter_map(|p| p.column.as_deref()).collect();
    assert_eq!(columns, vec!["Student First Name", "Student Last Name"]);

    let outcome = read("student id,STUDENT FIRST NAME,Student Last Name\n1,Ana,Diaz\n", &mapping)?;
    assert_eq!(outcome.roster.people.records.len(), 1);
    assert!(outcome.warnings.iter().any(|w| w.contains("no contact columns")), "{:?}", outcome.warnings);
    assert!(outcome.warnings.iter().any(|w| w.contains("`Bus Route` (plus.bus_route)")), "{:?}", outcome.warnings);

    let problems = read("Student ID,Student First Name,Student Last Name,Cell Phone\n", &mapping)
        .err()
        .map(|e| e.problems)
        .unwrap_or_default();
    assert_eq!(problems.len(), 2, "contact phones without contact names: {problems:?}");
    assert!(read_mapped(b"Student ID\n\xff\n", "x.csv", &mapping, Region::US).is_err());
    Ok(())
}

#[test]
fn bad_rows_reject_the_student_or_only_the_contact() -> Result<(), Box<dyn std::error::Error>> {
    let csv =
        "Student ID,Student First Name,Student Last Name,Contact First Name,Contact Last Name,Messenger,Cell Phone
,Ana,Diaz,Maria,Diaz,Y,
2,,Diaz,Maria,Diaz,Y,
3 3,Leo,Diaz,Maria,Diaz,Y,
4,Eva,Diaz,,,,6175550101
5,Ivo,Diaz,Maria,Diaz,maybe,
6,Una,Diaz,,,,
";
    let outcome = read(csv, &preset("schoolmessenger")?)?;
    let students: Vec<_> = people(&outcome, PersonRole::Student).iter().map(|s| s.id.as_str()).collect();
    assert_eq!(students, vec!["4", "5", "6"]);
    let rejected: Vec<_> = outcome.rejected.iter().map(|r| (r.row, r.column.as_deref().unwrap_or("-"))).collect();
    assert_eq!(
        rejected,
        vec![
            (2, "Student ID"),
            (3, "Student First Name"),
            (4, "Student ID"),
            (5, "Contact Last Name"),
            (6, "Messenger")
        ]
    );
    // An unreadable messenger flag falls back on the default (yes for SchoolMessenger).
    assert_eq!(outcome.roster.relationships.records.iter().map(|r| r.messenger).collect::<Vec<_>>(), vec![true]);
    Ok(())
}

#[test]
fn mappings_are_checked_with_clear_errors() {
    let error = |text: &str| Mapping::from_toml(text).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(error("[student]\nid = \"A\"\n").contains("given_name"));
    assert!(
        error("[student]\nid = \"A\"\ngiven_name = \"B\"\nfamily_name = \"C\"\ncolour = \"D\"\n").contains("colour")
    );
    let base = "[student]\nid = \"A\"\ngiven_name = \"B\"\nfamily_name = \"C\"\n";
    assert!(Mapping::from_toml(base).is_ok());
    assert!(error(&format!("{base}[contact]\nname = \"N\"\ngiven_name = \"G\"\n")).contains("cannot be used with"));
    assert!(error(&format!("{base}[contact]\ngiven_name = \"G\"\n")).contains("go together"));
    assert!(error(&format!("{base}[contact]\nname = \"N\"\nphone_type = \"T\"\n")).contains("needs `contact.phone`"));
    assert!(
        error(&format!("{base}[contact]\nname = \"N\"\nphone = \"P\"\n[contact.phone_types]\ncell = \"text\"\n"))
            .contains("not a phone slot")
    );
    assert!(
        error(&format!("{base}[contact]\nname = \"N\"\nrelationship_default = \"cousin\"\n"))
            .contains("relationship kind")
    );
    assert!(error("[student]\nid = \" \"\ngiven_name = \"B\"\nfamily_name = \"C\"\n").contains("student.id"));
}

#[test]
fn a_custom_mapping_reads_household_phones_secondary_emails_and_its_own_relationship_words()
-> Result<(), Box<dyn std::error::Error>> {
    let mapping = Mapping::from_toml(
        r#"
        [student]
        id = "sid"
        given_name = "first"
        family_name = "last"
        [contact]
        id = "cid"
        given_name = "cfirst"
        family_name = "clast"
        relationship = "rel"
        relationships = { M = "parent", G = "guardian" }
        messenger = "msg"
        messenger_default = false
        household_phone = "hh"
        email = "mail"
        secondary_email = "mail2"
        "#,
    )?;
    let csv = "sid,first,last,cid,cfirst,clast,rel,msg,hh,mail,mail2
1,Ana,Diaz,c1,Maria,Diaz,m,1,6175550109,a@example.org,b@example.org
2,Leo,Diaz,c1,Maria,Diaz,G,,6175550109,a@example.org,b@example.org
";
    let outcome = read(csv, &mapping)?;
    let contacts = people(&outcome, PersonRole::Guardian);
    assert_eq!(contacts.len(), 1);
    assert_eq!(contact(contacts[0], Channel::HouseholdPhone), Some("+16175550109"));
    assert_eq!(contact(contacts[0], Channel::SecondaryEmail), Some("b@example.org"));
    let links: Vec<_> = outcome.roster.relationships.records.iter().map(|r| (r.kind, r.messenger)).collect();
    assert_eq!(links, vec![(RelationshipKind::Parent, true), (RelationshipKind::Guardian, false)]);
    Ok(())
}

#[test]
fn a_consent_column_gives_or_withdraws_each_contact_s_consent_and_a_blank_says_nothing()
-> Result<(), Box<dyn std::error::Error>> {
    let mapping = Mapping::from_toml(
        r#"
        [student]
        id = "sid"
        given_name = "first"
        family_name = "last"
        [contact]
        id = "cid"
        given_name = "cfirst"
        family_name = "clast"
        cell_phone = "cell"
        text_consent = "Text Opt In"
        "#,
    )?;
    let csv = "sid,first,last,cid,cfirst,clast,cell,Text Opt In
1,Ana,Diaz,c1,Maria,Diaz,6175550101,Y
2,Leo,Diaz,c1,Maria,Diaz,6175550101,N
3,Eva,Lee,c2,Kim,Lee,6175550102,no
4,Sam,Lee,c3,Tom,Lee,6175550103,
5,Mia,Ray,c4,Ada,Ray,6175550104,maybe
6,Ian,Fox,c5,Bo,Fox,6175550105,TRUE
7,Una,Fox,c6,Cy,Fox,6175550106,1
";
    let outcome = read(csv, &mapping)?;
    let consents: Vec<(&str, Option<bool>)> =
        people(&outcome, PersonRole::Guardian).iter().map(|person| (person.id.as_str(), person.text_consent)).collect();
    assert_eq!(
        consents,
        [("c1", Some(true)), ("c2", Some(false)), ("c3", None), ("c4", None), ("c5", Some(true)), ("c6", Some(true))]
    );
    assert!(people(&outcome, PersonRole::Student).iter().all(|s| s.text_consent.is_none()));
    assert_eq!(outcome.rejected.len(), 1, "the cell that is neither: {:?}", outcome.rejected);
    assert_eq!(outcome.rejected[0].column.as_deref(), Some("Text Opt In"));
    assert!(outcome.warnings.iter().any(|w| w.contains("1 contact row(s) disagree")), "{:?}", outcome.warnings);
    Ok(())
}

#[test]
fn without_a_consent_column_a_person_s_record_reads_as_it_did() -> Result<(), Box<dyn std::error::Error>> {
    let outcome = read(SCHOOLMESSENGER, &preset("schoolmessenger")?)?;
    let maria = serde_json::to_value(people(&outcome, PersonRole::Guardian)[0])?;
    assert!(maria.get("text_consent").is_none(), "snapshot hashes stay the same: {maria}");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn reading_never_panics_on_arbitrary_rows(text in "[a-zA-Z0-9,\"\r\n\u{feff} @+()./-]{0,300}") {
        for name in Mapping::PRESETS {
            if let Some(mapping) = Mapping::preset(name) {
                let header = mapping.columns().iter().map(|(_, c)| *c).collect::<Vec<_>>().join(",");
                let _ = read(&format!("{header}\n{text}"), &mapping);
                let _ = read(&text, &mapping);
            }
        }
    }
}
