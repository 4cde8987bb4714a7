//! Broadcasts, their deliveries, plan checkpoints, the scheduler's index of
//! broadcasts waiting for a time, and district settings.
//!
//! | item | pk | sk | gsi1 (pk / sk) |
//! | --- | --- | --- | --- |
//! | broadcast | `D#d#B#id` | `#BROADCAST` | |
//! | delivery | `D#d#B#id` | `DLV#point` (`DLV#sms:+1…`, `DLV#email:a@b`, `DLV#person:id`) | `MSG#provider-id` / `D#d#B#id` (once sent) |
//! | list of the audience, as accepted | `D#d#B#id` | `AUDIENCE#list-id` | |
//! | plan checkpoint | `D#d#B#id` | `CHUNK#00000042` | |
//! | send claim of a chunk | `D#d#B#id` | `SEND#00000042` | |
//! | broadcast of a district | `D#d#BROADCASTS` | `created_at#id` | |
//! | waiting broadcast | `SYSTEM#SCHEDULED_BROADCASTS` | `due#d#id` | |
//! | district settings | `D#d#SETTINGS` | `#SETTINGS` | |
//! | district of a sending number | `SYSTEM#SMS_NUMBERS` | `+1…` | |
//!
//! The delivery key is the dedupe: one record per point per broadcast;
//! the plan puts each point in exactly one chunk, and a chunk is claimed
//! with a conditional put before its provider calls. The
//! provider-message index is the one key that does not start with the
//! district: receipts arrive by provider id alone (ids are unique per
//! provider), and the item they find names its district.

mod deliveries;
mod schedule;

use std::sync::Arc;

pub use deliveries::DeliveryPage;
pub use schedule::{DueBroadcast, SCHEDULED_BROADCASTS_PK};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::StoreError;
use super::items::{get_record, query_all, query_records, record_from, record_item, record_text};
use crate::domain::{Broadcast, BroadcastId, DeliveryPoint, DistrictId, DistrictSettings, RecipientList};
use crate::ports::table::{BatchOp, Condition, ItemText, Key, Query, SortKey, Table, TableError, WriteOp};

/// Sort key of a broadcast's own item.
const BROADCAST_SK: &str = "#BROADCAST";
/// Sort-key prefix of a broadcast's deliveries.
pub const DELIVERY_SK_PREFIX: &str = "DLV#";
const CHUNK_SK_PREFIX: &str = "CHUNK#";
const AUDIENCE_SK_PREFIX: &str = "AUDIENCE#";
const SETTINGS_SK: &str = "#SETTINGS";
const SEND_SK_PREFIX: &str = "SEND#";

/// Where sending a chunk is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChunkState {
    /// A worker holds it (until its lease runs out).
    Sending,
    /// Left with retryable failures: the next delivery of the task takes it at once.
    Retry,
    /// Every message is recorded.
    Done,
}

/// A send worker's claim on one chunk of a broadcast: the one conditional
/// write that keeps two deliveries of a send task from sending twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkClaim {
    /// The chunk's number within the plan.
    pub chunk: u64,
    /// Where it is.
    pub state: ChunkState,
    /// When this claim was taken (the lease runs from here).
    pub claimed_at: DateTime<Utc>,
    /// Claims taken so far (1 on the first).
    pub attempts: u32,
}

/// A broadcast's entry in the district's listing, newest first.
#[derive(Serialize)]
struct Listed<'a> {
    id: &'a BroadcastId,
    kind: crate::domain::BroadcastKind,
    created_by: &'a str,
}

/// A planned chunk's checkpoint: the first and last point it holds.
#[derive(Serialize)]
struct ChunkRange {
    first: String,
    last: String,
}

/// Partition of a broadcast and its deliveries.
pub fn broadcast_pk(district: &DistrictId, broadcast: &BroadcastId) -> String {
    format!("D#{district}#B#{broadcast}")
}

/// Reads and writes broadcasts and deliveries.
#[derive(Clone)]
pub struct BroadcastStore {
    table: Arc<dyn Table>,
}

impl BroadcastStore {
    /// A store over the table.
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    /// Creates the broadcast and its entry in the district's list, at once.
    pub async fn create(&self, district: &DistrictId, broadcast: &Broadcast) -> Result<(), StoreError> {
        self.create_with_lists(district, broadcast, &[]).await
    }

