//! `orgs.csv` → schools, and how any org id resolves to a school.
//!
//! An org of type `school` is a school. A `department` stands for the
//! school above it; a department with no school above it (exporters that
//! file each school as a department) is imported as a school itself, with
//! a warning. `district`, `local`, `state` and `national` orgs are not
//! schools: people and classes that name them simply get no school from
//! them.

use std::collections::HashMap;

use crate::domain::{Batch, FileMode, RejectedRow, RosterSchool, SchoolId};
use crate::import::sheet::{Report, short};

use super::{Common, Ids, Input, Skipped, State, admit, batch_in, columns, each_row, required};

/// The file's name.
pub(super) const FILE: &str = "orgs.csv";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OrgType {
    School,
    Department,
    /// district, local, state, national.
    Above,
}

/// `orgs.csv` with its columns found.
pub(super) struct Prepared<'a> {
    input: Input<'a>,
    common: Common,
    name: Option<usize>,
    kind: Option<usize>,
    parent: Option<usize>,
}

pub(super) fn prepare<'a>(input: Input<'a>, fatal: &mut Vec<RejectedRow>) -> Prepared<'a> {
    let sheet = &input.sheet;
    let common = Common::find(sheet, fatal);
    let name = required(sheet, &["name"], fatal);
    let kind = required(sheet, &["type"], fatal);
    let parent = sheet.col("parentSourcedId");
    Prepared { input, common, name, kind, parent }
}

/// How org ids resolve to schools.
pub(super) struct Orgs {
    mode: FileMode,
    /// Org id → its school, `None` for orgs above schools.
    school_of: HashMap<String, Option<SchoolId>>,
    ids: Ids<()>,
}

/// What an org reference comes to.
pub(super) enum OrgRef {
    /// A school (possibly the one above a department).
    School(SchoolId),
    /// A district (or state ...) org: no school.
    NotASchool,
    /// An org of the file that was not imported (deleted or rejected).
    NotImported,
    /// Not in a bulk orgs file.
    Unknown,
    /// Not a valid id.
    Invalid,
}

impl Orgs {
    /// No orgs file: every valid id is taken for a school stored earlier.
    pub fn absent() -> Self {
        Self { mode: FileMode::Absent, school_of: HashMap::new(), ids: Ids::default() }
    }

    /// Resolves an org id. Ids outside a delta or absent orgs file are
    /// taken to be schools stored by earlier runs.
    pub fn resolve(&self, id: &str) -> OrgRef {
        if let Some(school) = self.school_of.get(id) {
            return school.clone().map_or(OrgRef::NotASchool, OrgRef::School);
        }
        match self.ids.get(id) {
            Some(_) => OrgRef::NotImported,
            None if self.mode == FileMode::Bulk => OrgRef::Unknown,
            None => SchoolId::parse(id).map_or(OrgRef::Invalid, OrgRef::School),
        }
    }

    /// Why a reference does not give a school, for a rejected row.
    pub fn problem(&self, reference: &OrgRef, id: &str) -> Option<String> {
        match reference {
            OrgRef::School(_) | OrgRef::NotASchool => None,
            OrgRef::NotImported => Some(format!("org `{}` was not imported (deleted or rejected)", short(id))),
            OrgRef::Unknown => Some(format!("org `{}` is not in orgs.csv", short(id))),
            OrgRef::Invalid => Some(format!("`{}` is not a valid org id", short(id))),
        }
    }
}

struct OrgRow {
    id: String,
    kind: OrgType,
    parent: String,
}

/// Reads the orgs into `schools` and returns how ids resolve.
pub(super) fn read(
    prepared: Prepared<'_>,
    schools: &mut Batch<RosterSchool>,
    report: &mut Report,
    fatal: &mut Vec<RejectedRow>,
) -> Orgs {
    let Prepared { mut input, common, name, kind, parent } = prepared;
    let mode = input.mode;
    input.sheet.warn_unknown_columns(columns::ORGS, report);
    *schools = batch_in(mode);
    let mut ids = Ids::default();
    let mut skipped = Skipped::default();
    let mut rows: Vec<OrgRow> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let file_name = input.sheet.name;
    each_row(&mut input.sheet, fatal, |row, file| {
        let Some(id) = admit(
            row,
            file,
            mode,
            &common,
            |id| SchoolId::parse(id).map(drop),
            &mut ids,
            Some(&mut schools.deleted),
            &mut skipped,
            report,
        ) else {
            return;
        };
        let type_word = row.get(kind);
        let org_type = match type_word.to_ascii_lowercase().as_str() {
            "school" => OrgType::School,
            "department" => OrgType::Department,
            "district" | "local" | "state" | "national" => OrgType::Above,
            _ => {
                report.reject(
                    file,
                    row.line,
                    Some("type"),
                    format!(
                        "unknown org type `{}`; expected school, district, department, local, state or national",
                        short(type_word)
                    ),
                );
                ids.set(id, row.line, State::Rejected);
                return;
            }
        };
        let org_name = row.get(name);
        if org_name.is_empty() && org_type != OrgType::Above {
            report.reject(file, row.line, Some("name"), "name is empty");
            ids.set(id, row.line, State::Rejected);
            return;
        }
        ids.set(id, row.line, State::Imported(()));
        rows.push(OrgRow { id: id.to_string(), kind: org_type, parent: row.get(parent).to_string() });
        names.push(org_name.to_string());
    });
    skipped.report(file_name, report);

    let by_id: HashMap<&str, usize> = rows.iter().enumerate().map(|(i, r)| (r.id.as_str(), i)).collect();
    let mut school_of = HashMap::with_capacity(rows.len());
    let mut departments_as_schools = 0;
    for (index, org) in rows.iter().enumerate() {
        let school = match org.kind {
            OrgType::Above => None,
            OrgType::School => Some(index),
            OrgType::Department => {
                // Walk up past departments to a school, at most 8 levels.
                let mut above = by_id.get(org.parent.as_str()).copied();
                let mut found = None;
                for _ in 0..8 {
                    match above.map(|i| (i, rows[i].kind)) {
                        Some((i, OrgType::School)) => {
                            found = Some(i);
                            break;
                        }
                        Some((i, OrgType::Department)) => above = by_id.get(rows[i].parent.as_str()).copied(),
                        _ => break,
                    }
                }
                if found.is_none() {
                    departments_as_schools += 1;
                }
                Some(found.unwrap_or(index))
            }
        };
        let school = school.and_then(|i| SchoolId::parse(rows[i].id.as_str()).ok());
        if let Some(id) = &school
            && id.as_str() == org.id
        {
            schools.records.push(RosterSchool { id: id.clone(), name: names[index].clone() });
        }
        school_of.insert(org.id.clone(), school);
    }
    report.warn_count(
        file_name,
        departments_as_schools,
        "department org(s) with no school above them were imported as schools",
    );
    Orgs { mode, school_of, ids }
}
