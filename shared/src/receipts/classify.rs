//! The code tables of `carriers.md`: each provider's error codes and coarse
//! statuses to a [`ReceiptStatus`]. Tables answer `None` for a value they do
//! not know; [`code_first`] turns that into `Unconfirmed` with the raw code
//! kept, so no event is ever dropped.

use super::ReceiptStatus::{
    self, Blocked, BouncedPermanent, BouncedTransient, Delivered, Inactive, Landline, OptOut, Pending, SenderError,
    TurnedOff, Unconfirmed,
};

/// A classification: the status and the provider value that decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)] // fields named for what they hold
pub struct Verdict {
    pub status: ReceiptStatus,
    /// The error code when it decided, else the provider's status name.
    pub raw_code: Option<String>,
}

impl Verdict {
    /// A verdict from a status and the raw value behind it.
    pub fn new(status: ReceiptStatus, raw_code: impl Into<String>) -> Self {
        Verdict { status, raw_code: Some(raw_code.into()) }
    }
}

/// The rule shared by every dialect with codes: an in-flight or delivered
/// coarse status stands as it is; otherwise a non-zero error code decides
/// (an unknown one → `Unconfirmed`, code kept); with no code the coarse
/// status decides (an unknown one → `Unconfirmed`, status kept).
pub fn code_first(
    code: Option<&str>,
    code_table: fn(&str) -> Option<ReceiptStatus>,
    status: &str,
    status_table: fn(&str) -> Option<ReceiptStatus>,
) -> Verdict {
    let coarse = status_table(&status.to_ascii_lowercase());
    if let Some(settled @ (Pending | Delivered)) = coarse {
        return Verdict::new(settled, status);
    }
    match code.map(str::trim).filter(|c| !c.is_empty() && !c.bytes().all(|b| b == b'0')) {
        Some(code) => Verdict::new(code_table(code).unwrap_or(Unconfirmed), code),
        None => Verdict::new(coarse.unwrap_or(Unconfirmed), status),
    }
}

fn number(code: &str) -> Option<u32> {
    code.trim().parse().ok()
}

/// Twilio `ErrorCode` (carriers.md §1b).
pub fn twilio_code(code: &str) -> Option<ReceiptStatus> {
    Some(match number(code)? {
        30001 | 30002 | 30010 | 30022 | 30023 | 30027 | 30032 | 30034 | 21408 => SenderError,
        30003 => TurnedOff,
        // 30004 can mean an earlier STOP; the apply step checks the opt-out list.
        30004 | 30007 => Blocked,
        30005 | 21211 => Inactive,
        30006 | 21614 | 21635 => Landline,
        30008 | 21612 => Unconfirmed,
        21610 => OptOut,
        _ => return None,
    })
}

/// Twilio `MessageStatus` when no error code decides (§1a, §1b).
pub fn twilio_status(status: &str) -> Option<ReceiptStatus> {
    Some(match status {
        "delivered" | "read" => Delivered,
        "queued" | "sending" | "sent" | "accepted" | "scheduled" => Pending,
        "failed" | "undelivered" | "partially_delivered" => Unconfirmed,
        "canceled" => SenderError,
        _ => return None,
    })
}

/// Telnyx `errors[].code`, per the error-code reference (§4a).
pub fn telnyx_code(code: &str) -> Option<ReceiptStatus> {
    Some(match number(code)? {
        40001 => Landline,
        40002 | 40003 => Blocked,
        40004 | 40006 | 40008 => Unconfirmed,
        40005 => TurnedOff,
        40012 | 40310 => Inactive,
        40300 => OptOut,
        40009..=40011 | 40013..=40020 | 40301..=40333 | 40100..=40199 => SenderError,
        _ => return None,
    })
}

/// Telnyx `to[].status` (§4a).
pub fn telnyx_status(status: &str) -> Option<ReceiptStatus> {
    Some(match status {
        "delivered" => Delivered,
        "queued" | "sending" | "sent" => Pending,
        "delivery_unconfirmed" | "sending_failed" | "delivery_failed" => Unconfirmed,
        _ => return None,
    })
}

