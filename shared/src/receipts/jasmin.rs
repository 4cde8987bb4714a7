//! Jasmin's request to its `dlr-url` (carriers.md §5c), GET query string or
//! POST form, with Jasmin's documented field names:
//!
//! - `id`: Jasmin's message UUID (what its HTTP API answered on submit).
//! - `message_status`: at level 1 (SMSC level) the SMPP command status
//!   (`ESME_ROK` submitted → pending; `ESME_RINVDSTADR` → inactive; any
//!   other `ESME_*` → sender error); at levels 2 and 3 the SMPP receipt
//!   state (`DELIVRD`, `UNDELIV` ...), mapped as SMPP.
//! - `level`, `connector`, `id_smsc`, `sub`, `dlvrd`, `subdate`, `donedate`,
//!   `text`: not needed to classify; `err`: kept in the raw code when not 0.
//!
//! Jasmin sends no recipient, and `donedate` has no time zone. The webhook
//! must answer `ACK/Jasmin`, or Jasmin retries.

use super::classify::{esme_status, smpp_stat};
use super::fields::Form;
use super::{Dialect, Receipt, ReceiptError, ReceiptKind, ReceiptStatus};

const DIALECT: Dialect = Dialect::Jasmin;

/// One DLR request to its receipt.
pub(crate) fn parse(body: &[u8]) -> Result<Receipt, ReceiptError> {
    let form = Form::parse(body);
    let id = form.get("id").ok_or_else(|| ReceiptError::missing(DIALECT, "id"))?;
    let state = form.get("message_status").ok_or_else(|| ReceiptError::missing(DIALECT, "message_status"))?;
    let status = esme_status(state).or_else(|| smpp_stat(state)).unwrap_or(ReceiptStatus::Unconfirmed);
    let raw_code = match form.get("err").filter(|e| !e.bytes().all(|b| b == b'0')) {
        Some(err) => format!("{state}:{err}"),
        None => state.to_owned(),
    };
    Ok(Receipt {
        provider_message_id: id.to_owned(),
        to: None,
        kind: ReceiptKind::Sms,
        is_final: status != ReceiptStatus::Pending,
        status,
        raw_code: Some(raw_code),
        provider: DIALECT,
        occurred_at: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::receipts::ReceiptStatus::*;

    const ID: &str = "8a2fb35d-2d0e-4b6c-9f0b-2a9e4b1c7d31";

    fn level1(status: &str) -> String {
        format!("id={ID}&message_status={status}&level=1&connector=smsc-a")
    }

    fn level2(stat: &str, err: &str) -> String {
        format!(
            "id={ID}&id_smsc=2d4e5f&message_status={stat}&level=2&connector=smsc-a&subdate=2402011200\
             &donedate=2402011201&sub=1&dlvrd=1&err={err}&text=School+closed+today"
        )
    }

    fn status_of(body: &str) -> Result<(ReceiptStatus, bool), ReceiptError> {
        let receipt = parse(body.as_bytes())?;
        Ok((receipt.status, receipt.is_final))
    }

    #[test]
    fn a_delivered_receipt_reads_the_jasmin_id() -> Result<(), ReceiptError> {
        let receipt = parse(level2("DELIVRD", "000").as_bytes())?;
        assert_eq!(receipt.provider_message_id, ID);
        assert_eq!((receipt.status, receipt.is_final, receipt.raw_code.as_deref()), (Delivered, true, Some("DELIVRD")));
        assert_eq!(receipt.to, None);
        Ok(())
    }

    #[test]
    fn level_one_command_statuses_map_as_the_doc_says() -> Result<(), ReceiptError> {
        assert_eq!(status_of(&level1("ESME_ROK"))?, (Pending, false));
        assert_eq!(status_of(&level1("ESME_RINVDSTADR"))?, (Inactive, true));
        assert_eq!(status_of(&level1("ESME_RTHROTTLED"))?, (SenderError, true));
        Ok(())
    }

    #[test]
    fn terminal_states_map_as_smpp() -> Result<(), ReceiptError> {
        let table = [
            ("DELIVRD", Delivered),
            ("EXPIRED", TurnedOff),
            ("DELETED", Unconfirmed),
            ("UNDELIV", Unconfirmed),
            ("ACCEPTD", Pending),
            ("UNKNOWN", Unconfirmed),
            ("REJECTD", Blocked),
        ];
        for (stat, expected) in table {
            assert_eq!(status_of(&level2(stat, "000"))?.0, expected, "{stat}");
        }
        Ok(())
    }

    #[test]
    fn an_unknown_state_is_unconfirmed_and_keeps_state_and_err() -> Result<(), ReceiptError> {
        let receipt = parse(level2("SOMETHING", "045").as_bytes())?;
        assert_eq!((receipt.status, receipt.raw_code.as_deref()), (Unconfirmed, Some("SOMETHING:045")));
        Ok(())
    }

    #[test]
    fn requests_without_id_or_status_are_refused() {
        assert!(matches!(parse(b"message_status=DELIVRD"), Err(ReceiptError::MissingField { field: "id", .. })));
        assert!(matches!(parse(b"id=abc&level=1"), Err(ReceiptError::MissingField { field: "message_status", .. })));
    }
}
