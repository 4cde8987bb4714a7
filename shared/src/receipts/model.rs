//! The normalized receipt: what one provider event says about one message
//! to one recipient, in our vocabulary, plus the dialects we read.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ReceiptError;
use crate::domain::{DeliveryReason, EmailStatus, SmsStatus};

/// One provider event about one message to one recipient.
///
/// Serializes to the operator contract: `{"provider_message_id", "to",
/// "kind", "status", "final", "raw_code", "provider", "occurred_at"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// The provider's id of the message (Twilio `MessageSid`, the SMSC id of
    /// an SMPP receipt, the SES `mail.messageId` ...). Never empty.
    pub provider_message_id: String,
    /// The recipient: E.164 for SMS when the body has a usable number, the
    /// address for email; `None` when the body does not say (Jasmin, a bare
    /// SMPP receipt, a masked SNS log number). Never log it.
    pub to: Option<String>,
    /// SMS or email.
    pub kind: ReceiptKind,
    /// What the event means, classified per `carriers.md`.
    pub status: ReceiptStatus,
    /// Whether this is the message's last word: false for pending events and
    /// for events the provider itself marks as not final.
    #[serde(rename = "final")]
    pub is_final: bool,
    /// The provider's own value that decided `status`: the error code when
    /// there is one, otherwise the provider's status name.
    pub raw_code: Option<String>,
    /// The dialect of the body the receipt came from (for an SNS envelope,
    /// the AWS kind inside it).
    pub provider: Dialect,
    /// When the provider says the event happened, if it says so with a time
    /// zone (SMPP and Twilio done dates have none and are left out).
    pub occurred_at: Option<DateTime<Utc>>,
}

/// Which channel a receipt is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptKind {
    /// A text message.
    Sms,
    /// An email.
    Email,
    /// An automated call.
    Call,
}

/// What an event means: the seven SMS contact statuses (with `Delivered`
/// for OK), the email ones, and two that never touch a contact: `Pending`
/// (not final yet) and `SenderError` (our side is at fault).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptStatus {
    /// Delivered to the handset or the mailbox.
    Delivered,
    /// A fixed line (or VoIP) that cannot take SMS.
    Landline,
    /// Handset off, absent or out of coverage; may deliver later.
    TurnedOff,
    /// No usable answer (unknown code, timeout, network fault).
    Unconfirmed,
    /// The carrier or the handset refused it.
    Blocked,
    /// Disconnected, unallocated or invalid number.
    Inactive,
    /// The recipient unsubscribed (STOP).
    OptOut,
    /// Not final yet (queued, sent, accepted, enroute, buffered).
    Pending,
    /// Our side is at fault (account, registration, content, price, rate).
    SenderError,
    /// Hard email bounce.
    BouncedPermanent,
    /// Soft email bounce.
    BouncedTransient,
    /// The recipient marked the email as spam.
    Complaint,
    /// A call an answering machine took (the script was recorded).
    Machine,
    /// A call to a busy line.
    Busy,
    /// A call nobody answered.
    NoAnswer,
    /// A call that did not go through, for no reason given.
    CallFailed,
}

