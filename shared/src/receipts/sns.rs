//! The SNS HTTP(S) envelope (carriers.md §3b): `Type`, `MessageId`,
//! `Message` (a JSON **string**), signature fields. A `Notification`'s
//! `Message` is one of the AWS kinds, told apart by its keys
//! ([`detect_aws_message`]) and read by that kind's parser; receipts name
//! the inner kind as their provider. A Lambda SNS event (`Records[].Sns`)
//! is read record by record. Signatures are checked elsewhere, before this.

use serde_json::Value;

use super::fields::{json, required};
use super::{Dialect, Receipt, ReceiptError, aws, ses, sns_sms_log};

const DIALECT: Dialect = Dialect::Sns;

/// What an SNS `Message` holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsMessageKind {
    /// An End User Messaging SMS event record (`aws-eum`).
    EumEvent,
    /// An SES notification or event (`ses`).
    SesNotification,
    /// An SNS SMS delivery-status log record (`sns-sms-log`).
    SmsDeliveryLog,
    /// A two-way SMS reply (`originationNumber`, `messageBody`): not a
    /// receipt, the inbound-SMS function reads it.
    InboundSms,
}

/// Tells the kind of a decoded SNS `Message` by its keys; `None` when it is
/// none of them.
pub fn detect_aws_message(message: &Value) -> Option<AwsMessageKind> {
    let has = |key: &str| message.get(key).is_some();
    if has("mail") && (has("notificationType") || has("eventType")) {
        Some(AwsMessageKind::SesNotification)
    } else if has("notification") && has("delivery") {
        Some(AwsMessageKind::SmsDeliveryLog)
    } else if has("originationNumber") && has("messageBody") {
        Some(AwsMessageKind::InboundSms)
    } else if has("messageId") && (has("eventType") || has("messageStatus")) {
        Some(AwsMessageKind::EumEvent)
    } else {
        None
    }
}

/// One SNS HTTP body (or Lambda SNS event) to the receipts its messages
/// hold.
pub(crate) fn parse(body: &[u8]) -> Result<Vec<Receipt>, ReceiptError> {
    let root = json(DIALECT, body)?;
    match root.get("Records") {
        Some(Value::Array(records)) => {
            let mut receipts = Vec::new();
            for record in records {
                let envelope = record
                    .get("Sns")
                    .filter(|s| s.is_object())
                    .ok_or_else(|| ReceiptError::missing(DIALECT, "Records[].Sns"))?;
                receipts.extend(envelope_receipts(envelope)?);
            }
            Ok(receipts)
        }
        Some(_) => Err(ReceiptError::malformed(DIALECT, "`Records` is not an array")),
        None if root.is_object() => envelope_receipts(&root),
        None => Err(ReceiptError::malformed(DIALECT, "expected a JSON object")),
    }
}

