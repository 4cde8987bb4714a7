//! SMS replies: what the inbound webhooks do with a text a family sends
//! back. The intent ([`classify_reply`]) decides:
//!
//! - **opt-out** (STOP and the other words, or plain wording): the number's
//!   SMS status becomes OptOut for the district the text was sent to, and
//!   one confirmation goes back — the only text that number gets until the
//!   person opts back in (fan-out skips opted-out numbers; receipts never
//!   lift an opt-out, see [`crate::domain::SmsStatus::may_become`]);
//! - **opt-in** (START, UNSTOP, YES): back to Ok, with a confirmation;
//! - **help** (HELP, INFO): the district's answer (name, support contact,
//!   how to stop, "Msg & data rates may apply", message frequency);
//! - anything else is stored for staff and not answered.
//!
//! The district is the one the operator assigned the number the text was
//! sent to (`schoolbell numbers assign`), else the deployment's default
//! district; a reply to a shared or unassigned number with no default
//! district is kept for the operator. A
//! provider redelivering the same inbound message changes nothing twice
//! (its id is remembered for a week).

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::domain::{DistrictId, PhoneNumber, ReplyIntent, SmsStatus, classify_reply};
use crate::ports::{Clock, OutboundSms, SmsGateway};
use crate::services::ServiceError;
use crate::store::{
    BroadcastStore, NumberOwner, NumberStatus, REPLY_EVENT_PREFIX, ReplyStore, SendingNumberStore, SmsStatusStore,
    StoreError, StoredReply, Stores,
};

/// A text a person sent us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundSms {
    /// Who received it (`twilio`, `telnyx`, `aws`).
    pub provider: String,
    /// The provider's id of the inbound message.
    pub provider_message_id: String,
    /// The sender.
    pub from: PhoneNumber,
    /// The number it was sent to (ours), E.164.
    pub to: String,
    /// What they wrote. Never logged.
    pub body: String,
    /// When it arrived, if the provider says; otherwise when it is handled
    /// (the service's clock, never the machine's).
    pub received_at: Option<DateTime<Utc>>,
}

/// What handling a reply did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyOutcome {
    /// Opted out and confirmed.
    OptedOut,
    /// Opted back in and confirmed.
    OptedIn,
    /// Answered HELP.
    Helped,
    /// Stored for staff.
    Stored,
    /// The same inbound message again: nothing done.
    Duplicate,
    /// No district sends from that number; kept for operators.
    Unrouted,
}

/// Handles inbound texts.
#[derive(Clone)]
pub struct ReplyService {
    settings: BroadcastStore,
    numbers: SendingNumberStore,
    sms_status: SmsStatusStore,
    replies: ReplyStore,
    sms: Arc<dyn SmsGateway>,
    clock: Arc<dyn Clock>,
    default_district: Option<DistrictId>,
}

impl ReplyService {
    /// The service; `default_district` takes replies to numbers no district lists.
    pub fn new(
        stores: &Stores,
        sms: Arc<dyn SmsGateway>,
        clock: Arc<dyn Clock>,
        default_district: Option<DistrictId>,
    ) -> Self {
        Self {
            settings: stores.broadcasts.clone(),
            numbers: stores.sending_numbers.clone(),
            sms_status: stores.sms_status.clone(),
            replies: stores.replies.clone(),
            sms,
            clock,
            default_district,
        }
    }

    /// Handles one inbound text (see the module docs). Safe to repeat.
    pub async fn handle(&self, inbound: &InboundSms) -> Result<ReplyOutcome, ServiceError> {
        let now = self.clock.now();
        let received_at = inbound.received_at.unwrap_or(now);
        // The marker is written with whatever handling records (below), so
        // a failure midway leaves none and the provider's retry is handled.
        if self.replies.seen(&inbound.provider, &inbound.provider_message_id).await? {
            return Ok(ReplyOutcome::Duplicate);
        }
        let district = match self.numbers.owner_of_raw(&inbound.to).await? {
            Some(NumberOwner::District(district)) => district,
            // A shared number names no one district: as for a number nobody holds.
            Some(NumberOwner::Shared) | None => match &self.default_district {
                Some(district) => district.clone(),
                None => {
                    self.keep(None, inbound, received_at, now).await?;
                    tracing::warn!(provider = %inbound.provider, "reply to a number no district sends from");
                    return Ok(ReplyOutcome::Unrouted);
                }
            },
        };
        let intent = classify_reply(&inbound.body);
        let settings = self.settings.settings(&district).await?;
        let outcome = match intent {
            ReplyIntent::OptOut => {
                self.set_status(&district, inbound, SmsStatus::OptOut, "STOP", (received_at, now)).await?;
                ReplyOutcome::OptedOut
            }
            ReplyIntent::OptIn => {
                self.set_status(&district, inbound, SmsStatus::Ok, "START", (received_at, now)).await?;
                ReplyOutcome::OptedIn
            }
            ReplyIntent::Help => {
                self.replies.mark_seen(&inbound.provider, &inbound.provider_message_id, now).await?;
                ReplyOutcome::Helped
            }
            ReplyIntent::None => {
                self.keep(Some(&district), inbound, received_at, now).await?;
                tracing::info!(%district, provider = %inbound.provider, "reply stored for staff");
                return Ok(ReplyOutcome::Stored);
            }
        };
        if let Some(answer) = settings.keyword_answer(intent) {
            let sms = OutboundSms { to: inbound.from.clone(), body: answer };
            if let Err(error) = self.sms.send(&sms).await {
                // The status change stands; the provider's own keyword handling answers too.
                tracing::warn!(%district, %error, intent = %intent, "keyword answer not sent");
            }
        }
        tracing::info!(%district, intent = %intent, number = %inbound.from, "keyword reply handled");
        Ok(outcome)
    }

    /// Records the person's word on the number's status, with the message's
    /// marker in the same transaction.
    async fn set_status(
        &self,
        district: &DistrictId,
        inbound: &InboundSms,
        status: SmsStatus,
        keyword: &str,
        (received_at, now): (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<(), ServiceError> {
        let record = NumberStatus {
            number: inbound.from.clone(),
            status,
            last_event_at: received_at,
            last_event: format!("{REPLY_EVENT_PREFIX}{keyword}"),
        };
        let event_id = format!("{}#{}", inbound.provider, inbound.provider_message_id);
        let marker = || self.replies.marker_op(&inbound.provider, &inbound.provider_message_id, now);
        match self.sms_status.record_with(district, &record, &event_id, vec![marker()?]).await {
            Ok(_) => Ok(()),
            // A concurrent event: the person's word is final, so write it again on top.
            Err(StoreError::Conflict) => {
                Ok(self.sms_status.record_with(district, &record, &event_id, vec![marker()?]).await.map(|_| ())?)
            }
            Err(other) => Err(other.into()),
        }
    }

    async fn keep(
        &self,
        district: Option<&DistrictId>,
        inbound: &InboundSms,
        received_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        let reply = StoredReply {
            from: inbound.from.as_e164().to_string(),
            to: inbound.to.clone(),
            body: inbound.body.clone(),
            provider: inbound.provider.clone(),
            received_at,
        };
        Ok(self.replies.keep(district, &reply, (&inbound.provider, &inbound.provider_message_id), now).await?)
    }
}

#[cfg(test)]
mod tests;
