//! What mail servers last said about each email address of a district:
//! the address's status with its history, and a sparse index of addresses
//! whose status is not Ok (fan-out reads it to skip them, never a scan).
//!
//! | item | pk | sk | gsi2 |
//! | --- | --- | --- | --- |
//! | status | `D#d#ADDR#a@b` | `STATUS` | `D#d#EMAILSTATUS` → `status#a@b` (only when not Ok) |
//! | history | `D#d#ADDR#a@b` | `HIST#time#id` | |
//!
//! Transient bounces are counted in a row: the third in a row makes the
//! address permanently bounced (a mailbox full for weeks is as good as
//! gone); a delivery resets the count.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::StoreError;
use super::items::{get_record, query_all, query_records, record_from};
use super::sms_status::write_status;
use crate::domain::{DistrictId, EmailAddress, EmailStatus};
use crate::ports::table::{Index, Key, Query, Table, WriteOp};

/// Transient bounces in a row that make an address permanently bounced.
pub const TRANSIENT_BOUNCES_TO_PERMANENT: u32 = 3;

/// An address's current status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)] // fields named for what they hold
pub struct AddressStatus {
    pub address: EmailAddress,
    /// What mail servers last said (after the in-a-row rule).
    pub status: EmailStatus,
    /// When that event happened.
    pub last_event_at: DateTime<Utc>,
    /// What said it (`ses:Bounce/Permanent`, `send:invalid_recipient` ...).
    pub last_event: String,
    /// Transient bounces since the last delivery.
    #[serde(default)]
    pub transient_in_a_row: u32,
}

fn address_pk(district: &DistrictId, address: &EmailAddress) -> String {
    format!("D#{district}#ADDR#{}", address.as_str())
}

fn not_ok_pk(district: &DistrictId) -> String {
    format!("D#{district}#EMAILSTATUS")
}

/// Reads and writes addresses' email statuses.
#[derive(Clone)]
pub struct EmailStatusStore {
    table: Arc<dyn Table>,
}

impl EmailStatusStore {
    /// A store over the table.
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    /// The address's status, if any event was ever recorded.
    pub async fn get(
        &self,
        district: &DistrictId,
        address: &EmailAddress,
    ) -> Result<Option<AddressStatus>, StoreError> {
        get_record(self.table.as_ref(), &Key::new(address_pk(district, address), "STATUS")).await
    }

    /// Records an event for the address with a history entry; older events
    /// than the one on record change nothing. Answers the status now on
    /// record (`None` when the event was older).
    pub async fn record(
        &self,
        district: &DistrictId,
        address: &EmailAddress,
        observed: EmailStatus,
        event: (DateTime<Utc>, &str, &str),
    ) -> Result<Option<EmailStatus>, StoreError> {
        self.record_with(district, address, observed, event, Vec::new()).await
    }

    /// [`Self::record`], committing `also` in the same transaction; when
    /// the status is not written, `also` is committed alone.
    pub async fn record_with(
        &self,
        district: &DistrictId,
        address: &EmailAddress,
        observed: EmailStatus,
        (at, event, event_id): (DateTime<Utc>, &str, &str),
        also: Vec<WriteOp>,
    ) -> Result<Option<EmailStatus>, StoreError> {
        let current = self.get(district, address).await?;
        if current.as_ref().is_some_and(|c| c.last_event_at > at) {
            if !also.is_empty() {
                self.table.transact_write(also).await?;
            }
            return Ok(None);
        }
        let in_a_row = match observed {
            EmailStatus::BouncedTransient => current.as_ref().map_or(0, |c| c.transient_in_a_row) + 1,
            _ => 0,
        };
        let status = if observed == EmailStatus::BouncedTransient && in_a_row >= TRANSIENT_BOUNCES_TO_PERMANENT {
            EmailStatus::BouncedPermanent
        } else {
            observed
        };
        let record = AddressStatus {
            address: address.clone(),
            status,
            last_event_at: at,
            last_event: event.to_string(),
            transient_in_a_row: in_a_row,
        };
        let index =
            (status != EmailStatus::Ok).then(|| (not_ok_pk(district), format!("{status}#{}", address.as_str())));
        let pk = address_pk(district, address);
        let previous_at = current.map(|c| c.last_event_at);
        write_status(self.table.as_ref(), pk, &record, index, previous_at, (at, event_id), also).await?;
        Ok(Some(status))
    }

