//! Import definitions and their runs, with the two items that keep a file
//! from being applied twice at once or twice in all: the import's lease
//! (one run at a time) and, per file, the run that took it.

use std::sync::Arc;

use super::StoreError;
use super::items::{get_record, query_all, record_from, record_item};
use super::keys::{import_runs_pk, imports_pk};
use crate::domain::{DistrictId, FileRun, ImportDefinition, ImportId, ImportLease, ImportRun};
use crate::ports::table::{Condition, Key, Query, SortKey, Table, TableError};

/// Sort key of an import's lease, in its runs' partition.
const LEASE_SK: &str = "#LEASE";
/// Sort-key prefix of the run that took a file, in the runs' partition.
const FILE_SK_PREFIX: &str = "FILE#";

/// A file's item sort key: a hash of its key, so any key fits a sort key.
fn file_sk(file_key: &str) -> String {
    format!("{FILE_SK_PREFIX}{}", crate::domain::file_hash(file_key.as_bytes()))
}

/// Partition of the scheduler's index of scheduled imports.
pub const SCHEDULES_PK: &str = "SYSTEM#SCHEDULED_IMPORTS";

/// Reads and writes import definitions and runs.
#[derive(Clone)]
pub struct ImportStore {
    table: Arc<dyn Table>,
}

impl ImportStore {
    /// A store over the table.
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    /// Creates a definition; `AlreadyExists` if the name is taken.
    pub async fn create(&self, district: &DistrictId, definition: &ImportDefinition) -> Result<(), StoreError> {
        let item = record_item(imports_pk(district), definition.id.to_string(), definition)?;
        match self.table.put(item, Condition::NotExists).await {
            Err(TableError::ConditionFailed { .. }) => Err(StoreError::AlreadyExists),
            other => Ok(other?),
        }
    }

    /// Replaces a definition (file date, last run, status ...).
    pub async fn save(&self, district: &DistrictId, definition: &ImportDefinition) -> Result<(), StoreError> {
        let item = record_item(imports_pk(district), definition.id.to_string(), definition)?;
        Ok(self.table.put(item, Condition::None).await?)
    }

    /// A definition by id.
    pub async fn get(&self, district: &DistrictId, id: &ImportId) -> Result<Option<ImportDefinition>, StoreError> {
        get_record(self.table.as_ref(), &Key::new(imports_pk(district), id.as_str())).await
    }

    /// Every definition of the district, by name.
    pub async fn list(&self, district: &DistrictId) -> Result<Vec<ImportDefinition>, StoreError> {
        query_all(self.table.as_ref(), Query::partition(imports_pk(district)))
            .await?
            .into_iter()
            .map(record_from)
            .collect()
    }

    /// Deletes a definition and its run history.
    pub async fn delete(&self, district: &DistrictId, id: &ImportId) -> Result<(), StoreError> {
        loop {
            let page = self.table.query(&Query::partition(import_runs_pk(district, id)).limit(25)).await?;
            if page.items.is_empty() {
                break;
            }
            let keys = page.items.iter().map(Key::of).collect::<Result<Vec<_>, _>>()?;
            self.table.batch_write(keys.into_iter().map(crate::ports::table::BatchOp::Delete).collect()).await?;
        }
        Ok(self.table.delete(&Key::new(imports_pk(district), id.as_str()), Condition::None).await?)
    }

    /// Lists a scheduled import in the scheduler's index. This index is the
    /// one partition not under a district: the scheduler must find every
    /// district's scheduled imports without a scan.
    pub async fn add_schedule(&self, district: &DistrictId, import: &ImportId) -> Result<(), StoreError> {
        let item = record_item(
            SCHEDULES_PK.into(),
            format!("{district}#{import}"),
            &serde_json::json!({"district": district, "import": import}),
        )?;
        Ok(self.table.put(item, Condition::None).await?)
    }

