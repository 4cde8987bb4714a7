//! Receipts that arrived before (or without) their message's record, kept
//! by the hour they arrived so the scheduler can apply them again and
//! operators can see them; they expire after 30 days.
//!
//! | item | pk | sk |
//! | --- | --- | --- |
//! | a kept receipt (TTL 30 days) | `SYSTEM#UNMATCHED_RECEIPTS#YYYYMMDDHH` | `message id#status` |

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{StoreError, query_all, record_from, record_item};
use crate::ports::{Condition, Key, Query, Table};
use crate::receipts::{ReceiptKind, ReceiptStatus};

/// How long a receipt for an unknown message is kept.
const UNMATCHED_TTL_SECONDS: i64 = 30 * 24 * 3600;

/// A receipt kept for later, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptReceipt {
    /// The provider's message id it names.
    pub provider_message_id: String,
    /// SMS or email.
    pub kind: ReceiptKind,
    /// What it says.
    pub status: ReceiptStatus,
    /// The message's last word.
    #[serde(rename = "final", default = "final_by_default")]
    pub is_final: bool,
    /// The provider's own code.
    #[serde(default)]
    pub raw_code: Option<String>,
    /// When it happened, if the provider said.
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    /// Who said it.
    #[serde(default)]
    pub source: String,
    /// When it arrived: its hour is its partition.
    pub received_at: DateTime<Utc>,
}

fn final_by_default() -> bool {
    true
}

#[derive(Serialize)]
struct KeptItem<'a> {
    #[serde(flatten)]
    receipt: &'a KeptReceipt,
    expires_at: i64,
}

fn hour_pk(at: DateTime<Utc>) -> String {
    format!("SYSTEM#UNMATCHED_RECEIPTS#{}", at.format("%Y%m%d%H"))
}

fn key_of(receipt: &KeptReceipt) -> Key {
    Key::new(hour_pk(receipt.received_at), format!("{}#{}", receipt.provider_message_id, receipt.status.as_str()))
}

/// Receipts kept because no delivery had their message id yet.
#[derive(Clone)]
pub struct UnmatchedReceiptStore {
    table: Arc<dyn Table>,
}

impl UnmatchedReceiptStore {
    /// The store over the table.
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    /// Keeps a receipt (the same one again overwrites it).
    pub async fn keep(&self, receipt: &KeptReceipt) -> Result<(), StoreError> {
        let key = key_of(receipt);
        let item = KeptItem { receipt, expires_at: receipt.received_at.timestamp() + UNMATCHED_TTL_SECONDS };
        Ok(self.table.put(record_item(key.pk, key.sk, &item)?, Condition::None).await?)
    }

    /// The receipts kept in the hour of `at`. Items that no longer read as a
    /// receipt are passed over (and logged), never an error.
    pub async fn kept_in_hour(&self, at: DateTime<Utc>) -> Result<Vec<KeptReceipt>, StoreError> {
        let items = query_all(self.table.as_ref(), Query::partition(hour_pk(at))).await?;
        Ok(items
            .into_iter()
            .filter_map(|item| match record_from::<KeptReceipt>(item) {
                Ok(receipt) => Some(receipt),
                Err(error) => {
                    tracing::warn!(%error, "a kept receipt does not read back; passed over");
                    None
                }
            })
            .collect())
    }

    /// Forgets a kept receipt (it found its message).
    pub async fn forget(&self, receipt: &KeptReceipt) -> Result<(), StoreError> {
        Ok(self.table.delete(&key_of(receipt), Condition::None).await?)
    }
}
