//! Amazon SES notifications (carriers.md §3a), both the classic shape
//! (`notificationType`) and configuration-set event publishing
//! (`eventType`), as SNS carries them in `Message`. One receipt per
//! recipient, `to` being the address:
//!
//! - Bounce: `Permanent` → bounced_permanent; `Transient`, `Undetermined`
//!   and any new type → bounced_transient; raw code `Type/SubType`.
//! - Complaint → complaint (raw code the feedback type), except feedback
//!   type `not-spam`, which gives no receipt (no change).
//! - Delivery → delivered. Send and DeliveryDelay → pending (not final).
//! - Reject and Rendering Failure → sender_error, for every destination.
//! - Open, Click, Subscription and the rest are not delivery receipts.

use serde_json::Value;

use super::classify::ses_bounce;
use super::fields::{as_text, json, object, required, rfc3339, text};
use super::{Dialect, Receipt, ReceiptError, ReceiptKind, ReceiptStatus};

const DIALECT: Dialect = Dialect::Ses;

/// One notification or event body to its receipts.
pub(crate) fn parse(body: &[u8]) -> Result<Vec<Receipt>, ReceiptError> {
    from_value(&json(DIALECT, body)?)
}

/// One decoded notification or event.
pub(crate) fn from_value(record: &Value) -> Result<Vec<Receipt>, ReceiptError> {
    let kind = text(record, "notificationType")
        .or_else(|| text(record, "eventType"))
        .ok_or_else(|| ReceiptError::missing(DIALECT, "notificationType"))?;
    let mail = object(DIALECT, record, "mail", "mail")?;
    let id = required(DIALECT, mail, "messageId", "mail.messageId")?;
    let destinations = || addresses(mail.get("destination"), None);
    let (status, raw, recipients, detail) = match kind.as_str() {
        "Bounce" => {
            let bounce = object(DIALECT, record, "bounce", "bounce")?;
            let bounce_type = required(DIALECT, bounce, "bounceType", "bounce.bounceType")?;
            let raw = match text(bounce, "bounceSubType") {
                Some(sub) => format!("{bounce_type}/{sub}"),
                None => bounce_type.clone(),
            };
            let recipients = addresses(bounce.get("bouncedRecipients"), Some("emailAddress"));
            (ses_bounce(&bounce_type), raw, recipients, bounce)
        }
        "Complaint" => {
            let complaint = object(DIALECT, record, "complaint", "complaint")?;
            let feedback = text(complaint, "complaintFeedbackType");
            if feedback.as_deref().is_some_and(|f| f.eq_ignore_ascii_case("not-spam")) {
                return Ok(Vec::new());
            }
            let raw = feedback.or_else(|| text(complaint, "complaintSubType")).unwrap_or_else(|| kind.clone());
            let recipients = addresses(complaint.get("complainedRecipients"), Some("emailAddress"));
            (ReceiptStatus::Complaint, raw, recipients, complaint)
        }
        "Delivery" => {
            let delivery = object(DIALECT, record, "delivery", "delivery")?;
            (ReceiptStatus::Delivered, kind.clone(), addresses(delivery.get("recipients"), None), delivery)
        }
        "DeliveryDelay" => {
            let delay = object(DIALECT, record, "deliveryDelay", "deliveryDelay")?;
            let mut recipients = addresses(delay.get("delayedRecipients"), Some("emailAddress"));
            if recipients.is_empty() {
                recipients = destinations();
            }
            let raw = text(delay, "delayType").unwrap_or_else(|| kind.clone());
            (ReceiptStatus::Pending, raw, recipients, delay)
        }
        "Send" => (ReceiptStatus::Pending, kind.clone(), destinations(), mail),
        "Reject" | "Rendering Failure" => (ReceiptStatus::SenderError, kind.clone(), destinations(), mail),
        other => return Err(ReceiptError::unsupported(DIALECT, other)),
    };
    if recipients.is_empty() {
        return Err(ReceiptError::missing(DIALECT, "recipients"));
    }
    let occurred_at = text(detail, "timestamp").or_else(|| text(mail, "timestamp")).and_then(|t| rfc3339(&t));
    Ok(recipients
        .into_iter()
        .map(|address| Receipt {
            provider_message_id: id.clone(),
            to: Some(address),
            kind: ReceiptKind::Email,
            status,
            is_final: status != ReceiptStatus::Pending,
            raw_code: Some(raw.clone()),
            provider: DIALECT,
            occurred_at,
        })
        .collect())
}

