//! The `SmsGateway` port: hands one text message to a carrier or provider.

use async_trait::async_trait;

use super::GatewayError;
use crate::domain::PhoneNumber;

/// A text message to one phone number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundSms {
    /// The recipient, always a mobile-capable E.164 number.
    pub to: PhoneNumber,
    /// The text as the recipient will read it.
    pub body: String,
    /// The number it goes from: the district's own or the deployment's
    /// shared number (carriers keep opt-outs per sending number, and a reply
    /// comes back to it); `None` lets the provider use its default.
    pub from: Option<PhoneNumber>,
}

/// What the provider said when it took the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentSms {
    /// The provider's id for the message; delivery receipts carry it back.
    pub provider_message_id: String,
}

/// Sends text messages.
#[async_trait]
pub trait SmsGateway: Send + Sync {
    /// Hands the message to the provider. Not idempotent: the caller records
    /// the delivery before calling so that a retry never sends twice.
    async fn send(&self, sms: &OutboundSms) -> Result<SentSms, GatewayError>;

    /// The provider whose receipts speak for the texts sent here (`aws`),
    /// as [`crate::receipts::provider_family`] names a receipt's dialect; a
    /// delivery takes receipts from it only. `None`: any provider's (the
    /// simulated carrier stands in for every one).
    fn provider(&self) -> Option<&'static str> {
        None
    }
}
