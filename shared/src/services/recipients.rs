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

use serde_json::Value;

use crate::domain::{
    Audience, ContactPoint, DistrictId, ListTarget, PersonId, PersonRole, PreferenceRecord, RecipientList, SchoolId,
};
use crate::ports::{Clock, Query, SortKey, Table};
use crate::services::{ListService, ServiceError};
use crate::store::keys::person_pk;
use crate::store::keys::{CONTACT_SK_PREFIX, GUARDIAN_SK_PREFIX, PERSON_SK};
use crate::store::{ListStore, PREFS_SK, PeopleStore, StoreError, query_all, record_from_item};

/// People read per batch of queries.
const READ_BATCH: usize = 128;
/// Batches in flight.
const READ_CONCURRENCY: usize = 4;

/// What fan-out reads of one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contactable {
    /// The person.
    pub id: PersonId,
    /// Student, guardian or staff.
    pub role: PersonRole,
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// Schools.
    pub schools: Vec<SchoolId>,
    /// False once an import found them gone.
    pub active: bool,
    /// Birth date as imported (`YYYY-MM-DD`).
    pub birth_date: Option<String>,
    /// Contact points.
    pub contacts: Vec<ContactPoint>,
    /// Explicit preferences.
    pub preferences: PreferenceRecord,
    /// Guardians with their messenger flag (students).
    pub guardians: Vec<(PersonId, bool)>,
}

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

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

/// Reads one person's partition into what fan-out needs (`None`: no such person).
pub async fn read_contactable(
    people: &PeopleStore,
    district: &DistrictId,
    id: &PersonId,
) -> Result<Option<Contactable>, StoreError> {
    contactable_from(id, people.partition(district, id).await?)
}

/// What fan-out needs of a person, from their partition's items.
fn contactable_from(id: &PersonId, items: Vec<crate::ports::Item>) -> Result<Option<Contactable>, StoreError> {
    let mut found: Option<Contactable> = None;
    let mut contacts = Vec::new();
    let mut preferences = PreferenceRecord::default();
    let mut guardians = Vec::new();
    for item in items {
        let sk = item.get("sk").and_then(Value::as_str).unwrap_or_default().to_string();
        let text = |name: &str| item.get(name).and_then(Value::as_str).map(str::to_string);
        if sk == PERSON_SK {
            let role = serde_json::from_value(item.get("role").cloned().unwrap_or_default()).map_err(corrupt)?;
            let schools = match item.get("schools") {
                Some(value) => serde_json::from_value(value.clone()).map_err(corrupt)?,
                None => Vec::new(),
            };
            found = Some(Contactable {
                id: id.clone(),
                role,
                given_name: text("given_name").unwrap_or_default(),
                family_name: text("family_name").unwrap_or_default(),
                schools,
                active: item.get("active") != Some(&Value::Bool(false)),
                birth_date: text("birth_date"),
                contacts: Vec::new(),
                preferences: PreferenceRecord::default(),
                guardians: Vec::new(),
            });
        } else if sk.starts_with(CONTACT_SK_PREFIX) {
            contacts.push(serde_json::from_value::<ContactPoint>(Value::Object(item)).map_err(corrupt)?);
        } else if sk == PREFS_SK {
            preferences = record_from_item(item)?;
        } else if sk.starts_with(GUARDIAN_SK_PREFIX) {
            let guardian = PersonId::parse(text("guardian").unwrap_or_default()).map_err(corrupt)?;
            guardians.push((guardian, item.get("messenger").and_then(Value::as_bool).unwrap_or(false)));
        }
    }
    Ok(found.map(|mut person| {
        person.contacts = contacts;
        person.preferences = preferences;
        person.guardians = guardians;
        person
    }))
}

/// Resolves broadcast audiences.
#[derive(Clone)]
pub struct RecipientResolver {
    table: Arc<dyn Table>,
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
    pub fn new(table: Arc<dyn Table>, lists: ListService, clock: Arc<dyn Clock>) -> Self {
        Self { lists, list_store: ListStore::new(Arc::clone(&table)), table, clock }
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
            let reads = group.iter().map(|batch| self.read_batch(district, batch));
            read.extend(futures::future::try_join_all(reads).await?.into_iter().flatten());
        }
        read.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(read)
    }

    async fn read_batch(
        &self,
        district: &DistrictId,
        ids: &[PersonId],
    ) -> Result<Vec<(PersonId, Option<Contactable>)>, ServiceError> {
        // Profile, contact points, guardian links and preferences sort from
        // `#PERSON` to `PREFS`; memberships, sections and students after them
        // are not needed (the audit trail between is usually empty).
        let range = || SortKey::Between(PERSON_SK.into(), PREFS_SK.into());
        let queries: Vec<Query> =
            ids.iter().map(|id| Query::partition(person_pk(district, id)).sort(range())).collect();
        let pages = self.table.query_many(&queries).await.map_err(StoreError::from)?;
        let mut read = Vec::with_capacity(ids.len());
        for ((id, query), page) in ids.iter().zip(queries).zip(pages) {
            let mut items = page.items;
            if page.cursor.is_some() {
                // A partition past one page (a long preference history): read the rest.
                items.extend(query_all(self.table.as_ref(), query.after(page.cursor)).await?);
            }
            read.push((id.clone(), contactable_from(id, items)?));
        }
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
