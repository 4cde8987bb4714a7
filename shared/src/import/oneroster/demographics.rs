//! `demographics.csv` → birth dates (for the 13-and-over rule). Only
//! `birthDate` is read; a row's sourcedId is its user's. `YYYY-MM-DD` is
//! the spec's form; `M/D/YYYY` is tolerated. A bad date is a rejected cell
//! and the person keeps no birth date.

use crate::domain::{FileMode, PersonId, RejectedRow, RosterPerson};
use crate::import::sheet::{self, Report, short};

use super::users::People;
use super::{Common, Ids, Input, Skipped, State, admit, columns, each_row, required, warn_unknown_columns};

/// The file's name.
pub(super) const FILE: &str = "demographics.csv";

/// Columns known beyond the 1.1 ones ([`columns::DEMOGRAPHICS`]).
const KNOWN_EXTRA: &[&str] = &[
    // OneRoster 1.0.
    "userSourcedId",
];

/// `demographics.csv` with its columns found.
pub(super) struct Prepared<'a> {
    input: Input<'a>,
    common: Common,
    birth: Option<usize>,
}

pub(super) fn prepare<'a>(input: Input<'a>, fatal: &mut Vec<RejectedRow>) -> Prepared<'a> {
    let sheet = &input.sheet;
    let common = Common { id: required(sheet, &["sourcedId", "userSourcedId"], fatal), status: sheet.col("status") };
    let birth = sheet.col("birthDate");
    Prepared { input, common, birth }
}

/// Sets the birth dates of the people read from users.csv.
pub(super) fn read(
    prepared: Prepared<'_>,
    people: &People,
    persons: &mut [RosterPerson],
    report: &mut Report,
    fatal: &mut Vec<RejectedRow>,
) {
    let Prepared { mut input, common, birth } = prepared;
    let mode = input.mode;
    warn_unknown_columns(&input.sheet, columns::DEMOGRAPHICS, KNOWN_EXTRA, report);
    if birth.is_none() {
        report.warn(format!("{}: no birthDate column; nothing to read", input.sheet.name));
        return;
    }
    let file_name = input.sheet.name;
    let mut ids: Ids<()> = Ids::default();
    let mut skipped = Skipped::default();
    let mut unresolved = 0;
    each_row(&mut input.sheet, fatal, |row, file| {
        let Some(id) =
            admit(row, file, mode, &common, |id| PersonId::parse(id).map(drop), &mut ids, None, &mut skipped, report)
        else {
            return;
        };
        ids.set(id, row.line, State::Imported(()));
        let person = match people.lookup(id) {
            Some(State::Imported(info)) => info.person,
            Some(_) => return,
            None if people.mode == FileMode::Bulk => {
                let reason = format!("user `{}` is not in users.csv", short(id));
                report.reject(file, row.line, Some("sourcedId"), reason);
                return;
            }
            None => {
                unresolved += 1;
                return;
            }
        };
        let cell = row.get(birth);
        if cell.is_empty() {
            return;
        }
        match sheet::date(cell) {
            Some(date) => {
                if let Some(person) = persons.get_mut(person) {
                    person.birth_date = Some(date);
                }
            }
            None => report.reject(
                file,
                row.line,
                Some("birthDate"),
                "birthDate is not a date (YYYY-MM-DD); the person is kept without it",
            ),
        }
    });
    skipped.report(file_name, report);
    report.warn_count(file_name, unresolved, "row(s) are for users not in the delta users.csv; not applied");
}
