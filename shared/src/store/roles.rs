//! Roles: a district's custom role definitions and the role assignments of
//! its staff. Built-in roles are code (`domain::roles`), never stored.
//!
//! | item | pk | sk | gsi1 (pk / sk) |
//! | --- | --- | --- | --- |
//! | custom role definition | `D#d#ROLES` | `ROLE#id` | |
//! | role assignment | `D#d#STAFF#staff` | `ASSIGN#school#role` (`ASSIGN#*#district_admin` district-wide) | `D#d#ROLE#role` / `STAFF#staff#school` |
//!
//! Schools are checked in the roster's `D#d#SCHOOLS` partition (`keys`).
//! A request's grants read one partition (the caller's assignments) and,
//! only when one of them is a custom role, the district's role definitions.
//! gsi1 finds the holders of a role, so deleting a role removes its
//! assignments in the same transaction (the role's item last when there
//! are more than a transaction holds), and a role made again with the same
//! id starts with none.

use std::sync::Arc;

use super::StoreError;
use super::items::{get_record, query_records, record_item};
use super::keys::schools_pk;
use crate::domain::roles::{Assignment, RoleDefinition};
use crate::domain::{DistrictId, PersonId, SchoolId};
use crate::ports::table::{Condition, Index, Key, MAX_TRANSACTION_OPS, Query, SortKey, Table, TableError, WriteOp};

/// Sort-key prefix of a custom role definition.
pub const ROLE_SK_PREFIX: &str = "ROLE#";
/// Sort-key prefix of a staff member's assignments.
pub const ASSIGN_SK_PREFIX: &str = "ASSIGN#";
/// The school part of a district-wide assignment's keys (`*` is never in a school id).
const DISTRICT_WIDE: &str = "*";

/// Partition of a district's custom role definitions.
pub fn roles_pk(district: &DistrictId) -> String {
    format!("D#{district}#ROLES")
}

/// Sort key of one custom role definition.
pub fn role_sk(role: &str) -> String {
    format!("{ROLE_SK_PREFIX}{role}")
}

/// Partition of a staff member's role assignments.
pub fn staff_roles_pk(district: &DistrictId, staff: &PersonId) -> String {
    format!("D#{district}#STAFF#{staff}")
}

fn school_part(school: Option<&SchoolId>) -> &str {
    school.map_or(DISTRICT_WIDE, SchoolId::as_str)
}

/// Sort key of one assignment (`None`: district-wide).
pub fn assignment_sk(school: Option<&SchoolId>, role: &str) -> String {
    format!("{ASSIGN_SK_PREFIX}{}#{role}", school_part(school))
}

/// Index partition of a role's holders (gsi1).
pub fn role_holders_pk(district: &DistrictId, role: &str) -> String {
    format!("D#{district}#ROLE#{role}")
}

/// Index sort key of one holder of a role (gsi1).
pub fn role_holder_sk(staff: &PersonId, school: Option<&SchoolId>) -> String {
    format!("STAFF#{staff}#{}", school_part(school))
}

/// Reads and writes custom roles and assignments.
#[derive(Clone)]
pub struct RoleStore {
    table: Arc<dyn Table>,
}

impl RoleStore {
    /// A store over the table.
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    /// Every custom role of the district, by id.
    pub async fn custom_roles(&self, district: &DistrictId) -> Result<Vec<RoleDefinition>, StoreError> {
        let query = Query::partition(roles_pk(district)).sort(SortKey::BeginsWith(ROLE_SK_PREFIX.into()));
        query_records(self.table.as_ref(), query).await
    }

    /// A custom role by id.
    pub async fn custom_role(&self, district: &DistrictId, id: &str) -> Result<Option<RoleDefinition>, StoreError> {
        get_record(self.table.as_ref(), &Key::new(roles_pk(district), role_sk(id))).await
    }

