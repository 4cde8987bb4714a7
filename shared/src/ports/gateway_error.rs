//! The error every outbound gateway (SMS, email) reports.

/// Why a provider did not take a message.
///
/// The split matters to the send worker: retryable errors go back to the
/// queue; the rest are final and some say something about the recipient.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    /// The provider asked us to slow down. Retryable.
    #[error("provider throttled the request: {0}")]
    Throttled(String),
    /// The provider could not be reached or failed on its side. Retryable.
    #[error("provider unavailable: {0}")]
    Unavailable(String),
    /// The provider refuses this recipient (malformed, unroutable). Final.
    #[error("provider refused the recipient: {0}")]
    InvalidRecipient(String),
    /// The recipient has opted out with the provider. Final.
    #[error("recipient has opted out with the provider")]
    OptedOut,
    /// The provider refused the message for a reason of ours (content,
    /// configuration, account). Final, and never the recipient's fault.
    #[error("provider rejected the message: {0}")]
    SenderError(String),
}

impl GatewayError {
    /// Whether sending the same message later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, GatewayError::Throttled(_) | GatewayError::Unavailable(_))
    }
}
