//! A plain CSV read through a column [`Mapping`]: one row per student–
//! contact pair, for systems that export nothing better than a flat file.
//!
//! A mapping is TOML: which column holds the student's id, names, grade and
//! school, the contact's id, names, relationship, messenger flag, household,
//! phones, emails and consent to texts, and `[plus]` columns (meal balance,
//! bus route ...).
//!
//! Consent to texts is the SIS's when the mapping names a column for it
//! (`contact.text_consent = "Text Opt In"`): `Y`/`Yes`/`True`/`1` records
//! the contact's consent (source `import`) unless one is recorded already,
//! `N`/`No`/`False`/`0` withdraws the consent the SIS recorded (never one
//! the person or an admin recorded), a blank cell says nothing. The presets
//! name no such column: SchoolMessenger and Clever exports have none.
//! Two presets ship with the crate ([`Mapping::preset`]):
//!
//! - `schoolmessenger`: a SchoolMessenger-style flat file (`Student ID,
//!   Student First Name, ..., Contact First Name, ..., Messenger, Household
//!   ID, Home Phone, Work Phone, Cell Phone, Email, Language, Meal Balance,
//!   Bus Route`). A blank `Messenger` cell means yes.
//! - `clever`: Clever's `students.csv` with its `Contact_*` columns.
//!   `Contact_name` holds the whole name and is split (see
//!   [`split_full_name`]); `Contact_type` decides the messenger flag: only
//!   `Primary` and `Parent/Guardian` (or `Parent`, `Guardian`) contacts get
//!   messages; `Secondary`, `Emergency`, `Family` and `Other` do not (the
//!   policy other messaging tools apply to Clever contacts); a blank type
//!   means no. `Contact_phone_type` puts the number in the cell, home or work
//!   slot; `Other` or a blank type gives the home phone, so nothing is texted
//!   unless it is known to be a cell.
//!
//! See [`read_mapped`] for the reading rules.

mod columns;
mod names;
mod read;

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::domain::{Channel, RelationshipKind};

pub use names::{relationship_kind, split_full_name};
pub use read::read_mapped;

const SCHOOLMESSENGER: &str = include_str!("presets/schoolmessenger.toml");
const CLEVER: &str = include_str!("presets/clever.toml");

/// Why a mapping cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    /// Not valid TOML, or not the shape of a mapping (unknown key, wrong type).
    #[error("the mapping is not valid: {0}")]
    Toml(String),
    /// Well-formed but inconsistent (a blank column name, a phone type without a phone column ...).
    #[error("the mapping is not usable: {0}")]
    Invalid(String),
}

/// Which columns of a flat CSV hold what.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// A name for people to recognise the mapping by.
    #[serde(default)]
    pub name: Option<String>,
    /// The student's columns.
    pub student: StudentColumns,
    /// The contact's columns; without them every row is a student only.
    #[serde(default)]
    pub contact: Option<ContactColumns>,
    /// Plus data: name (`meal_balance`) → column (`Meal Balance`), kept on the student.
    #[serde(default)]
    pub plus: BTreeMap<String, String>,
}

/// The columns that describe the student of a row.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudentColumns {
    /// The student's id (required).
    pub id: String,
    /// Given name (required).
    pub given_name: String,
    /// Family name (required).
    pub family_name: String,
    /// Grade code (`5`, `K` ... made uniform: `05`, `KG`).
    #[serde(default)]
    pub grade: Option<String>,
    /// School id.
    #[serde(default)]
    pub school: Option<String>,
    /// School name (else the school id is its name).
    #[serde(default)]
    pub school_name: Option<String>,
    /// Household id.
    #[serde(default)]
    pub household: Option<String>,
    /// Preferred language.
    #[serde(default)]
    pub language: Option<String>,
    /// Birth date (`YYYY-MM-DD` or `M/D/YYYY`).
    #[serde(default)]
    pub birth_date: Option<String>,
    /// The student's own email.
    #[serde(default)]
    pub email: Option<String>,
}

