//! `schoolbell-delivery-events`: what AWS hands over as Lambda events
//! rather than webhooks, with no signature to check (the invocation itself
//! is authenticated by IAM):
//!
//! - **SNS events** from the deployment's events topic: SES notifications
//!   and events (bounces, complaints, deliveries), AWS End User Messaging
//!   SMS events, and two-way SMS replies. The kind is told by the message's
//!   keys; receipts go to `ReceiptService::apply`, replies to
//!   `ReplyService::handle` (STOP, START, HELP ...).
//! - **CloudWatch Logs subscription events** (base64 gzip) carrying SNS SMS
//!   delivery-status log records (`sns/<region>/<account>/DirectPublishToPhoneNumber`).
//!
//! [`handle_event`] tells them apart. A message that cannot be read is
//! logged and skipped (a retry would read it the same way); a store failure
//! fails the invocation so Lambda's retry of async events runs it again.

#[cfg(feature = "lambda")]
use aws_lambda_events::event::cloudwatch_logs::LogsEvent;
#[cfg(feature = "lambda")]
use aws_lambda_events::event::sns::SnsEvent;
#[cfg(feature = "lambda")]
use schoolbell::domain::PhoneNumber;
#[cfg(feature = "lambda")]
use schoolbell::receipts::{AwsMessageKind, Dialect, aws_inbound, detect_aws_message, parse};
#[cfg(feature = "lambda")]
use schoolbell::services::{Applied, InboundSms, ReceiptEvent};
use schoolbell::services::{ReceiptService, ReplyService, ServiceError};
use serde::Serialize;
#[cfg(feature = "lambda")]
use serde_json::Value;

/// What one invocation did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EventsReport {
    /// Receipts that changed a delivery or a contact status.
    pub recorded: u32,
    /// Receipts that changed nothing (replays, late pending events).
    pub unchanged: u32,
    /// Receipts for messages we do not know (kept for operators).
    pub unmatched: u32,
    /// Replies handled (keywords answered, other text stored).
    pub replies: u32,
    /// Messages skipped as unreadable.
    pub unreadable: u32,
}

/// Why an invocation failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum EventsError {
    /// Neither an SNS event nor a CloudWatch Logs event.
    #[error("not an event this function handles: {0}")]
    UnknownEvent(String),
    /// The store failed: Lambda retries the event.
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// The services an event needs.
pub struct Handlers {
    /// Applies receipts.
    pub receipts: ReceiptService,
    /// Handles replies.
    pub replies: ReplyService,
}

/// Handles a raw Lambda event (see the crate docs).
#[cfg(feature = "lambda")]
pub async fn handle_event(handlers: &Handlers, event: Value) -> Result<EventsReport, EventsError> {
    let mut report = EventsReport::default();
    if event.get("awslogs").is_some() {
        // The logs payload's deserializer borrows from the text: read it from text, not a `Value`.
        let logs: LogsEvent =
            serde_json::from_str(&event.to_string()).map_err(|e| EventsError::UnknownEvent(e.to_string()))?;
        for entry in logs.aws_logs.data.log_events {
            apply_receipts(handlers, Dialect::SnsSmsLog, entry.message.as_bytes(), &mut report).await?;
        }
        return Ok(report);
    }
    if event.get("Records").is_some() {
        let sns: SnsEvent = serde_json::from_value(event).map_err(|e| EventsError::UnknownEvent(e.to_string()))?;
        for record in sns.records {
            let message = record.sns.message;
            let kind = serde_json::from_str::<Value>(&message).ok().as_ref().and_then(detect_aws_message);
            let dialect = match kind {
                Some(AwsMessageKind::InboundSms) => {
                    reply(handlers, message.as_bytes(), &mut report).await?;
                    continue;
                }
                Some(AwsMessageKind::SesNotification) => Dialect::Ses,
                Some(AwsMessageKind::EumEvent) => Dialect::AwsEum,
                Some(AwsMessageKind::SmsDeliveryLog) => Dialect::SnsSmsLog,
                None => {
                    tracing::warn!(topic = %record.sns.topic_arn, "SNS message of an unknown kind skipped");
                    report.unreadable += 1;
                    continue;
                }
            };
            apply_receipts(handlers, dialect, message.as_bytes(), &mut report).await?;
        }
        return Ok(report);
    }
    Err(EventsError::UnknownEvent("expected SNS records or a CloudWatch Logs subscription event".into()))
}

#[cfg(feature = "lambda")]
async fn apply_receipts(
    handlers: &Handlers,
    dialect: Dialect,
    body: &[u8],
    report: &mut EventsReport,
) -> Result<(), EventsError> {
    let receipts = match parse(dialect, body) {
        Ok(receipts) => receipts,
        Err(error) => {
            tracing::warn!(%dialect, %error, "unreadable receipt skipped");
            report.unreadable += 1;
            return Ok(());
        }
    };
    for receipt in &receipts {
        match handlers.receipts.apply(&ReceiptEvent::from(receipt)).await? {
            Applied::Recorded => report.recorded += 1,
            Applied::Unchanged => report.unchanged += 1,
            Applied::Unmatched => report.unmatched += 1,
        }
    }
    Ok(())
}

#[cfg(feature = "lambda")]
async fn reply(handlers: &Handlers, message: &[u8], report: &mut EventsReport) -> Result<(), EventsError> {
    let inbound = match aws_inbound(message) {
        Ok(Some(inbound)) => inbound,
        Ok(None) | Err(_) => {
            report.unreadable += 1;
            return Ok(());
        }
    };
    let Ok(from) = PhoneNumber::parse_e164(&inbound.from) else {
        report.unreadable += 1;
        return Ok(());
    };
    let sms = InboundSms {
        provider: "aws".into(),
        provider_message_id: inbound.provider_message_id,
        from,
        to: inbound.to,
        body: inbound.body,
        received_at: inbound.received_at,
    };
    handlers.replies.handle(&sms).await?;
    report.replies += 1;
    Ok(())
}

#[cfg(test)]
#[cfg(feature = "lambda")]
mod tests;
