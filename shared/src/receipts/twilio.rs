//! Twilio's status callback: a form-encoded POST with `MessageSid`,
//! `MessageStatus`, `To` and, on failures, `ErrorCode` (carriers.md §1).
//! `RawDlrDoneDate` has no time zone, so `occurred_at` stays empty.

use super::classify::{code_first, twilio_code, twilio_status};
use super::fields::{Form, e164};
use super::{Dialect, Receipt, ReceiptError, ReceiptKind, ReceiptStatus};

const DIALECT: Dialect = Dialect::Twilio;

/// One status callback body to its receipt. The legacy `SmsSid` and
/// `SmsStatus` stand in when the current names are missing; an inbound
/// message (`received`) is not a receipt.
pub(crate) fn parse(body: &[u8]) -> Result<Receipt, ReceiptError> {
    let form = Form::parse(body);
    let sid = form
        .get("MessageSid")
        .or_else(|| form.get("SmsSid"))
        .ok_or_else(|| ReceiptError::missing(DIALECT, "MessageSid"))?;
    let status = form
        .get("MessageStatus")
        .or_else(|| form.get("SmsStatus"))
        .ok_or_else(|| ReceiptError::missing(DIALECT, "MessageStatus"))?;
    if matches!(status.to_ascii_lowercase().as_str(), "received" | "receiving") {
        return Err(ReceiptError::unsupported(DIALECT, "inbound message"));
    }
    let verdict = code_first(form.get("ErrorCode"), twilio_code, status, twilio_status);
    Ok(Receipt {
        provider_message_id: sid.to_owned(),
        to: form.get("To").and_then(e164),
        kind: ReceiptKind::Sms,
        is_final: verdict.status != ReceiptStatus::Pending,
        status: verdict.status,
        raw_code: verdict.raw_code,
        provider: DIALECT,
        occurred_at: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::receipts::ReceiptStatus::*;

    fn callback(status: &str, code: Option<&str>) -> String {
        let mut body = format!(
            "AccountSid=ACtest&ApiVersion=2010-04-01&From=%2B12025550100&MessageSid=SMabc123&MessageStatus={status}\
             &SmsSid=SMabc123&SmsStatus={status}&To=%2B12025550111"
        );
        if let Some(code) = code {
            body.push_str(&format!("&ErrorCode={code}"));
        }
        body
    }

    fn status_of(status: &str, code: Option<&str>) -> Result<(ReceiptStatus, bool), ReceiptError> {
        let receipt = parse(callback(status, code).as_bytes())?;
        Ok((receipt.status, receipt.is_final))
    }

    #[test]
    fn a_delivered_callback_reads_every_field() -> Result<(), ReceiptError> {
        let receipt = parse(format!("{}&RawDlrDoneDate=2504241615", callback("delivered", None)).as_bytes())?;
        assert_eq!(receipt.provider_message_id, "SMabc123");
        assert_eq!(receipt.to.as_deref(), Some("+12025550111"));
        assert_eq!((receipt.status, receipt.is_final), (Delivered, true));
        assert_eq!(receipt.raw_code.as_deref(), Some("delivered"));
        assert_eq!(receipt.kind, ReceiptKind::Sms);
        Ok(())
    }

    #[test]
    fn verified_error_codes_map_as_the_doc_says() -> Result<(), ReceiptError> {
        let table = [
            ("30002", SenderError),
            ("30003", TurnedOff),
            ("30004", Blocked),
            ("30005", Inactive),
            ("30006", Landline),
            ("30007", Blocked),
            ("30008", Unconfirmed),
            ("21610", OptOut),
            ("21635", Landline),
        ];
        for (code, expected) in table {
            let receipt = parse(callback("undelivered", Some(code)).as_bytes())?;
            assert_eq!(receipt.status, expected, "code {code}");
            assert_eq!(receipt.raw_code.as_deref(), Some(code));
            assert!(receipt.is_final);
        }
        Ok(())
    }

    #[test]
    fn other_doc_codes_map_as_proposed() -> Result<(), ReceiptError> {
        let table = [
            ("30001", SenderError),
            ("30010", SenderError),
            ("30034", SenderError),
            ("21614", Landline),
            ("21211", Inactive),
            ("21612", Unconfirmed),
            ("21408", SenderError),
        ];
        for (code, expected) in table {
            assert_eq!(status_of("failed", Some(code))?.0, expected, "code {code}");
        }
        Ok(())
    }

    #[test]
    fn an_unknown_code_is_unconfirmed_and_keeps_the_code() -> Result<(), ReceiptError> {
        let receipt = parse(callback("undelivered", Some("30999")).as_bytes())?;
        assert_eq!((receipt.status, receipt.is_final), (Unconfirmed, true));
        assert_eq!(receipt.raw_code.as_deref(), Some("30999"));
        Ok(())
    }

    #[test]
    fn in_flight_statuses_are_pending_and_not_final() -> Result<(), ReceiptError> {
        for status in ["queued", "sending", "sent", "accepted", "scheduled"] {
            assert_eq!(status_of(status, None)?, (Pending, false), "{status}");
        }
        Ok(())
    }

    #[test]
    fn a_failure_without_a_code_is_unconfirmed_and_read_is_delivered() -> Result<(), ReceiptError> {
        assert_eq!(status_of("failed", None)?, (Unconfirmed, true));
        assert_eq!(status_of("undelivered", None)?, (Unconfirmed, true));
        assert_eq!(status_of("read", None)?, (Delivered, true));
        Ok(())
    }

    #[test]
    fn legacy_names_stand_in_for_the_current_ones() -> Result<(), ReceiptError> {
        let receipt = parse(b"SmsSid=SMold&SmsStatus=delivered&To=%2B12025550111")?;
        assert_eq!((receipt.provider_message_id.as_str(), receipt.status), ("SMold", Delivered));
        Ok(())
    }

    #[test]
    fn an_inbound_message_or_a_body_without_ids_is_refused() {
        assert!(matches!(
            parse(callback("received", None).as_bytes()),
            Err(ReceiptError::UnsupportedMessageType { .. })
        ));
        assert!(matches!(
            parse(b"MessageStatus=delivered"),
            Err(ReceiptError::MissingField { field: "MessageSid", .. })
        ));
        assert!(matches!(parse(b"{\"json\": true}"), Err(ReceiptError::MissingField { .. })));
    }
}