    /// Saves a new custom role; `AlreadyExists` when its id is taken.
    /// Assignments left by an earlier role of that id are removed first.
    pub async fn create_role(&self, district: &DistrictId, role: &RoleDefinition) -> Result<(), StoreError> {
        if self.custom_role(district, &role.id).await?.is_some() {
            return Err(StoreError::AlreadyExists);
        }
        self.remove_holders(district, &role.id).await?;
        let item = record_item(roles_pk(district), role_sk(&role.id), role)?;
        match self.table.put(item, Condition::NotExists).await {
            Err(TableError::ConditionFailed { .. }) => Err(StoreError::AlreadyExists),
            other => Ok(other?),
        }
    }

    /// Replaces a custom role; `Ok(false)` when there is none with its id.
    pub async fn replace_role(&self, district: &DistrictId, role: &RoleDefinition) -> Result<bool, StoreError> {
        let item = record_item(roles_pk(district), role_sk(&role.id), role)?;
        match self.table.put(item, Condition::Exists).await {
            Ok(()) => Ok(true),
            Err(TableError::ConditionFailed { .. }) => Ok(false),
            Err(other) => Err(other.into()),
        }
    }

    /// Deletes a custom role with every assignment of it; `Ok(None)` when
    /// there was no such role, else how many assignments went with it.
    ///
    /// Up to 99 holders, the role and its assignments go in one transaction.
    /// A role with more holders is removed in transactions of 100, the
    /// role's own item in the last: a failure midway leaves the role, with
    /// fewer holders, and never an assignment of a role that is gone;
    /// deleting again finishes. (Marking the role "deleting" first would
    /// revoke every holder at once, but every reader of roles would then
    /// have to know the mark; removing holders first keeps the only state a
    /// role can be in "exists with its holders".)
    pub async fn delete_role(&self, district: &DistrictId, id: &str) -> Result<Option<usize>, StoreError> {
        if self.custom_role(district, id).await?.is_none() {
            return Ok(None);
        }
        let mut ops = self.holder_deletes(district, id).await?;
        let removed = ops.len();
        while ops.len() >= MAX_TRANSACTION_OPS {
            let rest = ops.split_off(MAX_TRANSACTION_OPS);
            self.table.transact_write(std::mem::replace(&mut ops, rest)).await?;
        }
        ops.push(WriteOp::Delete { key: Key::new(roles_pk(district), role_sk(id)), condition: Condition::Exists });
        match self.table.transact_write(ops).await {
            Ok(()) => Ok(Some(removed)),
            // Deleted by someone else meanwhile.
            Err(TableError::ConditionFailed { .. }) => Ok(None),
            Err(other) => Err(other.into()),
        }
    }

    /// Records an assignment; `Ok(false)` when it was held already (the
    /// first assignment's record is kept).
    pub async fn assign(&self, district: &DistrictId, assignment: &Assignment) -> Result<bool, StoreError> {
        let school = assignment.school.as_ref();
        let mut item = record_item(
            staff_roles_pk(district, &assignment.staff_id),
            assignment_sk(school, &assignment.role),
            assignment,
        )?;
        item.insert("gsi1pk".into(), role_holders_pk(district, &assignment.role).into());
        item.insert("gsi1sk".into(), role_holder_sk(&assignment.staff_id, school).into());
        match self.table.put(item, Condition::NotExists).await {
            Ok(()) => Ok(true),
            Err(TableError::ConditionFailed { .. }) => Ok(false),
            Err(other) => Err(other.into()),
        }
    }

    /// Removes an assignment; `Ok(false)` when it was not held.
    pub async fn unassign(
        &self,
        district: &DistrictId,
        staff: &PersonId,
        school: Option<&SchoolId>,
        role: &str,
    ) -> Result<bool, StoreError> {
        let key = Key::new(staff_roles_pk(district, staff), assignment_sk(school, role));
        match self.table.delete(&key, Condition::Exists).await {
            Ok(()) => Ok(true),
            Err(TableError::ConditionFailed { .. }) => Ok(false),
            Err(other) => Err(other.into()),
        }
    }

    /// A staff member's assignments, by school then role (one query).
    pub async fn assignments_of(&self, district: &DistrictId, staff: &PersonId) -> Result<Vec<Assignment>, StoreError> {
        let query =
            Query::partition(staff_roles_pk(district, staff)).sort(SortKey::BeginsWith(ASSIGN_SK_PREFIX.into()));
        query_records(self.table.as_ref(), query).await
    }