    /// Takes an import out of the scheduler's index.
    pub async fn remove_schedule(&self, district: &DistrictId, import: &ImportId) -> Result<(), StoreError> {
        Ok(self.table.delete(&Key::new(SCHEDULES_PK, format!("{district}#{import}")), Condition::None).await?)
    }

    /// Every scheduled import of every district.
    pub async fn scheduled(&self) -> Result<Vec<(DistrictId, ImportId)>, StoreError> {
        #[derive(serde::Deserialize)]
        struct Entry {
            district: DistrictId,
            import: ImportId,
        }
        let items = query_all(self.table.as_ref(), Query::partition(SCHEDULES_PK)).await?;
        items.into_iter().map(|item| record_from::<Entry>(item).map(|e| (e.district, e.import))).collect()
    }

    /// Records (or updates) a run.
    pub async fn save_run(&self, district: &DistrictId, run: &ImportRun) -> Result<(), StoreError> {
        let item = record_item(import_runs_pk(district, &run.import), format!("RUN#{}", run.id), run)?;
        Ok(self.table.put(item, Condition::None).await?)
    }

    /// A run by id.
    pub async fn get_run(
        &self,
        district: &DistrictId,
        import: &ImportId,
        run: &str,
    ) -> Result<Option<ImportRun>, StoreError> {
        self.table
            .get(&Key::new(import_runs_pk(district, import), format!("RUN#{run}")))
            .await?
            .map(record_from)
            .transpose()
    }

    /// The newest runs first, at most `limit`.
    pub async fn runs(
        &self,
        district: &DistrictId,
        import: &ImportId,
        limit: u32,
    ) -> Result<Vec<ImportRun>, StoreError> {
        let query = Query::partition(import_runs_pk(district, import))
            .sort(SortKey::BeginsWith("RUN#".into()))
            .descending()
            .limit(limit.clamp(1, 1000));
        self.table.query(&query).await?.items.into_iter().map(record_from).collect()
    }

    /// The import's lease, if a run holds one (or held one and died).
    pub async fn lease(&self, district: &DistrictId, import: &ImportId) -> Result<Option<ImportLease>, StoreError> {
        get_record(self.table.as_ref(), &Key::new(import_runs_pk(district, import), LEASE_SK)).await
    }

    /// Takes the import's lease, when there is none (`replacing` is `None`)
    /// or over a lapsed one, exactly as it was read. `Conflict` when another
    /// run took it, or its holder renewed it, first.
    pub async fn take_lease(
        &self,
        district: &DistrictId,
        import: &ImportId,
        lease: &ImportLease,
        replacing: Option<&ImportLease>,
    ) -> Result<(), StoreError> {
        let condition = match replacing {
            None => Condition::NotExists,
            Some(old) => Condition::AttributeEquals(
                "until".into(),
                serde_json::to_value(old.until).map_err(StoreError::corrupt)?,
            ),
        };
        self.put_lease(district, import, lease, condition).await
    }

    /// Renews the holder's lease; `Conflict` when it is no longer theirs
    /// (it lapsed and another run took it over).
    pub async fn renew_lease(
        &self,
        district: &DistrictId,
        import: &ImportId,
        lease: &ImportLease,
    ) -> Result<(), StoreError> {
        let condition = Condition::AttributeEquals("holder".into(), lease.holder.clone().into());
        self.put_lease(district, import, lease, condition).await
    }

    async fn put_lease(
        &self,
        district: &DistrictId,
        import: &ImportId,
        lease: &ImportLease,
        condition: Condition,
    ) -> Result<(), StoreError> {
        let item = record_item(import_runs_pk(district, import), LEASE_SK.into(), lease)?;
        match self.table.put(item, condition).await {
            Err(TableError::ConditionFailed { .. }) => Err(StoreError::Conflict),
            other => Ok(other?),
        }
    }

