//! Imports: define an import, take its files, run it (read, validate, diff
//! against the last snapshot, hold or apply), approve or discard held runs,
//! and delete an import with what only it brought in.
//!
//! A run reads the whole file before its first write; a file that cannot be
//! imported is recorded as a rejected run and writes nothing. The snapshot of
//! content hashes is saved only after every change is written, so a run that
//! dies midway is finished by running it again.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::domain::{
    Batch, DEFAULT_HOLD_THRESHOLD_PERCENT, DistrictId, DomainError, FileMode, ImportDefinition, ImportId, ImportMethod,
    ImportRun, ImportStatus, ImportTrigger, MAX_REPORTED_ROWS, PersonId, PersonRole, Principal, ReadOutcome,
    RecordKind, Region, Roster, RunCounts, RunState, Schedule, Snapshot, diff, hold_reason,
};
use crate::import::CsvFiles;
use crate::import::mapped::{Mapping, read_mapped};
use crate::import::oneroster::read_oneroster;
use crate::ports::{Clock, FileStore, Ids};
use crate::services::ServiceError;
use crate::store::{ImportStore, StoreError, Stores};

/// What a caller gives to define an import.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewImport {
    /// The import's name (an id: letters, digits, `-_.:@`).
    pub name: String,
    /// `oneroster` or `mapped`.
    pub method: ImportMethod,
    /// `manual` (default), `on_upload` or `scheduled`.
    #[serde(default = "manual")]
    pub trigger: ImportTrigger,
    /// For scheduled imports.
    #[serde(default)]
    pub schedule: Option<String>,
    /// For mapped imports: a preset name or a TOML mapping.
    #[serde(default)]
    pub mapping: Option<String>,
    /// Percent of an entity's records a run may remove before it is held (default 10).
    #[serde(default)]
    pub hold_threshold_percent: Option<f64>,
}

fn manual() -> ImportTrigger {
    ImportTrigger::Manual
}

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

