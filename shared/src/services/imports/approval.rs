//! Deciding a held run: approve it (applied only if the import's data and
//! its file are still what was reviewed) or discard it.

use super::ImportService;
use super::lease::Taken;
use super::runs::Purpose;
use crate::domain::{DistrictId, ImportId, ImportRun, ImportStatus, Principal, RunState};
use crate::services::ServiceError;

impl ImportService {
    /// Applies a held run as it was reviewed: its file, without the hold
    /// check, under the import's lease. If its file or the import's data
    /// changed since it was held (another run was applied), what it would
    /// change is no longer what the admin saw: 409 `stale`, nothing changes,
    /// and the run stays held (to discard).
    pub async fn approve(&self, caller: &Principal, id: &str, run_id: &str) -> Result<ImportRun, ServiceError> {
        self.require(caller).await?;
        let mut definition = self.definition(&caller.district, id).await?;
        let held = self.held_run(&caller.district, &definition.id, run_id).await?;
        self.execute(&caller.district, &mut definition, &held.file_key, Purpose::Approval(held.id)).await
    }

    /// Discards a held run: nothing it would change is changed. Under the
    /// lease, so an approval of the same run cannot interleave.
    pub async fn discard(&self, caller: &Principal, id: &str, run_id: &str) -> Result<ImportRun, ServiceError> {
        self.require(caller).await?;
        let district = &caller.district;
        let mut definition = self.definition(district, id).await?;
        let held = self.held_run(district, &definition.id, run_id).await?;
        let lease = match self.take_lease(district, &definition.id, &held.id, &held.file_key).await? {
            Taken::Held(lease) => lease,
            Taken::Busy(_) => {
                return Err(ServiceError::Conflict(format!(
                    "import `{}` is being run: try again when that run ends",
                    definition.id
                )));
            }
        };
        let discarded = async {
            let mut run = self.held_run(district, &definition.id, run_id).await?;
            run.state = RunState::Discarded;
            run.finished_at = self.clock.now();
            self.store.save_run(district, &run).await?;
            if definition.status == ImportStatus::Held {
                definition.status = if definition.last_run.is_some() { ImportStatus::Ok } else { ImportStatus::New };
                self.store.save(district, &definition).await?;
            }
            Ok(run)
        }
        .await;
        self.release(lease).await;
        discarded
    }

    pub(super) async fn held_run(
        &self,
        district: &DistrictId,
        import: &ImportId,
        run_id: &str,
    ) -> Result<ImportRun, ServiceError> {
        let run = self
            .store
            .get_run(district, import, run_id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("no run `{run_id}` of import `{import}`")))?;
        if run.state != RunState::Held {
            return Err(ServiceError::Conflict(format!("run `{run_id}` is {}, not held", run.state)));
        }
        Ok(run)
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{World, admin, district, sis};
    use crate::domain::ImportStatus;
    use crate::domain::RunState;
    use crate::services::ServiceError;

    #[tokio::test]
    async fn a_run_removing_too_much_is_held_and_changes_nothing_until_approved() {
        let world = World::new().await;
        world.define_and_run("sis", World::FAMILIES).await;
        world.upload("sis", World::ONLY_LEO).await;
        let held = world.service.run(&admin(), "sis").await.unwrap();
        assert_eq!((held.state, held.counts.students.removed), (RunState::Held, 1));
        assert!(held.hold_reason.as_deref().is_some_and(|r| r.contains("students")), "{held:?}");
        assert!(world.active("1001").await, "a held run changes nothing");
        let approved = world.service.approve(&admin(), "sis", &held.id).await.unwrap();
        assert_eq!((approved.id.as_str(), approved.state), (held.id.as_str(), RunState::Applied));
        assert!(!world.active("1001").await, "a student who left is deactivated");
        let twice = world.service.approve(&admin(), "sis", &held.id).await;
        assert!(matches!(twice, Err(ServiceError::Conflict(_))), "{twice:?}");
    }

    #[tokio::test]
    async fn a_discarded_run_leaves_the_data_and_the_status_as_they_were() {
        let world = World::new().await;
        world.define_and_run("sis", World::FAMILIES).await;
        world.upload("sis", World::ONLY_LEO).await;
        let held = world.service.run(&admin(), "sis").await.unwrap();
        assert_eq!(world.service.get(&admin(), "sis").await.unwrap().status, ImportStatus::Held);
        let discarded = world.service.discard(&admin(), "sis", &held.id).await.unwrap();
        assert_eq!(discarded.state, RunState::Discarded);
        assert_eq!(world.service.get(&admin(), "sis").await.unwrap().status, ImportStatus::Ok);
        assert!(world.active("1001").await);
        let missing = world.service.discard(&admin(), "sis", "no-such-run").await;
        assert!(matches!(missing, Err(ServiceError::NotFound(_))), "{missing:?}");
    }

    #[tokio::test]
    async fn approving_a_held_run_after_the_data_changed_is_refused_as_stale_and_changes_nothing() {
        let world = World::new().await;
        world.define_and_run("sis", World::FAMILIES).await;
        world.upload("sis", World::ONLY_LEO).await;
        let held = world.service.run(&admin(), "sis").await.unwrap();
        assert_eq!(held.state, RunState::Held);
        world.upload("sis", World::FAMILIES_REGRADED).await;
        let applied = world.service.run(&admin(), "sis").await.unwrap();
        assert_eq!(applied.state, RunState::Applied);

        let stale = world.service.approve(&admin(), "sis", &held.id).await;
        assert!(matches!(&stale, Err(ServiceError::Conflict(m)) if m.contains("stale")), "{stale:?}");
        assert!(world.active("1001").await, "nothing of the held run was applied");
        let kept = world.stores.imports.get_run(&district(), &sis(), &held.id).await.unwrap().unwrap();
        assert_eq!(kept.state, RunState::Held, "it stays held: it can still be discarded");
    }
}
