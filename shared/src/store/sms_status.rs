//! What carriers last said about each phone number of a district: the
//! number's SMS status with its history, and a sparse index of the numbers
//! whose status is not Ok (the contact clean-up list reads it, never a scan).
//!
//! | item | pk | sk | gsi2 |
//! | --- | --- | --- | --- |
//! | status | `D#d#NUM#+1…` | `STATUS` | `D#d#SMSSTATUS` → `status#+1…` (only when not Ok) |
//! | history | `D#d#NUM#+1…` | `HIST#time#id` | |

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::StoreError;
use crate::domain::{DistrictId, PhoneNumber, SmsStatus};
use crate::ports::table::{Condition, Index, Item, Key, Query, SortKey, Table, WriteOp};

/// How events from the person's own replies are named (`reply:STOP`,
/// `reply:START`): the only events that may lift an opt-out.
pub const REPLY_EVENT_PREFIX: &str = "reply:";

/// Sort key of a number's current status.
const STATUS_SK: &str = "STATUS";

/// A number's current SMS status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)] // fields named for what they hold
pub struct NumberStatus {
    pub number: PhoneNumber,
    /// What carriers last said.
    pub status: SmsStatus,
    /// When that event happened.
    pub last_event_at: DateTime<Utc>,
    /// What said it (`twilio:30006`, `reply:STOP` ...).
    pub last_event: String,
}

fn number_pk(district: &DistrictId, number: &PhoneNumber) -> String {
    format!("D#{district}#NUM#{}", number.as_e164())
}

/// Index partition of a district's numbers that are not Ok.
pub fn not_ok_pk(district: &DistrictId) -> String {
    format!("D#{district}#SMSSTATUS")
}

/// Writes a contact's current status item (with the not-Ok index entry
/// when `index` is given) and a history entry, with the operations of
/// `also` (the delivery the event is about), in one transaction that fails
/// if another event changed the status since `previous_at` was read.
/// Shared by the SMS and the email status stores.
pub(super) async fn write_status<T: Serialize>(
    table: &dyn Table,
    pk: String,
    event: &T,
    index: Option<(String, String)>,
    previous_at: Option<DateTime<Utc>>,
    (event_at, event_id): (DateTime<Utc>, &str),
    also: Vec<WriteOp>,
) -> Result<bool, StoreError> {
    let mut status = match serde_json::to_value(event).map_err(StoreError::corrupt)? {
        Value::Object(map) => map,
        _ => Item::new(),
    };
    status.insert("pk".into(), Value::String(pk));
    status.insert("sk".into(), Value::String(STATUS_SK.into()));
    let mut history = status.clone();
    if let Some((ipk, isk)) = index {
        let (pk_name, sk_name) = Index::Gsi2.key_attributes();
        status.insert(pk_name.into(), Value::String(ipk));
        status.insert(sk_name.into(), Value::String(isk));
    }
    history.insert("sk".into(), Value::String(format!("HIST#{}#{event_id}", event_at.format("%Y%m%dT%H%M%S%.6fZ"))));
    let condition = match previous_at {
        Some(previous) => Condition::AttributeEquals(
            "last_event_at".into(),
            serde_json::to_value(previous).map_err(StoreError::corrupt)?,
        ),
        None => Condition::NotExists,
    };
    let mut ops =
        vec![WriteOp::Put { item: status, condition }, WriteOp::Put { item: history, condition: Condition::None }];
    ops.extend(also);
    match table.transact_write(ops).await {
        Ok(()) => Ok(true),
        // Another event landed meanwhile; the caller retries (receipts are redelivered).
        Err(crate::ports::TableError::ConditionFailed { .. }) => Err(StoreError::Conflict),
        Err(other) => Err(other.into()),
    }
}

/// Reads and writes numbers' SMS statuses.
#[derive(Clone)]
pub struct SmsStatusStore {
    table: Arc<dyn Table>,
}

impl SmsStatusStore {
    /// A store over the table.
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    /// The number's status, if any event was ever recorded.
    pub async fn get(&self, district: &DistrictId, number: &PhoneNumber) -> Result<Option<NumberStatus>, StoreError> {
        self.table
            .get(&Key::new(number_pk(district, number), STATUS_SK))
            .await?
            .map(|item| serde_json::from_value(Value::Object(item)).map_err(StoreError::corrupt))
            .transpose()
    }