/// One record of a roster, for writing.
#[derive(Clone, Copy)]
enum RecordRef<'a> {
    School(&'a crate::domain::RosterSchool),
    Person(&'a crate::domain::RosterPerson),
    Relationship(&'a crate::domain::Relationship),
    Section(&'a crate::domain::Section),
    Enrollment(&'a crate::domain::Enrollment),
}

/// Every record of a roster by snapshot key, with its content hash.
struct RecordSet<'a> {
    records: HashMap<String, (u64, RecordRef<'a>)>,
    modes: HashMap<RecordKind, FileMode>,
    deleted: Vec<String>,
}

fn person_kind(role: PersonRole) -> RecordKind {
    match role {
        PersonRole::Student => RecordKind::Student,
        PersonRole::Guardian => RecordKind::Guardian,
        PersonRole::Staff => RecordKind::Staff,
    }
}

const PERSON_KINDS: [RecordKind; 3] = [RecordKind::Student, RecordKind::Guardian, RecordKind::Staff];

impl<'a> RecordSet<'a> {
    fn of(roster: &'a Roster, previous: &Snapshot) -> Self {
        let mut set = Self { records: HashMap::new(), modes: HashMap::new(), deleted: Vec::new() };
        let mut buffer = Vec::with_capacity(512);
        let mut add = |key: String, record: RecordRef<'a>, value: &dyn erased::Hashable, buffer: &mut Vec<u8>| {
            buffer.clear();
            value.write_json(buffer);
            set.records.insert(key, (Snapshot::hash(buffer), record));
        };
        for school in &roster.schools.records {
            add(RecordKind::School.key(school.id.as_str()), RecordRef::School(school), school, &mut buffer);
        }
        for person in &roster.people.records {
            add(person_kind(person.role).key(person.id.as_str()), RecordRef::Person(person), person, &mut buffer);
        }
        for link in &roster.relationships.records {
            add(RecordKind::Relationship.key(&link.id()), RecordRef::Relationship(link), link, &mut buffer);
        }
        for section in &roster.sections.records {
            add(RecordKind::Section.key(&section.id), RecordRef::Section(section), section, &mut buffer);
        }
        for enrollment in &roster.enrollments.records {
            let id = format!("{}>{}", enrollment.section, enrollment.person);
            add(RecordKind::Enrollment.key(&id), RecordRef::Enrollment(enrollment), enrollment, &mut buffer);
        }
        set.mode(&roster.schools, &[RecordKind::School]);
        set.mode(&roster.people, &PERSON_KINDS);
        set.mode(&roster.relationships, &[RecordKind::Relationship]);
        set.mode(&roster.sections, &[RecordKind::Section]);
        set.mode(&roster.enrollments, &[RecordKind::Enrollment]);
        set.deleted_keys(roster, previous);
        set
    }

    fn mode<T>(&mut self, batch: &Batch<T>, kinds: &[RecordKind]) {
        for kind in kinds {
            self.modes.insert(*kind, batch.mode);
        }
    }

    /// Delta deletions as snapshot keys; a deleted person takes their links
    /// and enrollments along, so nothing points at them afterwards.
    fn deleted_keys(&mut self, roster: &Roster, previous: &Snapshot) {
        let people: HashSet<&str> = roster.people.deleted.iter().map(String::as_str).collect();
        for id in &people {
            self.deleted.extend(PERSON_KINDS.iter().map(|kind| kind.key(id)));
        }
        self.deleted.extend(roster.schools.deleted.iter().map(|id| RecordKind::School.key(id)));
        self.deleted.extend(roster.sections.deleted.iter().map(|id| RecordKind::Section.key(id)));
        self.deleted.extend(roster.relationships.deleted.iter().map(|id| RecordKind::Relationship.key(id)));
        self.deleted.extend(roster.enrollments.deleted.iter().map(|id| RecordKind::Enrollment.key(id)));
        if people.is_empty() {
            return;
        }
        for key in previous.0.keys() {
            let involves = |id: &str| id.split('>').any(|part| people.contains(part));
            match (RecordKind::of_key(key), key.get(2..)) {
                (Some(RecordKind::Relationship), Some(id)) if involves(id) => self.deleted.push(key.clone()),
                (Some(RecordKind::Enrollment), Some(id))
                    if id.split_once('>').is_some_and(|(_, p)| people.contains(p)) =>
                {
                    self.deleted.push(key.clone());
                }
                _ => {}
            }
        }
        for kind in [RecordKind::Relationship, RecordKind::Enrollment] {
            if self.modes.get(&kind) == Some(&FileMode::Absent) {
                self.modes.insert(kind, FileMode::Delta);
            }
        }
    }

    fn hashes(&self) -> HashMap<String, u64> {
        self.records.iter().map(|(key, (hash, _))| (key.clone(), *hash)).collect()
    }
}

/// Serializing records of different types through one buffer.
mod erased {
    /// A record that can write its JSON form into a buffer.
    pub trait Hashable {
        fn write_json(&self, buffer: &mut Vec<u8>);
    }

    impl<T: serde::Serialize> Hashable for T {
        fn write_json(&self, buffer: &mut Vec<u8>) {
            // Serializing plain data into memory cannot fail.
            let _ = serde_json::to_writer(buffer, self);
        }
    }
}

fn students_without_messenger(roster: &Roster) -> u64 {
    let covered: HashSet<&PersonId> =
        roster.relationships.records.iter().filter(|link| link.messenger).map(|link| &link.student).collect();
    roster.people.records.iter().filter(|p| p.role == PersonRole::Student && !covered.contains(&p.id)).count() as u64
}

/// The import use cases.
#[derive(Clone)]
pub struct ImportService {
    stores: Stores,
    files: Arc<dyn FileStore>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn Ids>,
    region: Region,
    store: ImportStore,
}

fn snapshot_key(district: &DistrictId, import: &ImportId) -> String {
    format!("snapshots/{district}/{import}.tsv")
}

/// Where uploaded files of an import live (the S3 trigger reads the district
/// and the import back from it).
pub fn upload_key(district: &DistrictId, import: &ImportId, file_name: &str) -> String {
    format!("imports/{district}/{import}/{file_name}")
}

/// The district and import of an uploaded file's key, if it is one.
pub fn parse_upload_key(key: &str) -> Option<(DistrictId, ImportId)> {
    let mut parts = key.split('/');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("imports"), Some(district), Some(import), Some(name)) if !name.is_empty() && parts.next().is_none() => {
            Some((DistrictId::parse(district).ok()?, ImportId::parse(import).ok()?))
        }
        _ => None,
    }
}

impl ImportService {
    /// A service over the stores and the file store.
    pub fn new(
        stores: &Stores,
        files: Arc<dyn FileStore>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn Ids>,
        region: Region,
    ) -> Self {
        Self { stores: stores.clone(), files, clock, ids, region, store: stores.imports.clone() }
    }

    fn require(caller: &Principal) -> Result<(), ServiceError> {
        if caller.may_manage_imports() {
            Ok(())
        } else {
            Err(ServiceError::Forbidden("only district admins manage imports".into()))
        }
    }

    async fn definition(&self, district: &DistrictId, id: &str) -> Result<ImportDefinition, ServiceError> {
        let not_found = || ServiceError::NotFound(format!("no import `{id}`"));
        let id = ImportId::parse(id).map_err(|_| not_found())?;
        self.store.get(district, &id).await?.ok_or_else(not_found)
    }

    /// Defines an import.
    pub async fn create(&self, caller: &Principal, new: NewImport) -> Result<ImportDefinition, ServiceError> {
        Self::require(caller)?;
        self.create_in(&caller.district, new).await
    }

    /// Defines an import in a district (CLI, system).
    pub async fn create_in(&self, district: &DistrictId, new: NewImport) -> Result<ImportDefinition, ServiceError> {
        let id = ImportId::parse(new.name).map_err(|e| DomainError::Invalid(format!("name: {e}")))?;
        let threshold = new.hold_threshold_percent.unwrap_or(DEFAULT_HOLD_THRESHOLD_PERCENT);
        if !(0.0..=100.0).contains(&threshold) {
            return Err(DomainError::Invalid("hold_threshold_percent: must be between 0 and 100".into()).into());
        }
        if new.method == ImportMethod::Mapped {
            let mapping = new.mapping.as_deref().ok_or_else(|| {
                DomainError::Invalid("mapping: a mapped import needs a mapping (a preset name or TOML)".into())
            })?;
            mapping_of(mapping)?;
        }
        match (&new.trigger, &new.schedule) {
            (ImportTrigger::Scheduled, None) => {
                return Err(DomainError::Invalid("schedule: a scheduled import needs a schedule".into()).into());
            }
            (ImportTrigger::Scheduled, Some(text)) => {
                Schedule::parse(text)?;
            }
            _ => {}
        }
        let definition = ImportDefinition {
            id,
            method: new.method,
            trigger: new.trigger,
            schedule: new.schedule,
            mapping: new.mapping,
            hold_threshold_percent: threshold,
            file_date: None,
            last_run: None,
            status: ImportStatus::New,
            file_key: None,
            last_scheduled_slot: None,
        };
        match self.store.create(district, &definition).await {
            Err(StoreError::AlreadyExists) => {
                return Err(ServiceError::Conflict(format!("import `{}` already exists", definition.id)));
            }
            other => other?,
        }
        if definition.trigger == ImportTrigger::Scheduled {
            self.store.add_schedule(district, &definition.id).await?;
        }
        Ok(definition)
    }

    /// Every import of the caller's district.
    pub async fn list(&self, caller: &Principal) -> Result<Vec<ImportDefinition>, ServiceError> {
        Self::require(caller)?;
        Ok(self.store.list(&caller.district).await?)
    }

    /// One import.
    pub async fn get(&self, caller: &Principal, id: &str) -> Result<ImportDefinition, ServiceError> {
        Self::require(caller)?;
        self.definition(&caller.district, id).await
    }

    /// The import's runs, newest first.
    pub async fn runs(&self, caller: &Principal, id: &str, limit: u32) -> Result<Vec<ImportRun>, ServiceError> {
        Self::require(caller)?;
        let definition = self.definition(&caller.district, id).await?;
        Ok(self.store.runs(&caller.district, &definition.id, limit).await?)
    }

    /// Takes a file for the import: stores it, sets the file date, and runs
    /// the import if it runs on upload (the answer then carries the run).
    pub async fn upload(
        &self,
        caller: &Principal,
        id: &str,
        file_name: &str,
        content: Bytes,
    ) -> Result<(ImportDefinition, Option<ImportRun>), ServiceError> {
        Self::require(caller)?;
        let definition = self.definition(&caller.district, id).await?;
        let name = sanitize_file_name(file_name, &self.clock.now().format("%Y%m%dT%H%M%S").to_string());
        let key = upload_key(&caller.district, &definition.id, &name);
        self.files.put(&key, content).await?;
        self.file_arrived(&key).await
    }

    /// A file landed under `imports/{district}/{import}/...` (an S3 event,
    /// or a local upload): records the file date and runs on-upload imports.
    pub async fn file_arrived(&self, key: &str) -> Result<(ImportDefinition, Option<ImportRun>), ServiceError> {
        let (district, import) = parse_upload_key(key)
            .ok_or_else(|| ServiceError::NotFound(format!("`{key}` is not an import upload key")))?;
        let mut definition = self.definition(&district, import.as_str()).await?;
        definition.file_date = Some(self.clock.now());
        definition.file_key = Some(key.to_string());
        self.store.save(&district, &definition).await?;
        tracing::info!(%district, import = %definition.id, "import file arrived");
        if definition.trigger == ImportTrigger::OnUpload {
            let run = self.execute(&district, &mut definition, key, None).await?;
            return Ok((definition, Some(run)));
        }
        Ok((definition, None))
    }

    /// Runs the import on its last file now.
    pub async fn run(&self, caller: &Principal, id: &str) -> Result<ImportRun, ServiceError> {
        Self::require(caller)?;
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
    /// runs once; an import with no file yet is skipped until it has one.
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
            runs.push(self.execute(&district, &mut definition, &key, None).await?);
        }
        Ok(runs)
    }

    /// Applies a held run as it stands (its file, without the hold check).
    pub async fn approve(&self, caller: &Principal, id: &str, run_id: &str) -> Result<ImportRun, ServiceError> {
        Self::require(caller)?;
        let mut definition = self.definition(&caller.district, id).await?;
        let held = self.held_run(&caller.district, &definition.id, run_id).await?;
        self.execute(&caller.district, &mut definition, &held.file_key.clone(), Some(held)).await
    }

    /// Discards a held run: nothing it would change is changed.
    pub async fn discard(&self, caller: &Principal, id: &str, run_id: &str) -> Result<ImportRun, ServiceError> {
        Self::require(caller)?;
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

    async fn snapshot(&self, district: &DistrictId, import: &ImportId) -> Result<Snapshot, ServiceError> {
        let bytes = self.files.get(&snapshot_key(district, import)).await?;
        Ok(match bytes {
            Some(bytes) => std::str::from_utf8(&bytes).ok().and_then(Snapshot::decode).unwrap_or_else(|| {
                tracing::warn!(%district, %import, "import snapshot unreadable: every record counts as new");
                Snapshot::default()
            }),
            None => Snapshot::default(),
        })
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

    async fn execute(
        &self,
        district: &DistrictId,
        definition: &mut ImportDefinition,
        key: &str,
        approving: Option<ImportRun>,
    ) -> Result<ImportRun, ServiceError> {
        let clock = Instant::now();
        let started_at = self.clock.now();
        let id = match &approving {
            Some(run) => run.id.clone(),
            None => {
                let suffix: String = self.ids.next_id().chars().filter(char::is_ascii_alphanumeric).take(8).collect();
                format!("{}-{suffix}", started_at.format("%Y%m%dT%H%M%S%.3fZ"))
            }
        };
        let mut run = ImportRun {
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
        };
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
        run.rejected_total = outcome.rejected.len() as u64;
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
        self.apply(district, &definition.id, &records, &changes.upserts, &changes.removals, &previous).await?;
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

    async fn apply(
        &self,
        district: &DistrictId,
        import: &ImportId,
        records: &RecordSet<'_>,
        upserts: &[String],
        removals: &[String],
        previous: &Snapshot,
    ) -> Result<(), ServiceError> {
        let mut writer = self.stores.roster_writer(district.clone(), import.clone());
        for key in upserts {
            let Some((_, record)) = records.records.get(key) else { continue };
            let replace = previous.0.contains_key(key);
            match record {
                RecordRef::School(school) => writer.put_school(school).await?,
                RecordRef::Person(person) => writer.put_person(person, replace).await?,
                RecordRef::Relationship(link) => writer.put_relationship(link).await?,
                RecordRef::Section(section) => writer.put_section(section).await?,
                RecordRef::Enrollment(enrollment) => writer.put_enrollment(enrollment).await?,
            }
        }
        for key in removals {
            let (Some(kind), Some(id)) = (RecordKind::of_key(key), key.get(2..)) else { continue };
            match kind {
                RecordKind::School => writer.remove_school(id).await?,
                RecordKind::Student | RecordKind::Guardian | RecordKind::Staff => {
                    let still_here = PERSON_KINDS.iter().any(|k| records.records.contains_key(&k.key(id)));
                    if !still_here {
                        let person = PersonId::parse(id).map_err(StoreError::corrupt)?;
                        writer.deactivate_person(&person).await?;
                    }
                }
                RecordKind::Relationship => writer.remove_relationship(id).await?,
                RecordKind::Section => writer.remove_section(id).await?,
                RecordKind::Enrollment => writer.remove_enrollment(id).await?,
            }
        }
        Ok(writer.flush().await?)
    }

    /// Deletes an import and what only it brought in (people entirely, with
    /// their links and enrollments); with `dry_run`, only says what would go.
    pub async fn delete(&self, caller: &Principal, id: &str, dry_run: bool) -> Result<DeletionPlan, ServiceError> {
        Self::require(caller)?;
        let district = &caller.district;
        let definition = self.definition(district, id).await?;
        let mine = self.snapshot(district, &definition.id).await?;
        let mut others = HashSet::new();
        for other in self.store.list(district).await? {
            if other.id != definition.id {
                others.extend(self.snapshot(district, &other.id).await?.0.into_keys());
            }
        }
        let mut plan = DeletionPlan::default();
        let only_mine: Vec<&String> = mine.0.keys().filter(|key| !others.contains(*key)).collect();
        plan.kept_shared = (mine.0.len() - only_mine.len()) as u64;
        for key in &only_mine {
            if let Some(kind) = RecordKind::of_key(key) {
                plan.removes.of_kind_mut(kind).removed += 1;
            }
        }
        if dry_run {
            return Ok(plan);
        }
        let mut writer = self.stores.roster_writer(district.clone(), definition.id.clone());
        let mut ordered = only_mine.clone();
        ordered.sort_by_key(|key| {
            std::cmp::Reverse(RecordKind::of_key(key).and_then(|k| RecordKind::ALL.iter().position(|x| *x == k)))
        });
        for key in ordered {
            let (Some(kind), Some(id)) = (RecordKind::of_key(key), key.get(2..)) else { continue };
            match kind {
                RecordKind::School => writer.remove_school(id).await?,
                RecordKind::Student | RecordKind::Guardian | RecordKind::Staff => {
                    let person = PersonId::parse(id).map_err(StoreError::corrupt)?;
                    writer.delete_person(&person).await?;
                }
                RecordKind::Relationship => writer.remove_relationship(id).await?,
                RecordKind::Section => writer.remove_section(id).await?,
                RecordKind::Enrollment => writer.remove_enrollment(id).await?,
            }
        }
        writer.flush().await?;
        self.files.delete(&snapshot_key(district, &definition.id)).await?;
        self.store.remove_schedule(district, &definition.id).await?;
        self.store.delete(district, &definition.id).await?;
        plan.deleted = true;
        tracing::info!(%district, import = %definition.id, removed = only_mine.len(), "import deleted");
        Ok(plan)
    }
}

fn mapping_of(text: &str) -> Result<Mapping, ServiceError> {
    Mapping::preset(text)
        .map(Ok)
        .unwrap_or_else(|| Mapping::from_toml(text))
        .map_err(|e| DomainError::Invalid(format!("mapping: {e}")).into())
}

/// A file name safe as the last segment of a key: letters, digits, `-_.`,
/// prefixed with the upload time so every upload keeps its own file.
fn sanitize_file_name(name: &str, stamp: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String =
        base.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).take(100).collect();
    let cleaned = cleaned.trim_start_matches('.');
    if cleaned.is_empty() { format!("{stamp}-upload") } else { format!("{stamp}-{cleaned}") }
}

/// The per-kind counts as a report would print them (for the CLI's JSON).
pub fn counts_json(counts: &RunCounts) -> serde_json::Value {
    let named: serde_json::Map<String, serde_json::Value> = counts
        .named()
        .iter()
        .map(|(name, c)| ((*name).to_string(), serde_json::to_value(**c).unwrap_or_default()))
        .collect();
    serde_json::Value::Object(named)
}
