//! Preference records and their audit trail, in the person's partition:
//! `PREFS` (every explicit setting, versioned) and `PREFLOG#<time>#<id>`
//! (one item per change set: what changed, from what, by whom).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::StoreError;
use super::items::{record_from, record_item};
use super::keys::person_pk;
use crate::domain::{
    Channel, ContactReason, DistrictId, PersonId, PreferenceDefaults, PreferenceRecord, PreferenceSource,
};
use crate::ports::table::{BatchOp, Condition, Item, Key, Query, SortKey, Table, TableError};

/// Sort key of a person's preference record.
pub const PREFS_SK: &str = "PREFS";
/// Sort-key prefix of a person's preference audit trail.
pub const PREFLOG_SK_PREFIX: &str = "PREFLOG#";

/// Sort key of the district's preference defaults.
pub const DEFAULTS_SK: &str = "PREFERENCE_DEFAULTS";

/// Partition of a district's settings.
fn settings_pk(district: &DistrictId) -> String {
    format!("D#{district}#SETTINGS")
}

/// One changed cell in the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)] // fields named for what they hold
pub struct ChangedCell {
    pub channel: Channel,
    pub reason: ContactReason,
    /// The effective value before.
    pub from: bool,
    /// The value after.
    pub to: bool,
}

/// One change set in a person's audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreferenceChange {
    /// When.
    pub at: DateTime<Utc>,
    /// Who (user id).
    pub by: String,
    /// As what (self, admin, batch ...).
    pub source: PreferenceSource,
    /// The cells that changed.
    pub cells: Vec<ChangedCell>,
}

/// Reads and writes preference records.
#[derive(Clone)]
pub struct PreferenceStore {
    table: Arc<dyn Table>,
}

/// A record from its item (the `PREFS` item of a partition read).
pub fn record_from_item(item: Item) -> Result<PreferenceRecord, StoreError> {
    record_from(item)
}

impl PreferenceStore {
    /// A store over the table.
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    /// The person's record (empty when nothing was ever set).
    pub async fn get(&self, district: &DistrictId, person: &PersonId) -> Result<PreferenceRecord, StoreError> {
        match self.table.get(&Key::new(person_pk(district, person), PREFS_SK)).await? {
            Some(item) => record_from_item(item),
            None => Ok(PreferenceRecord::default()),
        }
    }

    /// The district's own defaults, if its admin set them.
    pub async fn defaults(&self, district: &DistrictId) -> Result<Option<PreferenceDefaults>, StoreError> {
        match self.table.get(&Key::new(settings_pk(district), DEFAULTS_SK)).await? {
            Some(item) => Ok(Some(serde_json::from_value(Value::Object(item)).map_err(StoreError::corrupt)?)),
            None => Ok(None),
        }
    }

    /// Replaces the district's defaults.
    pub async fn set_defaults(&self, district: &DistrictId, defaults: &PreferenceDefaults) -> Result<(), StoreError> {
        Ok(self.table.put(record_item(settings_pk(district), DEFAULTS_SK.into(), defaults)?, Condition::None).await?)
    }

    /// The write operations of a new record version and its audit entry.
    pub fn write_ops(
        district: &DistrictId,
        person: &PersonId,
        record: &PreferenceRecord,
        change: &PreferenceChange,
        change_id: &str,
    ) -> Result<[BatchOp; 2], StoreError> {
        let pk = person_pk(district, person);
        let log_sk = format!("{PREFLOG_SK_PREFIX}{}#{change_id}", change.at.format("%Y%m%dT%H%M%S%.6fZ"));
        Ok([
            BatchOp::Put(record_item(pk.clone(), PREFS_SK.into(), record)?),
            BatchOp::Put(record_item(pk, log_sk, change)?),
        ])
    }

    /// Saves a record written from version `record.version - 1`, with its
    /// audit entry, all or nothing. `AlreadyExists` means someone else wrote
    /// in between: read again and retry.
    pub async fn save(
        &self,
        district: &DistrictId,
        person: &PersonId,
        record: &PreferenceRecord,
        change: &PreferenceChange,
        change_id: &str,
    ) -> Result<(), StoreError> {
        let [BatchOp::Put(prefs), BatchOp::Put(log)] = Self::write_ops(district, person, record, change, change_id)?
        else {
            return Err(StoreError::corrupt("unexpected write operations"));
        };
        let condition = match record.version {
            0 | 1 => Condition::NotExists,
            v => Condition::AttributeEquals("version".into(), Value::from(v - 1)),
        };
        let ops = vec![
            crate::ports::WriteOp::Put { item: prefs, condition },
            crate::ports::WriteOp::Put { item: log, condition: Condition::None },
        ];
        match self.table.transact_write(ops).await {
            Err(TableError::ConditionFailed { .. }) => Err(StoreError::Conflict),
            other => Ok(other?),
        }
    }

    /// Writes many (record, audit) pairs without version checks (the batch tool).
    pub async fn save_many(&self, ops: Vec<BatchOp>) -> Result<(), StoreError> {
        Ok(self.table.batch_write(ops).await?)
    }

    /// The person's audit trail, newest first.
    pub async fn history(
        &self,
        district: &DistrictId,
        person: &PersonId,
        limit: u32,
    ) -> Result<Vec<PreferenceChange>, StoreError> {
        let query = Query::partition(person_pk(district, person))
            .sort(SortKey::BeginsWith(PREFLOG_SK_PREFIX.into()))
            .descending()
            .limit(limit.clamp(1, 500));
        let page = self.table.query(&query).await?;
        page.items
            .into_iter()
            .map(|item| serde_json::from_value(Value::Object(item)).map_err(StoreError::corrupt))
            .collect()
    }
}
