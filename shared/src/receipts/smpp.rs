//! SMPP delivery receipt text (carriers.md §5a, SMPP 3.4 Appendix B):
//! `id:... sub:... dlvrd:... submit date:... done date:... stat:... err:...
//! text:...`. Anything before `id:` is ignored (Kannel's `%A` prefixes it),
//! keys are case-insensitive, `sub`/`dlvrd`/`err`/`text` may be missing and
//! vendor fields after `err` (IMSI, MSC ...) are skipped. Dates have no time
//! zone, so `occurred_at` stays empty; the id is kept as the SMSC wrote it.

use super::classify::{Verdict, smpp_stat};
use super::{Dialect, Receipt, ReceiptError, ReceiptKind, ReceiptStatus};

const DIALECT: Dialect = Dialect::Smpp;

/// The fields of an SMPP receipt text, as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SmppReceipt {
    /// The SMSC's message id (from `submit_sm_resp`).
    pub id: String,
    /// Parts submitted.
    pub sub: Option<String>,
    /// Parts delivered.
    pub dlvrd: Option<String>,
    /// `YYMMDDhhmm[ss]`, no time zone.
    pub submit_date: Option<String>,
    /// `YYMMDDhhmm[ss]`, no time zone.
    pub done_date: Option<String>,
    /// The final state name (`DELIVRD`, `UNDELIV` ...).
    pub stat: Option<String>,
    /// The network- or SMSC-specific error code.
    pub err: Option<String>,
    /// The first characters of the message.
    pub text: Option<String>,
}

impl SmppReceipt {
    /// The status and raw code: the state decides (`UNDELIV` and unknown
    /// states → `Unconfirmed`); the raw code is the state, with `:err`
    /// appended when the error code is not zero (`UNDELIV:001`).
    pub fn verdict(&self) -> Option<Verdict> {
        let stat = self.stat.as_deref()?;
        let status = smpp_stat(stat).unwrap_or(ReceiptStatus::Unconfirmed);
        let raw = match self.err.as_deref().filter(|e| !e.bytes().all(|b| b == b'0')) {
            Some(err) => format!("{stat}:{err}"),
            None => stat.to_owned(),
        };
        Some(Verdict::new(status, raw))
    }
}

/// Reads the receipt fields from `text`, starting at the first `id:` that
/// begins a word. `None` when there is no such `id:` or its value is empty.
pub fn parse_smpp_text(text: &str) -> Option<SmppReceipt> {
    let start = find_id(text)?;
    let mut receipt = SmppReceipt::default();
    let mut rest = &text[start..];
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        let lower = rest.get(..12).unwrap_or(rest).to_ascii_lowercase();
        let (key, after) = if lower.starts_with("submit date:") {
            ("submit date".to_owned(), &rest[12..])
        } else if lower.starts_with("done date:") {
            ("done date".to_owned(), &rest[10..])
        } else {
            let end = rest.find(|c: char| c == ':' || c.is_whitespace()).unwrap_or(rest.len());
            if !rest[end..].starts_with(':') {
                rest = &rest[end..];
                continue;
            }
            (rest[..end].to_ascii_lowercase(), &rest[end + 1..])
        };
        if key == "text" {
            receipt.text = Some(after.trim().to_owned()).filter(|t| !t.is_empty());
            break;
        }
        let end = after.find(char::is_whitespace).unwrap_or(after.len());
        let value = Some(after[..end].to_owned()).filter(|v| !v.is_empty());
        rest = &after[end..];
        let slot = match key.as_str() {
            "id" if receipt.id.is_empty() => {
                receipt.id = value.unwrap_or_default();
                continue;
            }
            "sub" => &mut receipt.sub,
            "dlvrd" => &mut receipt.dlvrd,
            "submit date" => &mut receipt.submit_date,
            "done date" => &mut receipt.done_date,
            "stat" => &mut receipt.stat,
            "err" => &mut receipt.err,
            _ => continue,
        };
        if slot.is_none() {
            *slot = value;
        }
    }
    (!receipt.id.is_empty()).then_some(receipt)
}

/// The byte offset of the first `id:` (any case) not inside a longer word.
fn find_id(text: &str) -> Option<usize> {
    let lower = text.to_ascii_lowercase();
    lower
        .match_indices("id:")
        .map(|(at, _)| at)
        .find(|&at| at == 0 || lower.as_bytes().get(at - 1).is_some_and(|b| !(b.is_ascii_alphanumeric() || *b == b'_')))
}

/// One receipt text to its receipt (no recipient: the text has none).
pub(crate) fn parse(body: &[u8]) -> Result<Receipt, ReceiptError> {
    let text = String::from_utf8_lossy(body);
    let fields = parse_smpp_text(&text).ok_or_else(|| ReceiptError::missing(DIALECT, "id"))?;
    receipt(DIALECT, &fields)
}

