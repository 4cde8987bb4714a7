//! Lists: their saved definitions, and the read side of the roster that
//! list membership is computed from.
//!
//! | item | pk | sk |
//! | --- | --- | --- |
//! | list definition | `D#d#LISTS` | list id |
//! | audit entry of a list (change, deletion) | `D#d#LISTLOG#list-id` | `time#change-id` |
//!
//! A list's audit trail outlives the list: a deletion is told there too.
//!
//! [`RosterIndex`] reads only what imports keep indexed, each a key or
//! index-range lookup: a school's people by role (and students by grade) on
//! gsi2 `D#d#S#s`, a section's item and enrollments, a person's sections,
//! a person's profile item, and the district's schools.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use futures::stream::{self, StreamExt as _, TryStreamExt as _};
use serde_json::Value;

use super::StoreError;
use super::items::{get_record, query_all, record_from, record_item};
use super::keys::{
    ENROLLMENT_SK_PREFIX, PERSON_SK, SECTION_SK, SECTION_SK_PREFIX, person_pk, school_people_pk, schools_pk, section_pk,
};
use crate::domain::{
    DistrictId, EnrollmentRole, ListChange, ListId, MemberProfile, PersonId, PersonRole, RecipientList, SchoolId,
};
use crate::ports::table::{Condition, Index, Item, Key, Query, SortKey, Table, TableError, WriteOp};

/// How many single-item reads [`RosterIndex::profiles`] keeps in flight.
const CONCURRENT_READS: usize = 16;

/// Partition of a district's list definitions.
pub fn lists_pk(district: &DistrictId) -> String {
    format!("D#{district}#LISTS")
}

fn list_log_pk(district: &DistrictId, list: &ListId) -> String {
    format!("D#{district}#LISTLOG#{list}")
}

fn person_id(value: Option<&Value>) -> Result<PersonId, StoreError> {
    PersonId::parse(value.and_then(Value::as_str).unwrap_or_default()).map_err(StoreError::corrupt)
}

/// Reads and writes list definitions.
#[derive(Clone)]
pub struct ListStore {
    table: Arc<dyn Table>,
}

impl ListStore {
    /// A store over the table.
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    /// Saves a new list; `AlreadyExists` when its id is taken.
    pub async fn create(&self, district: &DistrictId, list: &RecipientList) -> Result<(), StoreError> {
        let item = record_item(lists_pk(district), list.id.to_string(), list)?;
        match self.table.put(item, Condition::NotExists).await {
            Err(TableError::ConditionFailed { .. }) => Err(StoreError::AlreadyExists),
            other => Ok(other?),
        }
    }

    /// A list by id.
    pub async fn get(&self, district: &DistrictId, id: &ListId) -> Result<Option<RecipientList>, StoreError> {
        get_record(self.table.as_ref(), &Key::new(lists_pk(district), id.as_str())).await
    }

    /// Every list of the district, by id.
    pub async fn all(&self, district: &DistrictId) -> Result<Vec<RecipientList>, StoreError> {
        query_all(self.table.as_ref(), Query::partition(lists_pk(district)))
            .await?
            .into_iter()
            .map(record_from)
            .collect()
    }

    /// The audit entry's write (`change_id` makes entries of one instant distinct).
    fn log_op(district: &DistrictId, change: &ListChange, change_id: &str) -> Result<WriteOp, StoreError> {
        let sk = format!("{}#{change_id}", change.at.format("%Y%m%dT%H%M%S%.6fZ"));
        let item = record_item(list_log_pk(district, &change.list), sk, change)?;
        Ok(WriteOp::Put { item, condition: Condition::None })
    }

    /// Runs a list write and its audit entry together; `Ok(false)` when
    /// the list's version was no longer `change.before.version`.
    async fn with_log(
        &self,
        district: &DistrictId,
        write: WriteOp,
        change: &ListChange,
        change_id: &str,
    ) -> Result<bool, StoreError> {
        match self.table.transact_write(vec![write, Self::log_op(district, change, change_id)?]).await {
            Ok(()) => Ok(true),
            Err(TableError::ConditionFailed { .. }) => Ok(false),
            Err(other) => Err(other.into()),
        }
    }

    fn at_version(change: &ListChange) -> Condition {
        Condition::AttributeEquals("version".into(), Value::from(change.before.version))
    }

    /// Replaces a list if its stored version is still the one `change`
    /// read (optimistic concurrency), with the audit entry, all or nothing.
    /// `Ok(false)` when it changed or is gone.
    pub async fn replace(
        &self,
        district: &DistrictId,
        list: &RecipientList,
        change: &ListChange,
        change_id: &str,
    ) -> Result<bool, StoreError> {
        let item = record_item(lists_pk(district), list.id.to_string(), list)?;
        let write = WriteOp::Put { item, condition: Self::at_version(change) };
        self.with_log(district, write, change, change_id).await
    }

