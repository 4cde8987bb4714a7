//! SMS replies: what the inbound webhooks do with a text a family sends
//! back. The intent ([`classify_reply`]) decides:
//!
//! - **opt-out** (STOP and the other words, or plain wording): the number's
//!   SMS status becomes OptOut for the district the text was sent to, and
//!   one confirmation goes back — the only text that number gets until the
//!   person opts back in (fan-out skips opted-out numbers; receipts never
//!   lift an opt-out, see [`crate::domain::SmsStatus::may_become`]);
//! - **opt-in** (START, UNSTOP, YES, Y): back to Ok, with a confirmation;
//!   YES, Y and START also give **consent to texts** ([`gives_text_consent`],
//!   SchoolMessenger's "text Y to 67587"): it is recorded (source `text`,
//!   the first consent stays) for every person of the district who has the
//!   number as their cell phone, and the one answer is the consent
//!   confirmation ([`consent_confirmation`]) instead of the opt-in one;
//! - **help** (HELP, INFO): the district's answer (name, support contact,
//!   how to stop, "Msg & data rates may apply", message frequency);
//! - anything else is stored for staff and not answered.
//!
//! An opt-out belongs to the pair (the number texted, the person), as
//! carriers keep it: it is recorded for that pair whatever else is known, so
//! a STOP to a number shared by several districts stops every district that
//! texts from it, and a STOP to a number nobody holds is still honoured
//! (the send step reads the pair before each group of texts). Only the
//! person lifts it, with START/UNSTOP/YES to that number.
//!
//! The district a text is for: the one the operator assigned the number to
//! (`schoolbell numbers assign`); for a shared or unassigned number, the
//! district that last texted that person from it (the send step remembers);
//! else the deployment's default district (a single-district deployment);
//! else nobody, and the text is kept for the operator. That district's SMS
//! status for the number changes too (its clean-up list shows the opt-out).
//!
//! Answers go back the way the text came: from the number texted, through
//! the SMS gateway, or in the webhook's own answer when the provider takes
//! one (Twilio's TwiML `<Message>`, [`AnswerRoute::Inline`]). A provider
//! redelivering the same inbound message changes nothing twice (its id is
//! remembered for a week, written with what handling recorded).

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::domain::{
    Channel, ContactValue, DistrictId, DistrictSettings, PersonId, PhoneNumber, PreferenceSource, ReplyIntent,
    SchoolId, SmsStatus, TEXT_CONSENT, TextConsent, classify_reply, consent_confirmation, gives_text_consent,
};
use crate::ports::{Clock, OutboundSms, SmsGateway, WriteOp};
use crate::services::preferences::{ConsentAuthor, ConsentRecorder, ConsentWord};
use crate::services::{FamilySchools, ServiceError};
use crate::store::{
    BroadcastStore, NumberOwner, NumberStatus, PairOptOut, PeopleStore, REPLY_EVENT_PREFIX, ReplyStore,
    SendingNumberStore, SmsPairStore, SmsStatusStore, StoreError, StoredReply, Stores,
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
    /// Opted back in, text consent recorded for the people at the number,
    /// and confirmed once.
    Consented,
    /// Answered HELP.
    Helped,
    /// Stored for staff.
    Stored,
    /// The same inbound message again: nothing done.
    Duplicate,
    /// No district could be found for it; kept for operators.
    Unrouted,
}

/// How the answer to a keyword goes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerRoute {
    /// Through the SMS gateway, from the number texted.
    Gateway,
    /// In the webhook's own answer (Twilio's TwiML `<Message>`), which the
    /// provider sends from the number texted: handing it back is the caller's.
    Inline,
}

/// What handling did, and for [`AnswerRoute::Inline`] the answer to send back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandledReply {
    /// What handling did.
    pub outcome: ReplyOutcome,
    /// The keyword answer the caller sends back (inline answers only).
    pub answer: Option<String>,
}

/// Handles inbound texts.
#[derive(Clone)]
pub struct ReplyService {
    settings: BroadcastStore,
    numbers: SendingNumberStore,
    sms_status: SmsStatusStore,
    sms_pairs: SmsPairStore,
    replies: ReplyStore,
    people: PeopleStore,
    family: FamilySchools,
    consent: ConsentRecorder,
    sms: Arc<dyn SmsGateway>,
    clock: Arc<dyn Clock>,
    default_district: Option<DistrictId>,
}

