//! The single-table key design. Every key starts with the district, so no
//! query can cross districts. One function a key, so the layout reads in
//! one place:
//!
//! | item | pk | sk | gsi1 (pk / sk) | gsi2 (pk / sk) |
//! | --- | --- | --- | --- | --- |
//! | person | `D#d#P#id` | `#PERSON` | `D#d#HH#household` / `P#id` (when in a household) | |
//! | contact point | `D#d#P#id` | `CP#channel` | `D#d#PHONE#+1…` or `D#d#EMAIL#a@b` / `P#id#channel` | |
//! | school membership | `D#d#P#id` | `SCHOOL#s` | | `D#d#S#s` / `ROLE#role#P#id` |
//! | guardian of a student | `D#d#P#student` | `GUARDIAN#g` | | |
//! | student of a guardian | `D#d#P#guardian` | `STUDENT#s` | | |
//! | school | `D#d#SCHOOLS` | `s` | | |
//! | section | `D#d#SEC#c` | `#SECTION` | | `D#d#S#s` / `SECTION#c` |
//! | enrollment | `D#d#SEC#c` | `ENR#person` | | |
//! | section of a person | `D#d#P#id` | `SECTION#c` | | |
//! | import definition | `D#d#IMPORTS` | `id` | | |
//! | import run | `D#d#IMPORT#id` | `RUN#run` | | |
//! | an import's lease (one run at a time) | `D#d#IMPORT#id` | `#LEASE` | | |
//! | the run that took a file | `D#d#IMPORT#id` | `FILE#hash of the file key` | | |

use crate::domain::{Channel, ContactValue, DistrictId, PersonId, PersonRole, SchoolId};

/// Sort key of a person's profile item (sorts before their other items).
pub const PERSON_SK: &str = "#PERSON";
/// Sort-key prefix of a person's contact points.
pub const CONTACT_SK_PREFIX: &str = "CP#";
/// Sort-key prefix of a person's school memberships.
pub const SCHOOL_SK_PREFIX: &str = "SCHOOL#";

/// Partition of everything about one person.
pub fn person_pk(district: &DistrictId, person: &PersonId) -> String {
    format!("D#{district}#P#{person}")
}

/// Sort key of one contact point.
pub fn contact_sk(channel: Channel) -> String {
    format!("{CONTACT_SK_PREFIX}{channel}")
}

/// Index partition of everyone reachable at a number or address (replies and
/// receipts arrive by number).
pub fn contact_value_pk(district: &DistrictId, value: &ContactValue) -> String {
    match value {
        ContactValue::Phone(number) => format!("D#{district}#PHONE#{}", number.as_e164()),
        ContactValue::Email(address) => format!("D#{district}#EMAIL#{}", address.as_str()),
    }
}

/// Index sort key of a contact point under its number or address.
pub fn contact_value_sk(person: &PersonId, channel: Channel) -> String {
    format!("P#{person}#{channel}")
}

/// Sort key of a school membership.
pub fn school_sk(school: &SchoolId) -> String {
    format!("{SCHOOL_SK_PREFIX}{school}")
}

/// Index partition of a school's people.
pub fn school_people_pk(district: &DistrictId, school: &SchoolId) -> String {
    format!("D#{district}#S#{school}")
}

/// Index sort key of a person in their school (people by role, then id).
pub fn school_people_sk(role: PersonRole, person: &PersonId) -> String {
    format!("ROLE#{role}#P#{person}")
}

/// Sort-key prefix of a student's guardians (in the student's partition).
pub const GUARDIAN_SK_PREFIX: &str = "GUARDIAN#";
/// Sort-key prefix of a guardian's students (in the guardian's partition).
pub const STUDENT_SK_PREFIX: &str = "STUDENT#";
/// Sort-key prefix of a person's sections (in the person's partition).
pub const SECTION_SK_PREFIX: &str = "SECTION#";
/// Sort key of a section's own item.
pub const SECTION_SK: &str = "#SECTION";
/// Sort-key prefix of a section's enrollments.
pub const ENROLLMENT_SK_PREFIX: &str = "ENR#";

/// Partition of a district's schools.
pub fn schools_pk(district: &DistrictId) -> String {
    format!("D#{district}#SCHOOLS")
}

/// Partition of a section and its enrollments.
pub fn section_pk(district: &DistrictId, section: &str) -> String {
    format!("D#{district}#SEC#{section}")
}

/// Partition of a district's import definitions.
pub fn imports_pk(district: &DistrictId) -> String {
    format!("D#{district}#IMPORTS")
}

/// Partition of one import's runs.
pub fn import_runs_pk(district: &DistrictId, import: &crate::domain::ImportId) -> String {
    format!("D#{district}#IMPORT#{import}")
}

/// Index partition of a household's members (on their profile items).
pub fn household_pk(district: &DistrictId, household: &str) -> String {
    format!("D#{district}#HH#{household}")
}
