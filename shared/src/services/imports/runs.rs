//! Running an import: read its file whole, diff it against the last
//! snapshot, hold a run that removes too much, or write the changes and
//! then the new snapshot; approve or discard a held run; run what a
//! schedule says is due.

use std::time::Instant;

use bytes::Bytes;

use super::records::{PersonRemoval, RecordSet, remove_record, students_without_messenger};
use super::{ImportService, mapping_of, snapshot_key};
use crate::domain::{
    Changes, DistrictId, ImportDefinition, ImportId, ImportMethod, ImportRun, ImportStatus, ImportTrigger,
    MAX_REPORTED_ROWS, Principal, ReadOutcome, RunCounts, RunState, Schedule, Snapshot, diff, hold_reason,
};
use crate::import::CsvFiles;
use crate::import::mapped::read_mapped;
use crate::import::oneroster::read_oneroster;
use crate::services::ServiceError;

impl ImportService {
    /// The import's runs, newest first.
    pub async fn runs(&self, caller: &Principal, id: &str, limit: u32) -> Result<Vec<ImportRun>, ServiceError> {
        self.require(caller).await?;
        let definition = self.definition(&caller.district, id).await?;
        Ok(self.store.runs(&caller.district, &definition.id, limit).await?)
    }

    /// Runs the import on its last file now.
    pub async fn run(&self, caller: &Principal, id: &str) -> Result<ImportRun, ServiceError> {
        self.require(caller).await?;
        self.run_in(&caller.district, id).await
    }

    /// Runs an import of a district on its last file (CLI, schedules).
    pub async fn run_in(&self, district: &DistrictId, id: &str) -> Result<ImportRun, ServiceError> {
        let mut definition = self.definition(district, id).await?;
        let key = definition
            .file_key
            .clone()
            .ok_or_else(|| ServiceError::Conflict(format!("import `{id}` has no file yet: upload one first")))?;
        self.execute(district, &mut definition, &key, None).await
    }

    /// Runs every scheduled import whose slot has come (the scheduler's tick:
    /// an EventBridge rule on AWS, a timer in the local gateway). Each slot
    /// runs once; an import with no file yet is skipped until it has one, and
    /// one that fails is logged and tried again next tick while the rest run.
    pub async fn run_due(&self) -> Result<Vec<ImportRun>, ServiceError> {
        let now = self.clock.now();
        let mut runs = Vec::new();
        for (district, import) in self.store.scheduled().await? {
            let Some(mut definition) = self.store.get(&district, &import).await? else {
                self.store.remove_schedule(&district, &import).await?;
                continue;
            };
            let schedule = match definition.schedule.as_deref().map(Schedule::parse) {
                Some(Ok(schedule)) if definition.trigger == ImportTrigger::Scheduled => schedule,
                _ => {
                    self.store.remove_schedule(&district, &import).await?;
                    continue;
                }
            };
            let Some(slot) = schedule.due(now, definition.last_scheduled_slot) else { continue };
            let Some(key) = definition.file_key.clone() else { continue };
            definition.last_scheduled_slot = Some(slot);
            tracing::info!(%district, %import, %slot, "scheduled import due");
            // One import's failure is its own: the others still run, and its
            // slot is not spent, so the next tick tries it again.
            match self.execute(&district, &mut definition, &key, None).await {
                Ok(run) => runs.push(run),
                Err(error) => {
                    tracing::error!(%district, %import, %error, retryable = error.is_retryable(), "scheduled import failed");
                }
            }
        }
        Ok(runs)
    }

    /// Applies a held run as it stands (its file, without the hold check).
    pub async fn approve(&self, caller: &Principal, id: &str, run_id: &str) -> Result<ImportRun, ServiceError> {
        self.require(caller).await?;
        let mut definition = self.definition(&caller.district, id).await?;
        let held = self.held_run(&caller.district, &definition.id, run_id).await?;
        self.execute(&caller.district, &mut definition, &held.file_key.clone(), Some(held)).await
    }

