//! The `VoiceGateway` port: places one automated call that reads a script
//! to whoever answers (a person or an answering machine).

use async_trait::async_trait;

use super::GatewayError;
use crate::domain::PhoneNumber;

/// What a call says: plain text, or SSML for pauses and emphasis. Both are
/// spoken by the provider's text-to-speech voice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VoiceScript {
    /// Plain text (at most 3,000 characters).
    Text(String),
    /// SSML (at most 6,000 characters).
    Ssml(String),
}

impl VoiceScript {
    /// The script as the provider takes it.
    pub fn as_str(&self) -> &str {
        match self {
            VoiceScript::Text(text) | VoiceScript::Ssml(text) => text,
        }
    }
}

/// One call to one phone number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundCall {
    /// Who is called: any phone (landlines too), E.164.
    pub to: PhoneNumber,
    /// The number the call comes from: the district's own or the shared
    /// one; `None` lets the provider use the deployment's default.
    pub from: Option<PhoneNumber>,
    /// What is read.
    pub script: VoiceScript,
    /// The listener's language (`en`, `es` ...): picks the voice.
    pub language: Option<String>,
}

/// What the provider said when it took the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedCall {
    /// The provider's id for the call; call events carry it back.
    pub provider_message_id: String,
}

/// Places calls.
#[async_trait]
pub trait VoiceGateway: Send + Sync {
    /// Hands the call to the provider. Not idempotent: the caller records
    /// the delivery before calling so that a retry never calls twice.
    async fn call(&self, call: &OutboundCall) -> Result<PlacedCall, GatewayError>;

    /// The provider whose call events speak for the calls placed here
    /// (`aws`); `None`: any provider's. See [`super::SmsGateway::provider`].
    fn provider(&self) -> Option<&'static str> {
        None
    }
}
