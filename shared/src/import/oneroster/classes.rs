//! `classes.csv` → sections (with their school) and `enrollments.csv` →
//! who is in which section. Enrollment roles other than `student` and
//! `teacher` (`administrator`, `proctor`) are not imported (a counted
//! warning). A reference to a class or user that a bulk file does not have,
//! or that was not imported, rejects the row.

use crate::domain::{Batch, Enrollment, EnrollmentRole, FileMode, PersonId, RejectedRow, Section, validate_id};
use crate::import::sheet::{Report, short};

use super::orgs::{OrgRef, Orgs};
use super::users::People;
use super::{Common, Ids, Input, Skipped, State, admit, batch_in, columns, each_row, required, warn_unknown_columns};

/// The classes file's name.
pub(super) const CLASSES: &str = "classes.csv";
/// The enrollments file's name.
pub(super) const ENROLLMENTS: &str = "enrollments.csv";

/// Columns of `classes.csv` known beyond the 1.1 ones ([`columns::CLASSES`]).
const KNOWN_EXTRA_CLASSES: &[&str] = &[
    // OneRoster 1.2.
    "resources",
];

/// `classes.csv` with its columns found.
pub(super) struct PreparedClasses<'a> {
    input: Input<'a>,
    common: Common,
    title: Option<usize>,
    school: Option<usize>,
}

pub(super) fn prepare_classes<'a>(input: Input<'a>, fatal: &mut Vec<RejectedRow>) -> PreparedClasses<'a> {
    let sheet = &input.sheet;
    let common = Common::find(sheet, fatal);
    let title = required(sheet, &["title"], fatal);
    let school = required(sheet, &["schoolSourcedId"], fatal);
    PreparedClasses { input, common, title, school }
}

/// `enrollments.csv` with its columns found.
pub(super) struct PreparedEnrollments<'a> {
    input: Input<'a>,
    common: Common,
    class: Option<usize>,
    user: Option<usize>,
    role: Option<usize>,
}

pub(super) fn prepare_enrollments<'a>(input: Input<'a>, fatal: &mut Vec<RejectedRow>) -> PreparedEnrollments<'a> {
    let sheet = &input.sheet;
    let common = Common::find(sheet, fatal);
    let class = required(sheet, &["classSourcedId"], fatal);
    let user = required(sheet, &["userSourcedId"], fatal);
    let role = required(sheet, &["role"], fatal);
    PreparedEnrollments { input, common, class, user, role }
}

/// The classes of the file, by sourcedId.
pub(super) struct Sections {
    mode: FileMode,
    ids: Ids<()>,
}

fn class_id(id: &str) -> Result<(), crate::domain::DomainError> {
    validate_id("class", id)
}

/// Reads the classes into `sections`.
pub(super) fn read_classes(
    prepared: PreparedClasses<'_>,
    orgs: &Orgs,
    sections: &mut Batch<Section>,
    report: &mut Report,
    fatal: &mut Vec<RejectedRow>,
) -> Sections {
    let PreparedClasses { mut input, common, title, school } = prepared;
    let mode = input.mode;
    warn_unknown_columns(&input.sheet, columns::CLASSES, KNOWN_EXTRA_CLASSES, report);
    *sections = batch_in(mode);
    let file_name = input.sheet.name;
    let mut ids = Ids::default();
    let mut skipped = Skipped::default();
    each_row(&mut input.sheet, fatal, |row, file| {
        let Some(id) =
            admit(row, file, mode, &common, class_id, &mut ids, Some(&mut sections.deleted), &mut skipped, report)
        else {
            return;
        };
        let class_title = row.get(title);
        if class_title.is_empty() || class_title.chars().any(char::is_control) {
            let reason = if class_title.is_empty() { "title is empty" } else { "title holds control characters" };
            report.reject(file, row.line, Some("title"), reason);
            ids.set(id, row.line, State::Rejected);
            return;
        }
        let school_cell = row.get(school);
        let reference = orgs.resolve(school_cell);
        let school_id = match reference {
            OrgRef::School(school_id) => school_id,
            OrgRef::NotASchool => {
                let reason =
                    format!("schoolSourcedId `{}` is a district (or wider) org, not a school", short(school_cell));
                report.reject(file, row.line, Some("schoolSourcedId"), reason);
                ids.set(id, row.line, State::Rejected);
                return;
            }
            _ => {
                let reason = if school_cell.is_empty() {
                    "schoolSourcedId is empty".to_string()
                } else {
                    orgs.problem(&reference, school_cell).unwrap_or_default()
                };
                report.reject(file, row.line, Some("schoolSourcedId"), reason);
                ids.set(id, row.line, State::Rejected);
                return;
            }
        };
        ids.set(id, row.line, State::Imported(()));
        sections.records.push(Section { id: id.to_string(), school: school_id, title: class_title.to_string() });
    });
    skipped.report(file_name, report);
    Sections { mode, ids }
}