impl ReplyService {
    /// The service; `default_district` takes replies no district can be
    /// found for (a single-district deployment names itself).
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
            sms_pairs: stores.sms_pairs.clone(),
            replies: stores.replies.clone(),
            people: stores.people.clone(),
            family: FamilySchools::new(stores),
            consent: ConsentRecorder::new(stores),
            sms,
            clock,
            default_district,
        }
    }

    /// Handles one inbound text, answering keywords through the gateway.
    pub async fn handle(&self, inbound: &InboundSms) -> Result<ReplyOutcome, ServiceError> {
        Ok(self.handle_with(inbound, AnswerRoute::Gateway).await?.outcome)
    }

    /// Handles one inbound text (see the module docs). Safe to repeat.
    pub async fn handle_with(&self, inbound: &InboundSms, route: AnswerRoute) -> Result<HandledReply, ServiceError> {
        let now = self.clock.now();
        let received_at = inbound.received_at.unwrap_or(now);
        // The marker is written with whatever handling records (below), so
        // a failure midway leaves none and the provider's retry is handled.
        if self.replies.seen(&inbound.provider, &inbound.provider_message_id).await? {
            return Ok(HandledReply { outcome: ReplyOutcome::Duplicate, answer: None });
        }
        let district = self.district_for(inbound).await?;
        let gives_consent = gives_text_consent(&inbound.body);
        let intent = if gives_consent { ReplyIntent::OptIn } else { classify_reply(&inbound.body) };
        let mut consented = false;
        let outcome = match intent {
            ReplyIntent::OptOut | ReplyIntent::OptIn => {
                let opted_out = intent == ReplyIntent::OptOut;
                // Consent first: the message's marker comes with the word
                // below, so a failure in between is redone by the provider's
                // retry, and consent already recorded is not recorded again.
                if let (true, Some(district)) = (gives_consent, district.as_ref()) {
                    consented = self.record_consent(district, inbound, (received_at, now)).await?;
                }
                self.record_word(district.as_ref(), inbound, opted_out, (received_at, now)).await?;
                match (opted_out, consented) {
                    (true, _) => ReplyOutcome::OptedOut,
                    (false, true) => ReplyOutcome::Consented,
                    (false, false) => ReplyOutcome::OptedIn,
                }
            }
            ReplyIntent::Help => {
                self.replies.mark_seen((&inbound.provider, &inbound.provider_message_id), now, Vec::new()).await?;
                ReplyOutcome::Helped
            }
            ReplyIntent::None => {
                self.keep(district.as_ref(), inbound, received_at, now).await?;
                let outcome = if district.is_some() { ReplyOutcome::Stored } else { ReplyOutcome::Unrouted };
                tracing::info!(district = ?district.as_ref().map(DistrictId::as_str), provider = %inbound.provider, ?outcome, "reply kept");
                return Ok(HandledReply { outcome, answer: None });
            }
        };
        let settings = match &district {
            Some(district) => self.settings.settings(district).await?,
            None => DistrictSettings::default(),
        };
        let answer = match consented {
            true => Some(consent_confirmation(settings.name.as_deref())),
            false => settings.keyword_answer(intent),
        };
        tracing::info!(district = ?district.as_ref().map(DistrictId::as_str), intent = %intent, number = %inbound.from, "keyword reply handled");
        match (route, answer) {
            (AnswerRoute::Inline, answer) => Ok(HandledReply { outcome, answer }),
            (AnswerRoute::Gateway, Some(answer)) => {
                self.answer(inbound, answer).await;
                Ok(HandledReply { outcome, answer: None })
            }
            (AnswerRoute::Gateway, None) => Ok(HandledReply { outcome, answer: None }),
        }
    }

    /// The district a text to `inbound.to` is for (see the module docs).
    async fn district_for(&self, inbound: &InboundSms) -> Result<Option<DistrictId>, ServiceError> {
        if let Some(NumberOwner::District(district)) = self.numbers.owner_of_raw(&inbound.to).await? {
            return Ok(Some(district));
        }
        // A shared number, or one nobody holds: the district that last texted them from it.
        match self.sms_pairs.last_texted_by(&inbound.from, &inbound.to).await? {
            Some(district) => Ok(Some(district)),
            None => Ok(self.default_district.clone()),
        }
    }

    /// Sends a keyword answer from the number texted. The status change
    /// stands if it cannot go; the provider's own keyword handling answers too.
    async fn answer(&self, inbound: &InboundSms, body: String) {
        let from = PhoneNumber::parse_e164(&inbound.to).ok();
        let sms = OutboundSms { to: inbound.from.clone(), body, from };
        if let Err(error) = self.sms.send(&sms).await {
            tracing::warn!(%error, provider = %inbound.provider, "keyword answer not sent");
        }
    }

    /// Records the person's word on the pair (number texted, their number)
    /// and, when the text is a district's, on that district's SMS status for
    /// the number — with the message's marker, in one transaction.
    async fn record_word(
        &self,
        district: Option<&DistrictId>,
        inbound: &InboundSms,
        opted_out: bool,
        (received_at, now): (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<(), ServiceError> {
        let keyword = if opted_out { "STOP" } else { "START" };
        let event = format!("{REPLY_EVENT_PREFIX}{keyword}");
        let word = PairOptOut { opted_out, at: received_at, event: event.clone() };
        let message = (inbound.provider.as_str(), inbound.provider_message_id.as_str());
        let Some(district) = district else {
            let pair = self.sms_pairs.opt_out_op(&inbound.from, &inbound.to, &word)?;
            return Ok(self.replies.mark_seen(message, now, vec![pair]).await?);
        };
        let also = || -> Result<Vec<WriteOp>, StoreError> {
            Ok(vec![
                self.sms_pairs.opt_out_op(&inbound.from, &inbound.to, &word)?,
                self.replies.marker_op(message.0, message.1, now)?,
            ])
        };
        let status = if opted_out { SmsStatus::OptOut } else { SmsStatus::Ok };
        let record =
            NumberStatus { number: inbound.from.clone(), status, last_event_at: received_at, last_event: event };
        let event_id = format!("{}#{}", inbound.provider, inbound.provider_message_id);
        match self.sms_status.record_with(district, &record, &event_id, also()?).await {
            Ok(_) => Ok(()),
            // A concurrent event: the person's word is final, so write it again on top.
            Err(StoreError::Conflict) => {
                Ok(self.sms_status.record_with(district, &record, &event_id, also()?).await.map(|_| ())?)
            }
            Err(other) => Err(other.into()),
        }
    }

    /// Records text consent for every person of the district whose cell
    /// phone is the sender's number (whatever else they hold it as); answers
    /// whether there is anyone, consented before or now.
    async fn record_consent(
        &self,
        district: &DistrictId,
        inbound: &InboundSms,
        (received_at, now): (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<bool, ServiceError> {
        let value = ContactValue::Phone(inbound.from.clone());
        let mut words: Vec<(PersonId, ConsentWord)> = Vec::new();
        for id in self.people.people_at(district, &value).await? {
            let Some(person) = self.people.get(district, &id).await? else { continue };
            if person.contacts.iter().any(|c| c.channel == Channel::CellPhone && c.value == value) {
                words.push((id, ConsentWord::Give));
            }
        }
        if words.is_empty() {
            return Ok(false);
        }
        // The masked number: who consented, without keeping the number twice.
        let by = inbound.from.to_string();
        let author = ConsentAuthor {
            consent: TextConsent { source: TEXT_CONSENT.into(), at: received_at, recorded_by: by.clone() },
            as_source: PreferenceSource::SelfSet,
            by,
            now,
            change_id: format!("{}#{}", inbound.provider, inbound.provider_message_id),
        };
        let recorded = self.consent.apply(district, &words, &author).await?;
        tracing::info!(%district, people = words.len(), recorded, number = %inbound.from, "text consent by reply");
        Ok(true)
    }

    /// The schools of the families at a number: who may read their reply.
    async fn schools_at(&self, district: &DistrictId, number: &PhoneNumber) -> Result<Vec<SchoolId>, ServiceError> {
        let people = self.people.people_at(district, &ContactValue::Phone(number.clone())).await?;
        let schools = self.family.of(district, people).await?;
        let all: BTreeSet<SchoolId> = schools.into_values().flatten().collect();
        Ok(all.into_iter().collect())
    }

    async fn keep(
        &self,
        district: Option<&DistrictId>,
        inbound: &InboundSms,
        received_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        let schools = match district {
            Some(district) => self.schools_at(district, &inbound.from).await?,
            None => Vec::new(),
        };
        let reply = StoredReply {
            from: inbound.from.as_e164().to_string(),
            to: inbound.to.clone(),
            body: inbound.body.clone(),
            provider: inbound.provider.clone(),
            received_at,
            schools,
        };
        Ok(self.replies.keep(district, &reply, (&inbound.provider, &inbound.provider_message_id), now).await?)
    }
}

#[cfg(test)]
mod tests;
