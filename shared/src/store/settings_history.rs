//! The audit trail of district settings that decide who is reached: each
//! change of the text consent policy, who made it and when, written in the
//! same transaction as the settings themselves.
//!
//! | item | pk | sk |
//! | --- | --- | --- |
//! | a settings change | `D#d#SETTINGS` | `AUDIT#time#id` |

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{StoreError, record_from, record_item};
use crate::domain::DistrictId;
use crate::ports::{Condition, Query, SortKey, Table, WriteOp};

const AUDIT_PREFIX: &str = "AUDIT#";

/// One audited change of a setting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsChange {
    /// The setting (`text_consent`).
    pub setting: String,
    /// Its value before.
    pub from: String,
    /// Its value after.
    pub to: String,
    /// Who changed it (the token's subject).
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// Audited settings changes.
#[derive(Clone)]
pub struct SettingsHistoryStore {
    table: Arc<dyn Table>,
}

impl SettingsHistoryStore {
    /// The store over the table.
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    /// Writes the settings (`settings`, the settings item's write) with the
    /// audit entries of what changed, all or nothing.
    pub async fn save(
        &self,
        district: &DistrictId,
        settings: WriteOp,
        changes: &[(SettingsChange, String)],
    ) -> Result<(), StoreError> {
        let mut ops = vec![settings];
        for (change, id) in changes {
            let sk = format!("{AUDIT_PREFIX}{}#{id}", change.at.format("%Y%m%dT%H%M%S%.6fZ"));
            ops.push(WriteOp::Put {
                item: record_item(format!("D#{district}#SETTINGS"), sk, change)?,
                condition: Condition::None,
            });
        }
        Ok(self.table.transact_write(ops).await?)
    }

    /// The district's audited changes, newest first.
    pub async fn history(&self, district: &DistrictId, limit: u32) -> Result<Vec<SettingsChange>, StoreError> {
        let query = Query::partition(format!("D#{district}#SETTINGS"))
            .sort(SortKey::BeginsWith(AUDIT_PREFIX.into()))
            .descending()
            .limit(limit);
        self.table.query(&query).await?.items.into_iter().map(record_from).collect()
    }
}
