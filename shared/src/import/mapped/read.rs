//! Reading a flat CSV through a [`Mapping`].

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::domain::{
    Batch, Channel, FileRejected, PersonId, PersonRole, ReadOutcome, Region, Relationship, Roster, RosterPerson,
    RosterSchool, SchoolId,
};
use crate::import::contacts::PendingContacts;
use crate::import::sheet::{self, Report, Row, Sheet, short};

use super::columns::{Col, Cols, ContactCols};
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
    Ok(ReadOutcome {
        roster,
        rejected: report.rejected,
        rejected_total: report.rejected_total,
        warnings: report.warnings,
    })
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
            text_consent: None,
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
        self.text_consent(row, cols, contact);
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
            text_consent: None,
        });
        index
    }

    /// The row's word on the contact's consent to texts, if the mapping
    /// has a consent column: kept when the contact has none yet.
    fn text_consent(&mut self, row: &Row<'_>, cols: &ContactCols<'m>, contact: usize) {
        let cell = get(row, cols.text_consent);
        if cell.is_empty() {
            return;
        }
        let Some(consent) = sheet::boolean(cell) else {
            let column = cols.text_consent.map_or("text_consent", |c| c.name);
            let reason =
                format!("text consent `{}` is not yes/no (Y/N, true/false, 1/0); nothing is recorded", short(cell));
            self.report.reject(self.file, row.line, Some(column), reason);
            return;
        };
        let person = &mut self.roster.people.records[contact];
        match person.text_consent {
            None => person.text_consent = Some(consent),
            Some(first) if first != consent => self.disagreements.note(false, row.line),
            Some(_) => {}
        }
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