    /// Deletes a list still at the version `change` read, with the audit
    /// entry, all or nothing. `Ok(false)` when it changed or is gone.
    pub async fn delete(
        &self,
        district: &DistrictId,
        change: &ListChange,
        change_id: &str,
    ) -> Result<bool, StoreError> {
        let key = Key::new(lists_pk(district), change.list.as_str());
        let write = WriteOp::Delete { key, condition: Self::at_version(change) };
        self.with_log(district, write, change, change_id).await
    }

    /// A list's audit trail, newest first (at most `limit` entries).
    pub async fn history(&self, district: &DistrictId, id: &ListId, limit: u32) -> Result<Vec<ListChange>, StoreError> {
        let query = Query::partition(list_log_pk(district, id)).descending().limit(limit.clamp(1, 500));
        self.table.query(&query).await?.items.into_iter().map(record_from).collect()
    }
}

/// The roster's indexes as list membership reads them. Never a scan: each
/// method is one key lookup or one index range (paged).
#[derive(Clone)]
pub struct RosterIndex {
    table: Arc<dyn Table>,
}

impl RosterIndex {
    /// An index reader over the table.
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    /// The district's schools with their names (the `D#d#SCHOOLS` partition).
    pub async fn school_names(&self, district: &DistrictId) -> Result<BTreeMap<SchoolId, String>, StoreError> {
        let items = query_all(self.table.as_ref(), Query::partition(schools_pk(district))).await?;
        items
            .iter()
            .map(|item| {
                let id = item.get("sk").and_then(Value::as_str).unwrap_or_default();
                let name = item.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
                Ok((SchoolId::parse(id).map_err(StoreError::corrupt)?, name))
            })
            .collect()
    }

    /// Ids of the district's schools (the `D#d#SCHOOLS` partition).
    pub async fn schools(&self, district: &DistrictId) -> Result<Vec<SchoolId>, StoreError> {
        Ok(self.school_names(district).await?.into_keys().collect())
    }

    /// Ids of a school's active people with the role, in index order; with
    /// a grade, only students of that grade (one gsi2 range). Leaving
    /// people lose their school memberships, so these are all active.
    pub async fn school_members(
        &self,
        district: &DistrictId,
        school: &SchoolId,
        role: PersonRole,
        grade: Option<&str>,
    ) -> Result<Vec<PersonId>, StoreError> {
        let prefix = match (role, grade) {
            (PersonRole::Student, Some(grade)) => format!("ROLE#student#G#{grade}#"),
            _ => format!("ROLE#{role}#"),
        };
        let query = Query::on(Index::Gsi2, school_people_pk(district, school)).sort(SortKey::BeginsWith(prefix));
        let items = query_all(self.table.as_ref(), query).await?;
        items
            .iter()
            .map(|item| {
                let sk = item.get("gsi2sk").and_then(Value::as_str).unwrap_or_default();
                let id = sk.rsplit_once("#P#").map(|(_, id)| id).unwrap_or_default();
                PersonId::parse(id).map_err(StoreError::corrupt)
            })
            .collect()
    }

    /// The school of a section, or `None` when there is no such section.
    pub async fn section_school(&self, district: &DistrictId, section: &str) -> Result<Option<SchoolId>, StoreError> {
        let Some(item) = self.table.get(&Key::new(section_pk(district, section), SECTION_SK)).await? else {
            return Ok(None);
        };
        let school = item.get("school").and_then(Value::as_str).unwrap_or_default();
        SchoolId::parse(school).map(Some).map_err(StoreError::corrupt)
    }

    /// The people enrolled in a section with their part in it.
    pub async fn enrolled(
        &self,
        district: &DistrictId,
        section: &str,
    ) -> Result<Vec<(PersonId, EnrollmentRole)>, StoreError> {
        let query =
            Query::partition(section_pk(district, section)).sort(SortKey::BeginsWith(ENROLLMENT_SK_PREFIX.into()));
        self.enrollments(query, "person").await
    }

    /// The sections a person is enrolled in (as student or teacher).
    pub async fn sections_of(
        &self,
        district: &DistrictId,
        person: &PersonId,
    ) -> Result<Vec<(String, EnrollmentRole)>, StoreError> {
        let query = Query::partition(person_pk(district, person)).sort(SortKey::BeginsWith(SECTION_SK_PREFIX.into()));
        let items = query_all(self.table.as_ref(), query).await?;
        items
            .iter()
            .map(|item| {
                let section = item.get("section").and_then(Value::as_str).unwrap_or_default().to_string();
                Ok((section, enrollment_role(item)?))
            })
            .collect()
    }

    async fn enrollments(&self, query: Query, who: &str) -> Result<Vec<(PersonId, EnrollmentRole)>, StoreError> {
        let items = query_all(self.table.as_ref(), query).await?;
        items.iter().map(|item| Ok((person_id(item.get(who))?, enrollment_role(item)?))).collect()
    }

    /// A person's profile item, or `None`.
    pub async fn profile(&self, district: &DistrictId, person: &PersonId) -> Result<Option<MemberProfile>, StoreError> {
        get_record(self.table.as_ref(), &Key::new(person_pk(district, person), PERSON_SK)).await
    }

