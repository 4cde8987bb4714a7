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
//! - Times: a receipt's own time is clamped to its arrival (a future one
//!   would freeze the contact's status); one without a time (Twilio) takes
//!   its message's last known moment, so a late or replayed one cannot
//!   overturn what a newer message said of the contact.
//! - A delivery sent through one provider (SNS, SES: `aws`) takes receipts
//!   from that provider only; one from another is ignored.
//! - `SenderError` never touches the contact; it is logged for operators.
//! - A delivered receipt sets the number back to Ok, so the next good
//!   delivery clears a yellow status from the clean-up list.
//! - Calls (`calls`): an answered call records who answered; a busy or
//!   unanswered one with tries left waits for its next try (the
//!   scheduler's index) instead of failing; a disconnected number is
//!   marked inactive for the clean-up list.

mod calls;

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::domain::{DeliveryPoint, DeliveryReason, DeliveryState, EmailStatus};
use crate::ports::Clock;
use crate::receipts::{Receipt, ReceiptKind, ReceiptStatus, provider_family, status_supersedes};
use crate::services::ServiceError;
use crate::store::{
    BroadcastStore, CallRetryStore, EmailStatusStore, KeptReceipt, NumberStatus, SmsStatusStore, StoreError, Stores,
    UnmatchedReceiptStore,
};

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
    broadcasts: BroadcastStore,
    sms_status: SmsStatusStore,
    email_status: EmailStatusStore,
    unmatched: UnmatchedReceiptStore,
    call_retries: CallRetryStore,
    clock: Arc<dyn Clock>,
}

/// The final word a delivery holds, as a receipt status (a failure whose
/// reason no receipt gives counts as `Unconfirmed`).
fn final_status(state: DeliveryState, reason: Option<DeliveryReason>) -> Option<ReceiptStatus> {
    match state {
        DeliveryState::Delivered => Some(ReceiptStatus::Delivered),
        DeliveryState::Failed => reason.and_then(ReceiptStatus::of_failure).or(Some(ReceiptStatus::Unconfirmed)),
        _ => None,
    }
}

