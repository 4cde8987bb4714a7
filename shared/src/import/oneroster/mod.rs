//! OneRoster CSV (1.1 and 1.2, bulk and delta) → [`Roster`].
//!
//! Reads `manifest.csv`, `orgs.csv`, `users.csv`, `roles.csv` (1.2),
//! `demographics.csv`, `classes.csv` and `enrollments.csv`; other files are
//! left alone. Columns are found by name (any order, any case); columns this
//! reader does not know are named once in a warning.
//!
//! What is fatal ([`FileRejected`], with every problem found): a file the
//! manifest declares but that is missing, a file that is not UTF-8 or not
//! CSV, a required column missing, no `users.csv`. Everything else rejects
//! one row or one cell ([`crate::domain::RejectedRow`]) and goes on:
//! duplicate sourcedIds, dangling references, invalid ids, phones, emails
//! and dates, missing names.
//!
//! Rules every file shares: `status` `tobedeleted` (or the 1.0 `inactive`)
//! deletes the record in a delta file ([`crate::domain::Batch::deleted`])
//! and is skipped (with a counted warning) in a bulk file. A reference is
//! checked only against a bulk file: a delta file may refer to records
//! stored by earlier runs.
//!
//! Text consent: OneRoster 1.1 (and 1.2's `users.csv`) has no field for a
//! person's consent to texts, and its `sms` column is only a number, so a
//! OneRoster import records no consent ([`crate::domain::RosterPerson::text_consent`]
//! is always `None`): a district that keeps consent in its SIS exports it in
//! a mapped CSV with a consent column (see [`crate::import::mapped`]), or
//! chooses the `number_provided` policy. An unknown extra column such as
//! `metadata.textOptIn` is named in the unknown-columns warning, not read.

mod classes;
pub mod columns;
mod demographics;
mod links;
mod manifest;
mod orgs;
mod roles;
mod users;

use std::collections::HashMap;

use crate::domain::{Batch, DomainError, FileMode, FileRejected, ReadOutcome, Region, RejectedRow, Roster};
use crate::import::CsvFiles;
use crate::import::sheet::{Report, Row, Sheet, short};

/// Reads a OneRoster file set (from a folder or a zip: see [`CsvFiles`]).
/// Phone numbers written without a country code are read in `region`.
pub fn read_oneroster(files: &CsvFiles, region: Region) -> Result<ReadOutcome, FileRejected> {
    let mut fatal = Vec::new();
    let mut report = Report::default();
    let manifest = manifest::read(files, &mut fatal, &mut report);
    let open = |file: &'static str, fatal: &mut Vec<RejectedRow>| -> Option<Input<'_>> {
        let mode = manifest.mode(file, files);
        if mode == FileMode::Absent {
            return None;
        }
        let bytes = files.get(file)?;
        let name = files.display_name(file).unwrap_or(file);
        match Sheet::open(name, bytes) {
            Ok(sheet) => Some(Input { sheet, mode }),
            Err(problem) => {
                fatal.push(problem);
                None
            }
        }
    };
    let orgs = open(orgs::FILE, &mut fatal);
    let roles = open(roles::FILE, &mut fatal);
    let users = open(users::FILE, &mut fatal);
    let demographics = open(demographics::FILE, &mut fatal);
    let classes = open(classes::CLASSES, &mut fatal);
    let enrollments = open(classes::ENROLLMENTS, &mut fatal);
    if users.is_none() && manifest.mode(users::FILE, files) == FileMode::Absent {
        fatal.push(RejectedRow {
            file: users::FILE.to_string(),
            row: 0,
            column: None,
            reason: "no users file: a OneRoster import needs users.csv (declared bulk or delta)".to_string(),
        });
    }

    let orgs = orgs.map(|input| orgs::prepare(input, &mut fatal));
    let roles = roles.map(|input| roles::prepare(input, &mut fatal));
    let users = users.map(|input| users::prepare(input, roles.is_some(), &mut fatal));
    let demographics = demographics.map(|input| demographics::prepare(input, &mut fatal));
    let classes = classes.map(|input| classes::prepare_classes(input, &mut fatal));
    let enrollments = enrollments.map(|input| classes::prepare_enrollments(input, &mut fatal));
    let (Some(users), true) = (users, fatal.is_empty()) else {
        return Err(FileRejected { problems: fatal });
    };

    let mut roster = Roster::default();
    let orgs = match orgs {
        Some(prepared) => orgs::read(prepared, &mut roster.schools, &mut report, &mut fatal),
        None => orgs::Orgs::absent(),
    };
    let roles = roles.map(|prepared| roles::read(prepared, &mut report, &mut fatal));
    let people = users::read(users, roles.as_ref(), &orgs, region, &mut roster.people, &mut report, &mut fatal);
    if let Some(roles) = &roles {
        roles.reject_unknown_users(&people, &mut report);
    }
    roster.relationships = links::build(&people, &roster.people.records, &mut report);
    if let Some(prepared) = demographics {
        demographics::read(prepared, &people, &mut roster.people.records, &mut report, &mut fatal);
    }
    let sections =
        classes.map(|prepared| classes::read_classes(prepared, &orgs, &mut roster.sections, &mut report, &mut fatal));
    if let Some(prepared) = enrollments {
        classes::read_enrollments(
            prepared,
            sections.as_ref(),
            &people,
            &mut roster.enrollments,
            &mut report,
            &mut fatal,
        );
    }
    if !fatal.is_empty() {
        return Err(FileRejected { problems: fatal });
    }
    Ok(ReadOutcome {
        roster,
        rejected: report.rejected,
        rejected_total: report.rejected_total,
        warnings: report.warnings,
    })
}

