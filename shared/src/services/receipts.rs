//! Applying receipts: a normalized provider event finds its delivery by
//! provider message id (an index, never a scan), records the delivery's
//! final state and raw code, and sets the number's SMS status or the
//! address's email status with a history entry.
//!
//! - Out of order and replays: a receipt that does not supersede the
//!   delivery's final state ([`crate::receipts::supersedes`]) changes
//!   nothing; status stores ignore events older than the one on record.
//! - A receipt for an unknown message id is kept (30 days) for operators
//!   and acknowledged, never an error: providers retry errors for days.
//! - `SenderError` never touches the contact; it is logged for operators.
//! - A delivered receipt sets the number back to Ok, so the next good
//!   delivery clears a yellow status from the clean-up list.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::domain::{DeliveryState, EmailAddress, EmailStatus, PhoneNumber};
use crate::ports::{Clock, Condition, Table};
use crate::receipts::{Receipt, ReceiptKind, ReceiptStatus, status_supersedes};
use crate::services::ServiceError;
use crate::store::{BroadcastStore, EmailStatusStore, NumberStatus, SmsStatusStore, StoreError, record_item};

/// How long a receipt for an unknown message is kept.
const UNMATCHED_TTL_SECONDS: i64 = 30 * 24 * 3600;

/// One provider event, as applying needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptEvent {
    /// The provider's message id.
    pub provider_message_id: String,
    /// SMS or email.
    pub kind: ReceiptKind,
    /// What it means.
    pub status: ReceiptStatus,
    /// The message's last word.
    pub is_final: bool,
    /// The provider's own code.
    pub raw_code: Option<String>,
    /// When it happened (else when it arrived).
    pub occurred_at: Option<DateTime<Utc>>,
    /// Who said it (`twilio`, `simulated` ...), for the status history.
    pub source: String,
}

impl From<&Receipt> for ReceiptEvent {
    fn from(receipt: &Receipt) -> Self {
        Self {
            provider_message_id: receipt.provider_message_id.clone(),
            kind: receipt.kind,
            status: receipt.status,
            is_final: receipt.is_final,
            raw_code: receipt.raw_code.clone(),
            occurred_at: receipt.occurred_at,
            source: receipt.provider.to_string(),
        }
    }
}

/// What applying a receipt did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The delivery (and maybe the contact's status) changed.
    Recorded,
    /// Nothing new: a replay, or a late non-final event.
    Unchanged,
    /// No delivery has that id; the receipt was kept for operators.
    Unmatched,
}

/// Applies receipts to deliveries and contact statuses.
#[derive(Clone)]
pub struct ReceiptService {
    table: Arc<dyn Table>,
    broadcasts: BroadcastStore,
    sms_status: SmsStatusStore,
    email_status: EmailStatusStore,
    clock: Arc<dyn Clock>,
}

fn final_status(state: DeliveryState, reason: Option<&str>) -> Option<ReceiptStatus> {
    match state {
        DeliveryState::Delivered => Some(ReceiptStatus::Delivered),
        DeliveryState::Failed => {
            ReceiptStatus::ALL.iter().copied().find(|s| Some(s.as_str()) == reason).or(Some(ReceiptStatus::Unconfirmed))
        }
        _ => None,
    }
}

impl ReceiptService {
    /// The service over the table.
    pub fn new(table: Arc<dyn Table>, clock: Arc<dyn Clock>) -> Self {
        Self {
            broadcasts: BroadcastStore::new(Arc::clone(&table)),
            sms_status: SmsStatusStore::new(Arc::clone(&table)),
            email_status: EmailStatusStore::new(Arc::clone(&table)),
            table,
            clock,
        }
    }

    /// Applies one event (see the module docs). Safe to repeat.
    pub async fn apply(&self, event: &ReceiptEvent) -> Result<Applied, ServiceError> {
        let now = self.clock.now();
        let Some((district, broadcast, mut delivery)) =
            self.broadcasts.by_provider_message(&event.provider_message_id).await?
        else {
            self.keep_unmatched(event, now).await?;
            return Ok(Applied::Unmatched);
        };
        if !status_supersedes(event.status, event.is_final, final_status(delivery.state, delivery.reason.as_deref())) {
            return Ok(Applied::Unchanged);
        }
        if event.status == ReceiptStatus::Pending {
            // Not final: keep the raw code only when nothing final is known.
            if delivery.raw_code == event.raw_code {
                return Ok(Applied::Unchanged);
            }
        } else {
            delivery.state =
                if event.status == ReceiptStatus::Delivered { DeliveryState::Delivered } else { DeliveryState::Failed };
            delivery.reason = (event.status != ReceiptStatus::Delivered).then(|| event.status.as_str().to_string());
        }
        delivery.raw_code = event.raw_code.clone();
        delivery.updated_at = now;
        self.broadcasts.put_deliveries(&district, &broadcast, std::slice::from_ref(&delivery)).await?;

        let at = event.occurred_at.unwrap_or(now);
        let what = format!("{}:{}", event.source, event.raw_code.as_deref().unwrap_or(event.status.as_str()));
        let event_id = format!("{}#{}", event.provider_message_id, event.status.as_str());
        let to = delivery.point.split_once(':').map(|(_, to)| to).unwrap_or_default();
        let recorded = match event.kind {
            ReceiptKind::Sms => match (event.status.sms_status(), PhoneNumber::parse_e164(to)) {
                (Some(status), Ok(number)) => {
                    let record = NumberStatus { number, status, last_event_at: at, last_event: what };
                    self.sms_status.record(&district, &record, &event_id).await.map(|_| ())
                }
                _ => Ok(()),
            },
            ReceiptKind::Email => {
                let status = match event.status {
                    ReceiptStatus::Delivered => Some(EmailStatus::Ok),
                    ReceiptStatus::BouncedPermanent => Some(EmailStatus::BouncedPermanent),
                    ReceiptStatus::BouncedTransient => Some(EmailStatus::BouncedTransient),
                    ReceiptStatus::Complaint => Some(EmailStatus::Complaint),
                    _ => None,
                };
                match (status, EmailAddress::parse(to)) {
                    (Some(status), Ok(address)) => {
                        self.email_status.record(&district, &address, status, (at, &what, &event_id)).await.map(|_| ())
                    }
                    _ => Ok(()),
                }
            }
        };
        match recorded {
            // A concurrent event for the same contact won; ours is history now.
            Ok(()) | Err(StoreError::AlreadyExists) => {}
            Err(other) => return Err(other.into()),
        }
        if event.status == ReceiptStatus::SenderError {
            tracing::warn!(%district, %broadcast, raw_code = ?event.raw_code, "provider reports a sender-side error");
        }
        Ok(Applied::Recorded)
    }

    async fn keep_unmatched(&self, event: &ReceiptEvent, now: DateTime<Utc>) -> Result<(), ServiceError> {
        let body = json!({
            "provider_message_id": event.provider_message_id, "status": event.status.as_str(),
            "raw_code": event.raw_code, "source": event.source, "received_at": now,
            "expires_at": now.timestamp() + UNMATCHED_TTL_SECONDS,
        });
        let sk = format!("{}#{}", event.provider_message_id, event.status.as_str());
        let item = record_item("SYSTEM#UNMATCHED_RECEIPTS".into(), sk, &body)?;
        self.table.put(item, Condition::None).await.map_err(StoreError::from)?;
        tracing::info!(source = %event.source, "receipt for an unknown message kept");
        Ok(())
    }
}