/// Vonage `err-code` (§4b). `0` means no error and never reaches this table
/// through [`code_first`]; the status decides then.
pub fn vonage_code(code: &str) -> Option<ReceiptStatus> {
    Some(match number(code)? {
        0 => Delivered,
        1 | 5 | 8 | 11 | 99 => Unconfirmed,
        2 | 7 | 15 => TurnedOff,
        3 | 12 => Inactive,
        4 | 6 | 13 | 14 => Blocked,
        9 => OptOut,
        10 => SenderError,
        _ => return None,
    })
}

/// Vonage `status` when the err-code is missing or zero (§4b).
pub fn vonage_status(status: &str) -> Option<ReceiptStatus> {
    Some(match status {
        "delivered" => Delivered,
        "accepted" | "buffered" => Pending,
        "expired" => TurnedOff,
        "failed" | "rejected" | "unknown" => Unconfirmed,
        _ => return None,
    })
}

/// Bandwidth `errorCode` (§4c).
pub fn bandwidth_code(code: &str) -> Option<ReceiptStatus> {
    Some(match number(code)? {
        4303 | 4350 | 4404 | 4406 | 4408 | 4721 | 4720 | 4492 => Inactive,
        4700 => Landline,
        4701 | 4702 => TurnedOff,
        4482 | 4470 | 4750 | 4770 | 4772 | 4790 => Blocked,
        4775 => OptOut,
        4730 | 5000..=5999 | 9902 | 9999 => Unconfirmed,
        4001 | 4301 | 4302 | 4360 | 4401..=4452 | 4481 | 4493 | 4711 | 4712 | 4740 => SenderError,
        4751 | 4752 | 4771 | 4773 | 4774 | 4780..=4785 | 4791..=4795 => SenderError,
        _ => return None,
    })
}

/// Bandwidth callback `type` (§4c).
pub fn bandwidth_status(kind: &str) -> Option<ReceiptStatus> {
    Some(match kind {
        "message-delivered" => Delivered,
        "message-sending" => Pending,
        "message-failed" => Unconfirmed,
        _ => return None,
    })
}

/// SMPP receipt `stat` or `message_state` name (§5a), case-insensitive.
/// `UNDELIV` stays `Unconfirmed`: `err` is upstream-specific and the GSM
/// MAP reading of it is unverified, so it is kept as the raw code instead.
/// `BUFFRED` is Kannel's buffered state.
pub fn smpp_stat(stat: &str) -> Option<ReceiptStatus> {
    Some(match stat.to_ascii_uppercase().as_str() {
        "DELIVRD" => Delivered,
        "ACCEPTD" | "ENROUTE" | "BUFFRED" => Pending,
        "EXPIRED" => TurnedOff,
        "DELETED" | "UNDELIV" | "UNKNOWN" => Unconfirmed,
        "REJECTD" => Blocked,
        _ => return None,
    })
}

/// An SMPP command status name (Jasmin's level-1 `message_status`):
/// `ESME_ROK` submitted, `ESME_RINVDSTADR` an invalid destination, any
/// other `ESME_*` our side (§5c).
pub fn esme_status(status: &str) -> Option<ReceiptStatus> {
    let status = status.to_ascii_uppercase();
    Some(match status.as_str() {
        "ESME_ROK" => Pending,
        "ESME_RINVDSTADR" => Inactive,
        other if other.starts_with("ESME_") => SenderError,
        _ => return None,
    })
}

/// An AWS End User Messaging SMS status: `eventType` without its
/// `TEXT_`/`MEDIA_`/`RCS_` prefix, or `messageStatus` (§2a). `SUCCESSFUL`
/// counts as delivered only on a final event.
pub fn aws_eum_status(status: &str, is_final: bool) -> Option<ReceiptStatus> {
    Some(match status.to_ascii_uppercase().as_str() {
        "DELIVERED" => Delivered,
        "SUCCESSFUL" if is_final => Delivered,
        "SUCCESSFUL" | "QUEUED" | "PENDING" | "SENT" => Pending,
        "BLOCKED" | "CARRIER_BLOCKED" | "SPAM" => Blocked,
        "UNREACHABLE" | "TTL_EXPIRED" => TurnedOff,
        "CARRIER_UNREACHABLE" | "UNKNOWN" => Unconfirmed,
        "INVALID" => Inactive,
        "INVALID_MESSAGE" | "PROTECT_BLOCKED" => SenderError,
        "OPTED_OUT" => OptOut,
        _ => return None,
    })
}

