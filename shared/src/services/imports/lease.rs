//! One run of an import at a time: the lease a run takes before it reads
//! anything, renews while it works and lets go at the end; and what a run
//! does first under it: finish any run that stopped midway.

use std::time::Instant;

use super::ImportService;
use super::apply::Check;
use crate::domain::{DistrictId, ImportDefinition, ImportId, ImportLease, RunState, file_hash};
use crate::services::ServiceError;
use crate::store::StoreError;

/// How many of the newest runs are searched for one that stopped midway.
/// Every run finishes such a run before its own work, so one can only be
/// among the last few.
const STOPPED_RUN_LOOKBACK: u32 = 20;

/// The lease a run holds.
pub(super) struct HeldLease {
    district: DistrictId,
    import: ImportId,
    lease: ImportLease,
}

impl HeldLease {
    /// The run holding it.
    pub(super) fn holder(&self) -> &str {
        &self.lease.holder
    }
}

/// What asking for the lease gave.
pub(super) enum Taken {
    /// The caller's run holds it now.
    Held(HeldLease),
    /// A live run holds it (as read, when it could be read).
    Busy(Option<ImportLease>),
}

impl ImportService {
    /// Takes the import's lease for the run `holder` about to read `key`:
    /// when nobody holds it, or over a lease that lapsed (its run died).
    pub(super) async fn take_lease(
        &self,
        district: &DistrictId,
        import: &ImportId,
        holder: &str,
        key: &str,
    ) -> Result<Taken, ServiceError> {
        let now = self.clock.now();
        let current = self.store.lease(district, import).await?;
        if let Some(current) = current.as_ref().filter(|lease| lease.is_live(now)) {
            return Ok(Taken::Busy(Some(current.clone())));
        }
        let lease = ImportLease::new(holder, key, now);
        match self.store.take_lease(district, import, &lease, current.as_ref()).await {
            Ok(()) => {
                if let Some(lapsed) = current {
                    tracing::warn!(%district, %import, lapsed = %lapsed.holder, run = %holder, "import lease lapsed: taken over");
                }
                Ok(Taken::Held(HeldLease { district: district.clone(), import: import.clone(), lease }))
            }
            Err(StoreError::Conflict) => Ok(Taken::Busy(self.store.lease(district, import).await?)),
            Err(other) => Err(other.into()),
        }
    }

    /// Renews the lease when a third of it has passed; a run that finds it
    /// taken over stops before writing more (409).
    pub(super) async fn keep(&self, held: &mut HeldLease) -> Result<(), ServiceError> {
        let now = self.clock.now();
        if !held.lease.needs_renewal(now) {
            return Ok(());
        }
        let renewed = held.lease.renewed(now);
        match self.store.renew_lease(&held.district, &held.import, &renewed).await {
            Ok(()) => {
                held.lease = renewed;
                Ok(())
            }
            Err(StoreError::Conflict) => Err(ServiceError::Conflict(format!(
                "run `{}` of import `{}` lost its lease to another run and stopped",
                held.lease.holder, held.import
            ))),
            Err(other) => Err(other.into()),
        }
    }

    /// Lets the lease go. A failure only delays the next run until the
    /// lease lapses, so it is logged, not returned.
    pub(super) async fn release(&self, held: HeldLease) {
        if let Err(error) = self.store.release_lease(&held.district, &held.import, &held.lease.holder).await {
            tracing::warn!(district = %held.district, import = %held.import, %error, "import lease not let go: it lapses");
        }
    }

