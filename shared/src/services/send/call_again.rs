//! Calling again a line that was busy or did not answer: the scheduler
//! hands over the try when it is due; the try is recorded on the delivery
//! (conditionally, on the tries it held) before the call is placed, so two
//! deliveries of the task place one call. Outside an emergency a try that
//! falls in quiet hours waits for their end, as the first call did.

use super::SendService;
use super::messages::{Outcome, Sending};
use crate::domain::{BroadcastId, Channel, DeliveryPoint, DeliveryReason, DeliveryState, DistrictId, PlannedDelivery};
use crate::services::ServiceError;
use crate::store::DueCall;

/// What a due try came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallAgain {
    /// The call was placed again (or refused for good and recorded so).
    Placed,
    /// Nothing to do: the try was placed already, or the call ended meanwhile.
    Nothing,
    /// Inside quiet hours: the try waits for their end.
    Deferred,
    /// The provider was busy or down: the task goes back to the queue.
    Retry,
}

impl SendService {
    /// Places try `attempt` of the call at `point` if the delivery still
    /// waits for it (see the module docs).
    pub async fn call_again(
        &self,
        district: &DistrictId,
        id: &BroadcastId,
        point: &DeliveryPoint,
        attempt: u32,
    ) -> Result<CallAgain, ServiceError> {
        let (Some(broadcast), Some(mut delivery)) =
            (self.broadcasts.get(district, id).await?, self.broadcasts.delivery(district, id, point).await?)
        else {
            return Ok(CallAgain::Nothing);
        };
        let waiting_reason = match (delivery.state, delivery.reason) {
            // Busy or unanswered, or (its first try) a text refused as sent to a landline.
            (
                DeliveryState::Sent,
                Some(reason @ (DeliveryReason::Busy | DeliveryReason::NoAnswer | DeliveryReason::Landline)),
            ) => reason,
            _ => return Ok(CallAgain::Nothing),
        };
        if delivery.attempts + 1 != attempt {
            return Ok(CallAgain::Nothing);
        }
        let now = self.clock.now();
        if !broadcast.emergency && !broadcast.urgent {
            let settings = self.broadcasts.settings(district).await?;
            if let Some(until) = settings.quiet_hours.deferral(now, settings.zone()) {
                let next = DueCall {
                    district: district.clone(),
                    broadcast: id.clone(),
                    point: point.clone(),
                    attempt,
                    entry: String::new(),
                };
                self.call_retries.schedule(&next, until).await?;
                return Ok(CallAgain::Deferred);
            }
        }
        let previous = delivery.attempts;
        let detail = delivery.call.clone().unwrap_or_default();
        delivery.attempts = attempt;
        delivery.reason = None;
        delivery.provider_message_id = None;
        delivery.updated_at = now;
        if let Some(call) = delivery.call.as_mut() {
            call.retry_at = None;
        }
        if !self.broadcasts.claim_call_try(district, id, &delivery, previous).await? {
            return Ok(CallAgain::Nothing);
        }
        let Some(to) = point.contact() else { return Ok(CallAgain::Nothing) };
        let message = PlannedDelivery {
            channel: delivery.channel.unwrap_or(Channel::CellPhone),
            to,
            people: delivery.people.clone(),
            first_name: detail.first_name,
            children: detail.children,
            school: detail.school,
            language: delivery.language.clone(),
        };
        let origin = self.numbers.texting_number(district).await?;
        match self
            .send_and_mark(&Sending { district, broadcast: &broadcast, origin: &origin, attempts: attempt }, &message)
            .await?
        {
            Outcome::Sent | Outcome::Failed => Ok(CallAgain::Placed),
            Outcome::Retry => {
                // Not placed: the delivery waits for this try again.
                delivery.attempts = previous;
                delivery.reason = Some(waiting_reason);
                self.broadcasts.put_deliveries(district, id, std::slice::from_ref(&delivery)).await?;
                Ok(CallAgain::Retry)
            }
        }
    }
}
