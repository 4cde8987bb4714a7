//! `users.csv` → people: role (from `role`, or from roles.csv in 1.2),
//! names, schools, grade, phones and email. The agent lists are kept for
//! [`super::links`].
//!
//! `phone` is the home phone and `sms` the cell phone (the same number in
//! both is only the cell phone). An invalid phone, email or org reference
//! drops that value, not the person, and is reported as a rejected cell.

use std::ops::Range;

use crate::domain::{Batch, Channel, FileMode, PersonId, PersonRole, Region, RejectedRow, RosterPerson, SchoolId};
use crate::import::contacts::PendingContacts;
use crate::import::sheet::{self, Report, Row, list};

use super::orgs::{OrgRef, Orgs};
use super::roles::{RoleWord, Roles, role_word, unknown_role};
use super::{Common, Ids, Input, Skipped, State, admit, batch_in, columns, each_row, required, warn_unknown_columns};

/// The file's name.
pub(super) const FILE: &str = "users.csv";

/// Columns read or known beyond the 1.1 ones ([`columns::USERS`]).
const KNOWN_EXTRA: &[&str] = &[
    // OneRoster 1.2.
    "userMasterIdentifier",
    "resourceSourcedIds",
    "preferredGivenName",
    "preferredMiddleName",
    "preferredFamilyName",
    "primaryOrgSourcedId",
    "pronouns",
    // OneRoster 1.0 names.
    "userId",
    "agents",
];

/// `users.csv` with its columns found.
pub(super) struct Prepared<'a> {
    input: Input<'a>,
    cols: Cols,
}

struct Cols {
    common: Common,
    enabled: Option<usize>,
    orgs: Option<usize>,
    role: Option<usize>,
    given: Option<usize>,
    family: Option<usize>,
    email: Option<usize>,
    sms: Option<usize>,
    phone: Option<usize>,
    agents: Option<usize>,
    grades: Option<usize>,
}

/// Finds the columns; `role` is required unless roles.csv gives the roles.
pub(super) fn prepare<'a>(input: Input<'a>, has_roles: bool, fatal: &mut Vec<RejectedRow>) -> Prepared<'a> {
    let sheet = &input.sheet;
    let cols = Cols {
        common: Common::find(sheet, fatal),
        enabled: sheet.col("enabledUser"),
        orgs: sheet.col("orgSourcedIds"),
        role: if has_roles { sheet.col("role") } else { required(sheet, &["role"], fatal) },
        given: required(sheet, &["givenName"], fatal),
        family: required(sheet, &["familyName"], fatal),
        email: sheet.col("email"),
        sms: sheet.col("sms"),
        phone: sheet.col("phone"),
        agents: sheet.col_any(&["agentSourcedIds", "agents"]),
        grades: sheet.col("grades"),
    };
    Prepared { input, cols }
}

/// What the links, demographics and enrollments need to know of a user.
#[derive(Debug, Clone, Copy)]
pub(super) struct UserInfo {
    /// Index in the people batch.
    pub person: usize,
    /// Student, guardian or staff.
    pub role: PersonRole,
    /// The user's parent/guardian/relative role, if any.
    pub guardian: Option<&'static RoleWord>,
}

/// The users of the file, by sourcedId, and their agent lists.
#[derive(Debug)]
pub(super) struct People {
    /// Bulk or delta.
    pub mode: FileMode,
    /// The file's name.
    pub file: String,
    ids: Ids<UserInfo>,
    agents: Vec<(u64, usize, Range<usize>)>,
    agent_text: String,
}

impl People {
    /// What became of a user id, if the file has it.
    pub fn lookup(&self, id: &str) -> Option<&State<UserInfo>> {
        self.ids.get(id)
    }

    /// Whether an id is missing from a bulk users file (a dangling reference).
    pub fn is_unknown(&self, id: &str) -> bool {
        self.mode == FileMode::Bulk && self.ids.get(id).is_none()
    }

    /// Every non-empty agent list: line, person index, the cell.
    pub fn agent_lists(&self) -> impl Iterator<Item = (u64, usize, &str)> {
        self.agents.iter().map(|(line, person, range)| (*line, *person, &self.agent_text[range.clone()]))
    }
}

#[derive(Default)]
struct Counts {
    disabled: usize,
    skipped: Skipped,
}

/// Reads the users into `people`.
pub(super) fn read(
    prepared: Prepared<'_>,
    roles: Option<&Roles>,
    orgs: &Orgs,
    region: Region,
    people: &mut Batch<RosterPerson>,
    report: &mut Report,
    fatal: &mut Vec<RejectedRow>,
) -> People {
    let Prepared { mut input, cols } = prepared;
    let mode = input.mode;
    warn_unknown_columns(&input.sheet, columns::USERS, KNOWN_EXTRA, report);
    *people = batch_in(mode);
    let file_name = input.sheet.name;
    let mut out = People {
        mode,
        file: file_name.to_string(),
        ids: Ids::default(),
        agents: Vec::new(),
        agent_text: String::new(),
    };
    let mut counts = Counts::default();
    let mut pending = PendingContacts::default();
    let since = report.rejected.len();
    let context = RowContext { cols: &cols, roles, orgs };
    each_row(&mut input.sheet, fatal, |row, file| {
        context.read_row(row, file, mode, people, &mut out, &mut pending, &mut counts, report);
    });
    pending.resolve(region, &mut people.records, file_name, report, since);
    counts.skipped.report(file_name, report);
    report.warn_count(file_name, counts.disabled, "user(s) have enabledUser=false (imported anyway)");
    out
}