/// A receipt from parsed fields, for `dialect` (SMPP itself, or a gateway
/// that forwards the text).
pub(crate) fn receipt(dialect: Dialect, fields: &SmppReceipt) -> Result<Receipt, ReceiptError> {
    let verdict = fields.verdict().ok_or_else(|| ReceiptError::missing(dialect, "stat"))?;
    Ok(Receipt {
        provider_message_id: fields.id.clone(),
        to: None,
        kind: ReceiptKind::Sms,
        is_final: verdict.status != ReceiptStatus::Pending,
        status: verdict.status,
        raw_code: verdict.raw_code,
        provider: dialect,
        occurred_at: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::receipts::ReceiptStatus::*;

    fn text(stat: &str, err: &str) -> String {
        format!(
            "id:7734001 sub:001 dlvrd:000 submit date:2402011200 done date:2402011201 stat:{stat} err:{err} text:Snow day"
        )
    }

    #[test]
    fn a_standard_receipt_reads_every_field() {
        let fields = parse_smpp_text(&text("DELIVRD", "000"));
        let expected = SmppReceipt {
            id: "7734001".into(),
            sub: Some("001".into()),
            dlvrd: Some("000".into()),
            submit_date: Some("2402011200".into()),
            done_date: Some("2402011201".into()),
            stat: Some("DELIVRD".into()),
            err: Some("000".into()),
            text: Some("Snow day".into()),
        };
        assert_eq!(fields, Some(expected));
    }

    #[test]
    fn states_map_as_the_doc_says() -> Result<(), ReceiptError> {
        let table = [
            ("DELIVRD", Delivered, true),
            ("ACCEPTD", Pending, false),
            ("ENROUTE", Pending, false),
            ("EXPIRED", TurnedOff, true),
            ("DELETED", Unconfirmed, true),
            ("UNDELIV", Unconfirmed, true),
            ("REJECTD", Blocked, true),
            ("UNKNOWN", Unconfirmed, true),
        ];
        for (stat, status, is_final) in table {
            let receipt = parse(text(stat, "000").as_bytes())?;
            assert_eq!((receipt.status, receipt.is_final), (status, is_final), "{stat}");
            assert_eq!(receipt.raw_code.as_deref(), Some(stat));
        }
        Ok(())
    }

    #[test]
    fn an_unknown_state_is_unconfirmed_and_a_nonzero_err_is_kept() -> Result<(), ReceiptError> {
        let receipt = parse(text("WEIRDST", "000").as_bytes())?;
        assert_eq!((receipt.status, receipt.raw_code.as_deref()), (Unconfirmed, Some("WEIRDST")));
        let receipt = parse(text("UNDELIV", "001").as_bytes())?;
        assert_eq!((receipt.status, receipt.raw_code.as_deref()), (Unconfirmed, Some("UNDELIV:001")));
        Ok(())
    }

    #[test]
    fn anything_before_id_is_ignored() -> Result<(), ReceiptError> {
        let receipt = parse(format!("ACK/ addr:1 msgid:9 {}", text("DELIVRD", "0")).as_bytes())?;
        assert_eq!((receipt.provider_message_id.as_str(), receipt.status), ("7734001", Delivered));
        Ok(())
    }

    #[test]
    fn variants_seen_in_real_traffic_parse() -> Result<(), ReceiptError> {
        let seconds = "id:c449ab9744f47b6af1879e49e75e4f40 sub:001 dlvrd:000 submit date:110206193041 \
                       done date:110206193110 stat:UNDELIV err:000 Text:Hello";
        assert_eq!(parse(seconds.as_bytes())?.provider_message_id, "c449ab9744f47b6af1879e49e75e4f40");
        let sparse =
            "Id:4e9fbf2a-1b9b-4e3a-9b0f-0c4e1c1f0a11 submit date:2402011200 done date:2402011201 stat:EXPIRED err:027";
        let receipt = parse(sparse.as_bytes())?;
        assert_eq!((receipt.status, receipt.raw_code.as_deref()), (TurnedOff, Some("EXPIRED:027")));
        let extras = "id:55 sub:001 dlvrd:001 submit date:2402011200 done date:2402011201 stat:DELIVRD err:000 \
                      IMSI:310150123456789 MSC:19195551234 text:";
        let fields = parse_smpp_text(extras);
        assert_eq!(fields.as_ref().and_then(|f| f.stat.as_deref()), Some("DELIVRD"));
        assert_eq!(fields.and_then(|f| f.text), None);
        Ok(())
    }

    #[test]
    fn text_without_an_id_or_a_state_is_refused() {
        assert!(matches!(parse(b"stat:DELIVRD err:000"), Err(ReceiptError::MissingField { field: "id", .. })));
        assert!(matches!(parse(b"msgid:12 stat:DELIVRD"), Err(ReceiptError::MissingField { field: "id", .. })));
        assert!(matches!(parse(b"id:12 err:000"), Err(ReceiptError::MissingField { field: "stat", .. })));
        assert!(matches!(parse(b"id: stat:DELIVRD"), Err(ReceiptError::MissingField { .. })));
    }
}
