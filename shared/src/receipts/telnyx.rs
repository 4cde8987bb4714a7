//! Telnyx v2 messaging webhooks (carriers.md §4a): `message.sent` and
//! `message.finalized` carry `data.payload.to[]` with one status per
//! recipient and `data.payload.errors[]` with the error codes; each
//! recipient gives one receipt. `message.received` is an inbound message.

use serde_json::Value;

use super::classify::{code_first, telnyx_code, telnyx_status};
use super::fields::{as_text, e164, json, object, required, rfc3339, text};
use super::{Dialect, Receipt, ReceiptError, ReceiptKind, ReceiptStatus};

const DIALECT: Dialect = Dialect::Telnyx;

/// One webhook body to one receipt per recipient.
pub(crate) fn parse(body: &[u8]) -> Result<Vec<Receipt>, ReceiptError> {
    let root = json(DIALECT, body)?;
    let data = object(DIALECT, &root, "data", "data")?;
    let event = required(DIALECT, data, "event_type", "data.event_type")?;
    if event != "message.sent" && event != "message.finalized" {
        let what = if event == "message.received" { "inbound message" } else { event.as_str() };
        return Err(ReceiptError::unsupported(DIALECT, what));
    }
    let payload = object(DIALECT, data, "payload", "data.payload")?;
    let id = required(DIALECT, payload, "id", "data.payload.id")?;
    let occurred_at = text(data, "occurred_at").and_then(|t| rfc3339(&t));
    let code = first_error_code(payload);
    let recipients: Vec<&Value> = match payload.get("to") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(single @ Value::Object(_)) => vec![single],
        _ => Vec::new(),
    };
    if recipients.is_empty() {
        return Err(ReceiptError::missing(DIALECT, "data.payload.to"));
    }
    recipients
        .into_iter()
        .map(|recipient| {
            let status = required(DIALECT, recipient, "status", "data.payload.to[].status")?;
            let verdict = code_first(code.as_deref(), telnyx_code, &status, telnyx_status);
            Ok(Receipt {
                provider_message_id: id.clone(),
                to: text(recipient, "phone_number").and_then(|n| e164(&n)),
                kind: ReceiptKind::Sms,
                is_final: verdict.status != ReceiptStatus::Pending,
                status: verdict.status,
                raw_code: verdict.raw_code,
                provider: DIALECT,
                occurred_at,
            })
        })
        .collect()
}

/// The first `errors[].code`, a string or a number.
fn first_error_code(payload: &Value) -> Option<String> {
    payload.get("errors")?.as_array()?.iter().find_map(|error| error.get("code").and_then(as_text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::receipts::ReceiptStatus::*;

    fn webhook(event: &str, statuses: &[&str], code: Option<&str>) -> String {
        let to: Vec<String> = statuses
            .iter()
            .enumerate()
            .map(|(i, s)| format!(r#"{{"phone_number": "+1312555001{i}", "line_type": "Wireless", "status": "{s}"}}"#))
            .collect();
        let errors = code.map_or(String::new(), |c| {
            format!(r#"{{"code": "{c}", "title": "Failure", "detail": "The carrier said no."}}"#)
        });
        format!(
            r#"{{"data": {{"event_type": "{event}", "id": "evt-1", "occurred_at": "2024-02-01T10:00:00.000+00:00",
                "payload": {{"id": "msg-40", "direction": "outbound", "errors": [{errors}],
                "from": {{"phone_number": "+13125550001"}}, "to": [{}], "type": "SMS"}},
                "record_type": "event"}}, "meta": {{"attempt": 1}}}}"#,
            to.join(",")
        )
    }

    fn one(event: &str, status: &str, code: Option<&str>) -> Result<Receipt, ReceiptError> {
        parse(webhook(event, &[status], code).as_bytes())?.pop().ok_or_else(|| ReceiptError::missing(DIALECT, "test"))
    }

    #[test]
    fn a_finalized_delivery_reads_id_recipient_and_time() -> Result<(), ReceiptError> {
        let receipt = one("message.finalized", "delivered", None)?;
        assert_eq!(receipt.provider_message_id, "msg-40");
        assert_eq!(receipt.to.as_deref(), Some("+13125550010"));
        assert_eq!((receipt.status, receipt.is_final), (Delivered, true));
        assert!(receipt.occurred_at.is_some());
        Ok(())
    }

    #[test]
    fn reference_error_codes_map_as_the_doc_says() -> Result<(), ReceiptError> {
        let table = [
            ("40001", Landline),
            ("40002", Blocked),
            ("40003", Blocked),
            ("40004", Unconfirmed),
            ("40005", TurnedOff),
            ("40006", Unconfirmed),
            ("40008", Unconfirmed),
            ("40012", Inactive),
            ("40310", Inactive),
            ("40300", OptOut),
            ("40009", SenderError),
            ("40015", SenderError),
            ("40320", SenderError),
            ("40101", SenderError),
        ];
        for (code, expected) in table {
            let receipt = one("message.finalized", "delivery_failed", Some(code))?;
            assert_eq!(receipt.status, expected, "code {code}");
            assert_eq!(receipt.raw_code.as_deref(), Some(code));
        }
        Ok(())
    }

    #[test]
    fn recipient_statuses_map_when_no_code_decides() -> Result<(), ReceiptError> {
        assert_eq!(one("message.finalized", "delivery_unconfirmed", None)?.status, Unconfirmed);
        assert_eq!(one("message.finalized", "sending_failed", None)?.status, Unconfirmed);
        for status in ["queued", "sending", "sent"] {
            let receipt = one("message.sent", status, None)?;
            assert_eq!((receipt.status, receipt.is_final), (Pending, false), "{status}");
        }
        Ok(())
    }

    #[test]
    fn an_unknown_code_is_unconfirmed_and_keeps_the_code() -> Result<(), ReceiptError> {
        let receipt = one("message.finalized", "delivery_failed", Some("40999"))?;
        assert_eq!((receipt.status, receipt.raw_code.as_deref()), (Unconfirmed, Some("40999")));
        Ok(())
    }

    #[test]
    fn a_numeric_error_code_reads_like_a_string_one() -> Result<(), ReceiptError> {
        let body = webhook("message.finalized", &["delivery_failed"], None)
            .replace("\"errors\": []", "\"errors\": [{\"code\": 40300}]");
        assert_eq!(parse(body.as_bytes())?[0].status, OptOut);
        Ok(())
    }

    #[test]
    fn a_group_message_gives_one_receipt_per_recipient() -> Result<(), ReceiptError> {
        let receipts = parse(webhook("message.finalized", &["delivered", "delivery_unconfirmed"], None).as_bytes())?;
        let statuses: Vec<_> = receipts.iter().map(|r| r.status).collect();
        assert_eq!(statuses, [Delivered, Unconfirmed]);
        Ok(())
    }

    #[test]
    fn inbound_messages_and_broken_bodies_are_refused() {
        assert!(matches!(
            parse(webhook("message.received", &["webhook_delivered"], None).as_bytes()),
            Err(ReceiptError::UnsupportedMessageType { .. })
        ));
        assert!(matches!(
            parse(b"{\"data\": {\"event_type\": \"message.finalized\"}}"),
            Err(ReceiptError::MissingField { .. })
        ));
        assert!(matches!(parse(b"[1, 2"), Err(ReceiptError::Malformed { .. })));
    }
}
