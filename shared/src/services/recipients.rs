//! Who a broadcast reaches, person by person, with what fan-out needs of
//! each: first name, contact points, preferences, and for students their
//! guardian links. One query per person reads it all (their partition).
//!
//! Resolution: saved lists and the ad hoc rule through
//! [`ListService::reach`]; named people by their role (a named student
//! reaches the audience's target, guardians and staff themselves). Students
//! whose guardians are reached are read once each; their messenger
//! guardians are gathered with the first names of the students through
//! whom each is reached (`{{children}}`), then read once each.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::domain::{Audience, DistrictId, ListTarget, PersonId, PersonRole, RecipientList, SchoolId};
use crate::ports::Clock;
use crate::services::{ListService, ServiceError};
pub use crate::store::Contactable;
use crate::store::{CONTACTABLES_PER_BATCH as READ_BATCH, ListStore, PeopleStore, Stores};
/// Batches in flight.
const READ_CONCURRENCY: usize = 4;

/// A person to reach and the students through whom they are reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// The person as read.
    pub person: Contactable,
    /// First names of the students that brought them in (guardians).
    pub children: Vec<String>,
}

/// The audience resolved: who to reach, and who could not be reached at all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recipients {
    /// People to reach, in id order.
    pub people: Vec<Recipient>,
    /// Students with no active messenger guardian to reach.
    pub without_guardian: Vec<PersonId>,
    /// Named people who are unknown or inactive.
    pub inactive: Vec<PersonId>,
}

/// Resolves broadcast audiences.
#[derive(Clone)]
pub struct RecipientResolver {
    people: PeopleStore,
    lists: ListService,
    list_store: ListStore,
    clock: Arc<dyn Clock>,
}

/// Whom the audience parts reach, before anyone is read.
#[derive(Default)]
struct Wanted {
    via_students: BTreeSet<PersonId>,
    students: BTreeSet<PersonId>,
    guardians: BTreeSet<PersonId>,
    staff: BTreeSet<PersonId>,
    excluded: BTreeSet<PersonId>,
    named: BTreeSet<PersonId>,
}

impl RecipientResolver {
    /// A resolver over the table.
    pub fn new(stores: &Stores, lists: ListService, clock: Arc<dyn Clock>) -> Self {
        Self { people: stores.people.clone(), lists, list_store: stores.lists.clone(), clock }
    }

    /// Reads many people's partitions, 128 queries at a time
    /// (one request each), four batches in flight; in id order.
    pub async fn read_all(
        &self,
        district: &DistrictId,
        ids: impl IntoIterator<Item = PersonId>,
    ) -> Result<Vec<(PersonId, Option<Contactable>)>, ServiceError> {
        let ids: Vec<PersonId> = ids.into_iter().collect();
        let mut read: Vec<(PersonId, Option<Contactable>)> = Vec::with_capacity(ids.len());
        let batches: Vec<&[PersonId]> = ids.chunks(READ_BATCH).collect();
        for group in batches.chunks(READ_CONCURRENCY) {
            let reads = group.iter().map(|batch| self.people.contactables(district, batch));
            read.extend(futures::future::try_join_all(reads).await?.into_iter().flatten());
        }
        read.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(read)
    }

