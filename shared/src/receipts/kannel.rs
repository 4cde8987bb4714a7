//! Kannel's request to its `dlr-url` (carriers.md §5b), as a query string or
//! form body. The parameter names are ours, fixed by the `dlr-url` we submit
//! with:
//!
//! ```text
//! https://HOST/webhooks/kannel/dlr?token=SECRET&id=OUR_ID&status=%d&answer=%A&to=%p&smsc=%i&ts=%T
//! ```
//!
//! - `id`: the message id. Kannel's HTTP submit returns no SMSC id, so the
//!   sender writes its own id into the URL; `%F` (the SMSC's id) works too.
//!   Without `id`, the `id:` of the SMPP text in `answer` is used.
//! - `status` (`%d`): the DLR type, read **as a bitmask**: 1 delivered,
//!   2 not delivered, 4 queued on the SMSC, 8 accepted by the SMSC,
//!   16 rejected by the SMSC, 32 intermediate (EXPIRED comes as 34).
//! - `answer` (`%A`): the SMSC's receipt text, parsed as SMPP for `stat` and
//!   `err` (anything Kannel puts before `id:` is ignored).
//! - `to` (`%p`): the handset. Kannel swaps sender and receiver on a DLR,
//!   so `%p` (not `%P`) is the number the message went to.
//! - `ts` (`%T`): Unix seconds. `smsc` (`%i`) and `token` are not read here.

use chrono::{TimeZone, Utc};

use super::classify::Verdict;
use super::fields::{Form, e164};
use super::smpp::parse_smpp_text;
use super::{Dialect, Receipt, ReceiptError, ReceiptKind, ReceiptStatus};

const DIALECT: Dialect = Dialect::Kannel;
const DELIVERED: u32 = 1;
const FAILED: u32 = 2;
const IN_FLIGHT: u32 = 4 | 8 | 32;
const REJECTED: u32 = 16;