impl ReceiptService {
    /// The service over the stores; `clock` dates what it records.
    pub fn new(stores: &Stores, clock: Arc<dyn Clock>) -> Self {
        Self {
            broadcasts: stores.broadcasts.clone(),
            sms_status: stores.sms_status.clone(),
            email_status: stores.email_status.clone(),
            unmatched: stores.unmatched_receipts.clone(),
            call_retries: stores.call_retries.clone(),
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
        if delivery.provider.as_deref().is_some_and(|provider| provider != provider_family(&event.source)) {
            // Signed by a provider that never took this message: a receipt
            // speaks only for what went through its own provider.
            tracing::warn!(%district, %broadcast, source = %event.source, "receipt from another provider ignored");
            return Ok(Applied::Unchanged);
        }
        if !status_supersedes(event.status, event.is_final, final_status(delivery.state, delivery.reason)) {
            return Ok(Applied::Unchanged);
        }
        if event.status == ReceiptStatus::Pending {
            // Not final: keep the raw code only when nothing final is known.
            if delivery.raw_code == event.raw_code {
                return Ok(Applied::Unchanged);
            }
        } else if event.kind == ReceiptKind::Call {
            if !self.call_ended(&district, &broadcast, &mut delivery, event.status, now).await? {
                return Ok(Applied::Unchanged);
            }
        } else {
            delivery.state =
                if event.status == ReceiptStatus::Delivered { DeliveryState::Delivered } else { DeliveryState::Failed };
            delivery.reason = event.status.failure_reason();
        }
        // A receipt that carries no time of its own (Twilio's) is dated by
        // its message's last known moment, never by its arrival: replayed or
        // late, it cannot outrank what later messages said of the contact.
        let undated_at = delivery.updated_at.min(now);
        delivery.raw_code = event.raw_code.clone();
        delivery.updated_at = now;
        // The delivery is written with the contact's status, in one commit.
        let write_delivery = vec![self.broadcasts.delivery_op(&district, &broadcast, &delivery)?];

        // Clamped to the time of arrival: a timestamp from the future would
        // otherwise outrank every later event and freeze the contact's status.
        let at = event.occurred_at.map_or(undated_at, |occurred| occurred.min(now));
        let what = format!("{}:{}", event.source, event.raw_code.as_deref().unwrap_or(event.status.as_str()));
        let event_id = format!("{}#{}", event.provider_message_id, event.status.as_str());
        let recorded = match event.kind {
            // A call tells the clean-up list one thing: the number is out of service.
            ReceiptKind::Call => match (event.status, &delivery.point) {
                (ReceiptStatus::Inactive, DeliveryPoint::Voice(number)) => {
                    let number = number.clone();
                    let status = crate::domain::SmsStatus::Inactive;
                    let record = NumberStatus { number, status, last_event_at: at, last_event: what };
                    self.sms_status.record_with(&district, &record, &event_id, write_delivery).await.map(|_| ())
                }
                _ => self.broadcasts.put_deliveries(&district, &broadcast, std::slice::from_ref(&delivery)).await,
            },
            ReceiptKind::Sms => match (event.status.sms_status(), &delivery.point) {
                (Some(status), DeliveryPoint::Sms(number)) => {
                    let number = number.clone();
                    let record = NumberStatus { number, status, last_event_at: at, last_event: what };
                    self.sms_status.record_with(&district, &record, &event_id, write_delivery).await.map(|_| ())
                }
                _ => self.broadcasts.put_deliveries(&district, &broadcast, std::slice::from_ref(&delivery)).await,
            },
            ReceiptKind::Email => {
                let status = match event.status {
                    ReceiptStatus::Delivered => Some(EmailStatus::Ok),
                    ReceiptStatus::BouncedPermanent => Some(EmailStatus::BouncedPermanent),
                    ReceiptStatus::BouncedTransient => Some(EmailStatus::BouncedTransient),
                    ReceiptStatus::Complaint => Some(EmailStatus::Complaint),
                    _ => None,
                };
                match (status, &delivery.point) {
                    (Some(status), DeliveryPoint::Email(address)) => self
                        .email_status
                        .record_with(&district, address, status, (at, &what, &event_id), write_delivery)
                        .await
                        .map(|_| ()),
                    _ => self.broadcasts.put_deliveries(&district, &broadcast, std::slice::from_ref(&delivery)).await,
                }
            }
        };
        match recorded {
            Ok(()) => {}
            // A concurrent event for the same contact won the status; the
            // delivery is still this receipt's to record.
            Err(StoreError::Conflict) => {
                self.broadcasts.put_deliveries(&district, &broadcast, std::slice::from_ref(&delivery)).await?;
            }
            Err(other) => return Err(other.into()),
        }
        let refused_as_landline = event.kind == ReceiptKind::Sms
            && event.status == ReceiptStatus::Landline
            && delivery.state == DeliveryState::Failed;
        if refused_as_landline {
            self.autocall_landline(&district, &broadcast, &delivery, now).await?;
        }
        if event.status == ReceiptStatus::SenderError {
            tracing::warn!(%district, %broadcast, raw_code = ?event.raw_code, "provider reports a sender-side error");
        }
        Ok(Applied::Recorded)
    }

    async fn keep_unmatched(&self, event: &ReceiptEvent, now: DateTime<Utc>) -> Result<(), ServiceError> {
        let kept = KeptReceipt {
            provider_message_id: event.provider_message_id.clone(),
            kind: event.kind,
            status: event.status,
            is_final: event.is_final,
            raw_code: event.raw_code.clone(),
            occurred_at: event.occurred_at,
            source: event.source.clone(),
            received_at: now,
        };
        self.unmatched.keep(&kept).await?;
        tracing::info!(source = %event.source, "receipt for an unknown message kept");
        Ok(())
    }

    /// Applies again the receipts kept as unmatched in the last two hours
    /// (a carrier can answer before the sender has recorded the message);
    /// those that now find their delivery leave the list. Run by the
    /// scheduler; answers how many were applied.
    pub async fn reapply_unmatched(&self) -> Result<usize, ServiceError> {
        let now = self.clock.now();
        let mut applied = 0;
        for hour in [now - chrono::Duration::hours(1), now] {
            for kept in self.unmatched.kept_in_hour(hour).await? {
                let Some((district, broadcast, _)) =
                    self.broadcasts.by_provider_message(&kept.provider_message_id).await?
                else {
                    continue;
                };
                tracing::debug!(%district, %broadcast, "a kept receipt found its message");
                let event = ReceiptEvent {
                    provider_message_id: kept.provider_message_id.clone(),
                    kind: kept.kind,
                    status: kept.status,
                    is_final: kept.is_final,
                    raw_code: kept.raw_code.clone(),
                    occurred_at: kept.occurred_at,
                    source: kept.source.clone(),
                };
                if self.apply(&event).await? != Applied::Unmatched {
                    applied += 1;
                }
                self.unmatched.forget(&kept).await?;
            }
        }
        Ok(applied)
    }
}

#[cfg(test)]
mod tests;
