//! The scheduler's index of broadcasts waiting for a time (`send_at`, or
//! the end of quiet hours): one partition read by due time; every entry
//! names its district.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::BroadcastStore;
use crate::domain::{BroadcastId, DistrictId};
use crate::ports::table::{BatchOp, Condition, ItemText, Key, Query, SortKey, WriteOp};
use crate::store::StoreError;
use crate::store::items::{query_all, record_text};

/// Partition of the scheduler's index of broadcasts waiting for a time.
pub const SCHEDULED_BROADCASTS_PK: &str = "SYSTEM#SCHEDULED_BROADCASTS";

/// A schedule entry's record: whose broadcast it is.
#[derive(serde::Serialize)]
struct ScheduleEntry<'a> {
    district: &'a DistrictId,
    broadcast: &'a BroadcastId,
}

/// A broadcast waiting for its time.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)] // fields named for what they hold
pub struct DueBroadcast {
    pub district: DistrictId,
    pub broadcast: BroadcastId,
    /// The index entry, to remove once handled.
    pub entry: String,
}

impl BroadcastStore {
    /// Puts the broadcast in the scheduler's index for `due`.
    pub async fn schedule(
        &self,
        district: &DistrictId,
        id: &BroadcastId,
        due: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        Ok(self.table.put_text(Self::schedule_item(district, id, due)?, Condition::None).await?)
    }

    /// The write of a schedule entry, for a caller's own transaction.
    pub fn schedule_op(
        &self,
        district: &DistrictId,
        id: &BroadcastId,
        due: DateTime<Utc>,
    ) -> Result<WriteOp, StoreError> {
        Ok(WriteOp::PutText { item: Self::schedule_item(district, id, due)?, condition: Condition::None })
    }

    fn schedule_item(district: &DistrictId, id: &BroadcastId, due: DateTime<Utc>) -> Result<ItemText, StoreError> {
        let entry = format!("{}#{district}#{id}", due.format("%Y%m%dT%H%M%SZ"));
        record_text(Key::new(SCHEDULED_BROADCASTS_PK, entry), &ScheduleEntry { district, broadcast: id })
    }

    /// The entry [`Self::schedule`] writes for `due`, to remove it once handled another way.
    pub fn schedule_entry(district: &DistrictId, id: &BroadcastId, due: DateTime<Utc>) -> String {
        format!("{}#{district}#{id}", due.format("%Y%m%dT%H%M%SZ"))
    }

    /// Broadcasts whose time has come (due at or before `now`).
    pub async fn due(&self, now: DateTime<Utc>) -> Result<Vec<DueBroadcast>, StoreError> {
        let until = format!("{}~", now.format("%Y%m%dT%H%M%SZ"));
        let query = Query::partition(SCHEDULED_BROADCASTS_PK).sort(SortKey::Between("0".into(), until));
        query_all(self.table.as_ref(), query)
            .await?
            .into_iter()
            .map(|item| {
                let entry = item.get("sk").and_then(Value::as_str).unwrap_or_default().to_string();
                let text = |name: &str| item.get(name).and_then(Value::as_str).unwrap_or_default().to_string();
                Ok(DueBroadcast {
                    district: DistrictId::parse(text("district")).map_err(StoreError::corrupt)?,
                    broadcast: BroadcastId::parse(text("broadcast")).map_err(StoreError::corrupt)?,
                    entry,
                })
            })
            .collect()
    }

    /// Removes a handled index entry.
    pub async fn unschedule(&self, entry: &str) -> Result<(), StoreError> {
        Ok(self.table.delete(&Key::new(SCHEDULED_BROADCASTS_PK, entry), Condition::None).await?)
    }

    /// Removes many entries (those whose plans were queued) in one batch write.
    pub async fn unschedule_all(&self, entries: &[String]) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        let ops = entries.iter().map(|entry| BatchOp::Delete(Key::new(SCHEDULED_BROADCASTS_PK, entry))).collect();
        Ok(self.table.batch_write(ops).await?)
    }
}