    /// Creates the broadcast with the definitions of its audience's lists
    /// as they are now (what fan-out resolves, whatever happens to the
    /// lists later), all in one transaction: at most
    /// [`crate::domain::MAX_AUDIENCE_LISTS`] lists.
    pub async fn create_with_lists(
        &self,
        district: &DistrictId,
        broadcast: &Broadcast,
        lists: &[RecipientList],
    ) -> Result<(), StoreError> {
        match self.table.transact_write(self.create_ops(district, broadcast, lists)?).await {
            Err(TableError::ConditionFailed { .. }) => Err(StoreError::AlreadyExists),
            other => Ok(other?),
        }
    }

    /// The writes of [`Self::create_with_lists`], for a caller's own
    /// transaction (the broadcast's item is conditional on its absence).
    pub fn create_ops(
        &self,
        district: &DistrictId,
        broadcast: &Broadcast,
        lists: &[RecipientList],
    ) -> Result<Vec<WriteOp>, StoreError> {
        let pk = broadcast_pk(district, &broadcast.id);
        let item = Self::broadcast_item(district, broadcast)?;
        let listed = record_text(
            Key::new(
                format!("D#{district}#BROADCASTS"),
                format!("{}#{}", broadcast.created_at.format("%Y%m%dT%H%M%S%.6fZ"), broadcast.id),
            ),
            &Listed { id: &broadcast.id, kind: broadcast.kind, created_by: &broadcast.created_by },
        )?;
        let mut ops = vec![
            WriteOp::PutText { item, condition: Condition::NotExists },
            WriteOp::PutText { item: listed, condition: Condition::None },
        ];
        for list in lists {
            let kept = record_item(pk.clone(), format!("{AUDIENCE_SK_PREFIX}{}", list.id), list)?;
            ops.push(WriteOp::Put { item: kept, condition: Condition::None });
        }
        Ok(ops)
    }

    /// The audience's lists as they were when the broadcast was accepted.
    pub async fn audience_lists(
        &self,
        district: &DistrictId,
        id: &BroadcastId,
    ) -> Result<Vec<RecipientList>, StoreError> {
        let query = Query::partition(broadcast_pk(district, id)).sort(SortKey::BeginsWith(AUDIENCE_SK_PREFIX.into()));
        query_records(self.table.as_ref(), query).await
    }

    /// A broadcast by id.
    pub async fn get(&self, district: &DistrictId, id: &BroadcastId) -> Result<Option<Broadcast>, StoreError> {
        get_record(self.table.as_ref(), &Key::new(broadcast_pk(district, id), BROADCAST_SK)).await
    }

    /// Replaces the broadcast's item (state, plan summary).
    pub async fn save(&self, district: &DistrictId, broadcast: &Broadcast) -> Result<(), StoreError> {
        let item = Self::broadcast_item(district, broadcast)?;
        Ok(self.table.put_text(item, Condition::Exists).await?)
    }

    /// Ids of the district's broadcasts, newest first, at most `limit`.
    pub async fn recent(&self, district: &DistrictId, limit: u32) -> Result<Vec<BroadcastId>, StoreError> {
        let query = Query::partition(format!("D#{district}#BROADCASTS")).descending().limit(limit);
        self.table
            .query(&query)
            .await?
            .items
            .iter()
            .map(|item| {
                BroadcastId::parse(item.get("id").and_then(Value::as_str).unwrap_or_default())
                    .map_err(StoreError::corrupt)
            })
            .collect()
    }

    /// Chunks already queued by an earlier run of the plan, each with the
    /// first and last point it holds.
    pub async fn planned_chunks(
        &self,
        district: &DistrictId,
        id: &BroadcastId,
    ) -> Result<std::collections::BTreeMap<u64, (DeliveryPoint, DeliveryPoint)>, StoreError> {
        let query = Query::partition(broadcast_pk(district, id)).sort(SortKey::BeginsWith(CHUNK_SK_PREFIX.into()));
        let mut chunks = std::collections::BTreeMap::new();
        for item in query_all(self.table.as_ref(), query).await? {
            let text = |name: &str| item.get(name).and_then(Value::as_str).unwrap_or_default().to_string();
            let number = text("sk").strip_prefix(CHUNK_SK_PREFIX).and_then(|n| n.parse().ok());
            if let Some(number) = number {
                let point = |name: &str| DeliveryPoint::parse(&text(name)).map_err(StoreError::corrupt);
                chunks.insert(number, (point("first")?, point("last")?));
            }
        }
        Ok(chunks)
    }

    /// Records chunks as queued (the plan's checkpoints): number, first and last point.
    pub async fn checkpoint_chunks(
        &self,
        district: &DistrictId,
        id: &BroadcastId,
        chunks: &[(u64, DeliveryPoint, DeliveryPoint)],
    ) -> Result<(), StoreError> {
        Ok(self.table.batch_write(Self::checkpoint_ops(district, id, chunks)?).await?)
    }

