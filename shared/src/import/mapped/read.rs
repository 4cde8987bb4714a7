//! Reading a flat CSV through a [`Mapping`].

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::domain::{
    Batch, Channel, FileRejected, PersonId, PersonRole, ReadOutcome, Region, RejectedRow, Relationship, Roster,
    RosterPerson, RosterSchool, SchoolId,
};
use crate::import::contacts::PendingContacts;
use crate::import::sheet::{self, Report, Row, Sheet, short};

use super::names::{derived_contact_id, relationship_kind, split_full_name};
use super::{ContactColumns, Mapping};

/// Reads a flat CSV: one row per student–contact pair (a row without any
/// contact value just adds the student).
///
/// - Students and contacts are deduplicated by id: the first valid row of
///   a student wins for the student's fields; later rows that disagree
///   (names, grade, school) are counted in a warning. The same goes for a
///   contact that has an id column and appears under several students.
/// - A contact without an id gets one made from the student id and the
///   contact's name, stable from one file to the next.
/// - Contacts are guardians (`sis_role` `contact`) and belong to the
///   schools of their students; each (student, contact) pair is one
///   relationship.
/// - An invalid phone or email drops that value and is a rejected cell;
///   an invalid student id or name rejects the row; an invalid contact id
///   or name drops the contact (the student is kept).
/// - A required column (student id and names) missing from the header, a
///   file that is not UTF-8 or not CSV: [`FileRejected`]. A configured
///   optional column missing from the file is a warning.
/// - Every batch is bulk (a flat file is a full snapshot); sections and
///   enrollments are empty.
pub fn read_mapped(
    csv: &[u8],
    file_name: &str,
    mapping: &Mapping,
    region: Region,
) -> Result<ReadOutcome, FileRejected> {
    let mut sheet = Sheet::open(file_name, csv).map_err(|problem| FileRejected { problems: vec![problem] })?;
    let mut report = Report::default();
    let cols = Cols::locate(&sheet, mapping, &mut report)?;
    let mut reader = Reader {
        mapping,
        cols: &cols,
        file: file_name,
        roster: Roster {
            schools: Batch::bulk(Vec::new()),
            people: Batch::bulk(Vec::new()),
            relationships: Batch::bulk(Vec::new()),
            sections: Batch::bulk(Vec::new()),
            enrollments: Batch::bulk(Vec::new()),
        },
        people: HashMap::new(),
        schools: HashMap::new(),
        pairs: HashSet::new(),
        report,
        disagreements: Disagreements::default(),
        pending: PendingContacts::default(),
    };
    loop {
        match sheet.next_row() {
            Ok(Some(row)) => {
                if !row.is_blank() {
                    reader.row(&row);
                }
            }
            Ok(None) => break,
            Err(problem) => return Err(FileRejected { problems: vec![problem] }),
        }
    }
    let Reader { mut roster, mut report, disagreements, pending, .. } = reader;
    pending.resolve(region, &mut roster.people.records, file_name, &mut report, 0);
    disagreements.report(file_name, &mut report);
    Ok(ReadOutcome { roster, rejected: report.rejected, warnings: report.warnings })
}

/// A configured column: where it is and what it is called in the file.
#[derive(Clone, Copy)]
struct Col<'m> {
    index: Option<usize>,
    name: &'m str,
}

#[derive(Default)]
struct ContactCols<'m> {
    id: Option<Col<'m>>,
    given: Option<Col<'m>>,
    family: Option<Col<'m>>,
    full: Option<Col<'m>>,
    relationship: Option<Col<'m>>,
    messenger: Option<Col<'m>>,
    household: Option<Col<'m>>,
    phones: Vec<(Channel, Col<'m>)>,
    phone: Option<Col<'m>>,
    phone_type: Option<Col<'m>>,
    emails: Vec<(Channel, Col<'m>)>,
    language: Option<Col<'m>>,
}

struct Cols<'m> {
    student_id: Col<'m>,
    given: Col<'m>,
    family: Col<'m>,
    grade: Option<Col<'m>>,
    school: Option<Col<'m>>,
    school_name: Option<Col<'m>>,
    household: Option<Col<'m>>,
    language: Option<Col<'m>>,
    birth_date: Option<Col<'m>>,
    email: Option<Col<'m>>,
    /// `None` when the mapping has no contact or the file none of its name columns.
    contact: Option<ContactCols<'m>>,
    plus: Vec<(&'m str, Col<'m>)>,
}

