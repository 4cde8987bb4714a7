//! Imports: define an import, take its files, run it (read, validate, diff
//! against the last snapshot, hold or apply), approve or discard held runs,
//! and delete an import with what only it brought in.
//!
//! A run reads the whole file before its first write; a file that cannot be
//! imported is recorded as a rejected run and writes nothing. A run holds the
//! import's lease, so runs of one import never overlap. It is marked
//! `running` before its first write and the snapshot of content hashes is
//! saved only after its last, so a run that dies midway is found by the next
//! run, which finishes it (applies its file again) before its own.
//!
//! - this file: the service, definitions, uploads and where files live.
//! - `records`: a roster as snapshot keys and hashes, and each record kind's writer call.
//! - `runs`: why a run is made, taking the lease for it, schedules.
//! - `apply`: applying one file: diff, hold or stale check, writes, snapshot.
//! - `lease`: one run of an import at a time; finishing runs that stopped midway.
//! - `approval`: approving a held run (refused when stale) or discarding it.
//! - `deletion`: deleting an import with what only it brought in.

mod apply;
mod approval;
mod deletion;
mod lease;
mod records;
mod runs;

#[cfg(test)]
mod fixture;

use std::sync::Arc;

use bytes::Bytes;
use serde::Deserialize;

use crate::domain::{
    DEFAULT_HOLD_THRESHOLD_PERCENT, DistrictId, DomainError, ImportDefinition, ImportId, ImportMethod, ImportRun,
    ImportStatus, ImportTrigger, Principal, Region, RunCounts, Schedule, Snapshot,
};
use crate::import::mapped::Mapping;
use crate::ports::{Clock, FileChunks, FileStore, Ids, chunks_of};
use crate::services::ServiceError;
use crate::services::roles::RoleService;
use crate::store::{ImportStore, StoreError, Stores};

pub use deletion::DeletionPlan;

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

/// The import use cases.
#[derive(Clone)]
pub struct ImportService {
    stores: Stores,
    files: Arc<dyn FileStore>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn Ids>,
    roles: RoleService,
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
    /// A service over the stores and the file store; `roles` answers who
    /// is a district admin (token roles and stored assignments alike).
    pub fn new(
        stores: &Stores,
        files: Arc<dyn FileStore>,
        (clock, ids): (Arc<dyn Clock>, Arc<dyn Ids>),
        roles: RoleService,
        region: Region,
    ) -> Self {
        Self { stores: stores.clone(), files, clock, ids, roles, region, store: stores.imports.clone() }
    }

    /// Whether the caller may manage imports (district-wide data): district
    /// admins, by token or by stored assignment. Cheap enough to ask before
    /// an upload's body is read.
    pub async fn may_manage(&self, caller: &Principal) -> Result<bool, ServiceError> {
        Ok(self.roles.grants(caller).await?.is_district_admin())
    }