    /// Lets the lease go if `holder` still has it (a lease another run took
    /// over is that run's).
    pub async fn release_lease(
        &self,
        district: &DistrictId,
        import: &ImportId,
        holder: &str,
    ) -> Result<(), StoreError> {
        let condition = Condition::AttributeEquals("holder".into(), holder.into());
        match self.table.delete(&Key::new(import_runs_pk(district, import), LEASE_SK), condition).await {
            Err(TableError::ConditionFailed { .. }) => Ok(()),
            other => Ok(other?),
        }
    }

    /// The run that took the file at this key, if one did.
    pub async fn file_run(
        &self,
        district: &DistrictId,
        import: &ImportId,
        file_key: &str,
    ) -> Result<Option<FileRun>, StoreError> {
        let found = self.table.get(&Key::new(import_runs_pk(district, import), file_sk(file_key))).await?;
        Ok(found.map(record_from::<FileRun>).transpose()?.filter(|taken| taken.file_key == file_key))
    }

    /// Records which run took a file.
    pub async fn save_file_run(
        &self,
        district: &DistrictId,
        import: &ImportId,
        taken: &FileRun,
    ) -> Result<(), StoreError> {
        let item = record_item(import_runs_pk(district, import), file_sk(&taken.file_key), taken)?;
        Ok(self.table.put(item, Condition::None).await?)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Duration, Utc};

    use super::*;
    use crate::adapters::local::EmbeddedTable;

    fn store() -> (ImportStore, DistrictId, ImportId) {
        let store = ImportStore::new(Arc::new(EmbeddedTable::in_memory().unwrap()));
        (store, DistrictId::parse("d-1").unwrap(), ImportId::parse("sis").unwrap())
    }

    fn now() -> DateTime<Utc> {
        DateTime::UNIX_EPOCH + Duration::days(20_000)
    }

    #[tokio::test]
    async fn a_lease_is_taken_once_and_taken_over_only_as_it_was_read() {
        let (store, district, import) = store();
        let first = ImportLease::new("run-1", "imports/d-1/sis/a.csv", now());
        store.take_lease(&district, &import, &first, None).await.unwrap();
        let second = ImportLease::new("run-2", "imports/d-1/sis/b.csv", now());
        let refused = store.take_lease(&district, &import, &second, None).await;
        assert!(matches!(refused, Err(StoreError::Conflict)), "{refused:?}");
        // run-1 renews before run-2 acts on what it read: the takeover fails.
        store.renew_lease(&district, &import, &first.renewed(now() + Duration::minutes(5))).await.unwrap();
        let stale = store.take_lease(&district, &import, &second, Some(&first)).await;
        assert!(matches!(stale, Err(StoreError::Conflict)), "{stale:?}");
        let current = store.lease(&district, &import).await.unwrap().unwrap();
        store.take_lease(&district, &import, &second, Some(&current)).await.unwrap();
        let lost = store.renew_lease(&district, &import, &first).await;
        assert!(matches!(lost, Err(StoreError::Conflict)), "a lease taken over is no longer run-1's");
        store.release_lease(&district, &import, "run-1").await.unwrap();
        assert_eq!(store.lease(&district, &import).await.unwrap(), Some(second), "only its holder lets it go");
        store.release_lease(&district, &import, "run-2").await.unwrap();
        assert_eq!(store.lease(&district, &import).await.unwrap(), None);
    }

    #[tokio::test]
    async fn the_run_that_took_a_file_is_found_by_the_file_key() {
        let (store, district, import) = store();
        let taken = FileRun { file_key: "imports/d-1/sis/a.csv".into(), file_hash: "00ff".into(), run: "run-1".into() };
        store.save_file_run(&district, &import, &taken).await.unwrap();
        assert_eq!(store.file_run(&district, &import, "imports/d-1/sis/a.csv").await.unwrap(), Some(taken));
        assert_eq!(store.file_run(&district, &import, "imports/d-1/sis/b.csv").await.unwrap(), None);
        assert!(store.runs(&district, &import, 10).await.unwrap().is_empty(), "these items are not runs");
    }
}