    /// The statuses of these addresses that are not Ok, in one batched
    /// read (a small plan's suppressions, instead of the whole index).
    pub async fn not_ok_of(
        &self,
        district: &DistrictId,
        addresses: &[EmailAddress],
    ) -> Result<Vec<AddressStatus>, StoreError> {
        let keys: Vec<Key> = addresses.iter().map(|a| Key::new(address_pk(district, a), "STATUS")).collect();
        let mut out = Vec::new();
        for mut item in self.table.get_many(&keys).await?.into_iter().flatten() {
            item.retain(|name, _| !matches!(name.as_str(), "gsi2pk" | "gsi2sk"));
            let status: AddressStatus = record_from(item)?;
            if status.status != EmailStatus::Ok {
                out.push(status);
            }
        }
        Ok(out)
    }

    /// Every address of the district whose status is not Ok (the index).
    pub async fn not_ok(&self, district: &DistrictId) -> Result<Vec<AddressStatus>, StoreError> {
        query_all(self.table.as_ref(), Query::on(Index::Gsi2, not_ok_pk(district)))
            .await?
            .into_iter()
            .map(|mut item| {
                item.retain(|name, _| !matches!(name.as_str(), "gsi2pk" | "gsi2sk"));
                record_from::<AddressStatus>(item)
            })
            .collect()
    }

    /// The address's history, oldest first.
    pub async fn history(
        &self,
        district: &DistrictId,
        address: &EmailAddress,
    ) -> Result<Vec<AddressStatus>, StoreError> {
        let query = Query::partition(address_pk(district, address))
            .sort(crate::ports::table::SortKey::BeginsWith("HIST#".into()));
        query_records(self.table.as_ref(), query).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::local::EmbeddedTable;

    fn at(minute: u32) -> DateTime<Utc> {
        chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 2, 9, minute, 0).single().unwrap_or_default()
    }

    #[tokio::test]
    async fn three_transient_bounces_in_a_row_make_an_address_permanently_bounced() -> Result<(), StoreError> {
        let store = EmailStatusStore::new(Arc::new(EmbeddedTable::in_memory()?));
        let district = DistrictId::parse("d-1").unwrap();
        let address = EmailAddress::parse("ana@example.org").unwrap();
        let transient = EmailStatus::BouncedTransient;
        assert_eq!(store.record(&district, &address, transient, (at(1), "ses", "e1")).await?, Some(transient));
        assert_eq!(store.record(&district, &address, transient, (at(2), "ses", "e2")).await?, Some(transient));
        let third = store.record(&district, &address, transient, (at(3), "ses", "e3")).await?;
        assert_eq!(third, Some(EmailStatus::BouncedPermanent));
        assert_eq!(store.not_ok(&district).await?.len(), 1);
        assert_eq!(store.history(&district, &address).await?.len(), 3);
        Ok(())
    }

    #[tokio::test]
    async fn a_delivery_resets_the_count_and_an_older_event_changes_nothing() -> Result<(), StoreError> {
        let store = EmailStatusStore::new(Arc::new(EmbeddedTable::in_memory()?));
        let district = DistrictId::parse("d-1").unwrap();
        let address = EmailAddress::parse("ana@example.org").unwrap();
        let transient = EmailStatus::BouncedTransient;
        store.record(&district, &address, transient, (at(1), "ses", "e1")).await?;
        store.record(&district, &address, transient, (at(2), "ses", "e2")).await?;
        store.record(&district, &address, EmailStatus::Ok, (at(3), "ses", "e3")).await?;
        assert_eq!(store.record(&district, &address, transient, (at(4), "ses", "e4")).await?, Some(transient));
        assert_eq!(store.record(&district, &address, EmailStatus::Complaint, (at(0), "ses", "e0")).await?, None);
        assert!(store.not_ok(&district).await?.iter().all(|s| s.status == transient));
        Ok(())
    }
}