impl<'m> Cols<'m> {
    fn locate(sheet: &Sheet<'_>, mapping: &'m Mapping, report: &mut Report) -> Result<Self, FileRejected> {
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

/// A person already read: where, and whether a student.
struct Seen {
    index: usize,
    student: bool,
}

/// Rows that disagree with the first row of the same person.
#[derive(Default)]
struct Disagreements {
    students: usize,
    contacts: usize,
    first_rows: Vec<u64>,
}

impl Disagreements {
    fn note(&mut self, student: bool, line: u64) {
        if student {
            self.students += 1;
        } else {
            self.contacts += 1;
        }
        if self.first_rows.len() < 5 {
            self.first_rows.push(line);
        }
    }

    fn report(&self, file: &str, report: &mut Report) {
        if self.students + self.contacts == 0 {
            return;
        }
        let rows: Vec<String> = self.first_rows.iter().map(u64::to_string).collect();
        report.warn(format!(
            "{file}: {} student row(s) and {} contact row(s) disagree with the first row of the same person \
             (the first row is kept); rows {}",
            self.students,
            self.contacts,
            rows.join(", ")
        ));
    }
}

struct Reader<'a, 'm> {
    mapping: &'m Mapping,
    cols: &'a Cols<'m>,
    file: &'a str,
    roster: Roster,
    /// Every person (student or contact) by id.
    people: HashMap<String, Seen>,
    /// School id → index in the schools batch.
    schools: HashMap<String, usize>,
    /// (student, contact) pairs already linked.
    pairs: HashSet<(usize, usize)>,
    report: Report,
    disagreements: Disagreements,
    /// Phones and emails, validated at the end.
    pending: PendingContacts<'m>,
}

fn get<'r>(row: &'r Row<'_>, col: Option<Col<'_>>) -> &'r str {
    row.get(col.and_then(|c| c.index))
}