    /// Finishes every run of the import that stopped midway (left
    /// `running`, not by the lease's holder): its file is applied again, as
    /// it was decided, which rewrites what it wrote and writes the rest.
    /// Answers whether one could not be finished (its file is gone): the
    /// data may then differ from the snapshot, and the caller's run writes
    /// every record again.
    pub(super) async fn finish_stopped_runs(
        &self,
        district: &DistrictId,
        definition: &mut ImportDefinition,
        lease: &mut HeldLease,
    ) -> Result<bool, ServiceError> {
        let runs = self.store.runs(district, &definition.id, STOPPED_RUN_LOOKBACK).await?;
        let holder = lease.holder().to_string();
        let stopped: Vec<_> =
            runs.into_iter().rev().filter(|run| run.state == RunState::Running && run.id != holder).collect();
        let mut rewrite_all = false;
        for mut run in stopped {
            tracing::warn!(%district, import = %definition.id, run = %run.id, by = %holder, "finishing an import run that stopped midway");
            let note = format!("stopped midway; finished by run `{holder}`");
            let content = self.files.get(&run.file_key).await?;
            // Only the very file it decided on finishes it as decided.
            let same = |content: &bytes::Bytes| run.file_hash.as_deref().is_none_or(|hash| file_hash(content) == hash);
            match content.filter(same) {
                Some(content) => {
                    run.warnings = vec![note];
                    self.run_file(district, definition, run, content, (Check::Finish, rewrite_all), lease).await?;
                    rewrite_all = false;
                }
                None => {
                    run.state = RunState::Rejected;
                    run.warnings
                        .push(format!("{note}: its file is gone or changed, so that run writes every record again"));
                    let status = definition.status;
                    self.finish(district, definition, run, Instant::now(), status).await?;
                    rewrite_all = true;
                }
            }
        }
        Ok(rewrite_all)
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use chrono::Duration;

    use super::super::NewImport;
    use super::super::fixture::{World, admin, district, mapped, sis};
    use crate::domain::{IMPORT_LEASE_MINUTES, ImportLease, ImportRun, ImportTrigger, RunState};
    use crate::ports::Clock as _;
    use crate::services::ServiceError;

    #[tokio::test]
    async fn a_run_while_another_run_holds_the_lease_is_refused_until_that_lease_lapses() {
        let world = World::new().await;
        world.define_and_run("sis", World::FAMILIES).await;
        world.upload("sis", World::FAMILIES_REGRADED).await;
        let other = ImportLease::new("other-run", "imports/d-1/sis/other.csv", world.clock.now());
        world.stores.imports.take_lease(&district(), &sis(), &other, None).await.unwrap();
        let refused = world.service.run(&admin(), "sis").await;
        assert!(matches!(refused, Err(ServiceError::Conflict(_))), "{refused:?}");
        assert_eq!(world.service.runs(&admin(), "sis", 10).await.unwrap().len(), 1, "nothing ran");

        world.clock.advance(Duration::minutes(IMPORT_LEASE_MINUTES));
        let run = world.service.run(&admin(), "sis").await.unwrap();
        assert_eq!((run.state, run.counts.students.updated), (RunState::Applied, 1));
        assert_eq!(world.stores.imports.lease(&district(), &sis()).await.unwrap(), None, "let go at the end");
    }

    async fn on_upload(world: &World) -> (String, Option<ImportRun>) {
        let new = NewImport { trigger: ImportTrigger::OnUpload, ..mapped("sis") };
        world.service.create(&admin(), new).await.unwrap();
        let uploaded = world.service.upload(&admin(), "sis", "r.csv", Bytes::from(World::FAMILIES)).await;
        let (definition, run) = uploaded.unwrap();
        (definition.file_key.unwrap(), run)
    }

    #[tokio::test]
    async fn a_file_that_arrives_again_after_its_run_is_not_run_twice() {
        let world = World::new().await;
        let (key, first) = on_upload(&world).await;
        let before = world.stats().items_written;
        // The S3 event of the very file the API upload already ran.
        let (_, again) = world.service.file_arrived(&key).await.unwrap();
        assert_eq!(again.map(|r| r.id), first.map(|r| r.id), "the answer is the run that took it");
        assert_eq!(world.service.runs(&admin(), "sis", 10).await.unwrap().len(), 1);
        assert_eq!(world.stats().items_written, before, "nothing is written");
    }

    #[tokio::test]
    async fn a_file_that_arrives_while_its_run_is_under_way_is_left_to_that_run() {
        let world = World::new().await;
        world.service.create(&admin(), NewImport { trigger: ImportTrigger::OnUpload, ..mapped("sis") }).await.unwrap();
        let key = super::super::upload_key(&district(), &sis(), "roster.csv");
        let running = ImportLease::new("api-run", key.clone(), world.clock.now());
        world.stores.imports.take_lease(&district(), &sis(), &running, None).await.unwrap();
        world.service.files_for_tests().put(&key, Bytes::from(World::FAMILIES)).await.unwrap();
        let (_, run) = world.service.file_arrived(&key).await.unwrap();
        assert!(run.is_none(), "the run holding the lease takes this file: {run:?}");
        assert!(world.service.runs(&admin(), "sis", 10).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_run_that_stopped_midway_is_finished_before_the_next_file_is_applied() {
        let world = World::new().await;
        world.define_and_run("sis", World::FAMILIES).await;
        world.upload("sis", World::ONLY_LEO).await;
        let held = world.service.run(&admin(), "sis").await.unwrap();
        // Its approval began writing and died: the run stayed `running`, its
        // lease was never let go, the snapshot never saved.
        let dead = ImportRun { state: RunState::Running, ..held.clone() };
        world.stores.imports.save_run(&district(), &dead).await.unwrap();
        let lease = ImportLease::new(dead.id.clone(), dead.file_key.clone(), world.clock.now());
        world.stores.imports.take_lease(&district(), &sis(), &lease, None).await.unwrap();

        world.clock.advance(Duration::minutes(1));
        world.upload("sis", World::FAMILIES).await;
        let refused = world.service.run(&admin(), "sis").await;
        assert!(matches!(refused, Err(ServiceError::Conflict(_))), "its lease has not lapsed yet: {refused:?}");
        world.clock.advance(Duration::minutes(IMPORT_LEASE_MINUTES + 1));
        let next = world.service.run(&admin(), "sis").await.unwrap();
        let finished = world.stores.imports.get_run(&district(), &sis(), &dead.id).await.unwrap().unwrap();
        assert_eq!((finished.state, finished.counts.students.removed), (RunState::Applied, 1));
        assert!(finished.warnings.iter().any(|w| w.contains("stopped midway")), "{:?}", finished.warnings);
        assert_eq!(next.counts.students.added, 1, "Ana, whom the finished run removed, comes back: {next:?}");
        assert!(world.active("1001").await);
    }
}
