//! Who a broadcast reaches, person by person, with what fan-out needs of
//! each: first name, contact points, preferences, and for students their
//! guardian links. One query per person reads it all (their partition).
//!
//! Resolution: saved lists (as they were when the broadcast was accepted,
//! kept with it) and the ad hoc rule through [`ListService::reach`]; named
//! people by their role (a named student reaches the audience's target,
//! guardians and staff themselves). A broadcast bound to a teacher's
//! sections reaches only those sections' students and their messenger
//! guardians, whatever its audience says. Students
//! whose guardians are reached are read once each; their messenger
//! guardians are gathered with the first names of the students through
//! whom each is reached (`{{children}}`), then read once each.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::domain::{Audience, Broadcast, DistrictId, ListTarget, PersonId, PersonRole, RecipientList};
use crate::ports::Clock;
use crate::services::{ListService, ServiceError};
pub use crate::store::Contactable;
use crate::store::{BroadcastStore, CONTACTABLES_PER_BATCH as READ_BATCH, ListStore, PeopleStore, Stores};
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
    broadcasts: BroadcastStore,
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

impl Wanted {
    /// Keeps only `students` and the guardians in `families`; no staff.
    fn restrict(&mut self, students: &BTreeSet<PersonId>, families: &BTreeSet<PersonId>) {
        self.via_students.retain(|id| students.contains(id));
        self.students.retain(|id| students.contains(id));
        self.guardians.retain(|id| families.contains(id));
        self.staff.clear();
    }
}

impl RecipientResolver {
    /// A resolver over the table.
    pub fn new(stores: &Stores, lists: ListService, clock: Arc<dyn Clock>) -> Self {
        Self {
            people: stores.people.clone(),
            lists,
            list_store: stores.lists.clone(),
            broadcasts: stores.broadcasts.clone(),
            clock,
        }
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

    /// The audience's lists: as kept when the broadcast was accepted, or,
    /// for a broadcast accepted before they were kept, as they are now (a
    /// list deleted since reaches nobody).
    async fn lists(&self, district: &DistrictId, broadcast: &Broadcast) -> Result<Vec<RecipientList>, ServiceError> {
        if broadcast.accepted.is_some() {
            return Ok(self.broadcasts.audience_lists(district, &broadcast.id).await?);
        }
        let mut lists = Vec::new();
        for id in &broadcast.audience.lists {
            if let Some(list) = self.list_store.get(district, id).await? {
                lists.push(list);
            }
        }
        Ok(lists)
    }

    async fn wanted(&self, district: &DistrictId, broadcast: &Broadcast) -> Result<Wanted, ServiceError> {
        let (audience, schools) = (&broadcast.audience, &broadcast.schools);
        let mut wanted = Wanted::default();
        let mut lists = self.lists(district, broadcast).await?;
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

    /// The students of `teacher`'s sections and their messenger guardians.
    async fn sections_of(
        &self,
        district: &DistrictId,
        teacher: &PersonId,
    ) -> Result<(BTreeSet<PersonId>, BTreeSet<PersonId>), ServiceError> {
        let students = self.lists.students_of_teacher(district, teacher).await?;
        let families = self
            .read_all(district, students.iter().cloned())
            .await?
            .into_iter()
            .filter_map(|(_, person)| person)
            .flat_map(|person| person.guardians.into_iter().filter(|(_, messenger)| *messenger).map(|(id, _)| id))
            .collect();
        Ok((students, families))
    }

    /// Everyone the broadcast's audience reaches, each read once; with
    /// `bound`, only that teacher's sections' students and families.
    pub async fn resolve(
        &self,
        district: &DistrictId,
        broadcast: &Broadcast,
        bound: Option<&PersonId>,
    ) -> Result<Recipients, ServiceError> {
        let audience: &Audience = &broadcast.audience;
        let mut wanted = self.wanted(district, broadcast).await?;
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

        if let Some(teacher) = bound {
            let (students, families) = self.sections_of(district, teacher).await?;
            wanted.restrict(&students, &families);
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