impl<'m> Reader<'_, 'm> {
    fn row(&mut self, row: &Row<'_>) {
        let Some(student) = self.student(row) else {
            return;
        };
        if let Some(contact_cols) = &self.cols.contact {
            self.contact(row, contact_cols, student);
        }
    }

    /// The row's student: found, or read and added. `None` when the row is rejected.
    fn student(&mut self, row: &Row<'_>) -> Option<usize> {
        let cols = self.cols;
        let id_col = cols.student_id.name;
        let id = get(row, Some(cols.student_id));
        if id.is_empty() {
            self.report.reject(
                self.file,
                row.line,
                Some(id_col),
                format!("`{}` (the student id) is empty", short(id_col)),
            );
            return None;
        }
        let given = sheet::name(get(row, Some(cols.given)));
        let family = sheet::name(get(row, Some(cols.family)));
        let grade = sheet::list(get(row, cols.grade)).next().and_then(sheet::grade);
        let school = get(row, cols.school);
        if let Some(seen) = self.people.get(id) {
            if !seen.student {
                let reason = format!("`{}` is also a contact id; row dropped", short(id));
                self.report.reject(self.file, row.line, Some(id_col), reason);
                return None;
            }
            let index = seen.index;
            let first = &self.roster.people.records[index];
            let same = given.as_deref().ok() == Some(first.given_name.as_str())
                && family.as_deref().ok() == Some(first.family_name.as_str())
                && grade == first.grade
                && (school.is_empty() || first.schools.first().map(SchoolId::as_str) == Some(school));
            if !same {
                self.disagreements.note(true, row.line);
            }
            return Some(index);
        }
        let person_id = match PersonId::parse(id) {
            Ok(person_id) => person_id,
            Err(e) => {
                self.report.reject(self.file, row.line, Some(id_col), format!("student id: {e}"));
                return None;
            }
        };
        let (given_name, family_name) = match (given, family) {
            (Ok(given), Ok(family)) => (given, family),
            (Err(problem), _) => {
                let column = cols.given.name;
                self.report.reject(self.file, row.line, Some(column), format!("student given name {problem}"));
                return None;
            }
            (_, Err(problem)) => {
                let column = cols.family.name;
                self.report.reject(self.file, row.line, Some(column), format!("student family name {problem}"));
                return None;
            }
        };
        let mut schools = Vec::new();
        if !school.is_empty() {
            match SchoolId::parse(school) {
                Ok(school_id) => {
                    self.add_school(&school_id, get(row, cols.school_name));
                    schools.push(school_id);
                }
                Err(e) => {
                    let column = cols.school.map_or("school", |c| c.name);
                    self.report.reject(
                        self.file,
                        row.line,
                        Some(column),
                        format!("school: {e}; the student is kept without it"),
                    );
                }
            }
        }
        let birth_date = match get(row, cols.birth_date) {
            "" => None,
            cell => {
                let date = sheet::date(cell);
                if date.is_none() {
                    let column = cols.birth_date.map_or("birth_date", |c| c.name);
                    self.report.reject(
                        self.file,
                        row.line,
                        Some(column),
                        "birth date is not a date (YYYY-MM-DD or M/D/YYYY); the student is kept without it",
                    );
                }
                date
            }
        };
        let index = self.roster.people.records.len();
        if let Some(col) = cols.email {
            self.pending.push(index, Channel::Email, col.name, row.line, get(row, Some(col)));
        }
        let mut plus = BTreeMap::new();
        for (name, col) in &cols.plus {
            let value = get(row, Some(*col));
            if !value.is_empty() {
                plus.insert((*name).to_string(), value.to_string());
            }
        }
        self.people.insert(id.to_string(), Seen { index, student: true });
        self.roster.people.records.push(RosterPerson {
            id: person_id,
            role: PersonRole::Student,
            sis_role: "student".to_string(),
            given_name,
            family_name,
            schools,
            grade,
            household: optional_text(get(row, cols.household)),
            language: optional_text(get(row, cols.language)),
            birth_date,
            contacts: Vec::new(),
            plus,
        });
        Some(index)
    }

    fn add_school(&mut self, id: &SchoolId, name: &str) {
        if !self.schools.contains_key(id.as_str()) {
            self.schools.insert(id.as_str().to_string(), self.roster.schools.records.len());
            let name = if name.is_empty() { id.as_str().to_string() } else { name.to_string() };
            self.roster.schools.records.push(RosterSchool { id: id.clone(), name });
        }
    }

    /// The row's contact, if it has one: found or added, then linked to the student.
    fn contact(&mut self, row: &Row<'_>, cols: &ContactCols<'m>, student: usize) {
        let Some(config) = self.mapping.contact.as_ref() else {
            return;
        };
        let value_cols = [cols.id, cols.given, cols.family, cols.full, cols.phone]
            .into_iter()
            .chain(cols.phones.iter().chain(&cols.emails).map(|(_, col)| Some(*col)));
        if value_cols.into_iter().all(|col| get(row, col).is_empty()) {
            return;
        }
        let (given, family, name_column) = match cols.full {
            Some(full) => {
                let (given, family) = split_full_name(get(row, Some(full)));
                (given, family, full.name)
            }
            None => (
                get(row, cols.given).to_string(),
                get(row, cols.family).to_string(),
                cols.family.map_or("", |c| c.name),
            ),
        };
        let family = match sheet::name(&family) {
            Ok(family) => family,
            Err(problem) => {
                let reason = format!("contact family name {problem}; contact dropped (the student is kept)");
                self.report.reject(self.file, row.line, Some(name_column), reason);
                return;
            }
        };
        let given = match (cols.full.is_some() && given.is_empty(), sheet::name(&given)) {
            (true, _) => String::new(),
            (false, Ok(given)) => given,
            (false, Err(problem)) => {
                let column = cols.given.map_or(name_column, |c| c.name);
                let reason = format!("contact given name {problem}; contact dropped (the student is kept)");
                self.report.reject(self.file, row.line, Some(column), reason);
                return;
            }
        };
        let student_id = self.roster.people.records[student].id.as_str().to_string();
        let id = match get(row, cols.id) {
            "" => derived_contact_id(&student_id, &given, &family),
            written => written.to_string(),
        };
        let contact = match self.people.get(id.as_str()) {
            Some(seen) if seen.student => {
                let column = cols.id.map_or(name_column, |c| c.name);
                let reason = format!("contact id `{}` is also a student id; contact dropped", short(&id));
                self.report.reject(self.file, row.line, Some(column), reason);
                return;
            }
            Some(seen) => {
                let first = &self.roster.people.records[seen.index];
                if first.given_name != given || first.family_name != family {
                    self.disagreements.note(false, row.line);
                }
                seen.index
            }
            None => {
                let person_id = match PersonId::parse(id.as_str()) {
                    Ok(person_id) => person_id,
                    Err(e) => {
                        let column = cols.id.map_or(name_column, |c| c.name);
                        self.report.reject(
                            self.file,
                            row.line,
                            Some(column),
                            format!("contact id: {e}; contact dropped"),
                        );
                        return;
                    }
                };
                self.new_contact(row, cols, person_id, given, family)
            }
        };
        let student_schools = self.roster.people.records[student].schools.clone();
        if let Some(person) = self.roster.people.records.get_mut(contact) {
            for school in student_schools {
                if !person.schools.contains(&school) {
                    person.schools.push(school);
                }
            }
        }
        if !self.pairs.insert((student, contact)) {
            return;
        }
        let kind = match get(row, cols.relationship) {
            "" => config.relationship_default,
            word => config
                .relationships
                .iter()
                .find(|(k, _)| k.trim().eq_ignore_ascii_case(word))
                .map_or_else(|| relationship_kind(word), |(_, kind)| *kind),
        };
        let messenger = self.messenger(row, cols, config);
        let relationship = Relationship {
            student: self.roster.people.records[student].id.clone(),
            guardian: self.roster.people.records[contact].id.clone(),
            kind,
            messenger,
        };
        self.roster.relationships.records.push(relationship);
    }

    fn new_contact(
        &mut self,
        row: &Row<'_>,
        cols: &ContactCols<'m>,
        id: PersonId,
        given_name: String,
        family_name: String,
    ) -> usize {
        let index = self.roster.people.records.len();
        for (channel, col) in &cols.phones {
            self.pending.push(index, *channel, col.name, row.line, get(row, Some(*col)));
        }
        if let Some(phone) = cols.phone {
            let channel = self.phone_slot(get(row, cols.phone_type));
            self.pending.push(index, channel, phone.name, row.line, get(row, Some(phone)));
        }
        for (channel, col) in &cols.emails {
            self.pending.push(index, *channel, col.name, row.line, get(row, Some(*col)));
        }
        self.people.insert(id.as_str().to_string(), Seen { index, student: false });
        self.roster.people.records.push(RosterPerson {
            id,
            role: PersonRole::Guardian,
            sis_role: "contact".to_string(),
            given_name,
            family_name,
            schools: Vec::new(),
            grade: None,
            household: optional_text(get(row, cols.household)),
            language: optional_text(get(row, cols.language)),
            birth_date: None,
            contacts: Vec::new(),
            plus: BTreeMap::new(),
        });
        index
    }

    /// The slot a typed phone goes to.
    fn phone_slot(&self, phone_type: &str) -> Channel {
        let Some(config) = self.mapping.contact.as_ref() else {
            return Channel::HomePhone;
        };
        config
            .phone_types
            .iter()
            .find(|(word, _)| word.trim().eq_ignore_ascii_case(phone_type))
            .map_or(config.phone_type_default, |(_, channel)| *channel)
    }

    fn messenger(&mut self, row: &Row<'_>, cols: &ContactCols<'m>, config: &ContactColumns) -> bool {
        let cell = get(row, cols.messenger);
        if cell.is_empty() {
            return config.messenger_default;
        }
        if !config.messenger_values.is_empty() {
            return config.messenger_values.iter().any(|v| v.trim().eq_ignore_ascii_case(cell));
        }
        match sheet::boolean(cell) {
            Some(flag) => flag,
            None => {
                let column = cols.messenger.map_or("messenger", |c| c.name);
                let reason = format!(
                    "messenger flag `{}` is not yes/no (Y/N, true/false, 1/0); the default ({}) is used",
                    short(cell),
                    if config.messenger_default { "yes" } else { "no" }
                );
                self.report.reject(self.file, row.line, Some(column), reason);
                config.messenger_default
            }
        }
    }
}

fn optional_text(cell: &str) -> Option<String> {
    if cell.is_empty() { None } else { Some(cell.chars().take(100).collect()) }
}