/// The columns that describe the contact (guardian) of a row.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactColumns {
    /// The contact's id. Without it (or when blank) the id is made from the
    /// student id and the contact's name.
    #[serde(default)]
    pub id: Option<String>,
    /// Given name (with `family_name`; or use `name`).
    #[serde(default)]
    pub given_name: Option<String>,
    /// Family name (with `given_name`; or use `name`).
    #[serde(default)]
    pub family_name: Option<String>,
    /// The whole name in one column, split by [`split_full_name`].
    #[serde(default)]
    pub name: Option<String>,
    /// What the contact is to the student (`Mother`, `Grandparent` ...), see [`relationship_kind`].
    #[serde(default)]
    pub relationship: Option<String>,
    /// Extra relationship words (any case) → kind, checked before the built-in ones.
    #[serde(default)]
    pub relationships: BTreeMap<String, RelationshipKind>,
    /// The kind when the relationship cell is blank or absent.
    #[serde(default = "other_kind")]
    pub relationship_default: RelationshipKind,
    /// The messenger flag's column.
    #[serde(default)]
    pub messenger: Option<String>,
    /// When set, the messenger cell values (any case) that mean yes; any
    /// other value means no. When empty, the cell is a yes/no value
    /// (`Y/N`, `yes/no`, `true/false`, `1/0`).
    #[serde(default)]
    pub messenger_values: Vec<String>,
    /// The flag when its column is absent or its cell blank.
    #[serde(default = "yes")]
    pub messenger_default: bool,
    /// Household id.
    #[serde(default)]
    pub household: Option<String>,
    /// Household phone.
    #[serde(default)]
    pub household_phone: Option<String>,
    /// Home phone.
    #[serde(default)]
    pub home_phone: Option<String>,
    /// Work phone.
    #[serde(default)]
    pub work_phone: Option<String>,
    /// Cell phone (texts go to it).
    #[serde(default)]
    pub cell_phone: Option<String>,
    /// One phone column whose slot another column names (`phone_type`).
    #[serde(default)]
    pub phone: Option<String>,
    /// The column naming the slot of `phone` (`Cell`, `Home` ...).
    #[serde(default)]
    pub phone_type: Option<String>,
    /// Phone type words (any case) → slot.
    #[serde(default)]
    pub phone_types: BTreeMap<String, Channel>,
    /// The slot for a blank or unknown phone type.
    #[serde(default = "home_phone")]
    pub phone_type_default: Channel,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// Secondary email.
    #[serde(default)]
    pub secondary_email: Option<String>,
    /// Preferred language.
    #[serde(default)]
    pub language: Option<String>,
    /// The contact's consent to texts, a yes/no cell (`Text Opt In`): yes
    /// records it, no withdraws the SIS's own, blank says nothing.
    #[serde(default)]
    pub text_consent: Option<String>,
}

fn other_kind() -> RelationshipKind {
    RelationshipKind::Other
}

fn yes() -> bool {
    true
}

fn home_phone() -> Channel {
    Channel::HomePhone
}

