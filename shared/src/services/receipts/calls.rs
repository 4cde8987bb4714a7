//! What a call's final event does to its delivery: an answer records who
//! answered; a busy line or no answer, while the district's retry rule
//! leaves tries, puts the call in the scheduler's index and keeps the
//! delivery in progress; otherwise the call failed for the event's reason.

use chrono::{DateTime, Utc};

use super::ReceiptService;
use crate::domain::{AnsweredBy, BroadcastId, CallDetail, Delivery, DeliveryReason, DeliveryState, DistrictId};
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
}
