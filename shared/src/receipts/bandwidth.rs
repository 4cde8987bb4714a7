//! Bandwidth Messaging v2 callbacks (carriers.md §4c): a JSON array of
//! events, each with `type` (`message-sending`, `message-delivered`,
//! `message-failed`, `message-received`), `time`, `to`, `errorCode` on
//! failures, and `message.id`. Inbound `message-received` events in the
//! array are skipped; an array of nothing else is not a receipt.

use serde_json::Value;

use super::classify::{bandwidth_code, bandwidth_status, code_first};
use super::fields::{e164, json, object, required, rfc3339, text};
use super::{Dialect, Receipt, ReceiptError, ReceiptKind, ReceiptStatus};

const DIALECT: Dialect = Dialect::Bandwidth;

/// One callback body (an array, or a lone event object) to its receipts.
pub(crate) fn parse(body: &[u8]) -> Result<Vec<Receipt>, ReceiptError> {
    let root = json(DIALECT, body)?;
    let events = match &root {
        Value::Array(events) => events.iter().collect::<Vec<_>>(),
        Value::Object(_) => vec![&root],
        _ => return Err(ReceiptError::malformed(DIALECT, "expected a JSON array of events")),
    };
    let mut receipts = Vec::with_capacity(events.len());
    for event in &events {
        if !event.is_object() {
            return Err(ReceiptError::malformed(DIALECT, "an array entry is not an event object"));
        }
        let kind = required(DIALECT, event, "type", "type")?;
        if kind == "message-received" {
            continue;
        }
        receipts.push(receipt(event, &kind)?);
    }
    if receipts.is_empty() && !events.is_empty() {
        return Err(ReceiptError::unsupported(DIALECT, "inbound message"));
    }
    Ok(receipts)
}

fn receipt(event: &Value, kind: &str) -> Result<Receipt, ReceiptError> {
    let message = object(DIALECT, event, "message", "message")?;
    let id = required(DIALECT, message, "id", "message.id")?;
    let verdict = code_first(text(event, "errorCode").as_deref(), bandwidth_code, kind, bandwidth_status);
    let to = text(event, "to").or_else(|| match message.get("to") {
        Some(Value::Array(to)) if to.len() == 1 => to[0].as_str().map(str::to_owned),
        _ => None,
    });
    Ok(Receipt {
        provider_message_id: id,
        to: to.and_then(|n| e164(&n)),
        kind: ReceiptKind::Sms,
        is_final: verdict.status != ReceiptStatus::Pending,
        status: verdict.status,
        raw_code: verdict.raw_code,
        provider: DIALECT,
        occurred_at: text(event, "time").and_then(|t| rfc3339(&t)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::receipts::ReceiptStatus::*;

    fn event(kind: &str, code: Option<u32>, id: &str) -> String {
        let code = code.map_or(String::new(), |c| format!(r#""errorCode": {c},"#));
        format!(
            r#"{{"type": "{kind}", "time": "2024-03-01T18:20:16Z", "description": "desc", "to": "+12025550142", {code}
                "message": {{"id": "{id}", "time": "2024-03-01T18:20:15Z", "to": ["+12025550142"],
                "from": "+12025550100", "text": "", "applicationId": "app-1", "owner": "+12025550100",
                "direction": "out", "segmentCount": 1}}}}"#
        )
    }

    fn failed(code: u32) -> Result<Receipt, ReceiptError> {
        let mut receipts = parse(format!("[{}]", event("message-failed", Some(code), "m1")).as_bytes())?;
        receipts.pop().ok_or_else(|| ReceiptError::missing(DIALECT, "test"))
    }

    #[test]
    fn an_array_gives_one_receipt_per_event_in_order() -> Result<(), ReceiptError> {
        let body = format!(
            "[{}, {}, {}]",
            event("message-sending", None, "m1"),
            event("message-delivered", None, "m2"),
            event("message-failed", Some(4720), "m3")
        );
        let receipts = parse(body.as_bytes())?;
        let got: Vec<_> = receipts.iter().map(|r| (r.provider_message_id.as_str(), r.status, r.is_final)).collect();
        assert_eq!(got, [("m1", Pending, false), ("m2", Delivered, true), ("m3", Inactive, true)]);
        assert_eq!(receipts[2].raw_code.as_deref(), Some("4720"));
        assert_eq!(receipts[1].to.as_deref(), Some("+12025550142"));
        assert!(receipts[1].occurred_at.is_some());
        Ok(())
    }

    #[test]
    fn error_codes_map_as_the_doc_says() -> Result<(), ReceiptError> {
        let table = [
            (4303, Inactive),
            (4350, Inactive),
            (4404, Inactive),
            (4406, Inactive),
            (4408, Inactive),
            (4721, Inactive),
            (4720, Inactive),
            (4492, Inactive),
            (4700, Landline),
            (4701, TurnedOff),
            (4702, TurnedOff),
            (4482, Blocked),
            (4470, Blocked),
            (4750, Blocked),
            (4770, Blocked),
            (4772, Blocked),
            (4790, Blocked),
            (4775, OptOut),
            (4730, Unconfirmed),
            (5600, Unconfirmed),
            (9902, Unconfirmed),
            (9999, Unconfirmed),
            (4001, SenderError),
            (4301, SenderError),
            (4360, SenderError),
            (4410, SenderError),
            (4481, SenderError),
            (4493, SenderError),
            (4711, SenderError),
            (4740, SenderError),
            (4751, SenderError),
            (4771, SenderError),
            (4773, SenderError),
            (4782, SenderError),
            (4795, SenderError),
        ];
        for (code, expected) in table {
            assert_eq!(failed(code)?.status, expected, "errorCode {code}");
        }
        Ok(())
    }

    #[test]
    fn an_unknown_code_is_unconfirmed_and_keeps_the_code() -> Result<(), ReceiptError> {
        let receipt = failed(4998)?;
        assert_eq!((receipt.status, receipt.raw_code.as_deref()), (Unconfirmed, Some("4998")));
        Ok(())
    }

    #[test]
    fn inbound_events_are_skipped_and_alone_are_refused() -> Result<(), ReceiptError> {
        let inbound = event("message-received", None, "in1");
        let mixed = format!("[{inbound}, {}]", event("message-delivered", None, "m9"));
        assert_eq!(parse(mixed.as_bytes())?.len(), 1);
        assert!(matches!(parse(format!("[{inbound}]").as_bytes()), Err(ReceiptError::UnsupportedMessageType { .. })));
        assert_eq!(parse(b"[]")?, Vec::new());
        Ok(())
    }

    #[test]
    fn broken_arrays_are_refused() {
        assert!(matches!(parse(b"[1]"), Err(ReceiptError::Malformed { .. })));
        assert!(matches!(parse(b"\"text\""), Err(ReceiptError::Malformed { .. })));
        assert!(matches!(parse(br#"[{"type": "message-delivered"}]"#), Err(ReceiptError::MissingField { .. })));
    }
}
