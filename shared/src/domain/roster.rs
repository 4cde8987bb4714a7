//! A roster: what one SIS file says about the district's people, already
//! validated (ids, E.164 numbers, lower-cased emails), plus the rows that
//! could not be read. Readers (`crate::import`) build it; the import
//! service diffs it against the previous run and applies the difference.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::named_enum::named_enum;
use super::{ContactPoint, PersonId, PersonRole, SchoolId};

/// How a file's records relate to what is stored (OneRoster manifest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FileMode {
    /// A full snapshot: what is missing from it is removed.
    Bulk,
    /// A change list: upserts, and deletes for `tobedeleted` rows.
    Delta,
    /// No file: leave what is stored alone.
    #[default]
    Absent,
}

/// The records of one kind in a file, with how to apply them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Batch<T> {
    /// Bulk, delta or absent.
    pub mode: FileMode,
    /// Records to create or update (in delta and bulk modes).
    pub records: Vec<T>,
    /// Ids of records to delete (delta mode only; `tobedeleted`).
    pub deleted: Vec<String>,
}

impl<T> Default for Batch<T> {
    fn default() -> Self {
        Self { mode: FileMode::Absent, records: Vec::new(), deleted: Vec::new() }
    }
}

impl<T> Batch<T> {
    /// A full snapshot of these records.
    pub fn bulk(records: Vec<T>) -> Self {
        Self { mode: FileMode::Bulk, records, deleted: Vec::new() }
    }
}

/// A school (a OneRoster org of type `school`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)] // fields named for what they hold
pub struct RosterSchool {
    /// The org's sourcedId.
    pub id: SchoolId,
    pub name: String,
}

/// A person as the SIS describes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)] // fields named for what they hold
pub struct RosterPerson {
    /// sourcedId.
    pub id: PersonId,
    /// Student, guardian (parent, guardian, relative) or staff.
    pub role: PersonRole,
    /// The SIS's own role word (`teacher`, `administrator`, `parent`, `relative` ...).
    pub sis_role: String,
    pub given_name: String,
    pub family_name: String,
    /// Schools (orgs) the person belongs to.
    pub schools: Vec<SchoolId>,
    /// Grade code (`KG`, `05`, `12` ...), students only.
    pub grade: Option<String>,
    /// Household id, when the source has one.
    pub household: Option<String>,
    /// Preferred language (code or name as the SIS gives it).
    pub language: Option<String>,
    /// Birth date (for the 13-and-over rule).
    pub birth_date: Option<NaiveDate>,
    /// Valid contact points, at most one per channel.
    pub contacts: Vec<ContactPoint>,
    /// District-chosen extra data (meal balance, bus route ...), by name.
    pub plus: BTreeMap<String, String>,
    /// The SIS's word on the person's consent to texts (a mapped consent
    /// column): given, withdrawn, or `None` when it says nothing. Left out
    /// of the record's JSON when `None`, so snapshots hashed before the
    /// column existed still match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_consent: Option<bool>,
}

#[cfg(test)]
impl RosterPerson {
    /// A person with nothing but an id and a role (and a school), for tests
    /// to fill in with struct update syntax.
    pub(crate) fn bare(id: &str, role: PersonRole, schools: &[&str]) -> Self {
        RosterPerson {
            id: PersonId::parse(id).unwrap_or_else(|e| panic!("{e}")),
            role,
            sis_role: role.to_string(),
            given_name: "Given".into(),
            family_name: "Family".into(),
            schools: schools.iter().map(|s| SchoolId::parse(*s).unwrap_or_else(|e| panic!("{e}"))).collect(),
            grade: None,
            household: None,
            language: None,
            birth_date: None,
            contacts: vec![],
            plus: Default::default(),
            text_consent: None,
        }
    }
}

named_enum!(
    /// What a guardian is to a student.
    RelationshipKind, "relationship kind" {
        /// A parent.
        Parent => "parent",
        /// A legal guardian.
        Guardian => "guardian",
        /// Another relative (grandparent, aunt ...).
        Relative => "relative",
        /// Anything else the source names.
        Other => "other",
    }
);

/// A student–guardian link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)] // fields named for what they hold
pub struct Relationship {
    pub student: PersonId,
    pub guardian: PersonId,
    /// Parent, guardian, relative ...
    pub kind: RelationshipKind,
    /// Whether the guardian gets messages about the student. OneRoster has
    /// no such flag: parents and guardians default to true, relatives to false.
    pub messenger: bool,
}

impl Relationship {
    /// The record's id in its batch: `student>guardian`.
    pub fn id(&self) -> String {
        format!("{}>{}", self.student, self.guardian)
    }
}

/// A class section with its school.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)] // fields named for what they hold
pub struct Section {
    /// The class's sourcedId (validated like other ids).
    pub id: String,
    pub school: SchoolId,
    /// Title (`Algebra I - P3`).
    pub title: String,
}

named_enum!(
    /// A person's part in a section.
    EnrollmentRole, "enrollment role" {
        /// Takes the class.
        Student => "student",
        /// Teaches it.
        Teacher => "teacher",
    }
);

/// A person enrolled in a section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)] // fields named for what they hold
pub struct Enrollment {
    /// The enrollment's id (sourcedId, or `section>person` when the source has none).
    pub id: String,
    pub section: String,
    pub person: PersonId,
    /// Student or teacher.
    pub role: EnrollmentRole,
}

/// Everything one import file says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[allow(missing_docs)] // fields named for what they hold
pub struct Roster {
    pub schools: Batch<RosterSchool>,
    /// Students, guardians and staff.
    pub people: Batch<RosterPerson>,
    /// Student–guardian links, each once.
    pub relationships: Batch<Relationship>,
    pub sections: Batch<Section>,
    /// Enrollments of students and teachers in sections.
    pub enrollments: Batch<Enrollment>,
}

/// A row (or a whole file) that could not be used, and why. Never repeats
/// a phone number, address or name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedRow {
    /// File name as given (`users.csv`).
    pub file: String,
    /// 1-based line number of the row in the file (the header is line 1);
    /// 0 for a problem with the whole file.
    pub row: u64,
    /// The column at fault, if one.
    pub column: Option<String>,
    /// What is wrong.
    pub reason: String,
}

/// What a reader made of a file: the roster, the rows it skipped, and
/// warnings (conformance notes that did not stop anything).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ReadOutcome {
    /// The valid records.
    pub roster: Roster,
    /// Rows skipped, each with its reason: the first
    /// [`super::MAX_REPORTED_ROWS`] (a file of a million bad rows is not kept
    /// in memory row by row).
    pub rejected: Vec<RejectedRow>,
    /// How many rows were skipped in all.
    pub rejected_total: u64,
    /// Notes that changed nothing (extra vendor columns, odd order ...).
    pub warnings: Vec<String>,
}

/// A file that cannot be imported at all (missing required file or column,
/// unreadable encoding, not a zip ...): every problem found, and nothing
/// written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("the file cannot be imported: {}", .problems.iter().map(|p| format!("{} row {}: {}", p.file, p.row, p.reason)).collect::<Vec<_>>().join("; "))]
pub struct FileRejected {
    /// Every problem, in file order.
    pub problems: Vec<RejectedRow>,
}
