//! `SnsSmsGateway`: the `SmsGateway` port over Amazon SNS `Publish` to a
//! phone number, as transactional SMS.

use async_trait::async_trait;
use aws_sdk_sns::types::MessageAttributeValue;

use super::sdk_failure::{SdkFailure, is_throttling_code, message_id_of};
use crate::domain::PhoneNumber;
use crate::ports::{GatewayError, OutboundSms, SentSms, SmsGateway};

/// How texts leave the account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SmsOptions {
    /// Alphanumeric sender id, where the destination country supports one.
    pub sender_id: Option<String>,
    /// The origination number (E.164 long code, toll-free or short code)
    /// texts are sent from; SNS picks one from the account when unset.
    pub origination_number: Option<String>,
}

impl SmsOptions {
    /// `SCHOOLBELL_SMS_SENDER_ID` and `SCHOOLBELL_SMS_ORIGINATION_NUMBER`, each optional.
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &crate::config::Env<F>) -> Self {
        Self {
            sender_id: env.optional("SCHOOLBELL_SMS_SENDER_ID"),
            origination_number: env.optional("SCHOOLBELL_SMS_ORIGINATION_NUMBER"),
        }
    }
}

/// Sends texts through SNS. Every text is `Transactional`: school messages
/// are time-sensitive and SNS routes transactional traffic for reliability.
#[derive(Debug, Clone)]
pub struct SnsSmsGateway {
    client: aws_sdk_sns::Client,
    options: SmsOptions,
}

impl SnsSmsGateway {
    /// A gateway over `client` with the sender options.
    pub fn new(client: aws_sdk_sns::Client, options: SmsOptions) -> Self {
        Self { client, options }
    }
}

fn string_attribute(value: &str) -> Result<MessageAttributeValue, GatewayError> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .map_err(|e| GatewayError::SenderError(format!("SNS message attribute: {e}")))
}

#[async_trait]
impl SmsGateway for SnsSmsGateway {
    fn provider(&self) -> Option<&'static str> {
        Some(crate::receipts::AWS_PROVIDER)
    }

    async fn send(&self, sms: &OutboundSms) -> Result<SentSms, GatewayError> {
        let mut request = self
            .client
            .publish()
            .phone_number(sms.to.as_e164())
            .message(&sms.body)
            .message_attributes("AWS.SNS.SMS.SMSType", string_attribute("Transactional")?);
        if let Some(sender_id) = &self.options.sender_id {
            request = request.message_attributes("AWS.SNS.SMS.SenderID", string_attribute(sender_id)?);
        }
        // The district's own (or the shared) number when the sender names
        // one; else the deployment's configured default.
        let origination = sms.from.as_ref().map(PhoneNumber::as_e164).or(self.options.origination_number.as_deref());
        if let Some(origination) = origination {
            request = request.message_attributes("AWS.MM.SMS.OriginationNumber", string_attribute(origination)?);
        }
        let outcome = request.send().await.map(|output| output.message_id().map(str::to_owned));
        let provider_message_id = message_id_of("SNS Publish", outcome, map_sns_failure)?;
        tracing::debug!(%provider_message_id, "sms published to SNS");
        Ok(SentSms { provider_message_id })
    }
}

/// Maps a failed `Publish` to the port's error.
fn map_sns_failure(failure: &SdkFailure) -> GatewayError {
    match failure {
        SdkFailure::Construction(what) => GatewayError::SenderError(format!("SNS request: {what}")),
        SdkFailure::Transport(what) => GatewayError::Unavailable(format!("SNS: {what}")),
        SdkFailure::Service { code, message, status } => map_sns_error_code(code, message, *status),
    }
}

/// Maps an SNS error code (with its scrubbed message and HTTP status) to the
/// port's error: throttling is retryable, a refused phone number is the
/// recipient's, account/KMS/configuration problems are ours, and server-side
/// failures are retryable.
fn map_sns_error_code(code: &str, message: &str, status: u16) -> GatewayError {
    let detail = if message.is_empty() { code.to_owned() } else { format!("{code}: {message}") };
    if is_throttling_code(code) {
        return GatewayError::Throttled(detail);
    }
    match code {
        "InvalidParameter" | "InvalidParameterValue" | "ParameterValueInvalid"
            if message.to_ascii_lowercase().contains("phone") =>
        {
            GatewayError::InvalidRecipient(detail)
        }
        "OptedOut" | "OptedOutException" => GatewayError::OptedOut,
        "InternalError" | "InternalFailure" | "ServiceUnavailable" => GatewayError::Unavailable(detail),
        "AuthorizationError"
        | "InvalidSecurity"
        | "InvalidClientTokenId"
        | "AccessDenied"
        | "AccessDeniedException"
        | "SignatureDoesNotMatch"
        | "KMSAccessDenied"
        | "KMSDisabled"
        | "KMSInvalidState"
        | "KMSNotFound"
        | "KMSOptInRequired"
        | "InvalidParameter"
        | "InvalidParameterValue"
        | "ParameterValueInvalid"
        | "ValidationError"
        | "ValidationException"
        | "NotFound"
        | "EndpointDisabled"
        | "PlatformApplicationDisabled" => GatewayError::SenderError(detail),
        _ if status >= 500 => GatewayError::Unavailable(detail),
        _ => GatewayError::SenderError(detail),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_is_retryable() {
        assert!(matches!(map_sns_error_code("Throttled", "Rate exceeded", 400), GatewayError::Throttled(_)));
        assert!(matches!(map_sns_error_code("Throttling", "", 400), GatewayError::Throttled(_)));
        assert!(matches!(map_sns_error_code("KMSThrottling", "", 400), GatewayError::Throttled(_)));
    }

    #[test]
    fn a_refused_phone_number_is_the_recipients_problem() {
        let error =
            map_sns_error_code("InvalidParameter", "Invalid parameter: PhoneNumber Reason: • is not valid", 400);
        assert!(matches!(error, GatewayError::InvalidRecipient(_)), "{error:?}");
    }

    #[test]
    fn other_invalid_parameters_auth_and_kms_are_ours() {
        for code in ["InvalidParameter", "AuthorizationError", "KMSDisabled", "InvalidClientTokenId", "Whatever"] {
            let error = map_sns_error_code(code, "Invalid parameter: Message too long", 400);
            assert!(matches!(error, GatewayError::SenderError(_)), "{code}: {error:?}");
        }
    }

    #[test]
    fn server_side_failures_are_retryable() {
        assert!(matches!(map_sns_error_code("InternalError", "", 500), GatewayError::Unavailable(_)));
        assert!(matches!(map_sns_error_code("SomethingNew", "", 503), GatewayError::Unavailable(_)));
    }

    #[test]
    fn transport_failures_are_retryable_and_bad_requests_are_ours() {
        assert!(map_sns_failure(&SdkFailure::Transport("request timed out".into())).is_retryable());
        assert!(matches!(map_sns_failure(&SdkFailure::Construction("x".into())), GatewayError::SenderError(_)));
    }
}
