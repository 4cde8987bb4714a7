//! Student–guardian relationships from `agentSourcedIds`, read in both
//! directions (a student lists their parents, a parent lists their
//! children; both at once give one relationship).
//!
//! The guardian's role word gives the kind; parents and guardians get
//! messages about the student, relatives do not (OneRoster has no such
//! flag). Links between other users (a student listing a teacher, as some
//! exporters do) are ignored with a counted warning. A link to an id that
//! a bulk users.csv does not have is a rejected cell; in a delta file it
//! cannot be resolved and is dropped with a warning.

use std::collections::HashSet;

use crate::domain::{Batch, FileMode, PersonId, PersonRole, Relationship, RelationshipKind, RosterPerson};
use crate::import::sheet::{Report, list, short};

use super::State;
use super::batch_in;
use super::users::{People, UserInfo};

const COLUMN: &str = "agentSourcedIds";

/// Builds each (student, guardian) relationship once, in the mode of users.csv.
pub(super) fn build(people: &People, persons: &[RosterPerson], report: &mut Report) -> Batch<Relationship> {
    let mut batch = batch_in(people.mode);
    let mut seen: HashSet<(usize, usize)> = HashSet::new();
    let mut not_family = 0;
    let mut not_imported = 0;
    let mut unresolved = 0;
    let file = people.file.as_str();
    for (line, person, cell) in people.agent_lists() {
        let Some(me) = persons.get(person).and_then(|p| match people.lookup(p.id.as_str()) {
            Some(State::Imported(info)) => Some(*info),
            _ => None,
        }) else {
            continue;
        };
        for agent in list(cell) {
            let other = match people.lookup(agent) {
                Some(State::Imported(info)) => *info,
                Some(_) => {
                    not_imported += 1;
                    continue;
                }
                None if PersonId::parse(agent).is_err() => {
                    let reason = format!("`{}` is not a valid person id; link dropped", short(agent));
                    report.reject(file, line, Some(COLUMN), reason);
                    continue;
                }
                None if people.mode == FileMode::Bulk => {
                    let reason = format!("user `{}` is not in users.csv; link dropped", short(agent));
                    report.reject(file, line, Some(COLUMN), reason);
                    continue;
                }
                None => {
                    unresolved += 1;
                    continue;
                }
            };
            let Some((student, guardian)) = pair(me, other) else {
                not_family += 1;
                continue;
            };
            if !seen.insert((student.person, guardian.person)) {
                continue;
            }
            let kind = guardian.guardian.and_then(|w| w.kind).unwrap_or(RelationshipKind::Other);
            let (Some(student), Some(guardian)) = (persons.get(student.person), persons.get(guardian.person)) else {
                continue;
            };
            batch.records.push(Relationship {
                student: student.id.clone(),
                guardian: guardian.id.clone(),
                kind,
                messenger: matches!(kind, RelationshipKind::Parent | RelationshipKind::Guardian),
            });
        }
    }
    report.warn_count(
        file,
        not_family,
        "agent link(s) between users that are not a student and a parent, guardian or relative were ignored",
    );
    report.warn_count(file, not_imported, "agent link(s) to users that were not imported were dropped");
    report.warn_count(file, unresolved, "agent link(s) to users not in this delta file cannot be resolved; dropped");
    batch
}

/// Which of two linked users is the student and which the guardian.
fn pair(me: UserInfo, other: UserInfo) -> Option<(UserInfo, UserInfo)> {
    if me.person == other.person {
        None
    } else if me.role == PersonRole::Student && other.guardian.is_some() {
        Some((me, other))
    } else if other.role == PersonRole::Student && me.guardian.is_some() {
        Some((other, me))
    } else {
        None
    }
}
