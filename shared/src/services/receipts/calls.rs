//! What a call's final event does to its delivery: an answer records who
//! answered; a busy line or no answer, while the district's retry rule
//! leaves tries, puts the call in the scheduler's index and keeps the
//! delivery in progress; otherwise the call failed for the event's reason.
//!
//! And the landline autocall a carrier's answer starts: a text the carrier
//! refuses as sent to a landline goes as a call reading it, unless the
//! broadcast or the district turns that off (the plan does the same for
//! numbers already known as landlines).

use chrono::{DateTime, Utc};

use super::ReceiptService;
use crate::domain::{
    AnsweredBy, BroadcastId, CallDetail, Channel, Delivery, DeliveryPoint, DeliveryReason, DeliveryState, DistrictId,
};
use crate::receipts::ReceiptStatus;
use crate::services::ServiceError;
use crate::store::DueCall;

impl ReceiptService {
    /// Applies a call's final `status` to `delivery` (not yet written);
    /// `false` when it changes nothing (the same busy event again while the
    /// next try waits).
    pub(super) async fn call_ended(
        &self,
        district: &DistrictId,
        broadcast: &BroadcastId,
        delivery: &mut Delivery,
        status: ReceiptStatus,
        now: DateTime<Utc>,
    ) -> Result<bool, ServiceError> {
        let reason = status.failure_reason();
        let waiting = delivery.state == DeliveryState::Sent && delivery.reason.is_some();
        if waiting && delivery.reason == reason {
            return Ok(false);
        }
        let detail = delivery.call.get_or_insert_with(CallDetail::default);
        detail.retry_at = None;
        match status {
            ReceiptStatus::Delivered | ReceiptStatus::Machine => {
                delivery.state = DeliveryState::Delivered;
                delivery.reason = None;
                let machine = status == ReceiptStatus::Machine;
                detail.answered_by = Some(if machine { AnsweredBy::Machine } else { AnsweredBy::Person });
                return Ok(true);
            }
            ReceiptStatus::Busy | ReceiptStatus::NoAnswer => {
                let rule = self.broadcasts.settings(district).await?.call_retry_rule();
                if let Some(due) = rule.next_try(delivery.attempts, now) {
                    // The index entry first: a crash before the delivery is
                    // written leaves an entry the send step ignores, and the
                    // provider's retried event writes the delivery.
                    let next = DueCall {
                        district: district.clone(),
                        broadcast: broadcast.clone(),
                        point: delivery.point.clone(),
                        attempt: delivery.attempts + 1,
                        entry: String::new(),
                    };
                    self.call_retries.schedule(&next, due).await?;
                    if let Some(detail) = delivery.call.as_mut() {
                        detail.retry_at = Some(due);
                    }
                    delivery.state = DeliveryState::Sent;
                    delivery.reason = reason;
                    tracing::info!(%district, %broadcast, attempts = delivery.attempts, "call to be placed again");
                    return Ok(true);
                }
            }
            _ => {}
        }
        delivery.state = DeliveryState::Failed;
        delivery.reason = reason.or(Some(DeliveryReason::CallFailed));
        Ok(true)
    }

    /// After a text to `delivery`'s number failed as sent to a landline:
    /// the call reading it, put in the scheduler's index for now (its first
    /// try), unless autocalls are off or the broadcast calls that number
    /// already.
    pub(super) async fn autocall_landline(
        &self,
        district: &DistrictId,
        broadcast: &BroadcastId,
        text: &Delivery,
        now: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        let DeliveryPoint::Sms(number) = &text.point else { return Ok(()) };
        let Some(sent) = self.broadcasts.get(district, broadcast).await? else { return Ok(()) };
        let autocall = match sent.landline_autocall {
            Some(autocall) => autocall,
            None => self.broadcasts.settings(district).await?.landline_autocall,
        };
        let point = DeliveryPoint::Voice(number.clone());
        if !autocall || self.broadcasts.delivery(district, broadcast, &point).await?.is_some() {
            return Ok(());
        }
        // The index entry first (see `call_ended`); the delivery then says
        // the call waits for its first try.
        let first = DueCall {
            district: district.clone(),
            broadcast: broadcast.clone(),
            point: point.clone(),
            attempt: 1,
            entry: String::new(),
        };
        self.call_retries.schedule(&first, now).await?;
        let call = Delivery {
            people: text.people.clone(),
            reason: Some(DeliveryReason::Landline),
            attempts: 0,
            language: text.language.clone(),
            call: Some(CallDetail { retry_at: Some(now), ..text.call.clone().unwrap_or_default() }),
            ..Delivery::sent(point, Channel::CellPhone, None, now)
        };
        self.broadcasts.put_deliveries(district, broadcast, std::slice::from_ref(&call)).await?;
        tracing::info!(%district, %broadcast, "a text refused as sent to a landline goes as a call");
        Ok(())
    }
}
