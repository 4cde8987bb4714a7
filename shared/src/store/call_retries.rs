//! The scheduler's index of calls to place again: a line that was busy or
//! did not answer, with tries left, waits here until its next try is due.
//!
//! | item | pk | sk |
//! | --- | --- | --- |
//! | call to place again | `SYSTEM#CALL_RETRIES` | `due#d#b#voice:+1…#attempt` |
//!
//! Like the index of waiting broadcasts, it is one partition the
//! scheduler reads by due time; every entry names its district, so what it
//! queues stays within that district.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::StoreError;
use super::items::{query_all, record_from, record_item};
use crate::domain::{BroadcastId, DeliveryPoint, DistrictId};
use crate::ports::table::{Condition, Key, Query, SortKey, Table};

/// Partition of the index of calls to place again.
pub const CALL_RETRIES_PK: &str = "SYSTEM#CALL_RETRIES";

/// A call whose next try is due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueCall {
    /// The district.
    pub district: DistrictId,
    /// The broadcast.
    pub broadcast: BroadcastId,
    /// The call delivery.
    pub point: DeliveryPoint,
    /// The try to place (2 for the first retry).
    pub attempt: u32,
    /// The index entry, to remove once queued.
    #[serde(skip)]
    pub entry: String,
}

/// The index of calls to place again.
#[derive(Clone)]
pub struct CallRetryStore {
    table: Arc<dyn Table>,
}

impl CallRetryStore {
    /// The store over `table`.
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    /// Puts a call's next try in the index for `due`. Writing the same try
    /// again (a replayed event) leaves one entry per due time; the send
    /// step places a try once whatever the number of entries.
    pub async fn schedule(&self, call: &DueCall, due: DateTime<Utc>) -> Result<(), StoreError> {
        let entry = format!(
            "{}#{}#{}#{}#{}",
            due.format("%Y%m%dT%H%M%SZ"),
            call.district,
            call.broadcast,
            call.point.key(),
            call.attempt
        );
        Ok(self.table.put(record_item(CALL_RETRIES_PK.into(), entry, call)?, Condition::None).await?)
    }

    /// Calls whose next try is due at or before `now`.
    pub async fn due(&self, now: DateTime<Utc>) -> Result<Vec<DueCall>, StoreError> {
        let until = format!("{}~", now.format("%Y%m%dT%H%M%SZ"));
        let query = Query::partition(CALL_RETRIES_PK).sort(SortKey::Between("0".into(), until));
        query_all(self.table.as_ref(), query)
            .await?
            .into_iter()
            .map(|item| {
                let entry = item.get("sk").and_then(serde_json::Value::as_str).unwrap_or_default().to_string();
                Ok(DueCall { entry, ..record_from(item)? })
            })
            .collect()
    }

    /// Removes a queued entry.
    pub async fn remove(&self, entry: &str) -> Result<(), StoreError> {
        Ok(self.table.delete(&Key::new(CALL_RETRIES_PK, entry), Condition::None).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::local::EmbeddedTable;

    #[tokio::test]
    async fn a_call_to_place_again_is_due_at_its_time_and_gone_once_removed() -> Result<(), StoreError> {
        let store = CallRetryStore::new(Arc::new(EmbeddedTable::in_memory().map_err(StoreError::from)?));
        let now = DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::days(20_000);
        let call = DueCall {
            district: DistrictId::parse("d-1").map_err(StoreError::corrupt)?,
            broadcast: BroadcastId::parse("b-1").map_err(StoreError::corrupt)?,
            point: DeliveryPoint::parse("voice:+16175550111").map_err(StoreError::corrupt)?,
            attempt: 2,
            entry: String::new(),
        };
        store.schedule(&call, now + chrono::Duration::minutes(5)).await?;
        assert!(store.due(now).await?.is_empty(), "not yet");
        let due = store.due(now + chrono::Duration::minutes(5)).await?;
        assert_eq!(due.len(), 1);
        assert_eq!((&due[0].point, due[0].attempt), (&call.point, 2));
        store.remove(&due[0].entry).await?;
        assert!(store.due(now + chrono::Duration::hours(1)).await?.is_empty());
        Ok(())
    }
}