impl Mapping {
    /// The names of the presets.
    pub const PRESETS: &'static [&'static str] = &["schoolmessenger", "clever"];

    /// A preset by name (any case, surrounding blanks ignored):
    /// `schoolmessenger` or `clever`; `None` for any other name.
    pub fn preset(name: &str) -> Option<Self> {
        let text = match name.trim().to_ascii_lowercase().as_str() {
            "schoolmessenger" => SCHOOLMESSENGER,
            "clever" => CLEVER,
            _ => return None,
        };
        // The presets are checked by the tests; a broken one reads as absent.
        Self::from_toml(text).ok()
    }

    /// Reads and checks a mapping written in TOML.
    pub fn from_toml(text: &str) -> Result<Self, MappingError> {
        let mapping: Mapping = toml::from_str(text).map_err(|e| MappingError::Toml(e.to_string()))?;
        mapping.check()?;
        Ok(mapping)
    }

    fn check(&self) -> Result<(), MappingError> {
        let invalid = |message: String| Err(MappingError::Invalid(message));
        for (key, column) in self.columns() {
            if column.trim().is_empty() {
                return invalid(format!("`{key}` names a blank column"));
            }
        }
        if let Some(contact) = &self.contact {
            match (&contact.given_name, &contact.family_name, &contact.name) {
                (Some(_), Some(_), None) | (None, None, Some(_)) => {}
                (None, None, None) => {
                    return invalid("`contact` needs `given_name` and `family_name`, or `name`".to_string());
                }
                (_, _, Some(_)) => {
                    return invalid("`contact.name` cannot be used with `given_name` or `family_name`".to_string());
                }
                _ => return invalid("`contact.given_name` and `contact.family_name` go together".to_string()),
            }
            if contact.phone_type.is_some() && contact.phone.is_none() {
                return invalid("`contact.phone_type` needs `contact.phone`".to_string());
            }
            let slots = contact.phone_types.values().chain(std::iter::once(&contact.phone_type_default));
            if let Some(bad) = slots.into_iter().find(|c| !c.is_phone() || **c == Channel::Text) {
                return invalid(format!(
                    "`{bad}` is not a phone slot; use household_phone, home_phone, work_phone or cell_phone"
                ));
            }
            if !contact.messenger_values.is_empty() && contact.messenger.is_none() {
                return invalid("`contact.messenger_values` needs `contact.messenger`".to_string());
            }
        }
        if let Some(name) = self.plus.keys().find(|k| k.trim().is_empty()) {
            return invalid(format!("plus data name `{name}` is blank"));
        }
        Ok(())
    }

    /// Every configured column with its key (`student.id` → `Student ID`).
    pub fn columns(&self) -> Vec<(String, &str)> {
        let mut out: Vec<(String, &str)> = Vec::new();
        fn add<'m>(out: &mut Vec<(String, &'m str)>, key: &str, column: Option<&'m String>) {
            if let Some(column) = column {
                out.push((key.to_string(), column.as_str()));
            }
        }
        let s = &self.student;
        add(&mut out, "student.id", Some(&s.id));
        add(&mut out, "student.given_name", Some(&s.given_name));
        add(&mut out, "student.family_name", Some(&s.family_name));
        add(&mut out, "student.grade", s.grade.as_ref());
        add(&mut out, "student.school", s.school.as_ref());
        add(&mut out, "student.school_name", s.school_name.as_ref());
        add(&mut out, "student.household", s.household.as_ref());
        add(&mut out, "student.language", s.language.as_ref());
        add(&mut out, "student.birth_date", s.birth_date.as_ref());
        add(&mut out, "student.email", s.email.as_ref());
        if let Some(c) = &self.contact {
            add(&mut out, "contact.id", c.id.as_ref());
            add(&mut out, "contact.given_name", c.given_name.as_ref());
            add(&mut out, "contact.family_name", c.family_name.as_ref());
            add(&mut out, "contact.name", c.name.as_ref());
            add(&mut out, "contact.relationship", c.relationship.as_ref());
            add(&mut out, "contact.messenger", c.messenger.as_ref());
            add(&mut out, "contact.household", c.household.as_ref());
            add(&mut out, "contact.household_phone", c.household_phone.as_ref());
            add(&mut out, "contact.home_phone", c.home_phone.as_ref());
            add(&mut out, "contact.work_phone", c.work_phone.as_ref());
            add(&mut out, "contact.cell_phone", c.cell_phone.as_ref());
            add(&mut out, "contact.phone", c.phone.as_ref());
            add(&mut out, "contact.phone_type", c.phone_type.as_ref());
            add(&mut out, "contact.email", c.email.as_ref());
            add(&mut out, "contact.secondary_email", c.secondary_email.as_ref());
            add(&mut out, "contact.language", c.language.as_ref());
            add(&mut out, "contact.text_consent", c.text_consent.as_ref());
        }
        for (name, column) in &self.plus {
            out.push((format!("plus.{name}"), column.as_str()));
        }
        out
    }
}

#[cfg(test)]
mod tests;