impl ReceiptStatus {
    /// Every status, in declaration order.
    pub const ALL: &'static [ReceiptStatus] = &[
        ReceiptStatus::Delivered,
        ReceiptStatus::Landline,
        ReceiptStatus::TurnedOff,
        ReceiptStatus::Unconfirmed,
        ReceiptStatus::Blocked,
        ReceiptStatus::Inactive,
        ReceiptStatus::OptOut,
        ReceiptStatus::Pending,
        ReceiptStatus::SenderError,
        ReceiptStatus::BouncedPermanent,
        ReceiptStatus::BouncedTransient,
        ReceiptStatus::Complaint,
        ReceiptStatus::Machine,
        ReceiptStatus::Busy,
        ReceiptStatus::NoAnswer,
        ReceiptStatus::CallFailed,
    ];

    /// The reason a failed delivery records for this status (`None` for
    /// `Delivered`, `Machine` and `Pending`, which are no failure).
    pub fn failure_reason(self) -> Option<DeliveryReason> {
        Some(match self {
            ReceiptStatus::Delivered | ReceiptStatus::Machine | ReceiptStatus::Pending => return None,
            ReceiptStatus::Busy => DeliveryReason::Busy,
            ReceiptStatus::NoAnswer => DeliveryReason::NoAnswer,
            ReceiptStatus::CallFailed => DeliveryReason::CallFailed,
            ReceiptStatus::Landline => DeliveryReason::Landline,
            ReceiptStatus::TurnedOff => DeliveryReason::TurnedOff,
            ReceiptStatus::Unconfirmed => DeliveryReason::Unconfirmed,
            ReceiptStatus::Blocked => DeliveryReason::Blocked,
            ReceiptStatus::Inactive => DeliveryReason::Inactive,
            ReceiptStatus::OptOut => DeliveryReason::OptOut,
            ReceiptStatus::SenderError => DeliveryReason::SenderError,
            ReceiptStatus::BouncedPermanent => DeliveryReason::BouncedPermanent,
            ReceiptStatus::BouncedTransient => DeliveryReason::BouncedTransient,
            ReceiptStatus::Complaint => DeliveryReason::Complaint,
        })
    }

    /// The status a failed delivery's reason stands for, when a receipt
    /// could have recorded it (a refusal at send time that is no receipt
    /// status, such as `throttled`, stands for none).
    pub fn of_failure(reason: DeliveryReason) -> Option<ReceiptStatus> {
        ReceiptStatus::ALL.iter().copied().find(|status| status.failure_reason() == Some(reason))
    }

    /// The status's name in the contract (`turned_off`, `opt_out` ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ReceiptStatus::Delivered => "delivered",
            ReceiptStatus::Landline => "landline",
            ReceiptStatus::TurnedOff => "turned_off",
            ReceiptStatus::Unconfirmed => "unconfirmed",
            ReceiptStatus::Blocked => "blocked",
            ReceiptStatus::Inactive => "inactive",
            ReceiptStatus::OptOut => "opt_out",
            ReceiptStatus::Pending => "pending",
            ReceiptStatus::SenderError => "sender_error",
            ReceiptStatus::BouncedPermanent => "bounced_permanent",
            ReceiptStatus::BouncedTransient => "bounced_transient",
            ReceiptStatus::Complaint => "complaint",
            ReceiptStatus::Machine => "machine",
            ReceiptStatus::Busy => "busy",
            ReceiptStatus::NoAnswer => "no_answer",
            ReceiptStatus::CallFailed => "call_failed",
        }
    }

    /// The SMS contact status this sets on a phone number, if any:
    /// `Delivered` → `Ok`, the six failures to themselves; `Pending`,
    /// `SenderError` and the email statuses → `None` (leave it alone).
    pub fn sms_status(self) -> Option<SmsStatus> {
        match self {
            ReceiptStatus::Delivered => Some(SmsStatus::Ok),
            ReceiptStatus::Landline => Some(SmsStatus::Landline),
            ReceiptStatus::TurnedOff => Some(SmsStatus::TurnedOff),
            ReceiptStatus::Unconfirmed => Some(SmsStatus::Unconfirmed),
            ReceiptStatus::Blocked => Some(SmsStatus::Blocked),
            ReceiptStatus::Inactive => Some(SmsStatus::Inactive),
            ReceiptStatus::OptOut => Some(SmsStatus::OptOut),
            ReceiptStatus::Pending
            | ReceiptStatus::SenderError
            | ReceiptStatus::BouncedPermanent
            | ReceiptStatus::BouncedTransient
            | ReceiptStatus::Complaint
            | ReceiptStatus::Machine
            | ReceiptStatus::Busy
            | ReceiptStatus::NoAnswer
            | ReceiptStatus::CallFailed => None,
        }
    }

    /// The email status this sets on an address, if any: `Delivered` →
    /// `Ok`, bounces and complaints to themselves, anything else → `None`.
    pub fn email_status(self) -> Option<EmailStatus> {
        match self {
            ReceiptStatus::Delivered => Some(EmailStatus::Ok),
            ReceiptStatus::BouncedPermanent => Some(EmailStatus::BouncedPermanent),
            ReceiptStatus::BouncedTransient => Some(EmailStatus::BouncedTransient),
            ReceiptStatus::Complaint => Some(EmailStatus::Complaint),
            _ => None,
        }
    }
}

impl fmt::Display for ReceiptStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A body format we read, named as the CLI's `--dialect` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Dialect {
    /// Twilio status callback, form-encoded.
    #[serde(rename = "twilio")]
    Twilio,
    /// Telnyx v2 messaging webhook JSON.
    #[serde(rename = "telnyx")]
    Telnyx,
    /// Vonage SMS API delivery receipt, form-encoded or JSON.
    #[serde(rename = "vonage")]
    Vonage,
    /// Bandwidth Messaging v2 callback, a JSON array.
    #[serde(rename = "bandwidth")]
    Bandwidth,
    /// Kannel's request to its `dlr-url`, query string or form.
    #[serde(rename = "kannel")]
    Kannel,
    /// Jasmin's request to its `dlr-url`, query string or form.
    #[serde(rename = "jasmin")]
    Jasmin,
    /// An SMPP delivery receipt text (`id:... stat:... err:...`).
    #[serde(rename = "smpp")]
    Smpp,
    /// An SNS HTTP(S) envelope carrying one of the AWS kinds.
    #[serde(rename = "sns")]
    Sns,
    /// An AWS End User Messaging SMS event record.
    #[serde(rename = "aws-eum")]
    AwsEum,
    /// An SES notification (`notificationType`) or event (`eventType`).
    #[serde(rename = "ses")]
    Ses,
    /// An SNS SMS delivery-status log record.
    #[serde(rename = "sns-sms-log")]
    SnsSmsLog,
}

