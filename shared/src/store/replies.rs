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
use crate::domain::DistrictId;
use crate::ports::{Condition, Query, Table, TableError};

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

    /// Remembers an inbound message; answers false when it was seen before
    /// (a provider's redelivery). One conditional put.
    pub async fn first_sight(
        &self,
        provider: &str,
        provider_message_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let marker = serde_json::json!({"expires_at": now.timestamp() + INBOUND_TTL_SECONDS});
        let item = record_item(INBOUND_PK.into(), format!("{provider}#{provider_message_id}"), &marker)?;
        match self.table.put(item, Condition::NotExists).await {
            Ok(()) => Ok(true),
            Err(TableError::ConditionFailed { .. }) => Ok(false),
            Err(other) => Err(other.into()),
        }
    }

    /// Keeps a reply for the district's staff, or for the operator (`None`:
    /// no district sends from the number it was sent to).
    pub async fn keep(
        &self,
        district: Option<&DistrictId>,
        reply: &StoredReply,
        provider_message_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let pk = district.map_or_else(|| UNROUTED_PK.to_string(), replies_pk);
        let sk = format!("{}#{provider_message_id}", reply.received_at.format("%Y%m%dT%H%M%S%.6fZ"));
        let item = ReplyItem { reply: reply.clone(), expires_at: now.timestamp() + REPLY_TTL_SECONDS };
        Ok(self.table.put(record_item(pk, sk, &item)?, Condition::None).await?)
    }

    /// The district's newest replies, newest first.
    pub async fn recent(&self, district: &DistrictId, limit: u32) -> Result<Vec<StoredReply>, StoreError> {
        let query = Query::partition(replies_pk(district)).descending().limit(limit);
        let page = self.table.query(&query).await?;
        page.items.into_iter().map(|item| record_from::<ReplyItem>(item).map(|i| i.reply)).collect()
    }
}
