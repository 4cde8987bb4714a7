//! Sending a chunk's messages: a slice of them in flight at once, each
//! through its provider with retries, and the delivery each one leaves to
//! record (see the module docs of `send` for when they are written).

use chrono::Utc;

use super::{ChunkReport, SendService, failure_reason};
use crate::domain::template::TemplateContext;
use crate::domain::{Broadcast, CallDetail, Delivery, DeliveryReason, DeliveryState, DistrictId, PlannedDelivery};
use crate::services::ServiceError;
use crate::store::TextingNumber;

/// What every message of a chunk (or a call's next try) is sent with.
#[derive(Clone, Copy)]
pub(super) struct Sending<'a> {
    pub(super) district: &'a DistrictId,
    pub(super) broadcast: &'a Broadcast,
    /// The number texts go from.
    pub(super) origin: &'a TextingNumber,
    /// The try this is, recorded on each delivery.
    pub(super) attempts: u32,
}

/// What happened to one message.
pub(super) enum Outcome {
    Sent,
    Failed,
    Retry,
}

fn record_of(message: &PlannedDelivery, attempts: u32, now: chrono::DateTime<Utc>) -> Delivery {
    // A call keeps what its script was rendered with, for its retries.
    let call = message.channel.is_call().then(|| CallDetail {
        first_name: message.first_name.clone(),
        children: message.children.clone(),
        school: message.school.clone(),
        ..CallDetail::default()
    });
    Delivery {
        point: message.point(),
        channel: Some(message.channel),
        people: message.people.clone(),
        state: DeliveryState::Sent,
        reason: None,
        provider_message_id: None,
        segments: None,
        encoding: None,
        raw_code: None,
        attempts,
        provider: None,
        call,
        language: message.language.clone(),
        updated_at: now,
    }
}

impl SendService {
    /// Sends one slice, all of it in flight at once, and answers the
    /// deliveries to record (its caller writes them together). A message
    /// whose send could not be recorded fails the slice, once the others'
    /// deliveries are written.
    pub(super) async fn send_slice(
        &self,
        sending: &Sending<'_>,
        slice: &[&PlannedDelivery],
        report: &mut ChunkReport,
    ) -> Result<Vec<Delivery>, ServiceError> {
        let Sending { district, broadcast, origin, attempts } = *sending;
        // A STOP can arrive while a broadcast is being sent: opt-outs are
        // read again right before each group of texts goes.
        let (stopped, slice) = self.without_opted_out(district, origin, slice).await?;
        let mut marks = Vec::with_capacity(stopped.len() + slice.len());
        for message in stopped {
            let mut skip = record_of(message, attempts, self.clock.now());
            skip.state = DeliveryState::Skipped;
            skip.reason = Some(DeliveryReason::OptOut);
            marks.push(skip);
            report.skipped += 1;
        }
        self.remember_texted(district, origin, &slice).await?;
        let sends = slice.iter().map(|message| self.send_one(sending, message));
        let mut failure = None;
        for outcome in futures::future::join_all(sends).await {
            match outcome {
                Ok((outcome, mark)) => {
                    match outcome {
                        Outcome::Sent => report.sent += 1,
                        Outcome::Failed => report.failed += 1,
                        Outcome::Retry => report.retry += 1,
                    }
                    marks.extend(mark);
                }
                Err(error) => failure = failure.or(Some(error)),
            }
        }
        match failure {
            Some(error) => {
                self.broadcasts.put_deliveries(district, &broadcast.id, &marks).await?;
                Err(error)
            }
            None => Ok(marks),
        }
    }

    /// Sends one claimed message and records what came of it at once.
    pub(super) async fn send_and_mark(
        &self,
        sending: &Sending<'_>,
        message: &PlannedDelivery,
    ) -> Result<Outcome, ServiceError> {
        let (outcome, mark) = self.send_one(sending, message).await?;
        if let Some(mark) = mark {
            self.broadcasts
                .put_deliveries(sending.district, &sending.broadcast.id, std::slice::from_ref(&mark))
                .await?;
        }
        Ok(outcome)
    }

    /// Sends one claimed message: what came of it, and the delivery to
    /// record (none for a message left for a later try).
    async fn send_one(
        &self,
        sending: &Sending<'_>,
        message: &PlannedDelivery,
    ) -> Result<(Outcome, Option<Delivery>), ServiceError> {
        let Sending { district, broadcast, origin, attempts } = *sending;
        let mut claim = record_of(message, attempts, self.clock.now());
        // A text that names people keeps the names too: if the carrier
        // answers that the number is a landline, the call reading it says them.
        let content = broadcast.content.for_language(message.language.as_deref());
        let names_people = content.sms.as_deref().is_some_and(|sms| sms.contains("{{"));
        if message.channel == crate::domain::Channel::Text && names_people {
            claim.call = Some(CallDetail {
                first_name: message.first_name.clone(),
                children: message.children.clone(),
                school: message.school.clone(),
                ..CallDetail::default()
            });
        }
        let context = TemplateContext {
            first_name: message.first_name.clone(),
            children: message.children.clone(),
            sender: broadcast.sender_name.clone(),
            school: message.school.clone(),
        };
        let mut attempt = 0;
        let error = loop {
            attempt += 1;
            let rate = match message.channel {
                channel if channel.is_email() => &self.email_rate,
                channel if channel.is_call() => &self.call_rate,
                _ => &self.text_rate,
            };
            rate.acquire().await;
            match self.provider_call(content, origin, message, &context, &mut claim).await {
                Ok(provider_message_id) => {
                    claim.state = DeliveryState::Sent;
                    claim.provider_message_id = Some(provider_message_id);
                    let provider = match message.channel {
                        channel if channel.is_email() => self.email.provider(),
                        channel if channel.is_call() => self.voice.as_ref().and_then(|voice| voice.provider()),
                        _ => self.sms.provider(),
                    };
                    claim.provider = provider.map(str::to_string);
                    claim.updated_at = self.clock.now();
                    return Ok((Outcome::Sent, Some(claim)));
                }
                Err(error) if error.is_retryable() && attempt < self.settings.attempts => {
                    let wait = self.settings.backoff * 2u32.saturating_pow(attempt - 1);
                    tracing::warn!(broadcast = %broadcast.id, attempt, error = %error, "provider busy; retrying");
                    tokio::time::sleep(wait).await;
                }
                Err(error) => break error,
            }
        };
        if error.is_retryable() {
            tracing::warn!(%district, broadcast = %broadcast.id, error = %error, "message left for a later try");
            return Ok((Outcome::Retry, None));
        }
        claim.state = DeliveryState::Failed;
        claim.reason = Some(failure_reason(&error));
        claim.updated_at = self.clock.now();
        self.note_recipient_error(district, &claim, &error).await?;
        tracing::info!(%district, broadcast = %broadcast.id, reason = ?claim.reason, "message refused by the provider");
        Ok((Outcome::Failed, Some(claim)))
    }
}