    async fn require(&self, caller: &Principal) -> Result<(), ServiceError> {
        if self.may_manage(caller).await? {
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
        self.require(caller).await?;
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
        self.require(caller).await?;
        Ok(self.store.list(&caller.district).await?)
    }

    /// One import.
    pub async fn get(&self, caller: &Principal, id: &str) -> Result<ImportDefinition, ServiceError> {
        self.require(caller).await?;
        self.definition(&caller.district, id).await
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
        self.upload_chunks(caller, id, file_name, chunks_of(content)).await
    }

    /// [`Self::upload`] from the file's chunks as they arrive (the API's
    /// request body): the caller and the import are checked before the first
    /// chunk is read, and the chunks go to the file store as they come.
    pub async fn upload_chunks(
        &self,
        caller: &Principal,
        id: &str,
        file_name: &str,
        chunks: FileChunks,
    ) -> Result<(ImportDefinition, Option<ImportRun>), ServiceError> {
        self.require(caller).await?;
        let definition = self.definition(&caller.district, id).await?;
        let name = sanitize_file_name(file_name, &self.clock.now().format("%Y%m%dT%H%M%S").to_string());
        let key = upload_key(&caller.district, &definition.id, &name);
        self.files.put_chunks(&key, chunks).await?;
        self.file_arrived(&key).await
    }

    /// A file landed under `imports/{district}/{import}/...` (an S3 event,
    /// or a local upload): records the file date and runs on-upload imports.
    ///
    /// A file arrives twice on AWS (the API upload runs it, then S3's event
    /// for the same object comes): a file a run already took (same key, same
    /// content) is answered with that run and changes nothing; one whose run
    /// is under way is left to it (no run in the answer).
    pub async fn file_arrived(&self, key: &str) -> Result<(ImportDefinition, Option<ImportRun>), ServiceError> {
        let (district, import) = parse_upload_key(key)
            .ok_or_else(|| ServiceError::NotFound(format!("`{key}` is not an import upload key")))?;
        let mut definition = self.definition(&district, import.as_str()).await?;
        if self.store.file_run(&district, &definition.id, key).await?.is_some() {
            let hash = crate::domain::file_hash(&self.file_of(&definition, key).await?);
            if let Some(earlier) = self.taken_by(&district, &definition.id, key, &hash).await? {
                tracing::info!(%district, import = %definition.id, run = %earlier.id, "import file arrived again: already run");
                return Ok((definition, Some(earlier)));
            }
        }
        definition.file_date = Some(self.clock.now());
        definition.file_key = Some(key.to_string());
        self.store.save(&district, &definition).await?;
        tracing::info!(%district, import = %definition.id, "import file arrived");
        if definition.trigger == ImportTrigger::OnUpload {
            let run = self.execute_once(&district, &mut definition, key, runs::Purpose::Arrival).await?;
            return Ok((definition, run));
        }
        Ok((definition, None))
    }

    /// The file store, for tests that put files as an S3 upload would.
    #[cfg(test)]
    pub(super) fn files_for_tests(&self) -> &Arc<dyn FileStore> {
        &self.files
    }

    /// The import's last applied snapshot; an unreadable one counts every record as new.
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::fixture::{World, admin, district, mapped};
    use super::*;
    use crate::domain::{EntityCounts, Role};

    #[tokio::test]
    async fn creating_a_definition_twice_conflicts() {
        let world = World::new().await;
        let first = world.service.create(&admin(), mapped("sis")).await.unwrap();
        assert_eq!((first.status, first.file_key), (ImportStatus::New, None));
        let again = world.service.create(&admin(), mapped("sis")).await;
        assert!(matches!(again, Err(ServiceError::Conflict(_))), "{again:?}");
        assert_eq!(world.service.list(&admin()).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_definition_needs_a_valid_mapping_schedule_and_threshold() {
        let world = World::new().await;
        let no_mapping = NewImport { mapping: None, ..mapped("a") };
        let unknown = NewImport { mapping: Some("powerschool".into()), ..mapped("b") };
        let unscheduled = NewImport { trigger: ImportTrigger::Scheduled, ..mapped("c") };
        let threshold = NewImport { hold_threshold_percent: Some(101.0), ..mapped("d") };
        for new in [no_mapping, unknown, unscheduled, threshold] {
            let refused = world.service.create(&admin(), new).await;
            assert!(matches!(refused, Err(ServiceError::Invalid(_))), "{refused:?}");
        }
        assert!(world.service.list(&admin()).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn only_district_admins_manage_imports() {
        let world = World::new().await;
        let school_admin = Principal { roles: vec![Role::SchoolAdmin], ..admin() };
        let refused = world.service.create(&school_admin, mapped("sis")).await;
        assert!(matches!(refused, Err(ServiceError::Forbidden(_))), "{refused:?}");
        let missing = world.service.get(&admin(), "sis").await;
        assert!(matches!(missing, Err(ServiceError::NotFound(_))), "{missing:?}");
    }

    #[tokio::test]
    async fn an_upload_records_the_file_and_runs_only_imports_that_run_on_upload() {
        let world = World::new().await;
        world.service.create(&admin(), mapped("manual")).await.unwrap();
        let (definition, run) =
            world.service.upload(&admin(), "manual", "../Roster 2026.csv", Bytes::from_static(b"x")).await.unwrap();
        assert!(run.is_none() && definition.file_date.is_some());
        let key = definition.file_key.unwrap();
        assert!(key.starts_with("imports/d-1/manual/") && key.ends_with("-Roster_2026.csv"), "{key}");
        assert_eq!(parse_upload_key(&key), Some((district(), ImportId::parse("manual").unwrap())));
        world.service.create(&admin(), NewImport { trigger: ImportTrigger::OnUpload, ..mapped("auto") }).await.unwrap();
        let (_, run) = world.service.upload(&admin(), "auto", "r.csv", Bytes::from(World::FAMILIES)).await.unwrap();
        assert_eq!(run.map(|r| r.counts.students.added), Some(2));
    }

    #[test]
    fn parse_upload_key_reads_back_what_upload_key_wrote() {
        let (district, import) = (district(), ImportId::parse("sis").unwrap());
        let key = upload_key(&district, &import, "20260901T120000-roster.zip");
        assert_eq!(key, "imports/d-1/sis/20260901T120000-roster.zip");
        assert_eq!(parse_upload_key(&key), Some((district, import)));
    }

    #[test]
    fn keys_outside_an_imports_folder_are_not_uploads() {
        for key in ["imports/d-1/sis/", "imports/d-1/sis", "imports/d-1/sis/a/b.csv", "snapshots/d-1/sis/a.tsv", ""] {
            assert_eq!(parse_upload_key(key), None, "{key}");
        }
    }

    #[test]
    fn uploaded_file_names_keep_safe_characters_after_the_upload_time() {
        assert_eq!(sanitize_file_name("C:\\exports\\roster (1).csv", "T"), "T-roster__1_.csv");
        assert_eq!(sanitize_file_name("../../.hidden", "T"), "T-hidden");
        assert_eq!(sanitize_file_name("", "T"), "T-upload");
        assert_eq!(sanitize_file_name(&"a".repeat(300), "T").len(), 102);
    }

    #[test]
    fn counts_json_names_every_kind_with_its_counts() {
        let students = EntityCounts { added: 2, updated: 0, unchanged: 1, removed: 0 };
        let counts = RunCounts { students, ..RunCounts::default() };
        let json = counts_json(&counts);
        assert_eq!(json["students"], json!({"added": 2, "updated": 0, "unchanged": 1, "removed": 0}));
        let names: Vec<&String> = json.as_object().unwrap().keys().collect();
        assert_eq!(names.len(), 7);
    }
}
