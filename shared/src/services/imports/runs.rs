//! Running an import: why a run is made, taking the import's lease for it,
//! recognising a file already run, reading a file; run what a schedule
//! says is due. Applying the file is `apply`'s.

use bytes::Bytes;

use super::apply::Check;
use super::lease::{HeldLease, Taken};
use super::{ImportService, mapping_of};
use crate::domain::{
    DistrictId, FileRun, ImportDefinition, ImportId, ImportMethod, ImportRun, ImportTrigger, Principal, ReadOutcome,
    RunCounts, RunState, Schedule, file_hash,
};
use crate::import::CsvFiles;
use crate::import::mapped::read_mapped;
use crate::import::oneroster::read_oneroster;
use crate::services::ServiceError;

/// Why a run is made, which decides what it checks.
pub(super) enum Purpose {
    /// Run now, or a schedule's slot: a run that removes too much is held.
    Run,
    /// A file arrived: as `Run`, unless a run already took this very file.
    Arrival,
    /// An admin approves the held run with this id: applied as it was
    /// reviewed, or refused as stale.
    Approval(String),
}

impl ImportService {
    /// The import's runs, newest first.
    pub async fn runs(&self, caller: &Principal, id: &str, limit: u32) -> Result<Vec<ImportRun>, ServiceError> {
        self.require(caller).await?;
        let definition = self.definition(&caller.district, id).await?;
        Ok(self.store.runs(&caller.district, &definition.id, limit).await?)
    }

    /// Runs the import on its last file now. 409 while another run of it is
    /// under way.
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
        self.execute(district, &mut definition, &key, Purpose::Run).await
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
            match self.execute(&district, &mut definition, &key, Purpose::Run).await {
                Ok(run) => runs.push(run),
                Err(error) => {
                    tracing::error!(%district, %import, %error, retryable = error.is_retryable(), "scheduled import failed");
                }
            }
        }
        Ok(runs)
    }

    pub(super) fn read(
        &self,
        definition: &ImportDefinition,
        key: &str,
        content: &[u8],
    ) -> Result<ReadOutcome, ServiceError> {
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
    fn start_run(&self, definition: &ImportDefinition, key: &str, approving: Option<&str>) -> ImportRun {
        let started_at = self.clock.now();
        let id = match approving {
            Some(run) => run.to_string(),
            None => {
                // The id's last characters: a time-ordered id's first ones are its clock.
                let id: Vec<char> = self.ids.next_id().chars().filter(char::is_ascii_alphanumeric).collect();
                let suffix: String = id[id.len().saturating_sub(8)..].iter().collect();
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
            file_hash: None,
            base: None,
            seconds: 0.0,
        }
    }

    /// Runs the file under the import's lease. `None` only for an arrival
    /// of the file the lease's holder is running now (it is left to that
    /// run); any other run while the lease is held is refused (409).
    pub(super) async fn execute_once(
        &self,
        district: &DistrictId,
        definition: &mut ImportDefinition,
        key: &str,
        purpose: Purpose,
    ) -> Result<Option<ImportRun>, ServiceError> {
        let approving = match &purpose {
            Purpose::Approval(id) => Some(id.as_str()),
            _ => None,
        };
        let run = self.start_run(definition, key, approving);
        let mut lease = match self.take_lease(district, &definition.id, &run.id, key).await? {
            Taken::Held(lease) => lease,
            Taken::Busy(Some(other)) if matches!(purpose, Purpose::Arrival) && other.file_key == key => {
                tracing::info!(%district, import = %definition.id, run = %other.holder, "import file arrived again while its run is under way");
                return Ok(None);
            }
            Taken::Busy(other) => {
                let by = other.map(|lease| format!(" (run `{}`)", lease.holder)).unwrap_or_default();
                return Err(ServiceError::Conflict(format!(
                    "import `{}` is being run{by}: try again when that run ends",
                    definition.id
                )));
            }
        };
        let outcome = self.execute_leased(district, definition, run, purpose, &mut lease).await;
        self.release(lease).await;
        outcome.map(Some)
    }

    /// [`Self::execute_once`] for runs that are never left to another.
    pub(super) async fn execute(
        &self,
        district: &DistrictId,
        definition: &mut ImportDefinition,
        key: &str,
        purpose: Purpose,
    ) -> Result<ImportRun, ServiceError> {
        let import = definition.id.clone();
        self.execute_once(district, definition, key, purpose)
            .await?
            .ok_or_else(|| ServiceError::Conflict(format!("import `{import}` is being run: try again when it ends")))
    }

    async fn execute_leased(
        &self,
        district: &DistrictId,
        definition: &mut ImportDefinition,
        mut run: ImportRun,
        purpose: Purpose,
        lease: &mut HeldLease,
    ) -> Result<ImportRun, ServiceError> {
        let rewrite_all = self.finish_stopped_runs(district, definition, lease).await?;
        let check = match &purpose {
            // Read again under the lease: it may have been decided meanwhile.
            Purpose::Approval(id) => Check::Stale(Box::new(self.held_run(district, &definition.id, id).await?)),
            Purpose::Run | Purpose::Arrival => Check::Hold,
        };
        let content = self.file_of(definition, &run.file_key).await?;
        let hash = file_hash(&content);
        run.file_hash = Some(hash.clone());
        match self.taken_by(district, &definition.id, &run.file_key, &hash).await? {
            Some(earlier) if matches!(purpose, Purpose::Arrival) => {
                tracing::info!(%district, import = %definition.id, run = %earlier.id, "import file already run: not run again");
                return Ok(earlier);
            }
            Some(_) => {}
            None => {
                let taken = FileRun { file_key: run.file_key.clone(), file_hash: hash, run: run.id.clone() };
                self.store.save_file_run(district, &definition.id, &taken).await?;
            }
        }
        self.run_file(district, definition, run, content, (check, rewrite_all), lease).await
    }

    /// The run that already took this file with this content, if any.
    pub(super) async fn taken_by(
        &self,
        district: &DistrictId,
        import: &ImportId,
        key: &str,
        hash: &str,
    ) -> Result<Option<ImportRun>, ServiceError> {
        match self.store.file_run(district, import, key).await? {
            Some(taken) if taken.file_hash == hash => Ok(self.store.get_run(district, import, &taken.run).await?),
            _ => Ok(None),
        }
    }

    pub(super) async fn file_of(&self, definition: &ImportDefinition, key: &str) -> Result<Bytes, ServiceError> {
        self.files
            .get(key)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("the file of import `{}` is gone", definition.id)))
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{World, admin, mapped};
    use super::*;
    use crate::domain::ImportStatus;

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
        assert_eq!(
            world.stats().items_written - before,
            4,
            "only the lease (taken, let go), the run and the definition are saved"
        );
        assert_eq!(world.service.runs(&admin(), "sis", 10).await.unwrap().len(), 2);
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
        assert_eq!(
            world.stats().items_written - before,
            5,
            "only the lease (taken, let go), which run took the file, the run and the definition are saved"
        );
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