/// A file to read and its mode (bulk or delta).
pub(super) struct Input<'a> {
    pub sheet: Sheet<'a>,
    pub mode: FileMode,
}

/// Finds a required column (under any of its names); records a fatal
/// problem when it is missing.
pub(super) fn required(sheet: &Sheet<'_>, names: &[&str], fatal: &mut Vec<RejectedRow>) -> Option<usize> {
    let col = sheet.col_any(names);
    if col.is_none() {
        fatal.push(RejectedRow {
            file: sheet.name.to_string(),
            row: 1,
            column: names.first().map(|n| n.to_string()),
            reason: format!("required column `{}` is missing", names.first().copied().unwrap_or_default()),
        });
    }
    col
}

/// Warns once about the columns of a sheet that are neither in the spec's
/// list ([`columns`]) nor in the reader's `extra` names (other versions').
pub(super) fn warn_unknown_columns(sheet: &Sheet<'_>, spec: &[&str], extra: &[&str], report: &mut Report) {
    let known: Vec<&str> = spec.iter().chain(extra).copied().collect();
    sheet.warn_unknown_columns(&known, report);
}

/// Reads the rows of a sheet one by one until the end or a CSV error (fatal).
pub(super) fn each_row<'a>(sheet: &mut Sheet<'a>, fatal: &mut Vec<RejectedRow>, mut f: impl FnMut(&Row<'_>, &'a str)) {
    let name = sheet.name;
    loop {
        match sheet.next_row() {
            Ok(Some(row)) => {
                if !row.is_blank() {
                    f(&row, name);
                }
            }
            Ok(None) => break,
            Err(problem) => {
                fatal.push(problem);
                break;
            }
        }
    }
}

/// What became of a record read from a file, by sourcedId.
#[derive(Debug, Clone)]
pub(super) enum State<T> {
    /// Imported; the payload says where or what.
    Imported(T),
    /// Marked `tobedeleted`/`inactive` (deleted in delta, skipped in bulk).
    Deleted,
    /// Rejected (invalid id, missing name ...).
    Rejected,
}

/// The sourcedIds of one file, each with the line it was first seen on.
#[derive(Debug)]
pub(super) struct Ids<T> {
    map: HashMap<String, (u64, State<T>)>,
}