    /// Discards a held run: nothing it would change is changed.
    pub async fn discard(&self, caller: &Principal, id: &str, run_id: &str) -> Result<ImportRun, ServiceError> {
        self.require(caller).await?;
        let mut definition = self.definition(&caller.district, id).await?;
        let mut run = self.held_run(&caller.district, &definition.id, run_id).await?;
        run.state = RunState::Discarded;
        run.finished_at = self.clock.now();
        self.store.save_run(&caller.district, &run).await?;
        if definition.status == ImportStatus::Held {
            definition.status = if definition.last_run.is_some() { ImportStatus::Ok } else { ImportStatus::New };
            self.store.save(&caller.district, &definition).await?;
        }
        Ok(run)
    }

    async fn held_run(
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

    fn read(&self, definition: &ImportDefinition, key: &str, content: &[u8]) -> Result<ReadOutcome, ServiceError> {
        let name = key.rsplit('/').next().unwrap_or(key);
        let outcome = match definition.method {
            ImportMethod::OneRoster => {
                CsvFiles::from_bytes_auto(name, content).and_then(|files| read_oneroster(&files, self.region))
            }
            ImportMethod::Mapped => {
                let mapping = mapping_of(definition.mapping.as_deref().unwrap_or_default())?;
                read_mapped(content, name, &mapping, self.region)
            }
        };
        outcome.map_err(ServiceError::FileRejected)
    }

    /// A run as it starts: applied unless found otherwise. An approval
    /// keeps the held run's id.
    fn start_run(&self, definition: &ImportDefinition, key: &str, approving: Option<&ImportRun>) -> ImportRun {
        let started_at = self.clock.now();
        let id = match approving {
            Some(run) => run.id.clone(),
            None => {
                let suffix: String = self.ids.next_id().chars().filter(char::is_ascii_alphanumeric).take(8).collect();
                format!("{}-{suffix}", started_at.format("%Y%m%dT%H%M%S%.3fZ"))
            }
        };
        ImportRun {
            id,
            import: definition.id.clone(),
            started_at,
            finished_at: started_at,
            state: RunState::Applied,
            hold_reason: None,
            counts: RunCounts::default(),
            rejected: Vec::new(),
            rejected_total: 0,
            warnings: Vec::new(),
            students_without_messenger: 0,
            file_key: key.to_string(),
            seconds: 0.0,
        }
    }

    pub(super) async fn execute(
        &self,
        district: &DistrictId,
        definition: &mut ImportDefinition,
        key: &str,
        approving: Option<ImportRun>,
    ) -> Result<ImportRun, ServiceError> {
        let clock = Instant::now();
        let mut run = self.start_run(definition, key, approving.as_ref());
        let content = self
            .files
            .get(key)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("the file of import `{}` is gone", definition.id)))?;
        let outcome = match self.read(definition, key, &content) {
            Ok(outcome) => outcome,
            Err(ServiceError::FileRejected(rejected)) => {
                run.state = RunState::Rejected;
                run.rejected_total = rejected.problems.len() as u64;
                run.rejected = rejected.problems.into_iter().take(MAX_REPORTED_ROWS).collect();
                return self.finish(district, definition, run, clock, ImportStatus::Failed).await;
            }
            Err(other) => return Err(other),
        };
        drop(content);
        tracing::debug!(elapsed = clock.elapsed().as_secs_f64(), "import file read");
        run.rejected_total = outcome.rejected_total;
        run.rejected = outcome.rejected.iter().take(MAX_REPORTED_ROWS).cloned().collect();
        run.warnings = outcome.warnings.clone();
        run.students_without_messenger = students_without_messenger(&outcome.roster);

