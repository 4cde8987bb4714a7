//! `EumVoiceGateway`: the `VoiceGateway` port over AWS End User Messaging
//! SMS and Voice v2 `SendVoiceMessage`: Amazon Polly reads the script (text
//! or SSML) in a voice for the listener's language, from the district's
//! number (or the deployment's default origination identity), with the
//! configuration set whose event destination publishes call events to the
//! stack's events topic.

use async_trait::async_trait;
use aws_sdk_pinpointsmsvoicev2::types::{VoiceId, VoiceMessageBodyTextType};

use super::sdk_failure::{SdkFailure, is_throttling_code, message_id_of};
use crate::domain::PhoneNumber;
use crate::ports::{GatewayError, OutboundCall, PlacedCall, VoiceGateway, VoiceScript};

/// How calls leave the account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VoiceOptions {
    /// The phone number, pool id or ARN calls come from when the district
    /// has no number of its own.
    pub origination_identity: Option<String>,
    /// The configuration set that publishes call events.
    pub configuration_set: Option<String>,
}

impl VoiceOptions {
    /// `SCHOOLBELL_VOICE_ORIGINATION_IDENTITY` and
    /// `SCHOOLBELL_VOICE_CONFIGURATION_SET`, each optional.
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &crate::config::Env<F>) -> Self {
        Self {
            origination_identity: env.optional("SCHOOLBELL_VOICE_ORIGINATION_IDENTITY"),
            configuration_set: env.optional("SCHOOLBELL_VOICE_CONFIGURATION_SET"),
        }
    }
}

/// Places calls through End User Messaging.
#[derive(Debug, Clone)]
pub struct EumVoiceGateway {
    client: aws_sdk_pinpointsmsvoicev2::Client,
    options: VoiceOptions,
}

impl EumVoiceGateway {
    /// A gateway over the client.
    pub fn new(client: aws_sdk_pinpointsmsvoicev2::Client, options: VoiceOptions) -> Self {
        Self { client, options }
    }
}

/// The Polly voice for a language (`en`, `es-MX` ...): US voices where the
/// language has one, the language's standard voice otherwise, and English
/// for a language Polly does not speak.
pub fn voice_for(language: Option<&str>) -> VoiceId {
    let primary = language.and_then(|l| l.split(['-', '_']).next()).unwrap_or("en").to_ascii_lowercase();
    match primary.as_str() {
        "es" => VoiceId::Lupe,
        "fr" => VoiceId::Chantal,
        "pt" => VoiceId::Camila,
        "zh" => VoiceId::Zhiyu,
        "ar" => VoiceId::Zeina,
        "de" => VoiceId::Marlene,
        "it" => VoiceId::Carla,
        "ja" => VoiceId::Mizuki,
        "ko" => VoiceId::Seoyeon,
        "ru" => VoiceId::Tatyana,
        "pl" => VoiceId::Ewa,
        "hi" => VoiceId::Raveena,
        _ => VoiceId::Joanna,
    }
}

#[async_trait]
impl VoiceGateway for EumVoiceGateway {
    fn provider(&self) -> Option<&'static str> {
        Some(crate::receipts::AWS_PROVIDER)
    }

    async fn call(&self, call: &OutboundCall) -> Result<PlacedCall, GatewayError> {
        let origination = call
            .from
            .as_ref()
            .map(|n| PhoneNumber::as_e164(n).to_string())
            .or_else(|| self.options.origination_identity.clone())
            .ok_or_else(|| GatewayError::SenderError("no origination identity for voice calls".into()))?;
        let text_type = match call.script {
            VoiceScript::Text(_) => VoiceMessageBodyTextType::Text,
            VoiceScript::Ssml(_) => VoiceMessageBodyTextType::Ssml,
        };
        let request = self
            .client
            .send_voice_message()
            .destination_phone_number(call.to.as_e164())
            .origination_identity(origination)
            .message_body(call.script.as_str())
            .message_body_text_type(text_type)
            .voice_id(voice_for(call.language.as_deref()))
            .set_configuration_set_name(self.options.configuration_set.clone());
        let outcome = request.send().await.map(|output| output.message_id().map(str::to_owned));
        let provider_message_id = message_id_of("SendVoiceMessage", outcome, map_voice_failure)?;
        tracing::debug!(%provider_message_id, "call handed to End User Messaging");
        Ok(PlacedCall { provider_message_id })
    }
}

/// Maps a failed `SendVoiceMessage`: throttling and server errors are
/// retryable; an opted-out or invalid destination is the recipient's; quota,
/// access, missing resources and other validation failures are ours.
pub(crate) fn map_voice_failure(failure: &SdkFailure) -> GatewayError {
    let (code, message) = match failure {
        SdkFailure::Construction(what) => return GatewayError::SenderError(format!("voice request: {what}")),
        SdkFailure::Transport(what) => return GatewayError::Unavailable(format!("End User Messaging: {what}")),
        SdkFailure::Service { code, message, .. } => (code.as_str(), message.as_str()),
    };
    let detail = if message.is_empty() { code.to_owned() } else { format!("{code}: {message}") };
    let upper = message.to_ascii_uppercase();
    if is_throttling_code(code) {
        return GatewayError::Throttled(detail);
    }
    if upper.contains("OPTED_OUT") || upper.contains("OPTED OUT") {
        return GatewayError::OptedOut;
    }
    match code {
        "InternalServerException" | "InternalFailure" | "ServiceUnavailable" => GatewayError::Unavailable(detail),
        "ValidationException" if upper.contains("DESTINATION") && !upper.contains("NOT_VERIFIED") => {
            GatewayError::InvalidRecipient(detail)
        }
        _ => GatewayError::SenderError(detail),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(code: &str, message: &str) -> SdkFailure {
        SdkFailure::Service { code: code.into(), message: message.into(), status: 400 }
    }

    #[test]
    fn each_language_gets_a_voice_that_speaks_it() {
        assert_eq!(voice_for(None), VoiceId::Joanna);
        assert_eq!(voice_for(Some("es-MX")), VoiceId::Lupe);
        assert_eq!(voice_for(Some("ZH_hans")), VoiceId::Zhiyu);
        assert_eq!(voice_for(Some("so")), VoiceId::Joanna, "Somali: no Polly voice, English");
    }

    #[test]
    fn failures_map_to_who_can_fix_them() {
        assert!(matches!(map_voice_failure(&service("ThrottlingException", "")), GatewayError::Throttled(_)));
        assert!(matches!(map_voice_failure(&service("InternalServerException", "")), GatewayError::Unavailable(_)));
        let opted_out = service("ConflictException", "Reason: DESTINATION_PHONE_NUMBER_OPTED_OUT");
        assert_eq!(map_voice_failure(&opted_out), GatewayError::OptedOut);
        let invalid = service("ValidationException", "Reason: INVALID_PARAMETER DestinationPhoneNumber");
        assert!(matches!(map_voice_failure(&invalid), GatewayError::InvalidRecipient(_)));
        let sandbox = service("ValidationException", "Reason: DESTINATION_PHONE_NUMBER_NOT_VERIFIED");
        assert!(matches!(map_voice_failure(&sandbox), GatewayError::SenderError(_)));
        for ours in ["AccessDeniedException", "ResourceNotFoundException", "ServiceQuotaExceededException"] {
            assert!(matches!(map_voice_failure(&service(ours, "")), GatewayError::SenderError(_)), "{ours}");
        }
        assert!(map_voice_failure(&SdkFailure::Transport("connection failed".into())).is_retryable());
    }
}