struct RowContext<'c> {
    cols: &'c Cols,
    roles: Option<&'c Roles>,
    orgs: &'c Orgs,
}

impl RowContext<'_> {
    #[allow(clippy::too_many_arguments)]
    fn read_row(
        &self,
        row: &Row<'_>,
        file: &str,
        mode: FileMode,
        people: &mut Batch<RosterPerson>,
        out: &mut People,
        pending: &mut PendingContacts<'_>,
        counts: &mut Counts,
        report: &mut Report,
    ) {
        let cols = self.cols;
        let Some(id) = admit(
            row,
            file,
            mode,
            &cols.common,
            |id| PersonId::parse(id).map(drop),
            &mut out.ids,
            Some(&mut people.deleted),
            &mut counts.skipped,
            report,
        ) else {
            return;
        };
        let user_roles = self.roles.and_then(|roles| roles.of(id));
        let (word, guardian) = match user_roles {
            Some(roles) => (roles.main(), roles.guardian),
            None if cols.role.is_none() => {
                report.reject(file, row.line, Some("role"), "the user has no role in roles.csv");
                out.ids.set(id, row.line, State::Rejected);
                return;
            }
            None => {
                let cell = row.get(cols.role);
                let Some(word) = role_word(cell) else {
                    report.reject(file, row.line, Some("role"), unknown_role(cell));
                    out.ids.set(id, row.line, State::Rejected);
                    return;
                };
                (word, word.kind.map(|_| word))
            }
        };
        let (given_name, family_name) = match (sheet::name(row.get(cols.given)), sheet::name(row.get(cols.family))) {
            (Ok(given), Ok(family)) => (given, family),
            (Err(problem), _) => {
                report.reject(file, row.line, Some("givenName"), format!("givenName {problem}"));
                out.ids.set(id, row.line, State::Rejected);
                return;
            }
            (_, Err(problem)) => {
                report.reject(file, row.line, Some("familyName"), format!("familyName {problem}"));
                out.ids.set(id, row.line, State::Rejected);
                return;
            }
        };
        let Ok(person_id) = PersonId::parse(id) else {
            return;
        };

        let mut schools: Vec<SchoolId> = Vec::new();
        match user_roles {
            Some(roles) => {
                for org in &roles.orgs {
                    self.add_school(org, "orgSourcedId", &mut schools, file, row.line, report);
                }
            }
            None => {
                for org in list(row.get(cols.orgs)) {
                    self.add_school(org, "orgSourcedIds", &mut schools, file, row.line, report);
                }
            }
        }

        let grade = if word.role == PersonRole::Student {
            list(row.get(cols.grades)).next().and_then(sheet::grade)
        } else {
            None
        };

        let index = people.records.len();
        let sms = row.get(cols.sms);
        let phone = row.get(cols.phone);
        pending.push(index, Channel::CellPhone, "sms", row.line, sms);
        // The same number as `sms` and `phone` is only the cell phone.
        if phone != sms {
            pending.push_unless(index, Channel::HomePhone, "phone", row.line, phone, Some(Channel::CellPhone));
        }
        pending.push(index, Channel::Email, "email", row.line, row.get(cols.email));

        if sheet::boolean(row.get(cols.enabled)) == Some(false) {
            counts.disabled += 1;
        }
        let agents = row.get(cols.agents);
        if !agents.is_empty() {
            let start = out.agent_text.len();
            out.agent_text.push_str(agents);
            out.agents.push((row.line, index, start..out.agent_text.len()));
        }
        out.ids.set(id, row.line, State::Imported(UserInfo { person: index, role: word.role, guardian }));
        people.records.push(RosterPerson {
            id: person_id,
            role: word.role,
            sis_role: word.word.to_string(),
            given_name,
            family_name,
            schools,
            grade,
            household: None,
            language: None,
            birth_date: None,
            contacts: Vec::new(),
            plus: Default::default(),
            // OneRoster 1.1 has no consent field (see the module docs of `oneroster`).
            text_consent: None,
        });
    }

    /// Adds the school an org id resolves to (once), or rejects the cell.
    fn add_school(
        &self,
        org: &str,
        column: &str,
        schools: &mut Vec<SchoolId>,
        file: &str,
        line: u64,
        report: &mut Report,
    ) {
        let reference = self.orgs.resolve(org);
        if let OrgRef::School(school) = reference {
            if !schools.contains(&school) {
                schools.push(school);
            }
        } else if let Some(problem) = self.orgs.problem(&reference, org) {
            report.reject(file, line, Some(column), format!("{problem}; school dropped"));
        }
    }
}
