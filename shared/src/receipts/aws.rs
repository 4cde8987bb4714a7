//! AWS End User Messaging SMS event records (carriers.md §2a): `eventType`
//! (`TEXT_DELIVERED`, `TEXT_BLOCKED` ...; `MEDIA_*` and `RCS_*` alike),
//! `messageStatus`, `isFinal`, `messageId`, `destinationPhoneNumber`,
//! `eventTimestamp` (ms). AWS marks intermediate events `isFinal: false`;
//! such a receipt is not final even when its status is a failure.
//!
//! Voice events (`VOICE_*`, the event types of the SDK's `EventType`) are
//! call receipts: `VOICE_INITIATED`, `VOICE_RINGING` and `VOICE_ANSWERED`
//! are not final; `VOICE_COMPLETED` is an answered call (AWS documents that
//! it may have been voicemail: the service does not tell a machine from a
//! person), `VOICE_BUSY`, `VOICE_NO_ANSWER`, `VOICE_FAILED` and
//! `VOICE_TTL_EXPIRED` end it. The record's fields are taken to be the
//! documented SMS record's (`messageId`, `destinationPhoneNumber`,
//! `eventTimestamp`, `isFinal`); AWS publishes no full voice example we
//! could confirm that against.

use serde_json::Value;

use super::classify::aws_eum_status;
use super::fields::{e164, epoch_millis, json, required, text};
use super::{Dialect, Receipt, ReceiptError, ReceiptKind, ReceiptStatus};

const DIALECT: Dialect = Dialect::AwsEum;

/// One event record body to its receipt.
pub(crate) fn parse(body: &[u8]) -> Result<Receipt, ReceiptError> {
    from_value(&json(DIALECT, body)?)
}