/// Reads the enrollments into `enrollments`. `sections` is `None` when
/// there is no classes file (class ids are then not checked).
pub(super) fn read_enrollments(
    prepared: PreparedEnrollments<'_>,
    sections: Option<&Sections>,
    people: &People,
    enrollments: &mut Batch<Enrollment>,
    report: &mut Report,
    fatal: &mut Vec<RejectedRow>,
) {
    let PreparedEnrollments { mut input, common, class, user, role } = prepared;
    let mode = input.mode;
    input.sheet.warn_unknown_columns(columns::ENROLLMENTS, report);
    *enrollments = batch_in(mode);
    let file_name = input.sheet.name;
    let mut ids: Ids<()> = Ids::default();
    let mut skipped = Skipped::default();
    let mut other_roles = 0;
    each_row(&mut input.sheet, fatal, |row, file| {
        let Some(id) = admit(
            row,
            file,
            mode,
            &common,
            |id| validate_id("enrollment", id),
            &mut ids,
            Some(&mut enrollments.deleted),
            &mut skipped,
            report,
        ) else {
            return;
        };
        ids.set(id, row.line, State::Rejected);
        let role_cell = row.get(role);
        let enrollment_role = if role_cell.eq_ignore_ascii_case("student") {
            EnrollmentRole::Student
        } else if role_cell.eq_ignore_ascii_case("teacher") {
            EnrollmentRole::Teacher
        } else {
            other_roles += 1;
            return;
        };
        let class_cell = row.get(class);
        let class_problem = match sections.map(|s| (s.mode, s.ids.get(class_cell))) {
            _ if class_cell.is_empty() => Some("classSourcedId is empty".to_string()),
            Some((_, Some(State::Imported(())))) => None,
            Some((_, Some(_))) => Some(format!("class `{}` was not imported (deleted or rejected)", short(class_cell))),
            Some((FileMode::Bulk, None)) => Some(format!("class `{}` is not in classes.csv", short(class_cell))),
            _ => class_id(class_cell).err().map(|e| format!("classSourcedId: {e}")),
        };
        if let Some(reason) = class_problem {
            report.reject(file, row.line, Some("classSourcedId"), reason);
            return;
        }
        let user_cell = row.get(user);
        let user_problem = match people.lookup(user_cell) {
            _ if user_cell.is_empty() => Some("userSourcedId is empty".to_string()),
            Some(State::Imported(_)) => None,
            Some(_) => Some(format!("user `{}` was not imported (deleted or rejected)", short(user_cell))),
            None if people.mode == FileMode::Bulk => Some(format!("user `{}` is not in users.csv", short(user_cell))),
            None => None,
        };
        let person = match (user_problem, PersonId::parse(user_cell)) {
            (None, Ok(person)) => person,
            (Some(reason), _) => {
                report.reject(file, row.line, Some("userSourcedId"), reason);
                return;
            }
            (None, Err(e)) => {
                report.reject(file, row.line, Some("userSourcedId"), format!("userSourcedId: {e}"));
                return;
            }
        };
        ids.set(id, row.line, State::Imported(()));
        enrollments.records.push(Enrollment {
            id: id.to_string(),
            section: class_cell.to_string(),
            person,
            role: enrollment_role,
        });
    });
    skipped.report(file_name, report);
    report.warn_count(
        file_name,
        other_roles,
        "enrollment(s) with a role other than student or teacher were not imported",
    );
}