    /// The statuses of these numbers that are not Ok, in one batched read
    /// (a small plan's suppressions, instead of the district's whole index).
    pub async fn not_ok_of(
        &self,
        district: &DistrictId,
        numbers: &[PhoneNumber],
    ) -> Result<Vec<NumberStatus>, StoreError> {
        let keys: Vec<Key> = numbers.iter().map(|n| Key::new(number_pk(district, n), STATUS_SK)).collect();
        let mut out = Vec::new();
        for item in self.table.get_many(&keys).await?.into_iter().flatten() {
            let status: NumberStatus = serde_json::from_value(Value::Object(item)).map_err(StoreError::corrupt)?;
            if status.status != SmsStatus::Ok {
                out.push(status);
            }
        }
        Ok(out)
    }

    /// Which of these numbers are opted out now: one batched read of their
    /// status items (the send step asks right before a group of texts goes;
    /// DynamoDB reads 100 a request).
    pub async fn opted_out(
        &self,
        district: &DistrictId,
        numbers: &[PhoneNumber],
    ) -> Result<std::collections::HashSet<PhoneNumber>, StoreError> {
        if numbers.is_empty() {
            return Ok(std::collections::HashSet::new());
        }
        let keys: Vec<Key> = numbers.iter().map(|n| Key::new(number_pk(district, n), STATUS_SK)).collect();
        let mut out = std::collections::HashSet::new();
        for (number, item) in numbers.iter().zip(self.table.get_many(&keys).await?) {
            let Some(item) = item else { continue };
            let status: NumberStatus = serde_json::from_value(Value::Object(item)).map_err(StoreError::corrupt)?;
            if status.status == SmsStatus::OptOut {
                out.insert(number.clone());
            }
        }
        Ok(out)
    }

    /// Records an event's status for the number with a history entry.
    /// A carrier event older than the one on record changes nothing
    /// (receipts arrive out of order); the person's own reply (an event
    /// named `reply:…`, [`REPLY_EVENT_PREFIX`]) always applies, and nothing
    /// else lifts an opt-out. Answers whether the status was written.
    pub async fn record(
        &self,
        district: &DistrictId,
        event: &NumberStatus,
        event_id: &str,
    ) -> Result<bool, StoreError> {
        self.record_with(district, event, event_id, Vec::new()).await
    }

    /// [`Self::record`], committing `also` in the same transaction; when
    /// the status is not written, `also` is committed alone.
    pub async fn record_with(
        &self,
        district: &DistrictId,
        event: &NumberStatus,
        event_id: &str,
        also: Vec<WriteOp>,
    ) -> Result<bool, StoreError> {
        let skip = |also: Vec<WriteOp>| async move {
            if !also.is_empty() {
                self.table.transact_write(also).await?;
            }
            Ok(false)
        };
        let current = self.get(district, &event.number).await?;
        let from_person = event.last_event.starts_with(REPLY_EVENT_PREFIX);
        // The person's own word applies whenever it arrives; carrier events
        // older than the one on record change nothing.
        if !from_person && current.as_ref().is_some_and(|c| c.last_event_at > event.last_event_at) {
            return skip(also).await;
        }
        if current.as_ref().is_some_and(|c| !c.status.may_become(event.status, from_person)) {
            return skip(also).await;
        }
        let index = (event.status != SmsStatus::Ok)
            .then(|| (not_ok_pk(district), format!("{}#{}", event.status, event.number.as_e164())));
        let previous_at = current.map(|c| c.last_event_at);
        let pk = number_pk(district, &event.number);
        write_status(self.table.as_ref(), pk, event, index, previous_at, (event.last_event_at, event_id), also).await
    }

    /// Every number whose status is not Ok, optionally only some statuses.
    pub async fn not_ok(&self, district: &DistrictId, statuses: &[SmsStatus]) -> Result<Vec<NumberStatus>, StoreError> {
        let prefixes: Vec<Option<String>> = if statuses.is_empty() {
            vec![None]
        } else {
            statuses.iter().filter(|s| **s != SmsStatus::Ok).map(|s| Some(format!("{s}#"))).collect()
        };
        let mut found = Vec::new();
        for prefix in prefixes {
            let mut cursor = None;
            loop {
                let mut query = Query::on(Index::Gsi2, not_ok_pk(district)).after(cursor);
                if let Some(prefix) = &prefix {
                    query = query.sort(SortKey::BeginsWith(prefix.clone()));
                }
                let page = self.table.query(&query).await?;
                for item in page.items {
                    found.push(serde_json::from_value(Value::Object(item)).map_err(StoreError::corrupt)?);
                }
                cursor = page.cursor;
                if cursor.is_none() {
                    break;
                }
            }
        }
        Ok(found)
    }
}
