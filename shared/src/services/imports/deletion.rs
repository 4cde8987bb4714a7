//! Deleting an import: what only it brought in goes (people entirely, with
//! their links and enrollments); what another import also brings stays. A
//! dry run only says what would go.

use std::collections::HashSet;

use serde::Serialize;

use super::records::{PersonRemoval, remove_record};
use super::{ImportService, snapshot_key};
use crate::domain::{DistrictId, ImportId, Principal, RecordKind, RunCounts, Snapshot};
use crate::services::ServiceError;

/// What deleting an import removes (or would remove).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeletionPlan {
    /// Records per kind that only this import brought in.
    pub removes: RunCounts,
    /// Records another import also brings, which stay.
    pub kept_shared: u64,
    /// Whether it was carried out.
    pub deleted: bool,
}

impl DeletionPlan {
    /// The plan for an import's snapshot against every other import's keys,
    /// with the keys only this import has (in snapshot order).
    fn of<'a>(mine: &'a Snapshot, others: &HashSet<String>) -> (Self, Vec<&'a String>) {
        let mut plan = DeletionPlan::default();
        let only_mine: Vec<&String> = mine.0.keys().filter(|key| !others.contains(*key)).collect();
        plan.kept_shared = (mine.0.len() - only_mine.len()) as u64;
        for key in &only_mine {
            if let Some(kind) = RecordKind::of_key(key) {
                plan.removes.of_kind_mut(kind).removed += 1;
            }
        }
        (plan, only_mine)
    }
}

/// Children before parents (enrollments, links and sections before the
/// people and schools they point at), so no step leaves an orphan behind.
fn removal_order<'a>(keys: &[&'a String]) -> Vec<&'a String> {
    let mut ordered = keys.to_vec();
    ordered.sort_by_key(|key| {
        std::cmp::Reverse(RecordKind::of_key(key).and_then(|k| RecordKind::ALL.iter().position(|x| *x == k)))
    });
    ordered
}

impl ImportService {
    /// Deletes an import and what only it brought in (people entirely, with
    /// their links and enrollments); with `dry_run`, only says what would go.
    pub async fn delete(&self, caller: &Principal, id: &str, dry_run: bool) -> Result<DeletionPlan, ServiceError> {
        self.require(caller).await?;
        let district = &caller.district;
        let definition = self.definition(district, id).await?;
        let mine = self.snapshot(district, &definition.id).await?;
        let others = self.keys_of_others(district, &definition.id).await?;
        let (mut plan, only_mine) = DeletionPlan::of(&mine, &others);
        if dry_run {
            return Ok(plan);
        }
        let mut writer = self.stores.roster_writer(district.clone(), definition.id.clone());
        for key in removal_order(&only_mine) {
            remove_record(&mut writer, key, PersonRemoval::Erase).await?;
        }
        writer.flush().await?;
        self.files.delete(&snapshot_key(district, &definition.id)).await?;
        self.store.remove_schedule(district, &definition.id).await?;
        self.store.delete(district, &definition.id).await?;
        plan.deleted = true;
        tracing::info!(%district, import = %definition.id, removed = only_mine.len(), "import deleted");
        Ok(plan)
    }

    /// The snapshot keys of every other import of the district.
    async fn keys_of_others(&self, district: &DistrictId, import: &ImportId) -> Result<HashSet<String>, ServiceError> {
        let mut others = HashSet::new();
        for other in self.store.list(district).await? {
            if other.id != *import {
                others.extend(self.snapshot(district, &other.id).await?.0.into_keys());
            }
        }
        Ok(others)
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{World, admin};
    use super::*;

    fn snapshot(keys: &[&str]) -> Snapshot {
        Snapshot(keys.iter().map(|key| (key.to_string(), 1)).collect())
    }

    #[test]
    fn a_plan_counts_only_what_no_other_import_brings() {
        let mine = snapshot(&["O:s-1", "P:st-1", "P:st-2", "G:g-1", "R:st-1>g-1"]);
        let others: HashSet<String> = ["O:s-1", "P:st-2"].map(String::from).into();
        let (plan, only_mine) = DeletionPlan::of(&mine, &others);
        assert_eq!(only_mine, ["G:g-1", "P:st-1", "R:st-1>g-1"]);
        assert_eq!((plan.kept_shared, plan.deleted), (2, false));
        let removed = |counts: &crate::domain::EntityCounts| counts.removed;
        let removes = &plan.removes;
        assert_eq!(
            [
                removed(&removes.schools),
                removed(&removes.students),
                removed(&removes.guardians),
                removed(&removes.relationships)
            ],
            [0, 1, 1, 1]
        );
    }

    #[test]
    fn links_and_enrollments_are_removed_before_the_people_and_schools_they_point_at() {
        let keys: Vec<String> =
            ["O:s-1", "P:st-1", "E:c-1>st-1", "S:c-1", "R:st-1>g-1", "G:g-1"].map(String::from).into();
        let refs: Vec<&String> = keys.iter().collect();
        let ordered: Vec<&str> = removal_order(&refs).into_iter().map(String::as_str).collect();
        assert_eq!(ordered, ["E:c-1>st-1", "R:st-1>g-1", "S:c-1", "G:g-1", "P:st-1", "O:s-1"]);
    }

    #[tokio::test]
    async fn a_delete_dry_run_lists_what_only_that_import_brought_in_and_changes_nothing() {
        let world = World::new().await;
        world.define_and_run("families", World::FAMILIES).await;
        world.define_and_run("leo", World::ONLY_LEO).await;
        let before = world.stats().items_written;
        let plan = world.service.delete(&admin(), "families", true).await.unwrap();
        let removes = &plan.removes;
        let counts = [removes.schools, removes.students, removes.guardians, removes.relationships].map(|c| c.removed);
        assert_eq!(counts, [0, 1, 1, 1], "Ana, her contact and their link: {plan:?}");
        assert_eq!((plan.kept_shared, plan.deleted), (4, false), "the school, Leo, his contact and their link");
        assert_eq!(world.stats().items_written, before, "a dry run writes nothing");
        assert!(world.active("1001").await);
        assert_eq!(world.service.list(&admin()).await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn deleting_an_import_erases_what_only_it_brought_and_keeps_what_another_brings() {
        let world = World::new().await;
        world.define_and_run("families", World::FAMILIES).await;
        world.define_and_run("leo", World::ONLY_LEO).await;
        let plan = world.service.delete(&admin(), "families", false).await.unwrap();
        assert!(plan.deleted);
        assert!(world.person("1001").await.is_none(), "only this import had Ana");
        assert!(world.active("1002").await, "another import brings Leo");
        let gone = world.service.get(&admin(), "families").await;
        assert!(matches!(gone, Err(ServiceError::NotFound(_))), "{gone:?}");
        let rest: Vec<String> =
            world.service.list(&admin()).await.unwrap().into_iter().map(|d| d.id.to_string()).collect();
        assert_eq!(rest, ["leo"]);
    }
}