/// One decoded event record (also what an SNS envelope carries).
pub(crate) fn from_value(record: &Value) -> Result<Receipt, ReceiptError> {
    if !record.is_object() {
        return Err(ReceiptError::malformed(DIALECT, "expected a JSON object"));
    }
    if record.get("messageBody").is_some() && record.get("originationNumber").is_some() {
        return Err(ReceiptError::unsupported(DIALECT, "inbound SMS"));
    }
    let id = required(DIALECT, record, "messageId", "messageId")?;
    let event_type = text(record, "eventType");
    let message_status = text(record, "messageStatus");
    if let Some(call) = event_type.as_deref().and_then(|event| event.strip_prefix("VOICE_")) {
        let aws_final = record.get("isFinal").and_then(Value::as_bool).unwrap_or(true);
        let status = match call {
            "INITIATED" | "RINGING" | "ANSWERED" => ReceiptStatus::Pending,
            "COMPLETED" => ReceiptStatus::Delivered,
            "BUSY" => ReceiptStatus::Busy,
            "NO_ANSWER" => ReceiptStatus::NoAnswer,
            "FAILED" | "TTL_EXPIRED" => ReceiptStatus::CallFailed,
            _ => return Err(ReceiptError::unsupported(DIALECT, event_type.as_deref().unwrap_or_default())),
        };
        return Ok(Receipt {
            provider_message_id: id,
            to: text(record, "destinationPhoneNumber").and_then(|n| e164(&n)),
            kind: ReceiptKind::Call,
            is_final: status != ReceiptStatus::Pending && aws_final,
            status,
            raw_code: event_type.clone(),
            provider: DIALECT,
            occurred_at: record.get("eventTimestamp").and_then(epoch_millis),
        });
    }
    let (raw, stripped) = match (&event_type, &message_status) {
        (Some(event), _) => {
            let stripped = ["TEXT_", "MEDIA_", "RCS_"].iter().find_map(|prefix| event.strip_prefix(prefix));
            match stripped {
                Some(stripped) => (event.clone(), stripped.to_owned()),
                None => return Err(ReceiptError::unsupported(DIALECT, event)),
            }
        }
        (None, Some(status)) => (status.clone(), status.clone()),
        (None, None) => return Err(ReceiptError::missing(DIALECT, "eventType")),
    };
    let aws_final = record.get("isFinal").and_then(Value::as_bool).unwrap_or(true);
    let status = aws_eum_status(&stripped, aws_final)
        .or_else(|| message_status.as_deref().and_then(|s| aws_eum_status(s, aws_final)))
        .unwrap_or(ReceiptStatus::Unconfirmed);
    Ok(Receipt {
        provider_message_id: id,
        to: text(record, "destinationPhoneNumber").and_then(|n| e164(&n)),
        kind: ReceiptKind::Sms,
        is_final: status != ReceiptStatus::Pending && aws_final,
        status,
        raw_code: Some(raw),
        provider: DIALECT,
        occurred_at: record.get("eventTimestamp").and_then(epoch_millis),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::receipts::ReceiptStatus::*;

    /// An event record as AWS writes it, for this and the SNS tests.
    pub(crate) fn event(event_type: &str, is_final: bool) -> String {
        let status = event_type.strip_prefix("TEXT_").unwrap_or(event_type);
        format!(
            r#"{{"eventType": "{event_type}", "eventVersion": "1.0", "eventTimestamp": 1706788800123,
                "isFinal": {is_final}, "originationPhoneNumber": "+12025550100",
                "destinationPhoneNumber": "+12025550188", "isInternationalSend": false, "isoCountryCode": "US",
                "mcc": "310", "mnc": "260", "messageId": "a1b2c3d4-0000-4000-8000-000000000001",
                "messageRequestTimestamp": 1706788799000, "messageEncoding": "GSM", "messageType": "TRANSACTIONAL",
                "messageStatus": "{status}", "messageStatusDescription": "Description",
                "context": {{"district": "d1"}}, "totalMessageParts": 1, "totalMessagePrice": 0.00581,
                "totalCarrierFee": 0.00302}}"#
        )
    }

    fn status_of(event_type: &str, is_final: bool) -> Result<(ReceiptStatus, bool), ReceiptError> {
        let receipt = parse(event(event_type, is_final).as_bytes())?;
        Ok((receipt.status, receipt.is_final))
    }

    #[test]
    fn a_delivered_event_reads_id_recipient_and_time() -> Result<(), ReceiptError> {
        let receipt = parse(event("TEXT_DELIVERED", true).as_bytes())?;
        assert_eq!(receipt.provider_message_id, "a1b2c3d4-0000-4000-8000-000000000001");
        assert_eq!(receipt.to.as_deref(), Some("+12025550188"));
        assert_eq!((receipt.status, receipt.is_final), (Delivered, true));
        assert_eq!(receipt.raw_code.as_deref(), Some("TEXT_DELIVERED"));
        assert_eq!(receipt.occurred_at.map(|t| t.timestamp_millis()), Some(1_706_788_800_123));
        Ok(())
    }

    #[test]
    fn event_types_map_as_the_doc_says() -> Result<(), ReceiptError> {
        let table = [
            ("TEXT_DELIVERED", Delivered),
            ("TEXT_SUCCESSFUL", Delivered),
            ("TEXT_BLOCKED", Blocked),
            ("TEXT_CARRIER_BLOCKED", Blocked),
            ("TEXT_SPAM", Blocked),
            ("TEXT_UNREACHABLE", TurnedOff),
            ("TEXT_CARRIER_UNREACHABLE", Unconfirmed),
            ("TEXT_TTL_EXPIRED", TurnedOff),
            ("TEXT_INVALID", Inactive),
            ("TEXT_INVALID_MESSAGE", SenderError),
            ("TEXT_UNKNOWN", Unconfirmed),
            ("TEXT_PROTECT_BLOCKED", SenderError),
            ("TEXT_OPTED_OUT", OptOut),
            ("MEDIA_DELIVERED", Delivered),
        ];
        for (event_type, expected) in table {
            assert_eq!(status_of(event_type, true)?, (expected, true), "{event_type}");
        }
        for event_type in ["TEXT_QUEUED", "TEXT_PENDING", "TEXT_SENT"] {
            assert_eq!(status_of(event_type, false)?, (Pending, false), "{event_type}");
        }
        Ok(())
    }

    #[test]
    fn a_successful_event_that_is_not_final_is_pending() -> Result<(), ReceiptError> {
        assert_eq!(status_of("TEXT_SUCCESSFUL", false)?, (Pending, false));
        assert_eq!(status_of("TEXT_CARRIER_UNREACHABLE", false)?, (Unconfirmed, false));
        Ok(())
    }

    #[test]
    fn an_unknown_event_type_is_unconfirmed_and_keeps_the_type() -> Result<(), ReceiptError> {
        let receipt = parse(event("TEXT_SOMETHING_NEW", true).as_bytes())?;
        assert_eq!((receipt.status, receipt.raw_code.as_deref()), (Unconfirmed, Some("TEXT_SOMETHING_NEW")));
        Ok(())
    }

    #[test]
    fn voice_events_are_call_receipts_that_end_with_completed_busy_no_answer_or_failed() -> Result<(), ReceiptError> {
        for (event_type, expected, is_final) in [
            ("VOICE_INITIATED", Pending, false),
            ("VOICE_RINGING", Pending, false),
            ("VOICE_ANSWERED", Pending, false),
            ("VOICE_COMPLETED", Delivered, true),
            ("VOICE_BUSY", Busy, true),
            ("VOICE_NO_ANSWER", NoAnswer, true),
            ("VOICE_FAILED", CallFailed, true),
            ("VOICE_TTL_EXPIRED", CallFailed, true),
        ] {
            let receipt = parse(event(event_type, true).as_bytes())?;
            assert_eq!((receipt.kind, receipt.status, receipt.is_final), (ReceiptKind::Call, expected, is_final));
            assert_eq!(receipt.raw_code.as_deref(), Some(event_type));
            assert_eq!(receipt.to.as_deref(), Some("+12025550188"));
        }
        assert!(matches!(
            parse(event("VOICE_SOMETHING_NEW", true).as_bytes()),
            Err(ReceiptError::UnsupportedMessageType { .. })
        ));
        Ok(())
    }

    #[test]
    fn inbound_sms_and_broken_records_are_refused() {
        let inbound = br#"{"originationNumber": "+12025550111", "destinationNumber": "+12025550100",
            "messageKeyword": "KEYWORD_1", "messageBody": "STOP", "inboundMessageId": "in-1"}"#;
        assert!(matches!(parse(inbound), Err(ReceiptError::UnsupportedMessageType { .. })));
        assert!(matches!(parse(b"{\"eventType\": \"TEXT_DELIVERED\"}"), Err(ReceiptError::MissingField { .. })));
        assert!(matches!(parse(b"[]"), Err(ReceiptError::Malformed { .. })));
    }
}
