//! Inbound texts as the store keeps them: the marker that makes a provider's
//! redelivery harmless, replies kept for a district's staff, and replies to
//! numbers no district sends from, kept for the operator.
//!
//! | item | pk | sk |
//! | --- | --- | --- |
//! | inbound marker (TTL 7 days) | `SYSTEM#INBOUND` | `provider#message id` |
//! | a district's replies (TTL 1 year) | `D#d#REPLIES` | `received_at#message id` |
//! | unrouted replies (TTL 1 year) | `SYSTEM#UNROUTED_REPLIES` | `received_at#message id` |

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{StoreError, record_from, record_item};
use crate::domain::{DistrictId, SchoolId};
use crate::ports::{Condition, Key, Query, Table, WriteOp};

/// How long an inbound message id is remembered against redelivery.
const INBOUND_TTL_SECONDS: i64 = 7 * 24 * 3600;
/// How long a kept reply stays.
const REPLY_TTL_SECONDS: i64 = 365 * 24 * 3600;

const INBOUND_PK: &str = "SYSTEM#INBOUND";
const UNROUTED_PK: &str = "SYSTEM#UNROUTED_REPLIES";

fn replies_pk(district: &DistrictId) -> String {
    format!("D#{district}#REPLIES")
}

/// A reply as kept for staff (the API shows every field but `expires_at`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredReply {
    /// The family's number, E.164.
    pub from: String,
    /// Our number it was sent to.
    pub to: String,
    /// What they wrote.
    pub body: String,
    /// `twilio`, `telnyx`, `aws`.
    pub provider: String,
    /// When it arrived.
    pub received_at: DateTime<Utc>,
    /// The schools of the people the number belongs to when it arrived
    /// (empty: none known; only district admins see it).
    #[serde(default)]
    pub schools: Vec<SchoolId>,
}

#[derive(Serialize, Deserialize)]
struct ReplyItem {
    #[serde(flatten)]
    reply: StoredReply,
    expires_at: i64,
}

/// Inbound markers and kept replies.
#[derive(Clone)]
pub struct ReplyStore {
    table: Arc<dyn Table>,
}

impl ReplyStore {
    /// The store over the table.
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    /// Whether this inbound message was handled before (a provider's
    /// redelivery): its marker is written with the handling's own write.
    pub async fn seen(&self, provider: &str, provider_message_id: &str) -> Result<bool, StoreError> {
        Ok(self.table.get(&Key::new(INBOUND_PK, format!("{provider}#{provider_message_id}"))).await?.is_some())
    }

    /// The write of an inbound message's marker, for the transaction that
    /// records what handling it did (so a failure leaves no marker behind
    /// and the provider's retry is handled, never answered "duplicate").
    pub fn marker_op(
        &self,
        provider: &str,
        provider_message_id: &str,
        now: DateTime<Utc>,
    ) -> Result<WriteOp, StoreError> {
        let marker = serde_json::json!({"expires_at": now.timestamp() + INBOUND_TTL_SECONDS});
        let item = record_item(INBOUND_PK.into(), format!("{provider}#{provider_message_id}"), &marker)?;
        Ok(WriteOp::Put { item, condition: Condition::None })
    }

    /// Marks an inbound message handled, with the writes of `also` (what
    /// handling recorded) in the same transaction.
    pub async fn mark_seen(
        &self,
        (provider, provider_message_id): (&str, &str),
        now: DateTime<Utc>,
        also: Vec<WriteOp>,
    ) -> Result<(), StoreError> {
        let mut ops = also;
        ops.push(self.marker_op(provider, provider_message_id, now)?);
        Ok(self.table.transact_write(ops).await?)
    }

    /// Keeps a reply for the district's staff, or for the operator (`None`:
    /// no district sends from the number it was sent to), and marks the
    /// message handled, in one transaction.
    pub async fn keep(
        &self,
        district: Option<&DistrictId>,
        reply: &StoredReply,
        (provider, provider_message_id): (&str, &str),
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let pk = district.map_or_else(|| UNROUTED_PK.to_string(), replies_pk);
        let sk = format!("{}#{provider_message_id}", reply.received_at.format("%Y%m%dT%H%M%S%.6fZ"));
        let item = ReplyItem { reply: reply.clone(), expires_at: now.timestamp() + REPLY_TTL_SECONDS };
        let kept = WriteOp::Put { item: record_item(pk, sk, &item)?, condition: Condition::None };
        Ok(self.table.transact_write(vec![kept, self.marker_op(provider, provider_message_id, now)?]).await?)
    }

    /// The district's newest replies, newest first.
    pub async fn recent(&self, district: &DistrictId, limit: u32) -> Result<Vec<StoredReply>, StoreError> {
        let query = Query::partition(replies_pk(district)).descending().limit(limit);
        let page = self.table.query(&query).await?;
        page.items.into_iter().map(|item| record_from::<ReplyItem>(item).map(|i| i.reply)).collect()
    }
}