    /// Records the plan's last chunks as queued, then replaces the
    /// broadcast's item (see [`Table::write_then`]): a broadcast saved as
    /// planned always has its chunks' checkpoints.
    pub async fn checkpoint_then_save(
        &self,
        district: &DistrictId,
        broadcast: &Broadcast,
        chunks: &[(u64, DeliveryPoint, DeliveryPoint)],
    ) -> Result<(), StoreError> {
        let ops = Self::checkpoint_ops(district, &broadcast.id, chunks)?;
        let item = Self::broadcast_item(district, broadcast)?;
        Ok(self.table.write_then(ops, WriteOp::PutText { item, condition: Condition::Exists }).await?)
    }

    fn checkpoint_ops(
        district: &DistrictId,
        id: &BroadcastId,
        chunks: &[(u64, DeliveryPoint, DeliveryPoint)],
    ) -> Result<Vec<BatchOp>, StoreError> {
        chunks
            .iter()
            .map(|(n, first, last)| {
                let key = Key::new(broadcast_pk(district, id), format!("{CHUNK_SK_PREFIX}{n:08}"));
                Ok(BatchOp::PutText(record_text(key, &ChunkRange { first: first.key(), last: last.key() })?))
            })
            .collect()
    }

    /// Claims a send chunk for this worker (see [`ChunkClaim`]); `previous`
    /// is the claim as read when taking one over. `Ok(false)` when another
    /// worker claimed or changed it first.
    pub async fn claim_chunk(
        &self,
        district: &DistrictId,
        id: &BroadcastId,
        claim: &ChunkClaim,
        previous: Option<&ChunkClaim>,
    ) -> Result<bool, StoreError> {
        let condition = match previous {
            None => Condition::NotExists,
            Some(previous) => Condition::AttributeEquals(
                "claimed_at".into(),
                serde_json::to_value(previous.claimed_at).map_err(StoreError::corrupt)?,
            ),
        };
        match self.table.put_text(Self::claim_item(district, id, claim)?, condition).await {
            Ok(()) => Ok(true),
            Err(TableError::ConditionFailed { .. }) => Ok(false),
            Err(other) => Err(other.into()),
        }
    }

    fn broadcast_item(district: &DistrictId, broadcast: &Broadcast) -> Result<ItemText, StoreError> {
        record_text(Key::new(broadcast_pk(district, &broadcast.id), BROADCAST_SK), broadcast)
    }

    fn claim_item(district: &DistrictId, id: &BroadcastId, claim: &ChunkClaim) -> Result<ItemText, StoreError> {
        record_text(Key::new(broadcast_pk(district, id), format!("{SEND_SK_PREFIX}{:08}", claim.chunk)), claim)
    }

    /// A chunk's claim, if any worker ever claimed it.
    pub async fn chunk_claim(
        &self,
        district: &DistrictId,
        id: &BroadcastId,
        chunk: u64,
    ) -> Result<Option<ChunkClaim>, StoreError> {
        let key = Key::new(broadcast_pk(district, id), format!("{SEND_SK_PREFIX}{chunk:08}"));
        get_record(self.table.as_ref(), &key).await
    }

    /// The district's settings (defaults when none were saved).
    pub async fn settings(&self, district: &DistrictId) -> Result<DistrictSettings, StoreError> {
        match self.table.get(&Key::new(format!("D#{district}#SETTINGS"), SETTINGS_SK)).await? {
            Some(mut item) => {
                // The settings type refuses unknown fields (it is also the API's input).
                item.remove("pk");
                item.remove("sk");
                record_from(item)
            }
            None => Ok(DistrictSettings::default()),
        }
    }

    /// Replaces the district's settings. Sending numbers are not part of
    /// what is stored: the operator assigns them (`SendingNumberStore`).
    pub async fn save_settings(&self, district: &DistrictId, settings: &DistrictSettings) -> Result<(), StoreError> {
        Ok(self.table.transact_write(vec![self.settings_op(district, settings)?]).await?)
    }

    /// The write of the district's settings, for a transaction that also
    /// records what changed.
    pub fn settings_op(&self, district: &DistrictId, settings: &DistrictSettings) -> Result<WriteOp, StoreError> {
        let stored = DistrictSettings { sms_numbers: Vec::new(), ..settings.clone() };
        let item = record_item(format!("D#{district}#SETTINGS"), SETTINGS_SK.into(), &stored)?;
        Ok(WriteOp::Put { item, condition: Condition::None })
    }
}
