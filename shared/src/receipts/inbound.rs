//! Inbound texts (replies) in the providers' own shapes, read into what
//! the reply rule needs: who wrote, to which of our numbers, what, and the
//! provider's id of the message (for dedupe).
//!
//! - Twilio: the inbound webhook's form fields `MessageSid` (or `SmsSid`),
//!   `From`, `To`, `Body` (carriers.md §1c);
//! - Telnyx: a `message.received` event, `data.payload.{id, from.phone_number,
//!   to[0].phone_number, text}` (§4a); other event types are not replies;
//! - AWS End User Messaging two-way SMS, the SNS `Message`:
//!   `originationNumber`, `destinationNumber`, `messageBody`,
//!   `inboundMessageId` (§2b).

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::fields::{Form, e164, json, text};
use super::{Dialect, ReceiptError};

/// One inbound text, before the district is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundText {
    /// The provider's id of the inbound message.
    pub provider_message_id: String,
    /// The person's number, E.164.
    pub from: String,
    /// Our number it was sent to, E.164.
    pub to: String,
    /// What they wrote.
    pub body: String,
    /// When the provider says it arrived, if it says so.
    pub received_at: Option<DateTime<Utc>>,
}

fn missing(dialect: Dialect, field: &'static str) -> ReceiptError {
    ReceiptError::MissingField { dialect, field }
}

/// A Twilio inbound webhook body (form-encoded).
pub fn twilio_inbound(body: &[u8]) -> Result<InboundText, ReceiptError> {
    let form = Form::parse(body);
    let id = form.get("MessageSid").or_else(|| form.get("SmsSid")).ok_or(missing(Dialect::Twilio, "MessageSid"))?;
    let from = form.get("From").and_then(e164).ok_or(missing(Dialect::Twilio, "From"))?;
    let to = form.get("To").and_then(e164).ok_or(missing(Dialect::Twilio, "To"))?;
    Ok(InboundText {
        provider_message_id: id.to_string(),
        from,
        to,
        body: form.get("Body").unwrap_or_default().to_string(),
        received_at: None,
    })
}

/// A Telnyx webhook body: `Some` for `message.received`, `None` for any other event.
pub fn telnyx_inbound(body: &[u8]) -> Result<Option<InboundText>, ReceiptError> {
    let value = json(Dialect::Telnyx, body)?;
    let data = value.get("data").ok_or(missing(Dialect::Telnyx, "data"))?;
    if data.get("event_type").and_then(Value::as_str) != Some("message.received") {
        return Ok(None);
    }
    let payload = data.get("payload").ok_or(missing(Dialect::Telnyx, "payload"))?;
    let id = text(payload, "id").ok_or(missing(Dialect::Telnyx, "payload.id"))?;
    let from = payload
        .get("from")
        .and_then(|f| f.get("phone_number"))
        .and_then(Value::as_str)
        .and_then(e164)
        .ok_or(missing(Dialect::Telnyx, "payload.from.phone_number"))?;
    let to = payload
        .get("to")
        .and_then(Value::as_array)
        .and_then(|to| to.first())
        .and_then(|to| to.get("phone_number"))
        .and_then(Value::as_str)
        .and_then(e164)
        .ok_or(missing(Dialect::Telnyx, "payload.to[0].phone_number"))?;
    let received_at = text(payload, "received_at").or_else(|| text(data, "occurred_at"));
    Ok(Some(InboundText {
        provider_message_id: id,
        from,
        to,
        body: payload.get("text").and_then(Value::as_str).unwrap_or_default().to_string(),
        received_at: received_at.as_deref().and_then(super::fields::rfc3339),
    }))
}

/// An AWS two-way SMS message (the SNS `Message`): `Some` when it has the
/// two-way shape, `None` for anything else (an SMS event, an SES event).
pub fn aws_inbound(message: &[u8]) -> Result<Option<InboundText>, ReceiptError> {
    let value = json(Dialect::AwsEum, message)?;
    if value.get("originationNumber").is_none() || value.get("inboundMessageId").is_none() {
        return Ok(None);
    }
    let from = text(&value, "originationNumber")
        .as_deref()
        .and_then(e164)
        .ok_or(missing(Dialect::AwsEum, "originationNumber"))?;
    let to = text(&value, "destinationNumber")
        .as_deref()
        .and_then(e164)
        .ok_or(missing(Dialect::AwsEum, "destinationNumber"))?;
    Ok(Some(InboundText {
        provider_message_id: text(&value, "inboundMessageId").unwrap_or_default(),
        from,
        to,
        body: value.get("messageBody").and_then(Value::as_str).unwrap_or_default().to_string(),
        received_at: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_twilio_inbound_form_reads_sender_number_and_text() {
        let body = b"MessageSid=SM123&From=%2B16175552345&To=%2B18005550123&Body=Stop+please&NumMedia=0";
        let inbound = twilio_inbound(body).unwrap();
        assert_eq!((inbound.from.as_str(), inbound.to.as_str()), ("+16175552345", "+18005550123"));
        assert_eq!((inbound.provider_message_id.as_str(), inbound.body.as_str()), ("SM123", "Stop please"));
        assert!(twilio_inbound(b"Body=STOP").is_err(), "no sender");
    }

    #[test]
    fn a_telnyx_message_received_is_a_reply_and_other_events_are_not() {
        let received =
            br#"{"data": {"event_type": "message.received", "id": "e1", "occurred_at": "2026-11-02T09:00:00Z",
            "payload": {"id": "m1", "from": {"phone_number": "+16175552345"}, "to": [{"phone_number": "+18005550123"}],
            "text": "STOP"}}}"#;
        let inbound = telnyx_inbound(received).unwrap().unwrap_or_else(|| panic!("a reply"));
        assert_eq!((inbound.provider_message_id.as_str(), inbound.body.as_str()), ("m1", "STOP"));
        assert!(inbound.received_at.is_some());
        let finalized = br#"{"data": {"event_type": "message.finalized", "payload": {}}}"#;
        assert_eq!(telnyx_inbound(finalized).ok(), Some(None));
    }

    #[test]
    fn an_aws_two_way_message_is_a_reply_and_an_sms_event_is_not() {
        let two_way =
            br#"{"originationNumber":"+14255550182","destinationNumber":"+12125550101","messageKeyword":"JOIN",
            "messageBody":"EXAMPLE","inboundMessageId":"cae173d2","previousPublishedMessageId":"wJalr"}"#;
        let inbound = aws_inbound(two_way).unwrap().unwrap_or_else(|| panic!("a reply"));
        assert_eq!((inbound.from.as_str(), inbound.body.as_str()), ("+14255550182", "EXAMPLE"));
        assert_eq!(aws_inbound(br#"{"eventType": "TEXT_DELIVERED"}"#).ok(), Some(None));
    }
}
