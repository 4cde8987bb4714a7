//! Finding a mapping's columns in a file's header, once per file: a
//! required column missing is fatal, an optional one a warning, and the
//! file's columns no mapping entry uses are named in a warning.

use crate::domain::{Channel, FileRejected, RejectedRow};
use crate::import::sheet::{Report, Sheet, short};

use super::{ContactColumns, Mapping};

/// A configured column: where it is and what it is called in the file.
#[derive(Clone, Copy)]
pub(super) struct Col<'m> {
    pub index: Option<usize>,
    pub name: &'m str,
}

/// The contact's columns found in the file.
#[derive(Default)]
pub(super) struct ContactCols<'m> {
    pub id: Option<Col<'m>>,
    pub given: Option<Col<'m>>,
    pub family: Option<Col<'m>>,
    pub full: Option<Col<'m>>,
    pub relationship: Option<Col<'m>>,
    pub messenger: Option<Col<'m>>,
    pub household: Option<Col<'m>>,
    pub phones: Vec<(Channel, Col<'m>)>,
    pub phone: Option<Col<'m>>,
    pub phone_type: Option<Col<'m>>,
    pub emails: Vec<(Channel, Col<'m>)>,
    pub language: Option<Col<'m>>,
    pub text_consent: Option<Col<'m>>,
}

/// Every column of the mapping found in the file.
pub(super) struct Cols<'m> {
    pub student_id: Col<'m>,
    pub given: Col<'m>,
    pub family: Col<'m>,
    pub grade: Option<Col<'m>>,
    pub school: Option<Col<'m>>,
    pub school_name: Option<Col<'m>>,
    pub household: Option<Col<'m>>,
    pub language: Option<Col<'m>>,
    pub birth_date: Option<Col<'m>>,
    pub email: Option<Col<'m>>,
    /// `None` when the mapping has no contact or the file none of its name columns.
    pub contact: Option<ContactCols<'m>>,
    pub plus: Vec<(&'m str, Col<'m>)>,
}

impl<'m> Cols<'m> {
    /// Finds the columns; a required one missing is a [`FileRejected`].
    pub fn locate(sheet: &Sheet<'_>, mapping: &'m Mapping, report: &mut Report) -> Result<Self, FileRejected> {
        let mut missing_required = Vec::new();
        let mut missing_optional = Vec::new();
        let find = |name: &'m str| Col { index: sheet.col(name.trim()), name: name.trim() };
        let mut required = |key: &str, name: &'m str| {
            let col = find(name);
            if col.index.is_none() {
                missing_required.push((key.to_string(), col.name));
            }
            col
        };
        let s = &mapping.student;
        let student_id = required("student.id", &s.id);
        let given = required("student.given_name", &s.given_name);
        let family = required("student.family_name", &s.family_name);
        let mut optional = |key: &str, name: Option<&'m String>| {
            let col = find(name?.as_str());
            if col.index.is_none() {
                missing_optional.push((key.to_string(), col.name));
                None
            } else {
                Some(col)
            }
        };
        let grade = optional("student.grade", s.grade.as_ref());
        let school = optional("student.school", s.school.as_ref());
        let school_name = optional("student.school_name", s.school_name.as_ref());
        let household = optional("student.household", s.household.as_ref());
        let language = optional("student.language", s.language.as_ref());
        let birth_date = optional("student.birth_date", s.birth_date.as_ref());
        let email = optional("student.email", s.email.as_ref());
        let plus = mapping
            .plus
            .iter()
            .filter_map(|(name, column)| {
                optional(&format!("plus.{name}"), Some(column)).map(|col| (name.as_str(), col))
            })
            .collect();
        let contact = match &mapping.contact {
            None => None,
            Some(c) => {
                let cols = contact_cols(c, &mut optional);
                let has_name = cols.full.is_some() || (cols.given.is_some() && cols.family.is_some());
                let has_other = cols.id.is_some()
                    || !cols.phones.is_empty()
                    || cols.phone.is_some()
                    || !cols.emails.is_empty()
                    || cols.relationship.is_some();
                if has_name {
                    Some(cols)
                } else if has_other {
                    for (key, name) in [
                        ("contact.given_name", &c.given_name),
                        ("contact.family_name", &c.family_name),
                        ("contact.name", &c.name),
                    ] {
                        if let Some(name) = name.as_deref().filter(|n| sheet.col(n.trim()).is_none()) {
                            missing_required.push((key.to_string(), name.trim()));
                        }
                    }
                    None
                } else {
                    report.warn(format!("{}: no contact columns; every row is read as a student only", sheet.name));
                    None
                }
            }
        };
        if !missing_required.is_empty() {
            let problems = missing_required
                .into_iter()
                .map(|(key, name)| RejectedRow {
                    file: sheet.name.to_string(),
                    row: 1,
                    column: Some(name.to_string()),
                    reason: format!("required column `{}` ({key}) is missing", short(name)),
                })
                .collect();
            return Err(FileRejected { problems });
        }
        if !missing_optional.is_empty() {
            let list: Vec<String> = missing_optional.iter().map(|(key, name)| format!("`{name}` ({key})")).collect();
            report.warn(format!("{}: mapped columns not in the file, not read: {}", sheet.name, list.join(", ")));
        }
        let used: Vec<&str> = mapping.columns().into_iter().map(|(_, column)| column.trim()).collect();
        sheet.warn_unknown_columns(&used, report);
        Ok(Self {
            student_id,
            given,
            family,
            grade,
            school,
            school_name,
            household,
            language,
            birth_date,
            email,
            contact,
            plus,
        })
    }
}

fn contact_cols<'m>(
    c: &'m ContactColumns,
    optional: &mut impl FnMut(&str, Option<&'m String>) -> Option<Col<'m>>,
) -> ContactCols<'m> {
    let mut cols = ContactCols {
        id: optional("contact.id", c.id.as_ref()),
        given: optional("contact.given_name", c.given_name.as_ref()),
        family: optional("contact.family_name", c.family_name.as_ref()),
        full: optional("contact.name", c.name.as_ref()),
        relationship: optional("contact.relationship", c.relationship.as_ref()),
        messenger: optional("contact.messenger", c.messenger.as_ref()),
        household: optional("contact.household", c.household.as_ref()),
        phone: optional("contact.phone", c.phone.as_ref()),
        phone_type: optional("contact.phone_type", c.phone_type.as_ref()),
        language: optional("contact.language", c.language.as_ref()),
        text_consent: optional("contact.text_consent", c.text_consent.as_ref()),
        ..ContactCols::default()
    };
    for (channel, key, column) in [
        (Channel::HouseholdPhone, "contact.household_phone", &c.household_phone),
        (Channel::HomePhone, "contact.home_phone", &c.home_phone),
        (Channel::WorkPhone, "contact.work_phone", &c.work_phone),
        (Channel::CellPhone, "contact.cell_phone", &c.cell_phone),
    ] {
        if let Some(col) = optional(key, column.as_ref()) {
            cols.phones.push((channel, col));
        }
    }
    for (channel, key, column) in [
        (Channel::Email, "contact.email", &c.email),
        (Channel::SecondaryEmail, "contact.secondary_email", &c.secondary_email),
    ] {
        if let Some(col) = optional(key, column.as_ref()) {
            cols.emails.push((channel, col));
        }
    }
    cols
}