/// An SNS SMS delivery log's `providerResponse` on a `FAILURE` (§2c),
/// case-insensitive, older wordings included; `opted out` anywhere in an
/// unlisted text still means an opt-out.
pub fn sns_provider_response(text: &str) -> Option<ReceiptStatus> {
    let text = text.trim().trim_end_matches('.').to_ascii_lowercase();
    Some(match text.as_str() {
        "message has been accepted by phone carrier" => Delivered,
        "blocked as spam by phone carrier"
        | "destination is on a blocked list"
        | "destination is blacklisted"
        | "phone carrier has blocked this message"
        | "phone has blocked sms"
        | "phone is on a blocked list"
        | "phone is blacklisted" => Blocked,
        "invalid phone number" => Inactive,
        "message body is invalid" | "this delivery would exceed max price" => SenderError,
        "phone carrier is currently unreachable/unavailable" | "unknown error attempting to reach phone" => Unconfirmed,
        "phone is currently unreachable/unavailable" => TurnedOff,
        "phone number is opted out" => OptOut,
        other if other.contains("opted out") => OptOut,
        _ => return None,
    })
}

/// An SES `bounceType` (§3a): `Permanent` hard, `Transient` and
/// `Undetermined` (and any type not known yet) soft.
pub fn ses_bounce(bounce_type: &str) -> ReceiptStatus {
    if bounce_type.eq_ignore_ascii_case("permanent") { BouncedPermanent } else { BouncedTransient }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_with_a_known_code_is_classified_by_the_code() {
        let verdict = code_first(Some("30006"), twilio_code, "undelivered", twilio_status);
        assert_eq!(verdict, Verdict::new(Landline, "30006"));
    }

    #[test]
    fn a_failure_with_an_unknown_code_is_unconfirmed_and_keeps_the_code() {
        let verdict = code_first(Some("39999"), twilio_code, "failed", twilio_status);
        assert_eq!(verdict, Verdict::new(Unconfirmed, "39999"));
    }

    #[test]
    fn a_failure_without_a_code_falls_back_to_the_status() {
        assert_eq!(code_first(None, vonage_code, "expired", vonage_status), Verdict::new(TurnedOff, "expired"));
        assert_eq!(code_first(Some("0"), vonage_code, "failed", vonage_status), Verdict::new(Unconfirmed, "failed"));
    }

    #[test]
    fn an_unknown_status_without_a_code_is_unconfirmed_and_keeps_the_status() {
        assert_eq!(code_first(None, twilio_code, "teleported", twilio_status), Verdict::new(Unconfirmed, "teleported"));
    }

    #[test]
    fn in_flight_and_delivered_statuses_stand_whatever_the_code() {
        assert_eq!(code_first(Some("0"), vonage_code, "buffered", vonage_status).status, Pending);
        assert_eq!(code_first(Some("0"), vonage_code, "delivered", vonage_status).status, Delivered);
        assert_eq!(code_first(None, twilio_code, "Sent", twilio_status).status, Pending);
    }

    #[test]
    fn telnyx_invalid_to_is_inactive_not_a_sender_error() {
        assert_eq!(telnyx_code("40310"), Some(Inactive));
        assert_eq!(telnyx_code("40311"), Some(SenderError));
        assert_eq!(telnyx_code("40150"), Some(SenderError));
        assert_eq!(telnyx_code("40007"), None);
    }

    #[test]
    fn bandwidth_inactive_codes_inside_the_sender_range_stay_inactive() {
        for code in ["4404", "4406", "4408"] {
            assert_eq!(bandwidth_code(code), Some(Inactive));
        }
        assert_eq!(bandwidth_code("4405"), Some(SenderError));
        assert_eq!(bandwidth_code("5620"), Some(Unconfirmed));
        assert_eq!(bandwidth_code("4999"), None);
    }

    #[test]
    fn sns_log_responses_match_whatever_their_case() {
        assert_eq!(sns_provider_response("Phone Has Blocked SMS"), Some(Blocked));
        assert_eq!(sns_provider_response("The number is opted out of SMS."), Some(OptOut));
        assert_eq!(sns_provider_response("Something new"), None);
    }
}