/// One DLR request to its receipt.
pub(crate) fn parse(body: &[u8]) -> Result<Receipt, ReceiptError> {
    let form = Form::parse(body);
    let mask: u32 = form
        .get("status")
        .ok_or_else(|| ReceiptError::missing(DIALECT, "status"))?
        .parse()
        .map_err(|_| ReceiptError::malformed(DIALECT, "`status` is not a DLR type number"))?;
    if mask == 0 {
        return Err(ReceiptError::malformed(DIALECT, "`status` is 0, which is no DLR type"));
    }
    let answer = form.get("answer").and_then(parse_smpp_text);
    let id = form
        .get("id")
        .map(str::to_owned)
        .or_else(|| answer.as_ref().map(|a| a.id.clone()))
        .ok_or_else(|| ReceiptError::missing(DIALECT, "id"))?;
    let smpp = answer.as_ref().and_then(|a| a.verdict());
    let failure = |fallback: ReceiptStatus| match &smpp {
        Some(v) if !matches!(v.status, ReceiptStatus::Pending | ReceiptStatus::Delivered) => v.clone(),
        _ => Verdict::new(fallback, mask.to_string()),
    };
    let verdict = if mask & DELIVERED != 0 {
        let raw = smpp.as_ref().and_then(|v| v.raw_code.clone()).unwrap_or_else(|| mask.to_string());
        Verdict::new(ReceiptStatus::Delivered, raw)
    } else if mask & FAILED != 0 {
        failure(ReceiptStatus::Unconfirmed)
    } else if mask & REJECTED != 0 {
        failure(ReceiptStatus::SenderError)
    } else if mask & IN_FLIGHT != 0 {
        Verdict::new(ReceiptStatus::Pending, mask.to_string())
    } else {
        Verdict::new(ReceiptStatus::Unconfirmed, mask.to_string())
    };
    Ok(Receipt {
        provider_message_id: id,
        to: form.get("to").and_then(e164),
        kind: ReceiptKind::Sms,
        is_final: verdict.status != ReceiptStatus::Pending,
        status: verdict.status,
        raw_code: verdict.raw_code,
        provider: DIALECT,
        occurred_at: form.get("ts").and_then(|t| t.parse().ok()).and_then(|s| Utc.timestamp_opt(s, 0).single()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::receipts::ReceiptStatus::*;

    fn dlr(status: u32, answer: Option<&str>) -> String {
        let mut body = format!("id=dlv-0001&status={status}&to=%2B12025550177&smsc=carrier1&ts=1706788800");
        if let Some(answer) = answer {
            body.push_str("&answer=");
            body.push_str(&answer.replace(' ', "+").replace(':', "%3A"));
        }
        body
    }

    fn receipt(status: u32, answer: Option<&str>) -> Result<Receipt, ReceiptError> {
        parse(dlr(status, answer).as_bytes())
    }

    const UNDELIV_27: &str =
        "id:98765 sub:001 dlvrd:000 submit date:2402011200 done date:2402011201 stat:UNDELIV err:027 text:x";

    #[test]
    fn a_delivered_dlr_reads_id_recipient_and_time() -> Result<(), ReceiptError> {
        let receipt = receipt(1, Some("id:98765 stat:DELIVRD err:000"))?;
        assert_eq!(receipt.provider_message_id, "dlv-0001");
        assert_eq!(receipt.to.as_deref(), Some("+12025550177"));
        assert_eq!((receipt.status, receipt.is_final, receipt.raw_code.as_deref()), (Delivered, true, Some("DELIVRD")));
        assert_eq!(receipt.occurred_at.map(|t| t.timestamp()), Some(1_706_788_800));
        Ok(())
    }

    #[test]
    fn dlr_types_map_as_the_doc_says() -> Result<(), ReceiptError> {
        assert_eq!(receipt(1, None)?.status, Delivered);
        assert_eq!(receipt(2, None)?.status, Unconfirmed);
        assert_eq!((receipt(4, None)?.status, receipt(4, None)?.is_final), (Pending, false));
        assert_eq!(receipt(8, None)?.status, Pending);
        assert_eq!(receipt(16, None)?.status, SenderError);
        assert_eq!(receipt(2, None)?.raw_code.as_deref(), Some("2"));
        Ok(())
    }

    #[test]
    fn a_failure_is_refined_by_the_smpp_answer() -> Result<(), ReceiptError> {
        let receipt = receipt(2, Some("id:98765 stat:EXPIRED err:000"))?;
        assert_eq!((receipt.status, receipt.raw_code.as_deref()), (TurnedOff, Some("EXPIRED")));
        let rejected = self::receipt(16, Some("id:98765 stat:REJECTD err:000"))?;
        assert_eq!(rejected.status, Blocked);
        let undeliv = self::receipt(2, Some(UNDELIV_27))?;
        assert_eq!((undeliv.status, undeliv.raw_code.as_deref()), (Unconfirmed, Some("UNDELIV:027")));
        Ok(())
    }

    #[test]
    fn the_type_is_read_as_a_bitmask() -> Result<(), ReceiptError> {
        let expired = receipt(34, Some("id:98765 stat:EXPIRED err:000"))?;
        assert_eq!(expired.status, TurnedOff);
        assert_eq!(receipt(33, None)?.status, Delivered);
        assert_eq!(receipt(32, None)?.status, Pending);
        assert_eq!(receipt(64, None)?.status, Unconfirmed);
        Ok(())
    }

    #[test]
    fn the_answer_id_stands_in_when_the_url_has_none() -> Result<(), ReceiptError> {
        let receipt = parse(b"status=1&answer=ACK%2F+id%3A4411+stat%3ADELIVRD")?;
        assert_eq!(receipt.provider_message_id, "4411");
        Ok(())
    }

    #[test]
    fn requests_without_a_usable_type_or_id_are_refused() {
        assert!(matches!(parse(b"id=x"), Err(ReceiptError::MissingField { field: "status", .. })));
        assert!(matches!(parse(b"id=x&status=abc"), Err(ReceiptError::Malformed { .. })));
        assert!(matches!(parse(b"id=x&status=0"), Err(ReceiptError::Malformed { .. })));
        assert!(matches!(parse(b"status=1"), Err(ReceiptError::MissingField { field: "id", .. })));
    }
}
