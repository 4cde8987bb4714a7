//! Import definitions and their runs.

use std::sync::Arc;

use super::StoreError;
use super::items::{query_all, record_from, record_item};
use super::keys::{import_runs_pk, imports_pk};
use crate::domain::{DistrictId, ImportDefinition, ImportId, ImportRun};
use crate::ports::table::{Condition, Key, Query, SortKey, Table, TableError};

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
        self.table.get(&Key::new(imports_pk(district), id.as_str())).await?.map(record_from).transpose()
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
}
