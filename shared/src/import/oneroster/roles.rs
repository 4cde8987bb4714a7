//! Role words (`teacher`, `parent`, `siteAdministrator` ...) and, for
//! OneRoster 1.2, `roles.csv`: the roles and orgs of each user.
//!
//! A user's role is their first `primary` role, else their first role.
//! Whatever that is, a user with any `parent`, `guardian` or `relative`
//! role can be linked to students as a guardian (a teacher who is also a
//! parent in the district).

use std::collections::HashMap;

use crate::domain::{PersonRole, RejectedRow, RelationshipKind, validate_id};
use crate::import::sheet::{Report, short};

use super::users::People;
use super::{Common, Ids, Input, Skipped, State, admit, each_row, required};

/// The file's name.
pub(super) const FILE: &str = "roles.csv";

const KNOWN: &[&str] = &[
    "sourcedId",
    "status",
    "dateLastModified",
    "userSourcedId",
    "roleType",
    "role",
    "beginDate",
    "endDate",
    "orgSourcedId",
    "userProfileSourcedId",
];

/// A OneRoster role word and what it means here.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct RoleWord {
    /// The spec's spelling.
    pub word: &'static str,
    /// Student, guardian or staff.
    pub role: PersonRole,
    /// For guardian words, the relationship they give.
    pub kind: Option<RelationshipKind>,
}

const fn staff(word: &'static str) -> RoleWord {
    RoleWord { word, role: PersonRole::Staff, kind: None }
}

const fn guardian(word: &'static str, kind: RelationshipKind) -> RoleWord {
    RoleWord { word, role: PersonRole::Guardian, kind: Some(kind) }
}

/// Every role word of OneRoster 1.1 and 1.2.
const WORDS: &[RoleWord] = &[
    RoleWord { word: "student", role: PersonRole::Student, kind: None },
    staff("teacher"),
    staff("administrator"),
    staff("aide"),
    staff("proctor"),
    staff("counselor"),
    staff("principal"),
    staff("districtAdministrator"),
    staff("siteAdministrator"),
    staff("systemAdministrator"),
    guardian("parent", RelationshipKind::Parent),
    guardian("guardian", RelationshipKind::Guardian),
    guardian("relative", RelationshipKind::Relative),
];

/// The role word written in a cell (any case).
pub(super) fn role_word(cell: &str) -> Option<&'static RoleWord> {
    WORDS.iter().find(|w| w.word.eq_ignore_ascii_case(cell))
}

/// The message for an unknown role word.
pub(super) fn unknown_role(cell: &str) -> String {
    if cell.is_empty() { "role is empty".to_string() } else { format!("unknown role `{}`", short(cell)) }
}

/// What roles.csv says about one user.
#[derive(Debug)]
pub(super) struct UserRoles {
    /// Line of the user's first role row.
    pub line: u64,
    primary: Option<&'static RoleWord>,
    first: &'static RoleWord,
    /// The user's first parent/guardian/relative role.
    pub guardian: Option<&'static RoleWord>,
    /// Org ids of every role row, in order.
    pub orgs: Vec<String>,
}

impl UserRoles {
    /// The role that decides what the person is.
    pub fn main(&self) -> &'static RoleWord {
        self.primary.unwrap_or(self.first)
    }
}

/// `roles.csv` with its columns found.
pub(super) struct Prepared<'a> {
    input: Input<'a>,
    common: Common,
    user: Option<usize>,
    role: Option<usize>,
    role_type: Option<usize>,
    org: Option<usize>,
}

pub(super) fn prepare<'a>(input: Input<'a>, fatal: &mut Vec<RejectedRow>) -> Prepared<'a> {
    let sheet = &input.sheet;
    let common = Common::find(sheet, fatal);
    let user = required(sheet, &["userSourcedId"], fatal);
    let role = required(sheet, &["role"], fatal);
    let org = required(sheet, &["orgSourcedId"], fatal);
    let role_type = sheet.col("roleType");
    Prepared { input, common, user, role, role_type, org }
}

/// The roles of every user in roles.csv.
#[derive(Debug)]
pub(super) struct Roles {
    file: String,
    by_user: HashMap<String, UserRoles>,
}

impl Roles {
    /// The roles of a user, if roles.csv has any.
    pub fn of(&self, user: &str) -> Option<&UserRoles> {
        self.by_user.get(user)
    }

    /// Rejects the role rows of users that a bulk users.csv does not have.
    pub fn reject_unknown_users(&self, people: &People, report: &mut Report) {
        let mut unknown: Vec<(u64, &str)> =
            self.by_user.iter().filter(|(id, _)| people.is_unknown(id)).map(|(id, r)| (r.line, id.as_str())).collect();
        unknown.sort_unstable();
        for (line, id) in unknown {
            report.reject(
                &self.file,
                line,
                Some("userSourcedId"),
                format!("user `{}` is not in users.csv; role dropped", short(id)),
            );
        }
    }
}

pub(super) fn read(prepared: Prepared<'_>, report: &mut Report, fatal: &mut Vec<RejectedRow>) -> Roles {
    let Prepared { mut input, common, user, role, role_type, org } = prepared;
    let mode = input.mode;
    input.sheet.warn_unknown_columns(KNOWN, report);
    let file_name = input.sheet.name;
    let mut ids: Ids<()> = Ids::default();
    let mut skipped = Skipped::default();
    let mut by_user: HashMap<String, UserRoles> = HashMap::new();
    each_row(&mut input.sheet, fatal, |row, file| {
        let Some(id) =
            admit(row, file, mode, &common, |id| validate_id("role", id), &mut ids, None, &mut skipped, report)
        else {
            return;
        };
        let user_id = row.get(user);
        let word_cell = row.get(role);
        let Some(word) = role_word(word_cell) else {
            report.reject(file, row.line, Some("role"), unknown_role(word_cell));
            ids.set(id, row.line, State::Rejected);
            return;
        };
        if user_id.is_empty() {
            report.reject(file, row.line, Some("userSourcedId"), "userSourcedId is empty");
            ids.set(id, row.line, State::Rejected);
            return;
        }
        ids.set(id, row.line, State::Imported(()));
        let primary = row.get(role_type).is_empty() || row.get(role_type).eq_ignore_ascii_case("primary");
        let org_id = row.get(org);
        let entry = match by_user.get_mut(user_id) {
            Some(entry) => entry,
            None => by_user.entry(user_id.to_string()).or_insert(UserRoles {
                line: row.line,
                primary: None,
                first: word,
                guardian: None,
                orgs: Vec::new(),
            }),
        };
        if primary && entry.primary.is_none() {
            entry.primary = Some(word);
        }
        if word.kind.is_some() && entry.guardian.is_none() {
            entry.guardian = Some(word);
        }
        if !org_id.is_empty() && !entry.orgs.iter().any(|o| o == org_id) {
            entry.orgs.push(org_id.to_string());
        }
    });
    skipped.report(file_name, report);
    Roles { file: file_name.to_string(), by_user }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_words_are_matched_in_any_case_and_sorted_into_person_roles() {
        assert_eq!(role_word("Teacher").map(|w| w.role), Some(PersonRole::Staff));
        assert_eq!(role_word("SITEADMINISTRATOR").map(|w| w.word), Some("siteAdministrator"));
        assert_eq!(role_word("relative").and_then(|w| w.kind), Some(RelationshipKind::Relative));
        assert_eq!(role_word("student").map(|w| w.role), Some(PersonRole::Student));
        assert_eq!(role_word("relativeContact"), None);
    }
}
