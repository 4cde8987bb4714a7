//! Preference records and their audit trail, in the person's partition:
//! `PREFS` (every explicit setting, versioned) and `PREFLOG#<time>#<id>`
//! (one item per change set: what changed, from what, by whom).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::StoreError;
use super::items::{get_record, record_item};
use super::keys::person_pk;
use crate::domain::{
    Channel, ConsentChange, ContactReason, DistrictId, PersonId, PreferenceDefaults, PreferenceRecord, PreferenceSource,
};
use crate::ports::table::{Condition, Key, MAX_TRANSACTION_OPS, Query, SortKey, Table, TableError, WriteOp};

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
    /// What happened to the recorded text consent, if anything (entries
    /// written before consent was audited have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_consent: Option<ConsentChange>,
}

/// People whose records one [`PreferenceStore::save_all`] writes (two
/// items each, within a DynamoDB transaction's 100).
pub const MAX_GROUP_WRITES: usize = MAX_TRANSACTION_OPS / 2;

/// One person's new record version and the audit entry that says what changed.
#[derive(Debug, Clone, Copy)]
pub struct PreferenceWrite<'a> {
    /// Whose.
    pub person: &'a PersonId,
    /// The new version (`version` one past the version read).
    pub record: &'a PreferenceRecord,
    /// The audit entry.
    pub change: &'a PreferenceChange,
    /// Makes the audit entry's key unique.
    pub change_id: &'a str,
}

/// What a group save did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupSave {
    /// Every record and audit entry is written.
    Saved,
    /// Nothing is written: the record of this write (its index; `None`
    /// when the table does not say which) changed since it was read.
    Changed(Option<usize>),
}

/// Reads and writes preference records.
#[derive(Clone)]
pub struct PreferenceStore {
    table: Arc<dyn Table>,
}

impl PreferenceStore {
    /// A store over the table.
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    /// The person's record (empty when nothing was ever set).
    pub async fn get(&self, district: &DistrictId, person: &PersonId) -> Result<PreferenceRecord, StoreError> {
        let stored = get_record(self.table.as_ref(), &Key::new(person_pk(district, person), PREFS_SK)).await?;
        Ok(stored.unwrap_or_default())
    }

    /// The district's own defaults, if its admin set them.
    pub async fn defaults(&self, district: &DistrictId) -> Result<Option<PreferenceDefaults>, StoreError> {
        get_record(self.table.as_ref(), &Key::new(settings_pk(district), DEFAULTS_SK)).await
    }

    /// Replaces the district's defaults.
    pub async fn set_defaults(&self, district: &DistrictId, defaults: &PreferenceDefaults) -> Result<(), StoreError> {
        Ok(self.table.put(record_item(settings_pk(district), DEFAULTS_SK.into(), defaults)?, Condition::None).await?)
    }

    /// The transaction operations of a new record version and its audit
    /// entry: the record only if it still holds the version it was read at
    /// (`record.version - 1`; none stored for version 1).
    fn versioned_ops(district: &DistrictId, write: &PreferenceWrite<'_>) -> Result<[WriteOp; 2], StoreError> {
        let pk = person_pk(district, write.person);
        let change = write.change;
        let log_sk = format!("{PREFLOG_SK_PREFIX}{}#{}", change.at.format("%Y%m%dT%H%M%S%.6fZ"), write.change_id);
        let condition = match write.record.version {
            0 | 1 => Condition::NotExists,
            v => Condition::AttributeEquals("version".into(), Value::from(v - 1)),
        };
        Ok([
            WriteOp::Put { item: record_item(pk.clone(), PREFS_SK.into(), write.record)?, condition },
            WriteOp::Put { item: record_item(pk, log_sk, change)?, condition: Condition::None },
        ])
    }

    /// Saves a record written from version `record.version - 1`, with its
    /// audit entry, all or nothing. `Conflict` means someone else wrote in
    /// between: read again and retry.
    pub async fn save(
        &self,
        district: &DistrictId,
        person: &PersonId,
        record: &PreferenceRecord,
        change: &PreferenceChange,
        change_id: &str,
    ) -> Result<(), StoreError> {
        let write = PreferenceWrite { person, record, change, change_id };
        match self.save_all(district, &[write]).await? {
            GroupSave::Saved => Ok(()),
            GroupSave::Changed(_) => Err(StoreError::Conflict),
        }
    }

    /// Saves up to [`MAX_GROUP_WRITES`] people's records, each written from
    /// the version it was read at, with their audit entries, in one
    /// transaction: all or nothing. The batch tool writes this way so that
    /// a change someone made after its read is never overwritten unseen.
    pub async fn save_all(
        &self,
        district: &DistrictId,
        writes: &[PreferenceWrite<'_>],
    ) -> Result<GroupSave, StoreError> {
        if writes.len() > MAX_GROUP_WRITES {
            return Err(TableError::Validation(format!("at most {MAX_GROUP_WRITES} records in one save")).into());
        }
        let mut ops = Vec::with_capacity(writes.len() * 2);
        for write in writes {
            ops.extend(Self::versioned_ops(district, write)?);
        }
        if ops.is_empty() {
            return Ok(GroupSave::Saved);
        }
        match self.table.transact_write(ops).await {
            Ok(()) => Ok(GroupSave::Saved),
            Err(TableError::ConditionFailed { operation }) => Ok(GroupSave::Changed(operation.map(|op| op / 2))),
            Err(other) => Err(other.into()),
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::local::EmbeddedTable;

    fn person(id: &str) -> PersonId {
        PersonId::parse(id).unwrap()
    }

    fn change() -> PreferenceChange {
        PreferenceChange {
            at: DateTime::UNIX_EPOCH,
            by: "admin".into(),
            source: PreferenceSource::Batch,
            cells: vec![],
            text_consent: None,
        }
    }

    #[tokio::test]
    async fn a_group_save_with_one_stale_record_writes_nothing_and_names_it() -> Result<(), StoreError> {
        let store = PreferenceStore::new(Arc::new(EmbeddedTable::in_memory().unwrap()));
        let district = DistrictId::parse("d-1").unwrap();
        let (a, b) = (person("p-a"), person("p-b"));
        let first = PreferenceRecord { version: 1, ..PreferenceRecord::default() };
        store.save(&district, &b, &first, &change(), "1").await?;
        let next = PreferenceRecord { version: 1, ..PreferenceRecord::default() };
        let writes = [
            PreferenceWrite { person: &a, record: &next, change: &change(), change_id: "2" },
            PreferenceWrite { person: &b, record: &next, change: &change(), change_id: "3" },
        ];
        assert_eq!(store.save_all(&district, &writes).await?, GroupSave::Changed(Some(1)), "p-b is at version 1");
        assert_eq!(store.get(&district, &a).await?.version, 0, "nothing written");
        let second = PreferenceRecord { version: 2, ..PreferenceRecord::default() };
        let writes = [
            PreferenceWrite { person: &a, record: &next, change: &change(), change_id: "2" },
            PreferenceWrite { person: &b, record: &second, change: &change(), change_id: "3" },
        ];
        assert_eq!(store.save_all(&district, &writes).await?, GroupSave::Saved);
        assert_eq!((store.get(&district, &a).await?.version, store.get(&district, &b).await?.version), (1, 2));
        Ok(())
    }
}
