//! A roster as an import compares it: every record under its snapshot key
//! with a content hash, each kind's file mode, the keys a delta deletes;
//! and the one place a record kind meets its writer call (a run's writes
//! and removals, an import's deletion).

use std::collections::{HashMap, HashSet};

use crate::domain::{
    Batch, Enrollment, FileMode, PersonId, PersonRole, RecordKind, Relationship, Roster, RosterPerson, RosterSchool,
    Section, Snapshot,
};
use crate::services::ServiceError;
use crate::store::{RosterWriter, StoreError};

/// The kinds a person's record may have, one per role.
pub(super) const PERSON_KINDS: [RecordKind; 3] = [RecordKind::Student, RecordKind::Guardian, RecordKind::Staff];

/// One record of a roster, for writing.
#[derive(Clone, Copy)]
pub(super) enum RecordRef<'a> {
    School(&'a RosterSchool),
    Person(&'a RosterPerson),
    Relationship(&'a Relationship),
    Section(&'a Section),
    Enrollment(&'a Enrollment),
}

impl RecordRef<'_> {
    /// Writes the record; `replace` lets a person's new version drop the
    /// contact points and schools the earlier one had and this one lacks.
    pub(super) async fn write(self, writer: &mut RosterWriter, replace: bool) -> Result<(), StoreError> {
        match self {
            RecordRef::School(school) => writer.put_school(school).await,
            RecordRef::Person(person) => writer.put_person(person, replace).await,
            RecordRef::Relationship(link) => writer.put_relationship(link).await,
            RecordRef::Section(section) => writer.put_section(section).await,
            RecordRef::Enrollment(enrollment) => writer.put_enrollment(enrollment).await,
        }
    }
}

/// What removing a person's record does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PersonRemoval {
    /// A run: the person left the source; the profile stays, inactive (history, receipts).
    Deactivate,
    /// Deleting the import: every item of the person goes.
    Erase,
}

/// Removes the record a snapshot key names; keys of no known kind are skipped.
pub(super) async fn remove_record(
    writer: &mut RosterWriter,
    key: &str,
    people: PersonRemoval,
) -> Result<(), ServiceError> {
    let (Some(kind), Some(id)) = (RecordKind::of_key(key), key.get(2..)) else { return Ok(()) };
    match kind {
        RecordKind::School => writer.remove_school(id).await?,
        RecordKind::Student | RecordKind::Guardian | RecordKind::Staff => {
            let person = PersonId::parse(id).map_err(StoreError::corrupt)?;
            match people {
                PersonRemoval::Deactivate => writer.deactivate_person(&person).await?,
                PersonRemoval::Erase => writer.delete_person(&person).await?,
            }
        }
        RecordKind::Relationship => writer.remove_relationship(id).await?,
        RecordKind::Section => writer.remove_section(id).await?,
        RecordKind::Enrollment => writer.remove_enrollment(id).await?,
    }
    Ok(())
}

/// The person a snapshot key names, if it names one.
pub(super) fn person_of(key: &str) -> Option<PersonId> {
    let kind = RecordKind::of_key(key)?;
    PERSON_KINDS.contains(&kind).then(|| key.get(2..).and_then(|id| PersonId::parse(id).ok())).flatten()
}

/// Every record of a roster by snapshot key, with its content hash.
pub(super) struct RecordSet<'a> {
    pub(super) records: HashMap<String, (u64, RecordRef<'a>)>,
    pub(super) modes: HashMap<RecordKind, FileMode>,
    pub(super) deleted: Vec<String>,
}

fn person_kind(role: PersonRole) -> RecordKind {
    match role {
        PersonRole::Student => RecordKind::Student,
        PersonRole::Guardian => RecordKind::Guardian,
        PersonRole::Staff => RecordKind::Staff,
    }
}

impl<'a> RecordSet<'a> {
    pub(super) fn of(roster: &'a Roster, previous: &Snapshot) -> Self {
        let mut set = Self { records: HashMap::new(), modes: HashMap::new(), deleted: Vec::new() };
        let mut buffer = Vec::with_capacity(512);
        let mut add = |key: String, record: RecordRef<'a>, value: &dyn erased::Hashable, buffer: &mut Vec<u8>| {
            buffer.clear();
            value.write_json(buffer);
            set.records.insert(key, (Snapshot::hash(buffer), record));
        };
        for school in &roster.schools.records {
            add(RecordKind::School.key(school.id.as_str()), RecordRef::School(school), school, &mut buffer);
        }
        for person in &roster.people.records {
            add(person_kind(person.role).key(person.id.as_str()), RecordRef::Person(person), person, &mut buffer);
        }
        for link in &roster.relationships.records {
            add(RecordKind::Relationship.key(&link.id()), RecordRef::Relationship(link), link, &mut buffer);
        }
        for section in &roster.sections.records {
            add(RecordKind::Section.key(&section.id), RecordRef::Section(section), section, &mut buffer);
        }
        for enrollment in &roster.enrollments.records {
            let id = format!("{}>{}", enrollment.section, enrollment.person);
            add(RecordKind::Enrollment.key(&id), RecordRef::Enrollment(enrollment), enrollment, &mut buffer);
        }
        set.mode(&roster.schools, &[RecordKind::School]);
        set.mode(&roster.people, &PERSON_KINDS);
        set.mode(&roster.relationships, &[RecordKind::Relationship]);
        set.mode(&roster.sections, &[RecordKind::Section]);
        set.mode(&roster.enrollments, &[RecordKind::Enrollment]);
        set.deleted_keys(roster, previous);
        set
    }

    fn mode<T>(&mut self, batch: &Batch<T>, kinds: &[RecordKind]) {
        for kind in kinds {
            self.modes.insert(*kind, batch.mode);
        }
    }

    /// Delta deletions as snapshot keys; a deleted person takes their links
    /// and enrollments along, so nothing points at them afterwards.
    fn deleted_keys(&mut self, roster: &Roster, previous: &Snapshot) {
        let people: HashSet<&str> = roster.people.deleted.iter().map(String::as_str).collect();
        for id in &people {
            self.deleted.extend(PERSON_KINDS.iter().map(|kind| kind.key(id)));
        }
        self.deleted.extend(roster.schools.deleted.iter().map(|id| RecordKind::School.key(id)));
        self.deleted.extend(roster.sections.deleted.iter().map(|id| RecordKind::Section.key(id)));
        self.deleted.extend(roster.relationships.deleted.iter().map(|id| RecordKind::Relationship.key(id)));
        self.deleted.extend(roster.enrollments.deleted.iter().map(|id| RecordKind::Enrollment.key(id)));
        if people.is_empty() {
            return;
        }
        for key in previous.0.keys() {
            let involves = |id: &str| id.split('>').any(|part| people.contains(part));
            match (RecordKind::of_key(key), key.get(2..)) {
                (Some(RecordKind::Relationship), Some(id)) if involves(id) => self.deleted.push(key.clone()),
                (Some(RecordKind::Enrollment), Some(id))
                    if id.split_once('>').is_some_and(|(_, p)| people.contains(p)) =>
                {
                    self.deleted.push(key.clone());
                }
                _ => {}
            }
        }
        for kind in [RecordKind::Relationship, RecordKind::Enrollment] {
            if self.modes.get(&kind) == Some(&FileMode::Absent) {
                self.modes.insert(kind, FileMode::Delta);
            }
        }
    }

    pub(super) fn hashes(&self) -> HashMap<String, u64> {
        self.records.iter().map(|(key, (hash, _))| (key.clone(), *hash)).collect()
    }

    /// Whether the key names a person this roster still has, under any role
    /// (a student who became staff is not removed).
    pub(super) fn still_has_person(&self, key: &str) -> bool {
        match (RecordKind::of_key(key), key.get(2..)) {
            (Some(kind), Some(id)) if PERSON_KINDS.contains(&kind) => {
                PERSON_KINDS.iter().any(|k| self.records.contains_key(&k.key(id)))
            }
            _ => false,
        }
    }
}

/// Serializing records of different types through one buffer.
mod erased {
    /// A record that can write its JSON form into a buffer.
    pub trait Hashable {
        fn write_json(&self, buffer: &mut Vec<u8>);
    }

    impl<T: serde::Serialize> Hashable for T {
        fn write_json(&self, buffer: &mut Vec<u8>) {
            // Serializing plain data into memory cannot fail.
            let _ = serde_json::to_writer(buffer, self);
        }
    }
}

/// Students no guardian gets messages about (the run report warns of them).
pub(super) fn students_without_messenger(roster: &Roster) -> u64 {
    let covered: HashSet<&PersonId> =
        roster.relationships.records.iter().filter(|link| link.messenger).map(|link| &link.student).collect();
    roster.people.records.iter().filter(|p| p.role == PersonRole::Student && !covered.contains(&p.id)).count() as u64
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::adapters::local::EmbeddedTable;
    use crate::domain::{DistrictId, ImportId, RelationshipKind, SchoolId};
    use crate::store::Stores;

    fn person(id: &str, role: PersonRole) -> RosterPerson {
        RosterPerson::bare(id, role, &["s-1"])
    }

    fn link(student: &str, guardian: &str, messenger: bool) -> Relationship {
        let (student, guardian) = (PersonId::parse(student).unwrap(), PersonId::parse(guardian).unwrap());
        Relationship { student, guardian, kind: RelationshipKind::Parent, messenger }
    }

    fn bulk<T>(records: Vec<T>) -> Batch<T> {
        Batch { mode: FileMode::Bulk, records, deleted: vec![] }
    }

    /// School `s-1`, students `st-1` and `st-2`, guardian `g-1` (messenger of `st-1`).
    fn roster() -> Roster {
        Roster {
            schools: bulk(vec![RosterSchool { id: SchoolId::parse("s-1").unwrap(), name: "Lincoln".into() }]),
            people: bulk(vec![
                person("st-1", PersonRole::Student),
                person("st-2", PersonRole::Student),
                person("g-1", PersonRole::Guardian),
            ]),
            relationships: bulk(vec![link("st-1", "g-1", true)]),
            ..Roster::default()
        }
    }

    fn keys(set: &RecordSet<'_>) -> Vec<String> {
        let mut keys: Vec<String> = set.records.keys().cloned().collect();
        keys.sort();
        keys
    }

    #[test]
    fn each_record_gets_a_snapshot_key_of_its_kind_and_a_hash_of_its_content() {
        let (roster, mut renamed) = (roster(), roster());
        renamed.people.records[0].family_name = "Other".into();
        let (set, again) =
            (RecordSet::of(&roster, &Snapshot::default()), RecordSet::of(&renamed, &Snapshot::default()));
        assert_eq!(keys(&set), ["G:g-1", "O:s-1", "P:st-1", "P:st-2", "R:st-1>g-1"]);
        let (before, after) = (set.hashes(), again.hashes());
        assert_ne!(before["P:st-1"], after["P:st-1"], "a changed record hashes differently");
        assert_eq!(before["P:st-2"], after["P:st-2"]);
        assert_eq!(
            (set.modes[&RecordKind::Staff], set.modes[&RecordKind::Section]),
            (FileMode::Bulk, FileMode::Absent)
        );
    }

    #[test]
    fn a_deleted_person_takes_their_links_and_enrollments_along() {
        let people = Batch { mode: FileMode::Delta, records: vec![], deleted: vec!["st-1".into()] };
        let delta = Roster { people, ..Roster::default() };
        let previous = Snapshot(
            ["R:st-1>g-1", "R:st-2>g-1", "E:sec-1>st-1", "E:sec-1>st-2", "P:st-1"]
                .into_iter()
                .map(|key| (key.to_string(), 1))
                .collect(),
        );
        let set = RecordSet::of(&delta, &previous);
        let mut deleted = set.deleted.clone();
        deleted.sort();
        assert_eq!(deleted, ["E:sec-1>st-1", "G:st-1", "P:st-1", "R:st-1>g-1", "T:st-1"]);
        assert_eq!(set.modes[&RecordKind::Relationship], FileMode::Delta, "absent links become a delta of deletions");
        assert_eq!(set.modes[&RecordKind::Enrollment], FileMode::Delta);
    }

    #[test]
    fn a_person_still_in_the_roster_under_another_role_is_still_had() {
        let roster = roster();
        let set = RecordSet::of(&roster, &Snapshot::default());
        assert!(set.still_has_person("T:g-1"), "g-1 is here as a guardian");
        assert!(!set.still_has_person("G:g-9"));
        assert!(!set.still_has_person("O:s-1"), "not a person");
        assert!(!set.still_has_person("?"));
    }

    #[test]
    fn only_person_keys_name_a_person() {
        assert_eq!(person_of("G:g-1"), Some(PersonId::parse("g-1").unwrap()));
        assert_eq!(person_of("O:s-1"), None);
        assert_eq!(person_of("P:"), None);
    }

    #[test]
    fn students_without_a_messenger_guardian_are_counted() {
        let mut roster = roster();
        assert_eq!(students_without_messenger(&roster), 1, "st-2 has nobody");
        roster.relationships.records[0].messenger = false;
        assert_eq!(students_without_messenger(&roster), 2);
    }

    #[tokio::test]
    async fn removing_a_person_deactivates_them_on_a_run_and_erases_them_on_deletion() {
        let stores = Stores::new(Arc::new(EmbeddedTable::in_memory().unwrap()));
        let district = DistrictId::parse("d-1").unwrap();
        let mut writer = stores.roster_writer(district.clone(), ImportId::parse("sis").unwrap());
        let roster = roster();
        for (_, record) in RecordSet::of(&roster, &Snapshot::default()).records.values() {
            record.write(&mut writer, false).await.unwrap();
        }
        writer.flush().await.unwrap();
        let found = |id: &'static str| {
            let (people, district) = (stores.people.clone(), district.clone());
            async move { people.with_preferences(&district, &PersonId::parse(id).unwrap()).await.unwrap() }
        };
        assert!(found("st-1").await.is_some_and(|p| p.active));

        remove_record(&mut writer, "P:st-1", PersonRemoval::Deactivate).await.unwrap();
        remove_record(&mut writer, "P:st-2", PersonRemoval::Erase).await.unwrap();
        remove_record(&mut writer, "R:st-1>g-1", PersonRemoval::Erase).await.unwrap();
        remove_record(&mut writer, "not a key", PersonRemoval::Erase).await.unwrap();
        writer.flush().await.unwrap();
        assert!(found("st-1").await.is_some_and(|p| !p.active), "a run keeps the profile, inactive");
        assert!(found("st-2").await.is_none(), "a deletion leaves nothing");
        let district_guardians = stores.people.guardians_of(&district, &PersonId::parse("st-1").unwrap()).await;
        assert!(district_guardians.unwrap().is_empty(), "the link went both ways");
        let bad = remove_record(&mut writer, "P:", PersonRemoval::Erase).await;
        assert!(bad.is_err(), "a person key without a valid id is corrupt data");
    }
}