    /// The profiles of these people that exist (one key lookup each, a few
    /// in flight at a time).
    pub async fn profiles(
        &self,
        district: &DistrictId,
        people: Vec<PersonId>,
    ) -> Result<HashMap<PersonId, MemberProfile>, StoreError> {
        stream::iter(people)
            .map(|person| async move { Ok::<_, StoreError>(self.profile(district, &person).await?.map(|p| (person, p))) })
            .buffer_unordered(CONCURRENT_READS)
            .try_filter_map(|found| async move { Ok(found) })
            .try_collect()
            .await
    }
}

fn enrollment_role(item: &Item) -> Result<EnrollmentRole, StoreError> {
    item.get("role")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .parse()
        .map_err(|e: crate::domain::DomainError| StoreError::Corrupt(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::local::EmbeddedTable;
    use crate::domain::{ListAction, ListRule, ListTarget};
    use crate::ports::table::BatchOp;
    use serde_json::json;

    fn district() -> DistrictId {
        DistrictId::parse("d-1").unwrap()
    }

    fn list(id: &str, version: u64) -> RecipientList {
        RecipientList {
            id: ListId::parse(id).unwrap(),
            name: "Fifth grade".into(),
            target: ListTarget::Students,
            rule: ListRule::default(),
            includes: vec![],
            excludes: vec![],
            owner: "u-1".into(),
            schools: vec![],
            version,
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        }
    }

    fn table() -> Arc<EmbeddedTable> {
        Arc::new(EmbeddedTable::in_memory().unwrap())
    }

    fn change(action: ListAction, before: RecipientList) -> ListChange {
        ListChange { list: before.id.clone(), action, by: "u-2".into(), at: chrono::Utc::now(), before }
    }

    #[tokio::test]
    async fn a_list_is_replaced_only_from_the_version_it_was_read_at() -> Result<(), StoreError> {
        let store = ListStore::new(table());
        let updated = |version| change(ListAction::Updated, list("l-1", version));
        store.create(&district(), &list("l-1", 1)).await?;
        assert!(matches!(store.create(&district(), &list("l-1", 1)).await, Err(StoreError::AlreadyExists)));
        assert!(store.replace(&district(), &list("l-1", 2), &updated(1), "c-1").await?);
        assert!(!store.replace(&district(), &list("l-1", 3), &updated(1), "c-2").await?, "a stale version is refused");
        assert_eq!(store.get(&district(), &list("l-1", 0).id).await?.map(|l| l.version), Some(2));
        assert_eq!(store.all(&district()).await?.len(), 1);
        assert!(!store.delete(&district(), &change(ListAction::Deleted, list("l-1", 1)), "c-3").await?);
        assert!(store.delete(&district(), &change(ListAction::Deleted, list("l-1", 2)), "c-4").await?);
        assert!(store.get(&district(), &list("l-1", 0).id).await?.is_none());
        assert!(
            !store.replace(&district(), &list("l-1", 3), &updated(2), "c-5").await?,
            "a deleted list is not recreated"
        );
        let trail: Vec<(ListAction, u64)> = store
            .history(&district(), &list("l-1", 0).id, 10)
            .await?
            .iter()
            .map(|c| (c.action, c.before.version))
            .collect();
        assert_eq!(
            trail,
            [(ListAction::Deleted, 2), (ListAction::Updated, 1)],
            "only what was done is told, newest first"
        );
        Ok(())
    }

    #[tokio::test]
    async fn a_grade_is_one_index_range_that_reads_only_its_students() -> Result<(), StoreError> {
        let table = table();
        let mut ops = Vec::new();
        for (id, role, sk) in [
            ("st-1", "student", "ROLE#student#G#05#P#st-1"),
            ("st-2", "student", "ROLE#student#G#04#P#st-2"),
            ("st-3", "student", "ROLE#student#G#05#P#st-3"),
            ("t-1", "staff", "ROLE#staff#P#t-1"),
        ] {
            let item = json!({"pk": format!("D#d-1#P#{id}"), "sk": "SCHOOL#s-1", "role": role,
                "gsi2pk": "D#d-1#S#s-1", "gsi2sk": sk});
            ops.push(BatchOp::Put(item.as_object().cloned().unwrap_or_default()));
        }
        table.batch_write(ops).await?;
        let index = RosterIndex::new(table.clone());
        let school = SchoolId::parse("s-1").unwrap();
        let before = table.stats();
        let fifth = index.school_members(&district(), &school, PersonRole::Student, Some("05")).await?;
        assert_eq!(fifth.iter().map(PersonId::as_str).collect::<Vec<_>>(), ["st-1", "st-3"]);
        assert_eq!(table.stats().items_read - before.items_read, 2);
        assert_eq!(index.school_members(&district(), &school, PersonRole::Student, None).await?.len(), 3);
        assert_eq!(index.school_members(&district(), &school, PersonRole::Staff, None).await?.len(), 1);
        Ok(())
    }
}
