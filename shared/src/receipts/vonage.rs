//! Vonage (Nexmo) SMS API delivery receipts (carriers.md §4b), form-encoded
//! (or a GET query string) or JSON depending on the account: `messageId`,
//! `msisdn` (the recipient, without `+`), `status`, `err-code`,
//! `message-timestamp` (UTC). A multipart SMS sends one receipt per part
//! under the same `messageId`; aggregating them is the caller's job.

use serde_json::Value;

use super::classify::{code_first, vonage_code, vonage_status};
use super::fields::{Form, e164, json, naive_utc, text};
use super::{Dialect, Receipt, ReceiptError, ReceiptKind, ReceiptStatus};

const DIALECT: Dialect = Dialect::Vonage;

/// A DLR's fields, from either encoding.
enum Fields {
    Json(Value),
    Form(Form),
}

impl Fields {
    fn get(&self, name: &str) -> Option<String> {
        match self {
            Fields::Json(value) => text(value, name),
            Fields::Form(form) => form.get(name).map(str::to_owned),
        }
    }
}

/// One DLR body, JSON when it starts with `{`, a form otherwise.
pub(crate) fn parse(body: &[u8]) -> Result<Receipt, ReceiptError> {
    let is_json = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    let fields = if is_json { Fields::Json(json(DIALECT, body)?) } else { Fields::Form(Form::parse(body)) };
    let id = fields.get("messageId").ok_or_else(|| ReceiptError::missing(DIALECT, "messageId"))?;
    let status = fields.get("status").ok_or_else(|| ReceiptError::missing(DIALECT, "status"))?;
    let verdict = code_first(fields.get("err-code").as_deref(), vonage_code, &status, vonage_status);
    Ok(Receipt {
        provider_message_id: id,
        to: fields.get("msisdn").and_then(|n| e164(&n)),
        kind: ReceiptKind::Sms,
        is_final: verdict.status != ReceiptStatus::Pending,
        status: verdict.status,
        raw_code: verdict.raw_code,
        provider: DIALECT,
        occurred_at: fields.get("message-timestamp").and_then(|t| naive_utc(&t, "%Y-%m-%d %H:%M:%S")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::receipts::ReceiptStatus::*;

    fn form(status: &str, code: &str) -> String {
        format!(
            "msisdn=447700900123&to=SchoolBell&network-code=23410&messageId=0A0000001234ABCD&price=0.03330000\
             &status={status}&scts=2401151310&err-code={code}&api-key=abcd1234&message-timestamp=2024-01-15+13%3A10%3A29"
        )
    }

    fn status_of(status: &str, code: &str) -> Result<ReceiptStatus, ReceiptError> {
        Ok(parse(form(status, code).as_bytes())?.status)
    }

    #[test]
    fn a_form_receipt_reads_id_recipient_and_time() -> Result<(), ReceiptError> {
        let receipt = parse(form("delivered", "0").as_bytes())?;
        assert_eq!(receipt.provider_message_id, "0A0000001234ABCD");
        assert_eq!(receipt.to.as_deref(), Some("+447700900123"));
        assert_eq!((receipt.status, receipt.is_final), (Delivered, true));
        assert_eq!(receipt.occurred_at.map(|t| t.to_rfc3339()).as_deref(), Some("2024-01-15T13:10:29+00:00"));
        Ok(())
    }

    #[test]
    fn a_json_receipt_reads_like_a_form_one() -> Result<(), ReceiptError> {
        let body = r#"{"err-code": "6", "message-timestamp": "2024-01-15 13:10:29", "messageId": "0B00000127FDBC63",
            "msisdn": "447700900456", "network-code": "23410", "price": "0.03330000", "scts": "2401151310",
            "status": "rejected", "to": "SchoolBell"}"#;
        let receipt = parse(body.as_bytes())?;
        assert_eq!((receipt.status, receipt.raw_code.as_deref()), (Blocked, Some("6")));
        assert_eq!(receipt.to.as_deref(), Some("+447700900456"));
        let numeric = body.replace("\"err-code\": \"6\"", "\"err-code\": 9");
        assert_eq!(parse(numeric.as_bytes())?.status, OptOut);
        Ok(())
    }

    #[test]
    fn err_codes_map_as_the_doc_says() -> Result<(), ReceiptError> {
        let table = [
            ("1", Unconfirmed),
            ("2", TurnedOff),
            ("3", Inactive),
            ("4", Blocked),
            ("5", Unconfirmed),
            ("6", Blocked),
            ("7", TurnedOff),
            ("8", Unconfirmed),
            ("9", OptOut),
            ("10", SenderError),
            ("11", Unconfirmed),
            ("12", Inactive),
            ("13", Blocked),
            ("14", Blocked),
            ("15", TurnedOff),
            ("99", Unconfirmed),
        ];
        for (code, expected) in table {
            assert_eq!(status_of("failed", code)?, expected, "err-code {code}");
        }
        Ok(())
    }

    #[test]
    fn statuses_decide_when_the_err_code_is_zero_or_missing() -> Result<(), ReceiptError> {
        assert_eq!(status_of("delivered", "0")?, Delivered);
        assert_eq!(status_of("expired", "0")?, TurnedOff);
        for status in ["failed", "rejected", "unknown"] {
            assert_eq!(status_of(status, "")?, Unconfirmed, "{status}");
        }
        for status in ["accepted", "buffered"] {
            let receipt = parse(form(status, "0").as_bytes())?;
            assert_eq!((receipt.status, receipt.is_final), (Pending, false), "{status}");
        }
        Ok(())
    }

    #[test]
    fn an_unknown_err_code_is_unconfirmed_and_keeps_the_code() -> Result<(), ReceiptError> {
        let receipt = parse(form("failed", "42").as_bytes())?;
        assert_eq!((receipt.status, receipt.raw_code.as_deref()), (Unconfirmed, Some("42")));
        Ok(())
    }

    #[test]
    fn bodies_without_an_id_or_broken_json_are_refused() {
        assert!(matches!(parse(b"status=delivered"), Err(ReceiptError::MissingField { field: "messageId", .. })));
        assert!(matches!(parse(b"{\"messageId\": "), Err(ReceiptError::Malformed { .. })));
    }
}