impl Dialect {
    /// Every dialect, in the contract's order.
    pub const ALL: &'static [Dialect] = &[
        Dialect::Twilio,
        Dialect::Telnyx,
        Dialect::Vonage,
        Dialect::Bandwidth,
        Dialect::Kannel,
        Dialect::Jasmin,
        Dialect::Smpp,
        Dialect::Sns,
        Dialect::AwsEum,
        Dialect::Ses,
        Dialect::SnsSmsLog,
    ];

    /// The dialect's name (`aws-eum`, `sns-sms-log` ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Twilio => "twilio",
            Dialect::Telnyx => "telnyx",
            Dialect::Vonage => "vonage",
            Dialect::Bandwidth => "bandwidth",
            Dialect::Kannel => "kannel",
            Dialect::Jasmin => "jasmin",
            Dialect::Smpp => "smpp",
            Dialect::Sns => "sns",
            Dialect::AwsEum => "aws-eum",
            Dialect::Ses => "ses",
            Dialect::SnsSmsLog => "sns-sms-log",
        }
    }

    /// Every name, `|`-separated, for messages.
    pub fn names() -> String {
        Dialect::ALL.iter().map(|d| d.as_str()).collect::<Vec<_>>().join("|")
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Dialect {
    type Err = ReceiptError;
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        let wanted = name.trim().to_ascii_lowercase();
        Dialect::ALL
            .iter()
            .copied()
            .find(|d| d.as_str() == wanted)
            .ok_or_else(|| ReceiptError::UnknownDialect(name.chars().take(40).collect()))
    }
}

/// The provider AWS's dialects (SNS envelopes, End User Messaging events,
/// SES events, SNS SMS logs) speak for: the SNS and SES gateways.
pub const AWS_PROVIDER: &str = "aws";

/// The provider a receipt's source (a [`Dialect`] name, or `simulated`)
/// speaks for: a delivery sent through one provider takes receipts from it only.
pub fn provider_family(source: &str) -> &str {
    match source {
        "sns" | "aws-eum" | "ses" | "sns-sms-log" => AWS_PROVIDER,
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receipt_serializes_to_the_contract_json() -> Result<(), serde_json::Error> {
        let receipt = Receipt {
            provider_message_id: "SM1".into(),
            to: Some("+15555550123".into()),
            kind: ReceiptKind::Sms,
            status: ReceiptStatus::TurnedOff,
            is_final: true,
            raw_code: Some("30003".into()),
            provider: Dialect::AwsEum,
            occurred_at: None,
        };
        let json = serde_json::to_value(&receipt)?;
        assert_eq!(
            json,
            serde_json::json!({
                "provider_message_id": "SM1", "to": "+15555550123", "kind": "sms", "status": "turned_off",
                "final": true, "raw_code": "30003", "provider": "aws-eum", "occurred_at": null
            })
        );
        assert_eq!(serde_json::from_value::<Receipt>(json)?, receipt);
        Ok(())
    }

    #[test]
    fn status_names_match_serde_names() -> Result<(), serde_json::Error> {
        for status in ReceiptStatus::ALL {
            assert_eq!(serde_json::to_string(status)?, format!("\"{}\"", status.as_str()));
        }
        for dialect in Dialect::ALL {
            assert_eq!(serde_json::to_string(dialect)?, format!("\"{}\"", dialect.as_str()));
        }
        Ok(())
    }

    #[test]
    fn only_contact_statuses_touch_a_phone_number() {
        assert_eq!(ReceiptStatus::Delivered.sms_status(), Some(SmsStatus::Ok));
        assert_eq!(ReceiptStatus::Landline.sms_status(), Some(SmsStatus::Landline));
        assert_eq!(ReceiptStatus::OptOut.sms_status(), Some(SmsStatus::OptOut));
        for status in [ReceiptStatus::Pending, ReceiptStatus::SenderError, ReceiptStatus::Complaint] {
            assert_eq!(status.sms_status(), None);
        }
    }

    #[test]
    fn only_email_statuses_touch_an_address() {
        assert_eq!(ReceiptStatus::Delivered.email_status(), Some(EmailStatus::Ok));
        assert_eq!(ReceiptStatus::BouncedTransient.email_status(), Some(EmailStatus::BouncedTransient));
        assert_eq!(ReceiptStatus::Complaint.email_status(), Some(EmailStatus::Complaint));
        for status in [ReceiptStatus::Pending, ReceiptStatus::SenderError, ReceiptStatus::Blocked] {
            assert_eq!(status.email_status(), None);
        }
    }
}
