//! The `EmailGateway` port: hands one email to the mail provider.

use async_trait::async_trait;

use super::GatewayError;
use crate::domain::EmailAddress;

/// An email to one address. The sender address is the adapter's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundEmail {
    /// The recipient.
    pub to: EmailAddress,
    /// Subject line.
    pub subject: String,
    /// Plain-text body, always present.
    pub text: String,
    /// Optional HTML alternative.
    pub html: Option<String>,
}

/// What the provider said when it took the email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentEmail {
    /// The provider's message id; bounce and complaint events carry it back.
    pub provider_message_id: String,
}

/// Sends email.
#[async_trait]
pub trait EmailGateway: Send + Sync {
    /// Hands the email to the provider. Not idempotent (see `SmsGateway::send`).
    async fn send(&self, email: &OutboundEmail) -> Result<SentEmail, GatewayError>;

    /// The provider whose receipts speak for the email sent here (`aws`);
    /// `None`: any provider's (the local outbox). See [`super::SmsGateway::provider`].
    fn provider(&self) -> Option<&'static str> {
        None
    }
}
