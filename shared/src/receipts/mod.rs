//! Delivery receipts: every provider's callback body read into one
//! normalized [`Receipt`], classified per `carriers.md` (error code first,
//! coarse status second). Pure: no HTTP, no signatures, no store.
//!
//! - [`parse`]: a body in one [`Dialect`] to its receipts (a Bandwidth
//!   array, an SES bounce to several recipients and a Telnyx group message
//!   each hold several).
//! - [`supersedes`]: the out-of-order rule (a later non-final event never
//!   replaces a final one; a duplicate changes nothing).
//! - [`ReceiptStatus::sms_status`] and [`ReceiptStatus::email_status`]: what
//!   a receipt means for the contact, if anything.
//! - `classify`: the code tables, one function per provider.

mod aws;
mod bandwidth;
pub mod classify;
mod error;
mod fields;
mod inbound;
mod jasmin;
mod kannel;
mod model;
mod ses;
mod smpp;
mod sns;
mod sns_sms_log;
mod telnyx;
mod twilio;
mod vonage;

#[cfg(test)]
mod proptests;

pub use error::ReceiptError;
pub use inbound::{InboundText, aws_inbound, telnyx_inbound, twilio_inbound};
pub use model::{AWS_PROVIDER, Dialect, Receipt, ReceiptKind, ReceiptStatus, provider_family};
pub use smpp::{SmppReceipt, parse_smpp_text};
pub use sns::{AwsMessageKind, detect_aws_message};

/// Reads one provider body as `dialect` into its receipts, in body order.
///
/// Never panics: any input either parses or gives a [`ReceiptError`]. A
/// well-formed body that is not a receipt (an inbound SMS, an SNS
/// subscription confirmation, an email open) is
/// [`ReceiptError::UnsupportedMessageType`]; an SES complaint marked
/// `not-spam` and an empty Bandwidth array give no receipts.
pub fn parse(dialect: Dialect, body: &[u8]) -> Result<Vec<Receipt>, ReceiptError> {
    match dialect {
        Dialect::Twilio => twilio::parse(body).map(|r| vec![r]),
        Dialect::Telnyx => telnyx::parse(body),
        Dialect::Vonage => vonage::parse(body).map(|r| vec![r]),
        Dialect::Bandwidth => bandwidth::parse(body),
        Dialect::Kannel => kannel::parse(body).map(|r| vec![r]),
        Dialect::Jasmin => jasmin::parse(body).map(|r| vec![r]),
        Dialect::Smpp => smpp::parse(body).map(|r| vec![r]),
        Dialect::Sns => sns::parse(body),
        Dialect::AwsEum => aws::parse(body).map(|r| vec![r]),
        Dialect::Ses => ses::parse(body),
        Dialect::SnsSmsLog => sns_sms_log::parse(body).map(|r| vec![r]),
    }
}

/// Whether `new` should replace what is recorded for its message, given the
/// message's current final status (`None` while it has none).
///
/// - No final status yet: any receipt is recorded (a pending one too).
/// - A final status: a non-final receipt never replaces it (events arrive
///   out of order), and a final receipt with the same status is a duplicate
///   that changes nothing. A final receipt with a different status replaces
///   it: the provider changed its answer (Twilio can follow `undelivered`
///   with `delivered`).
pub fn supersedes(new: &Receipt, current_final: Option<ReceiptStatus>) -> bool {
    status_supersedes(new.status, new.is_final, current_final)
}

/// [`supersedes`] over a status and its finality.
pub fn status_supersedes(status: ReceiptStatus, is_final: bool, current_final: Option<ReceiptStatus>) -> bool {
    match current_final {
        None => true,
        Some(current) => is_final && status != current,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receipt(status: ReceiptStatus, is_final: bool) -> Receipt {
        Receipt {
            provider_message_id: "SM1".into(),
            to: None,
            kind: ReceiptKind::Sms,
            status,
            is_final,
            raw_code: None,
            provider: Dialect::Twilio,
            occurred_at: None,
        }
    }

    #[test]
    fn a_late_pending_event_never_replaces_a_final_status() {
        assert!(!supersedes(&receipt(ReceiptStatus::Pending, false), Some(ReceiptStatus::Delivered)));
        assert!(!supersedes(&receipt(ReceiptStatus::Pending, false), Some(ReceiptStatus::Blocked)));
    }

    #[test]
    fn a_duplicate_final_event_changes_nothing() {
        assert!(!supersedes(&receipt(ReceiptStatus::Delivered, true), Some(ReceiptStatus::Delivered)));
        assert!(!supersedes(&receipt(ReceiptStatus::TurnedOff, true), Some(ReceiptStatus::TurnedOff)));
    }

    #[test]
    fn any_event_is_recorded_while_there_is_no_final_status() {
        assert!(supersedes(&receipt(ReceiptStatus::Pending, false), None));
        assert!(supersedes(&receipt(ReceiptStatus::Delivered, true), None));
    }

    #[test]
    fn a_different_final_answer_replaces_the_earlier_one() {
        assert!(supersedes(&receipt(ReceiptStatus::Delivered, true), Some(ReceiptStatus::Unconfirmed)));
    }

    #[test]
    fn a_pending_then_final_then_pending_sequence_ends_final() {
        let events = [
            receipt(ReceiptStatus::Pending, false),
            receipt(ReceiptStatus::Delivered, true),
            receipt(ReceiptStatus::Pending, false),
            receipt(ReceiptStatus::Delivered, true),
        ];
        let mut current: Option<ReceiptStatus> = None;
        let mut recorded = 0;
        for event in &events {
            if supersedes(event, current) {
                recorded += 1;
                if event.is_final {
                    current = Some(event.status);
                }
            }
        }
        assert_eq!(current, Some(ReceiptStatus::Delivered));
        assert_eq!(recorded, 2);
    }

    #[test]
    fn every_dialect_name_parses_back() -> Result<(), ReceiptError> {
        for dialect in Dialect::ALL {
            assert_eq!(dialect.as_str().parse::<Dialect>()?, *dialect);
        }
        assert!(matches!("carrier-pigeon".parse::<Dialect>(), Err(ReceiptError::UnknownDialect(_))));
        Ok(())
    }
}