    async fn wanted(
        &self,
        district: &DistrictId,
        audience: &Audience,
        schools: &[SchoolId],
    ) -> Result<Wanted, ServiceError> {
        let mut wanted = Wanted::default();
        let mut lists = Vec::new();
        for id in &audience.lists {
            // A list deleted after the broadcast was created reaches nobody.
            if let Some(list) = self.list_store.get(district, id).await? {
                lists.push(list);
            }
        }
        if let Some(rule) = &audience.rule {
            let now = self.clock.now();
            lists.push(RecipientList {
                id: crate::domain::ListId::parse("broadcast-rule").map_err(ServiceError::Invalid)?,
                name: "broadcast rule".into(),
                target: audience.target,
                rule: rule.clone(),
                includes: Vec::new(),
                excludes: Vec::new(),
                owner: String::new(),
                schools: if rule.schools.is_empty() { schools.to_vec() } else { rule.schools.clone() },
                version: 1,
                created_at: now,
                updated_at: now,
            });
        }
        for list in &lists {
            let reach = self.lists.reach(district, list).await?;
            wanted.via_students.extend(reach.via_students);
            wanted.students.extend(reach.students);
            wanted.guardians.extend(reach.guardians);
            wanted.staff.extend(reach.staff);
            wanted.excluded.extend(reach.excluded);
        }
        wanted.named.extend(audience.people.iter().cloned());
        Ok(wanted)
    }

    /// Everyone the audience reaches, each read once.
    pub async fn resolve(
        &self,
        district: &DistrictId,
        audience: &Audience,
        schools: &[SchoolId],
    ) -> Result<Recipients, ServiceError> {
        let mut wanted = self.wanted(district, audience, schools).await?;
        let mut recipients = Recipients::default();
        let mut read: BTreeMap<PersonId, Contactable> = BTreeMap::new();

        // Named people: their role decides what they reach.
        for (id, person) in self.read_all(district, std::mem::take(&mut wanted.named)).await? {
            match person {
                Some(person) if person.active => {
                    match person.role {
                        PersonRole::Student => {
                            if audience.target != ListTarget::Students {
                                wanted.via_students.insert(id.clone());
                            }
                            if matches!(audience.target, ListTarget::Students | ListTarget::StudentsAndGuardians) {
                                wanted.students.insert(id.clone());
                            }
                        }
                        PersonRole::Guardian => {
                            wanted.guardians.insert(id.clone());
                        }
                        PersonRole::Staff => {
                            wanted.staff.insert(id.clone());
                        }
                    }
                    read.insert(id, person);
                }
                _ => recipients.inactive.push(id),
            }
        }

        // Students: read once whether reached themselves or through guardians.
        let unread: Vec<PersonId> =
            wanted.via_students.union(&wanted.students).filter(|id| !read.contains_key(*id)).cloned().collect();
        for (id, person) in self.read_all(district, unread).await? {
            if let Some(person) = person.filter(|p| p.active) {
                read.insert(id, person);
            }
        }
        let mut children: BTreeMap<PersonId, BTreeSet<String>> = BTreeMap::new();
        let mut guardian_ids = wanted.guardians.clone();
        for student in &wanted.via_students {
            let Some(person) = read.get(student) else { continue };
            let messengers: Vec<&PersonId> = person
                .guardians
                .iter()
                .filter(|(id, messenger)| *messenger && !wanted.excluded.contains(id))
                .map(|(id, _)| id)
                .collect();
            if messengers.is_empty() {
                recipients.without_guardian.push(student.clone());
            }
            for guardian in messengers {
                children.entry(guardian.clone()).or_default().insert(person.given_name.clone());
                guardian_ids.insert(guardian.clone());
            }
        }

        // Guardians and staff not read yet.
        let unread: Vec<PersonId> =
            guardian_ids.iter().chain(&wanted.staff).filter(|id| !read.contains_key(*id)).cloned().collect();
        for (id, person) in self.read_all(district, unread).await? {
            if let Some(person) = person.filter(|p| p.active) {
                read.insert(id, person);
            }
        }

        let reached: BTreeSet<&PersonId> = wanted.students.iter().chain(&guardian_ids).chain(&wanted.staff).collect();
        for id in reached {
            // Moved, not cloned: a large district holds a hundred thousand of these.
            let Some(person) = read.remove(id) else { continue };
            let mut names: Vec<String> = children.remove(id).unwrap_or_default().into_iter().collect();
            names.retain(|name| !name.is_empty());
            recipients.people.push(Recipient { person, children: names });
        }
        Ok(recipients)
    }
}