fn envelope_receipts(envelope: &Value) -> Result<Vec<Receipt>, ReceiptError> {
    let kind = required(DIALECT, envelope, "Type", "Type")?;
    if kind != "Notification" {
        return Err(ReceiptError::unsupported(DIALECT, &kind));
    }
    let message =
        envelope.get("Message").and_then(Value::as_str).ok_or_else(|| ReceiptError::missing(DIALECT, "Message"))?;
    let Ok(inner) = serde_json::from_str::<Value>(message) else {
        return Err(ReceiptError::unsupported(DIALECT, "a Message that is not JSON"));
    };
    match detect_aws_message(&inner) {
        Some(AwsMessageKind::EumEvent) => aws::from_value(&inner).map(|r| vec![r]),
        Some(AwsMessageKind::SesNotification) => ses::from_value(&inner),
        Some(AwsMessageKind::SmsDeliveryLog) => sns_sms_log::from_value(&inner).map(|r| vec![r]),
        Some(AwsMessageKind::InboundSms) => Err(ReceiptError::unsupported(DIALECT, "inbound SMS")),
        None => Err(ReceiptError::unsupported(DIALECT, "a Message of no known AWS kind")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::receipts::ReceiptStatus::*;

    fn envelope(message: &str) -> String {
        let message = serde_json::Value::String(message.to_owned());
        format!(
            r#"{{"Type": "Notification", "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
                "TopicArn": "arn:aws:sns:us-east-1:123456789012:schoolbell-events", "Message": {message},
                "Timestamp": "2024-02-01T12:00:02.000Z", "SignatureVersion": "1", "Signature": "c2ln",
                "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
                "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe"}}"#
        )
    }

    #[test]
    fn an_envelope_around_an_eum_event_gives_its_receipt() -> Result<(), ReceiptError> {
        let receipts = parse(envelope(&aws::tests::event("TEXT_BLOCKED", true)).as_bytes())?;
        assert_eq!(receipts.len(), 1);
        assert_eq!((receipts[0].status, receipts[0].provider), (Blocked, Dialect::AwsEum));
        Ok(())
    }

    #[test]
    fn an_envelope_around_an_ses_bounce_gives_email_receipts() -> Result<(), ReceiptError> {
        let receipts = parse(envelope(&ses::tests::bounce("Transient", "MailboxFull")).as_bytes())?;
        assert_eq!((receipts[0].status, receipts[0].provider), (BouncedTransient, Dialect::Ses));
        Ok(())
    }

    #[test]
    fn an_envelope_around_an_sms_log_record_gives_its_receipt() -> Result<(), ReceiptError> {
        let record = sns_sms_log::tests::record("FAILURE", "Phone number is opted out");
        let receipts = parse(envelope(&record).as_bytes())?;
        assert_eq!((receipts[0].status, receipts[0].provider), (OptOut, Dialect::SnsSmsLog));
        Ok(())
    }

    #[test]
    fn a_lambda_sns_event_reads_every_record() -> Result<(), ReceiptError> {
        let first = envelope(&aws::tests::event("TEXT_DELIVERED", true));
        let second = envelope(&ses::tests::bounce("Permanent", "General"));
        let body = format!(r#"{{"Records": [{{"EventSource": "aws:sns", "Sns": {first}}}, {{"Sns": {second}}}]}}"#);
        let statuses: Vec<_> = parse(body.as_bytes())?.iter().map(|r| r.status).collect();
        assert_eq!(statuses, [Delivered, BouncedPermanent]);
        Ok(())
    }

    #[test]
    fn confirmations_inbound_sms_and_plain_text_are_not_receipts() {
        let confirmation = r#"{"Type": "SubscriptionConfirmation", "MessageId": "m", "Token": "t",
            "Message": "You have chosen to subscribe", "SubscribeURL": "https://sns.us-east-1.amazonaws.com/?x"}"#;
        assert!(matches!(parse(confirmation.as_bytes()), Err(ReceiptError::UnsupportedMessageType { .. })));
        let inbound = r#"{"originationNumber": "+12025550111", "destinationNumber": "+12025550100",
            "messageKeyword": "KEYWORD", "messageBody": "STOP", "inboundMessageId": "in-1",
            "previousPublishedMessageId": "out-1"}"#;
        assert!(matches!(parse(envelope(inbound).as_bytes()), Err(ReceiptError::UnsupportedMessageType { .. })));
        assert!(matches!(parse(envelope("Hello world!").as_bytes()), Err(ReceiptError::UnsupportedMessageType { .. })));
        assert!(matches!(parse(envelope("{\"x\": 1}").as_bytes()), Err(ReceiptError::UnsupportedMessageType { .. })));
    }

    #[test]
    fn broken_envelopes_are_refused() {
        assert!(matches!(
            parse(br#"{"Type": "Notification"}"#),
            Err(ReceiptError::MissingField { field: "Message", .. })
        ));
        assert!(matches!(parse(br#"{"Records": 1}"#), Err(ReceiptError::Malformed { .. })));
        assert!(matches!(parse(br#"{"Records": [{}]}"#), Err(ReceiptError::MissingField { .. })));
        assert!(matches!(parse(b"7"), Err(ReceiptError::Malformed { .. })));
    }

    #[test]
    fn detection_tells_each_kind_by_its_keys() -> Result<(), serde_json::Error> {
        let eum: Value = serde_json::from_str(&aws::tests::event("TEXT_SUCCESSFUL", true))?;
        let ses: Value = serde_json::from_str(&ses::tests::bounce("Permanent", "General"))?;
        let log: Value = serde_json::from_str(&sns_sms_log::tests::record("SUCCESS", "ok"))?;
        assert_eq!(detect_aws_message(&eum), Some(AwsMessageKind::EumEvent));
        assert_eq!(detect_aws_message(&ses), Some(AwsMessageKind::SesNotification));
        assert_eq!(detect_aws_message(&log), Some(AwsMessageKind::SmsDeliveryLog));
        assert_eq!(detect_aws_message(&Value::Null), None);
        Ok(())
    }
}