    /// Every holder of a role, by staff member (gsi1; may lag writes briefly).
    pub async fn holders_of(&self, district: &DistrictId, role: &str) -> Result<Vec<Assignment>, StoreError> {
        let query = Query::on(Index::Gsi1, role_holders_pk(district, role));
        query_records(self.table.as_ref(), query).await
    }

    /// Whether the district has the school (one key lookup in `D#d#SCHOOLS`).
    pub async fn school_exists(&self, district: &DistrictId, school: &SchoolId) -> Result<bool, StoreError> {
        Ok(self.table.get(&Key::new(schools_pk(district), school.as_str())).await?.is_some())
    }

    /// The deletes of every assignment of a role (gsi1).
    async fn holder_deletes(&self, district: &DistrictId, role: &str) -> Result<Vec<WriteOp>, StoreError> {
        Ok(self
            .holders_of(district, role)
            .await?
            .iter()
            .map(|held| WriteOp::Delete {
                key: Key::new(
                    staff_roles_pk(district, &held.staff_id),
                    assignment_sk(held.school.as_ref(), &held.role),
                ),
                condition: Condition::None,
            })
            .collect())
    }

    /// Removes assignments an earlier role of this id may have left (a
    /// holder the index had not shown yet when it was deleted).
    async fn remove_holders(&self, district: &DistrictId, role: &str) -> Result<usize, StoreError> {
        let ops = self.holder_deletes(district, role).await?;
        let removed = ops.len();
        for chunk in ops.chunks(MAX_TRANSACTION_OPS) {
            self.table.transact_write(chunk.to_vec()).await?;
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::adapters::local::{EmbeddedTable, HookedTable, Write, WriteHook};
    use crate::domain::roles::{Permissions, RoleInput};

    fn district() -> DistrictId {
        DistrictId::parse("d-1").unwrap()
    }

    fn staff(id: &str) -> PersonId {
        PersonId::parse(id).unwrap()
    }

    fn school(id: &str) -> SchoolId {
        SchoolId::parse(id).unwrap()
    }

    fn assignment(who: &str, at: Option<&str>, role: &str) -> Assignment {
        Assignment {
            staff_id: staff(who),
            school: at.map(school),
            role: role.into(),
            assigned_by: "admin".into(),
            assigned_at: chrono::Utc::now(),
        }
    }

    fn role(id: &str, permissions: &[&str]) -> RoleDefinition {
        let permissions = Permissions::parse(permissions.iter().copied()).unwrap();
        RoleInput { id: None, name: "Counselor".into(), permissions }.validate(id, chrono::Utc::now()).unwrap()
    }

    fn store() -> (Arc<EmbeddedTable>, RoleStore) {
        let table = Arc::new(EmbeddedTable::in_memory().unwrap());
        (table.clone(), RoleStore::new(table))
    }

    /// Fails multi-item write number `fail_at` (0-based, counting
    /// transactions and batch writes) as if the backend fell over.
    struct FailsOnce {
        writes: AtomicUsize,
        fail_at: usize,
    }

    #[async_trait::async_trait]
    impl WriteHook for FailsOnce {
        async fn before(&self, _: Write<'_>) -> Result<(), TableError> {
            if self.writes.fetch_add(1, Ordering::SeqCst) == self.fail_at {
                return Err(TableError::Unavailable("the write failed, once".into()));
            }
            Ok(())
        }
    }

    /// A store whose multi-item write number `fail_at` fails, with `holders` holders of `counselor`.
    async fn counselors(holders: usize, fail_at: usize) -> Result<RoleStore, StoreError> {
        let inner = Arc::new(EmbeddedTable::in_memory().unwrap());
        let store =
            RoleStore::new(Arc::new(HookedTable::new(inner, FailsOnce { writes: AtomicUsize::new(0), fail_at })));
        store.create_role(&district(), &role("counselor", &["personal_messages"])).await?;
        for n in 0..holders {
            store.assign(&district(), &assignment(&format!("t-{n}"), Some("s-1"), "counselor")).await?;
        }
        Ok(store)
    }

    #[tokio::test]
    async fn a_role_deletion_that_fails_midway_leaves_no_assignment_of_a_role_that_is_gone() -> Result<(), StoreError> {
        for holders in [2, 150] {
            for fail_at in [0, 1] {
                let store = counselors(holders, fail_at).await?;
                let failed = store.delete_role(&district(), "counselor").await;
                let left = store.holders_of(&district(), "counselor").await?.len();
                let role = store.custom_role(&district(), "counselor").await?;
                if failed.is_ok() {
                    assert_eq!((role, left), (None, 0), "{holders} holders: the deletion completed");
                    continue;
                }
                assert!(role.is_some(), "{holders} holders, write {fail_at} failed: {left} assignments of no role");
                assert_eq!(store.delete_role(&district(), "counselor").await?, Some(left), "deleting again finishes");
                assert!(store.holders_of(&district(), "counselor").await?.is_empty());
            }
        }
        Ok(())
    }

    #[tokio::test]
    async fn a_staff_members_assignments_are_one_query_and_assigning_twice_is_fine() -> Result<(), StoreError> {
        let (table, store) = store();
        assert!(store.assign(&district(), &assignment("t-1", Some("s-1"), "teacher")).await?);
        assert!(!store.assign(&district(), &assignment("t-1", Some("s-1"), "teacher")).await?);
        store.assign(&district(), &assignment("t-1", Some("s-2"), "school_admin")).await?;
        store.assign(&district(), &assignment("t-1", None, "district_admin")).await?;
        store.assign(&district(), &assignment("t-2", Some("s-1"), "teacher")).await?;
        let before = table.stats();
        let held = store.assignments_of(&district(), &staff("t-1")).await?;
        assert_eq!(table.stats().read_requests - before.read_requests, 1);
        let keys: Vec<_> = held.iter().map(|a| (a.school.clone(), a.role.as_str())).collect();
        assert_eq!(
            keys,
            [(None, "district_admin"), (Some(school("s-1")), "teacher"), (Some(school("s-2")), "school_admin")]
        );
        assert!(store.unassign(&district(), &staff("t-1"), Some(&school("s-1")), "teacher").await?);
        assert!(!store.unassign(&district(), &staff("t-1"), Some(&school("s-1")), "teacher").await?);
        assert_eq!(store.assignments_of(&district(), &staff("t-1")).await?.len(), 2);
        let other = DistrictId::parse("d-2").unwrap();
        assert!(store.assignments_of(&other, &staff("t-1")).await?.is_empty(), "districts never mix");
        Ok(())
    }

    #[tokio::test]
    async fn deleting_a_custom_role_removes_its_assignments() -> Result<(), StoreError> {
        let (_, store) = store();
        let counselor = role("counselor", &["personal_messages"]);
        store.create_role(&district(), &counselor).await?;
        assert!(matches!(store.create_role(&district(), &counselor).await, Err(StoreError::AlreadyExists)));
        store.assign(&district(), &assignment("t-1", Some("s-1"), "counselor")).await?;
        store.assign(&district(), &assignment("t-2", Some("s-1"), "counselor")).await?;
        store.assign(&district(), &assignment("t-2", Some("s-1"), "teacher")).await?;
        assert_eq!(store.holders_of(&district(), "counselor").await?.len(), 2);
        let changed = role("counselor", &["personal_messages", "view_cleanup"]);
        assert!(store.replace_role(&district(), &changed).await?);
        assert_eq!(store.custom_roles(&district()).await?, [changed]);
        assert_eq!(store.delete_role(&district(), "counselor").await?, Some(2));
        assert_eq!(store.delete_role(&district(), "counselor").await?, None);
        assert!(store.custom_role(&district(), "counselor").await?.is_none());
        assert!(!store.replace_role(&district(), &counselor).await?, "a deleted role is not recreated");
        let left = store.assignments_of(&district(), &staff("t-2")).await?;
        assert_eq!(left.iter().map(|a| a.role.as_str()).collect::<Vec<_>>(), ["teacher"]);
        Ok(())
    }
}
