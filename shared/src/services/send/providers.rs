//! The provider call of one message, by its channel (a call, an email or a
//! text), and what a provider's permanent refusal says about the recipient.

use super::{SendService, failure_reason};
use crate::domain::segments::count_segments;
use crate::domain::template::{TemplateContext, render, render_html};
use crate::domain::{
    BroadcastContent, ContactValue, Delivery, DeliveryPoint, DistrictId, EmailStatus, PlannedDelivery, SmsStatus,
    is_ssml,
};
use crate::ports::{GatewayError, OutboundCall, OutboundEmail, OutboundSms, VoiceScript};
use crate::services::ServiceError;
use crate::store::{NumberStatus, StoreError, TextingNumber};

impl SendService {
    pub(super) async fn provider_call(
        &self,
        content: &BroadcastContent,
        origin: &TextingNumber,
        message: &PlannedDelivery,
        context: &TemplateContext,
        claim: &mut Delivery,
    ) -> Result<String, GatewayError> {
        if message.channel.is_call() {
            // A text's landline autocall reads the text.
            let script = content
                .voice
                .as_deref()
                .or(content.sms.as_deref())
                .ok_or_else(|| GatewayError::SenderError("broadcast has no voice script".into()))?;
            let voice = self
                .voice
                .as_ref()
                .ok_or_else(|| GatewayError::SenderError("no voice gateway is configured".into()))?;
            let ContactValue::Phone(to) = message.to.clone() else {
                return Err(GatewayError::InvalidRecipient("a call to something that is no number".into()));
            };
            let script = render(script, context);
            let script = if is_ssml(&script) { VoiceScript::Ssml(script) } else { VoiceScript::Text(script) };
            let call = OutboundCall { to, from: origin.number.clone(), script, language: message.language.clone() };
            Ok(voice.call(&call).await?.provider_message_id)
        } else if message.channel.is_email() {
            let content = content
                .email
                .as_ref()
                .ok_or_else(|| GatewayError::SenderError("broadcast has no email content".into()))?;
            let ContactValue::Email(to) = message.to.clone() else {
                return Err(GatewayError::InvalidRecipient("an email to something that is no address".into()));
            };
            let email = OutboundEmail {
                to,
                subject: render(&content.subject, context),
                text: render(&content.text, context),
                html: content.html.as_deref().map(|html| render_html(html, context)),
            };
            Ok(self.email.send(&email).await?.provider_message_id)
        } else {
            let text = content
                .sms
                .as_deref()
                .ok_or_else(|| GatewayError::SenderError("broadcast has no SMS content".into()))?;
            let ContactValue::Phone(to) = message.to.clone() else {
                return Err(GatewayError::InvalidRecipient("a text to something that is no number".into()));
            };
            let body = render(text, context);
            let segments = count_segments(&body);
            claim.segments = Some(segments.segments);
            claim.encoding = Some(segments.encoding);
            let sms = OutboundSms { to, body, from: origin.number.clone() };
            Ok(self.sms.send(&sms).await?.provider_message_id)
        }
    }

    /// A permanent recipient error says something about the number or
    /// address: record it so fan-out skips it next time.
    pub(super) async fn note_recipient_error(
        &self,
        district: &DistrictId,
        delivery: &Delivery,
        error: &GatewayError,
    ) -> Result<(), ServiceError> {
        let now = self.clock.now();
        let event = format!("send:{}", failure_reason(error));
        let event_id = self.ids.next_id();
        let recorded = match (&delivery.point, error) {
            (DeliveryPoint::Sms(number), GatewayError::OptedOut | GatewayError::InvalidRecipient(_)) => {
                let status =
                    if matches!(error, GatewayError::OptedOut) { SmsStatus::OptOut } else { SmsStatus::Inactive };
                let record = NumberStatus { number: number.clone(), status, last_event_at: now, last_event: event };
                self.sms_status.record(district, &record, &event_id).await.map(|_| ())
            }
            (DeliveryPoint::Email(address), GatewayError::InvalidRecipient(_)) => {
                let observed = EmailStatus::BouncedPermanent;
                self.email_status.record(district, address, observed, (now, &event, &event_id)).await.map(|_| ())
            }
            _ => Ok(()),
        };
        match recorded {
            Ok(()) | Err(StoreError::Conflict) => Ok(()),
            Err(other) => Err(other.into()),
        }
    }
}