        let previous = self.snapshot(district, &definition.id).await?;
        let records = RecordSet::of(&outcome.roster, &previous);
        tracing::debug!(elapsed = clock.elapsed().as_secs_f64(), "records hashed");
        let changes = diff(&previous, &records.hashes(), &records.modes, &records.deleted);
        tracing::debug!(elapsed = clock.elapsed().as_secs_f64(), upserts = changes.upserts.len(), "diffed");
        run.counts = changes.counts.clone();
        let hold =
            approving.is_none().then(|| hold_reason(&previous, &changes.counts, definition.hold_threshold_percent));
        if let Some(reason) = hold.flatten() {
            tracing::warn!(%district, import = %definition.id, %reason, "import run held");
            run.state = RunState::Held;
            run.hold_reason = Some(reason);
            return self.finish(district, definition, run, clock, ImportStatus::Held).await;
        }
        self.apply(district, &definition.id, &records, &changes, &previous).await?;
        tracing::debug!(elapsed = clock.elapsed().as_secs_f64(), "changes applied");
        self.files.put(&snapshot_key(district, &definition.id), Bytes::from(changes.next.encode())).await?;
        definition.last_run = Some(self.clock.now());
        self.finish(district, definition, run, clock, ImportStatus::Ok).await
    }

    async fn finish(
        &self,
        district: &DistrictId,
        definition: &mut ImportDefinition,
        mut run: ImportRun,
        clock: Instant,
        status: ImportStatus,
    ) -> Result<ImportRun, ServiceError> {
        run.finished_at = self.clock.now();
        run.seconds = clock.elapsed().as_secs_f64();
        definition.status = status;
        self.store.save_run(district, &run).await?;
        self.store.save(district, definition).await?;
        let written: u64 = run.counts.named().iter().map(|(_, c)| c.writes()).sum();
        tracing::info!(%district, import = %definition.id, run = %run.id, state = %run.state, written, rejected = run.rejected_total, seconds = run.seconds, "import run finished");
        Ok(run)
    }

    /// Writes new and changed records, then removes what left the source
    /// (a person still there under another role stays).
    async fn apply(
        &self,
        district: &DistrictId,
        import: &ImportId,
        records: &RecordSet<'_>,
        changes: &Changes,
        previous: &Snapshot,
    ) -> Result<(), ServiceError> {
        let mut writer = self.stores.roster_writer(district.clone(), import.clone());
        for key in &changes.upserts {
            let Some((_, record)) = records.records.get(key) else { continue };
            record.write(&mut writer, previous.0.contains_key(key)).await?;
        }
        for key in &changes.removals {
            if !records.still_has_person(key) {
                remove_record(&mut writer, key, PersonRemoval::Deactivate).await?;
            }
        }
        Ok(writer.flush().await?)
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{World, admin, mapped};
    use super::*;

    #[tokio::test]
    async fn a_run_imports_the_file_and_a_rerun_of_the_same_file_writes_nothing() {
        let world = World::new().await;
        let first = world.define_and_run("sis", World::FAMILIES).await;
        assert_eq!(first.state, RunState::Applied);
        assert_eq!(
            (first.counts.students.added, first.counts.guardians.added, first.counts.relationships.added),
            (2, 2, 2)
        );
        assert_eq!(world.service.get(&admin(), "sis").await.unwrap().status, ImportStatus::Ok);
        let before = world.stats().items_written;
        let again = world.service.run(&admin(), "sis").await.unwrap();
        assert_eq!((again.counts.students.unchanged, again.counts.students.added), (2, 0));
        assert_eq!(world.stats().items_written - before, 2, "only the run and the definition are saved");
        assert_eq!(world.service.runs(&admin(), "sis", 10).await.unwrap().len(), 2);
    }

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
    async fn a_file_that_cannot_be_imported_is_a_rejected_run_that_writes_no_record() {
        let world = World::new().await;
        world.service.create(&admin(), mapped("sis")).await.unwrap();
        world.upload("sis", "no,columns,we,know\n1,2,3,4\n").await;
        let before = world.stats().items_written;
        let rejected = world.service.run(&admin(), "sis").await.unwrap();
        assert_eq!(rejected.state, RunState::Rejected);
        assert!(rejected.rejected_total > 0);
        assert_eq!(world.stats().items_written - before, 2, "only the run and the definition are saved");
        assert_eq!(world.service.get(&admin(), "sis").await.unwrap().status, ImportStatus::Failed);
    }

    #[tokio::test]
    async fn an_import_runs_only_once_it_has_a_file() {
        let world = World::new().await;
        world.service.create(&admin(), mapped("sis")).await.unwrap();
        let refused = world.service.run(&admin(), "sis").await;
        assert!(matches!(refused, Err(ServiceError::Conflict(_))), "{refused:?}");
        assert!(world.service.run_due().await.unwrap().is_empty(), "nothing is scheduled");
    }
}