/// The addresses of a recipient list: strings, or objects holding `key`.
/// `Name <address>` forms are reduced to the address.
fn addresses(list: Option<&Value>, key: Option<&str>) -> Vec<String> {
    let Some(Value::Array(items)) = list else { return Vec::new() };
    items
        .iter()
        .filter_map(|item| match key {
            Some(key) => item.get(key).and_then(as_text),
            None => as_text(item),
        })
        .map(|address| match (address.rfind('<'), address.rfind('>')) {
            (Some(open), Some(close)) if open < close => address[open + 1..close].trim().to_owned(),
            _ => address,
        })
        .filter(|address| !address.is_empty())
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::receipts::ReceiptStatus::*;

    const MAIL: &str = r#""mail": {"timestamp": "2024-02-01T08:00:00.000Z", "messageId": "0100018d-ses-0001",
        "source": "District <news@district.example>", "sendingAccountId": "123456789012",
        "destination": ["parent.one@example.org", "Parent Two <parent.two@example.org>"]}"#;

    /// A classic bounce notification, for this and the SNS tests.
    pub(crate) fn bounce(bounce_type: &str, sub_type: &str) -> String {
        format!(
            r#"{{"notificationType": "Bounce", "bounce": {{"bounceType": "{bounce_type}", "bounceSubType": "{sub_type}",
                "bouncedRecipients": [{{"emailAddress": "parent.one@example.org", "action": "failed",
                "status": "5.1.1", "diagnosticCode": "smtp; 550 5.1.1 user unknown"}}],
                "timestamp": "2024-02-01T08:00:05.000Z", "feedbackId": "fb-1"}}, {MAIL}}}"#
        )
    }

    fn event(kind: &str, detail: &str) -> String {
        format!(r#"{{"eventType": "{kind}", {detail} {MAIL}}}"#)
    }

    #[test]
    fn bounces_map_by_type_whatever_the_subtype() -> Result<(), ReceiptError> {
        let table = [
            ("Permanent", "General", BouncedPermanent),
            ("Permanent", "NoEmail", BouncedPermanent),
            ("Permanent", "Suppressed", BouncedPermanent),
            ("Permanent", "OnAccountSuppressionList", BouncedPermanent),
            ("Permanent", "UnsubscribedRecipient", BouncedPermanent),
            ("Transient", "MailboxFull", BouncedTransient),
            ("Transient", "General", BouncedTransient),
            ("Undetermined", "Undetermined", BouncedTransient),
        ];
        for (bounce_type, sub_type, expected) in table {
            let receipts = parse(bounce(bounce_type, sub_type).as_bytes())?;
            assert_eq!(receipts.len(), 1);
            let receipt = &receipts[0];
            assert_eq!((receipt.status, receipt.is_final, receipt.kind), (expected, true, ReceiptKind::Email));
            assert_eq!(receipt.raw_code, Some(format!("{bounce_type}/{sub_type}")));
            assert_eq!(receipt.to.as_deref(), Some("parent.one@example.org"));
            assert_eq!(receipt.provider_message_id, "0100018d-ses-0001");
        }
        Ok(())
    }

    #[test]
    fn an_event_publishing_bounce_reads_like_a_notification() -> Result<(), ReceiptError> {
        let body = bounce("Permanent", "General").replace("\"notificationType\"", "\"eventType\"");
        assert_eq!(parse(body.as_bytes())?[0].status, BouncedPermanent);
        Ok(())
    }

    #[test]
    fn a_complaint_gives_one_receipt_per_recipient_unless_not_spam() -> Result<(), ReceiptError> {
        let complaint = |feedback: &str| {
            event(
                "Complaint",
                &format!(
                    r#""complaint": {{"complainedRecipients": [{{"emailAddress": "parent.one@example.org"}},
                    {{"emailAddress": "parent.two@example.org"}}], "timestamp": "2024-02-02T00:00:00Z",
                    "feedbackId": "fb-2", "complaintFeedbackType": "{feedback}"}},"#
                ),
            )
        };
        let receipts = parse(complaint("abuse").as_bytes())?;
        let got: Vec<_> = receipts.iter().map(|r| (r.to.as_deref(), r.status)).collect();
        assert_eq!(got, [(Some("parent.one@example.org"), Complaint), (Some("parent.two@example.org"), Complaint)]);
        assert_eq!(receipts[0].raw_code.as_deref(), Some("abuse"));
        assert!(parse(complaint("not-spam").as_bytes())?.is_empty());
        Ok(())
    }

    #[test]
    fn a_delivery_is_delivered_for_each_recipient() -> Result<(), ReceiptError> {
        let body = format!(
            r#"{{"notificationType": "Delivery", "delivery": {{"timestamp": "2024-02-01T08:00:01.500Z",
                "processingTimeMillis": 546, "recipients": ["parent.one@example.org"],
                "smtpResponse": "250 ok", "reportingMTA": "a8-70.smtp-out.amazonses.com"}}, {MAIL}}}"#
        );
        let receipt = &parse(body.as_bytes())?[0];
        assert_eq!((receipt.status, receipt.is_final), (Delivered, true));
        assert_eq!(receipt.occurred_at.map(|t| t.to_rfc3339()).as_deref(), Some("2024-02-01T08:00:01.500+00:00"));
        Ok(())
    }

    #[test]
    fn send_delay_reject_and_rendering_failure_never_touch_the_contact() -> Result<(), ReceiptError> {
        let send = parse(event("Send", r#""send": {},"#).as_bytes())?;
        let to: Vec<_> = send.iter().map(|r| r.to.as_deref()).collect();
        assert_eq!(to, [Some("parent.one@example.org"), Some("parent.two@example.org")]);
        assert!(send.iter().all(|r| r.status == Pending && !r.is_final));
        let delay = r#""deliveryDelay": {"delayType": "MailboxFull", "delayedRecipients": [{"emailAddress": "parent.two@example.org"}]},"#;
        let delayed = parse(event("DeliveryDelay", delay).as_bytes())?;
        assert_eq!(
            (delayed.len(), delayed[0].status, delayed[0].raw_code.as_deref()),
            (1, Pending, Some("MailboxFull"))
        );
        for kind in ["Reject", "Rendering Failure"] {
            let receipts = parse(event(kind, r#""reject": {"reason": "Bad content"},"#).as_bytes())?;
            assert!(receipts.iter().all(|r| r.status == SenderError && r.status.email_status().is_none()));
        }
        Ok(())
    }

    #[test]
    fn engagement_events_and_broken_records_are_refused() {
        assert!(matches!(
            parse(event("Open", r#""open": {},"#).as_bytes()),
            Err(ReceiptError::UnsupportedMessageType { .. })
        ));
        assert!(matches!(
            parse(br#"{"notificationType": "Bounce"}"#),
            Err(ReceiptError::MissingField { field: "mail", .. })
        ));
        assert!(matches!(parse(br#"{"mail": {}}"#), Err(ReceiptError::MissingField { .. })));
        let no_recipients = bounce("Permanent", "General").replace("parent.one@example.org", "");
        assert!(matches!(parse(no_recipients.as_bytes()), Err(ReceiptError::MissingField { field: "recipients", .. })));
    }
}
