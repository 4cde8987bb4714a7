//! Amazon SNS SMS delivery-status log records (carriers.md §2c), from
//! CloudWatch Logs: `notification{messageId, timestamp}`,
//! `delivery{destination, providerResponse ...}` and `status` (`SUCCESS` or
//! `FAILURE`). A failure is classified by its `providerResponse` text; the
//! text is kept as the raw code.

use serde_json::Value;

use super::classify::sns_provider_response;
use super::fields::{e164, json, naive_utc, object, required, text};
use super::{Dialect, Receipt, ReceiptError, ReceiptKind, ReceiptStatus};

const DIALECT: Dialect = Dialect::SnsSmsLog;

/// One log record body to its receipt.
pub(crate) fn parse(body: &[u8]) -> Result<Receipt, ReceiptError> {
    from_value(&json(DIALECT, body)?)
}

/// One decoded log record.
pub(crate) fn from_value(record: &Value) -> Result<Receipt, ReceiptError> {
    let notification = object(DIALECT, record, "notification", "notification")?;
    let id = required(DIALECT, notification, "messageId", "notification.messageId")?;
    let outcome = required(DIALECT, record, "status", "status")?;
    let delivery = record.get("delivery");
    let response = delivery.and_then(|d| text(d, "providerResponse"));
    let status = if outcome.eq_ignore_ascii_case("SUCCESS") {
        ReceiptStatus::Delivered
    } else {
        response
            .as_deref()
            .and_then(sns_provider_response)
            .filter(|s| *s != ReceiptStatus::Delivered)
            .unwrap_or(ReceiptStatus::Unconfirmed)
    };
    Ok(Receipt {
        provider_message_id: id,
        to: delivery.and_then(|d| text(d, "destination")).and_then(|n| e164(&n)),
        kind: ReceiptKind::Sms,
        is_final: true,
        status,
        raw_code: Some(response.unwrap_or(outcome)),
        provider: DIALECT,
        occurred_at: text(notification, "timestamp").and_then(|t| naive_utc(&t, "%Y-%m-%d %H:%M:%S%.f")),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::receipts::ReceiptStatus::*;

    /// A log record as SNS writes it, for this and the SNS tests.
    pub(crate) fn record(status: &str, response: &str) -> String {
        format!(
            r#"{{"notification": {{"messageId": "5f2a9c1e-7d3b-5e4f-9a8b-1c2d3e4f5a6b", "timestamp": "2024-02-01 12:00:01.250"}},
                "delivery": {{"phoneCarrier": "Carrier", "mnc": 260, "numberOfMessageParts": 1,
                "destination": "+12025550166", "priceInUSD": 0.00645, "smsType": "Transactional", "mcc": 310,
                "providerResponse": "{response}", "dwellTimeMs": 420, "dwellTimeMsUntilDeviceAck": 1100}},
                "status": "{status}"}}"#
        )
    }

    fn failure(response: &str) -> Result<ReceiptStatus, ReceiptError> {
        Ok(parse(record("FAILURE", response).as_bytes())?.status)
    }

    #[test]
    fn a_success_reads_id_recipient_and_time() -> Result<(), ReceiptError> {
        let receipt = parse(record("SUCCESS", "Message has been accepted by phone carrier").as_bytes())?;
        assert_eq!(receipt.provider_message_id, "5f2a9c1e-7d3b-5e4f-9a8b-1c2d3e4f5a6b");
        assert_eq!(receipt.to.as_deref(), Some("+12025550166"));
        assert_eq!((receipt.status, receipt.is_final), (Delivered, true));
        assert_eq!(receipt.occurred_at.map(|t| t.to_rfc3339()).as_deref(), Some("2024-02-01T12:00:01.250+00:00"));
        Ok(())
    }

    #[test]
    fn provider_responses_map_as_the_doc_says() -> Result<(), ReceiptError> {
        let table = [
            ("Blocked as spam by phone carrier", Blocked),
            ("Destination is on a blocked list", Blocked),
            ("Destination is blacklisted", Blocked),
            ("Invalid phone number", Inactive),
            ("Message body is invalid", SenderError),
            ("Phone carrier has blocked this message", Blocked),
            ("Phone carrier is currently unreachable/unavailable", Unconfirmed),
            ("Phone has blocked SMS", Blocked),
            ("Phone is on a blocked list", Blocked),
            ("Phone is blacklisted", Blocked),
            ("Phone is currently unreachable/unavailable", TurnedOff),
            ("Phone number is opted out", OptOut),
            ("This delivery would exceed max price", SenderError),
            ("Unknown error attempting to reach phone", Unconfirmed),
        ];
        for (response, expected) in table {
            assert_eq!(failure(response)?, expected, "{response}");
        }
        Ok(())
    }

    #[test]
    fn an_unknown_response_is_unconfirmed_and_keeps_the_text() -> Result<(), ReceiptError> {
        let receipt = parse(record("FAILURE", "This phone number is not a mobile").as_bytes())?;
        assert_eq!(
            (receipt.status, receipt.raw_code.as_deref()),
            (Unconfirmed, Some("This phone number is not a mobile"))
        );
        assert_eq!(failure("Message has been accepted by phone carrier")?, Unconfirmed);
        Ok(())
    }

    #[test]
    fn a_masked_destination_gives_no_recipient() -> Result<(), ReceiptError> {
        let body = record("SUCCESS", "ok").replace("+12025550166", "+1XXX5550100");
        assert_eq!(parse(body.as_bytes())?.to, None);
        Ok(())
    }

    #[test]
    fn records_without_an_id_or_status_are_refused() {
        assert!(matches!(parse(br#"{"status": "SUCCESS"}"#), Err(ReceiptError::MissingField { .. })));
        assert!(matches!(parse(br#"{"notification": {"messageId": "x"}}"#), Err(ReceiptError::MissingField { .. })));
    }
}