impl<T> Default for Ids<T> {
    fn default() -> Self {
        Self { map: HashMap::new() }
    }
}

impl<T> Ids<T> {
    /// Records what became of an id.
    pub fn set(&mut self, id: &str, line: u64, state: State<T>) {
        match self.map.get_mut(id) {
            Some(entry) => *entry = (line, state),
            None => {
                self.map.insert(id.to_string(), (line, state));
            }
        }
    }

    /// What became of an id, if the file has it.
    pub fn get(&self, id: &str) -> Option<&State<T>> {
        self.map.get(id).map(|(_, state)| state)
    }
}

/// Counts of rows skipped for their status, reported once per file.
#[derive(Debug, Default)]
pub(super) struct Skipped {
    /// `tobedeleted`/`inactive` rows in a bulk file.
    pub deleted_in_bulk: usize,
}

impl Skipped {
    pub fn report(&self, file: &str, report: &mut Report) {
        report.warn_count(
            file,
            self.deleted_in_bulk,
            "row(s) marked tobedeleted/inactive in a bulk file were not imported (a bulk file lists only what exists)",
        );
    }
}

/// The columns every OneRoster file shares.
pub(super) struct Common {
    pub id: Option<usize>,
    pub status: Option<usize>,
}

impl Common {
    /// Finds `sourcedId` (required: its absence is a fatal problem) and `status`.
    pub(super) fn find(sheet: &crate::import::sheet::Sheet<'_>, fatal: &mut Vec<RejectedRow>) -> Self {
        Self { id: required(sheet, &["sourcedId"], fatal), status: sheet.col("status") }
    }
}

/// The checks every row of a OneRoster file gets: a sourcedId, not seen
/// before in the file, valid, and not marked for deletion. Returns the id
/// when the row is to be imported; otherwise the row is dealt with
/// (rejected, deleted or skipped) and recorded in `ids`.
#[allow(clippy::too_many_arguments)]
pub(super) fn admit<'r, T>(
    row: &'r Row<'_>,
    file: &str,
    mode: FileMode,
    cols: &Common,
    validate: fn(&str) -> Result<(), DomainError>,
    ids: &mut Ids<T>,
    batch_deleted: Option<&mut Vec<String>>,
    skipped: &mut Skipped,
    report: &mut Report,
) -> Option<&'r str> {
    let id = row.get(cols.id);
    if id.is_empty() {
        report.reject(file, row.line, Some("sourcedId"), "sourcedId is empty");
        return None;
    }
    if let Some((first, _)) = ids.map.get(id) {
        report.reject(file, row.line, Some("sourcedId"), format!("duplicate sourcedId, first at row {first}"));
        return None;
    }
    if let Err(e) = validate(id) {
        report.reject(file, row.line, Some("sourcedId"), format!("sourcedId: {e}"));
        ids.set(id, row.line, State::Rejected);
        return None;
    }
    let status = row.get(cols.status);
    let delete = if status.is_empty() || status.eq_ignore_ascii_case("active") {
        false
    } else if ["tobedeleted", "inactive", "deleted"].iter().any(|s| s.eq_ignore_ascii_case(status)) {
        true
    } else {
        report.reject(
            file,
            row.line,
            Some("status"),
            format!("unknown status `{}`; expected active or tobedeleted", short(status)),
        );
        ids.set(id, row.line, State::Rejected);
        return None;
    };
    if delete {
        ids.set(id, row.line, State::Deleted);
        match (mode, batch_deleted) {
            (FileMode::Delta, Some(deleted)) => deleted.push(id.to_string()),
            (FileMode::Delta, None) => {}
            _ => skipped.deleted_in_bulk += 1,
        }
        return None;
    }
    Some(id)
}

/// A batch in a file's mode.
pub(super) fn batch_in<T>(mode: FileMode) -> Batch<T> {
    Batch { mode, records: Vec::new(), deleted: Vec::new() }
}

#[cfg(test)]
mod tests;
