//! `SesEmailGateway`: the `EmailGateway` port over Amazon SES v2 `SendEmail`
//! with simple (text and optional HTML) content.

use async_trait::async_trait;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};

use super::sdk_failure::{SdkFailure, is_throttling_code, message_id_of};
use crate::domain::EmailAddress;
use crate::ports::{EmailGateway, GatewayError, OutboundEmail, SentEmail};

/// Where email comes from and how SES tracks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailOptions {
    /// The sender; its address or domain must be a verified SES identity.
    pub from: EmailAddress,
    /// The configuration set whose event destination publishes bounces,
    /// complaints and deliveries (to `delivery-events`).
    pub configuration_set: Option<String>,
}

/// Sends email through SES v2.
#[derive(Debug, Clone)]
pub struct SesEmailGateway {
    client: aws_sdk_sesv2::Client,
    options: EmailOptions,
}

impl SesEmailGateway {
    /// A gateway over `client` with the sender options.
    pub fn new(client: aws_sdk_sesv2::Client, options: EmailOptions) -> Self {
        Self { client, options }
    }
}

fn utf8(data: &str) -> Result<Content, GatewayError> {
    Content::builder()
        .data(data)
        .charset("UTF-8")
        .build()
        .map_err(|e| GatewayError::SenderError(format!("SES content: {e}")))
}

#[async_trait]
impl EmailGateway for SesEmailGateway {
    fn provider(&self) -> Option<&'static str> {
        Some(crate::receipts::AWS_PROVIDER)
    }

    async fn send(&self, email: &OutboundEmail) -> Result<SentEmail, GatewayError> {
        let mut body = Body::builder().text(utf8(&email.text)?);
        if let Some(html) = &email.html {
            body = body.html(utf8(html)?);
        }
        let message = Message::builder().subject(utf8(&email.subject)?).body(body.build()).build();
        let request = self
            .client
            .send_email()
            .from_email_address(self.options.from.as_str())
            .destination(Destination::builder().to_addresses(email.to.as_str()).build())
            .content(EmailContent::builder().simple(message).build())
            .set_configuration_set_name(self.options.configuration_set.clone());
        let outcome = request.send().await.map(|output| output.message_id().map(str::to_owned));
        let provider_message_id = message_id_of("SES SendEmail", outcome, map_ses_failure)?;
        tracing::debug!(%provider_message_id, "email sent through SES");
        Ok(SentEmail { provider_message_id })
    }
}

/// Maps a failed `SendEmail` to the port's error.
fn map_ses_failure(failure: &SdkFailure) -> GatewayError {
    match failure {
        SdkFailure::Construction(what) => GatewayError::SenderError(format!("SES request: {what}")),
        SdkFailure::Transport(what) => GatewayError::Unavailable(format!("SES: {what}")),
        SdkFailure::Service { code, message, status } => map_ses_error_code(code, message, *status),
    }
}

/// Maps an SES v2 error code to the port's error. `LimitExceeded` (the
/// sending quota) is retryable: the quota refills. A `BadRequest` about the
/// address is the recipient's; every other refusal is ours (unverified
/// sender, paused or suspended account, unknown configuration set).
fn map_ses_error_code(code: &str, message: &str, status: u16) -> GatewayError {
    let detail = if message.is_empty() { code.to_owned() } else { format!("{code}: {message}") };
    if is_throttling_code(code) {
        return GatewayError::Throttled(detail);
    }
    let lower = message.to_ascii_lowercase();
    match code {
        "LimitExceededException" | "LimitExceeded" => GatewayError::Throttled(detail),
        "BadRequestException" | "BadRequest" | "InvalidParameterValue"
            if lower.contains("address") || lower.contains("recipient") || lower.contains("destination") =>
        {
            GatewayError::InvalidRecipient(detail)
        }
        "MessageRejected"
        | "MailFromDomainNotVerifiedException"
        | "AccountSuspendedException"
        | "SendingPausedException"
        | "NotFoundException"
        | "BadRequestException"
        | "BadRequest"
        | "InvalidParameterValue"
        | "AccessDeniedException"
        | "UnrecognizedClientException"
        | "InvalidClientTokenId"
        | "SignatureDoesNotMatch" => GatewayError::SenderError(detail),
        "InternalFailure" | "ServiceUnavailable" | "ServiceUnavailableException" => GatewayError::Unavailable(detail),
        _ if status >= 500 => GatewayError::Unavailable(detail),
        _ => GatewayError::SenderError(detail),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_many_requests_and_quota_are_retryable() {
        assert!(matches!(map_ses_error_code("TooManyRequestsException", "", 429), GatewayError::Throttled(_)));
        assert!(map_ses_error_code("LimitExceededException", "Daily quota", 400).is_retryable());
    }

    #[test]
    fn account_and_sender_refusals_are_ours() {
        for code in [
            "MessageRejected",
            "MailFromDomainNotVerifiedException",
            "AccountSuspendedException",
            "SendingPausedException",
            "NotFoundException",
        ] {
            let error = map_ses_error_code(code, "Email address is not verified.", 400);
            assert!(matches!(error, GatewayError::SenderError(_)), "{code}: {error:?}");
        }
    }

    #[test]
    fn a_bad_request_about_the_address_is_the_recipients() {
        let error = map_ses_error_code("BadRequestException", "Illegal address", 400);
        assert!(matches!(error, GatewayError::InvalidRecipient(_)), "{error:?}");
        let error = map_ses_error_code("BadRequestException", "Configuration set does not exist", 400);
        assert!(matches!(error, GatewayError::SenderError(_)), "{error:?}");
    }

    #[test]
    fn server_side_and_transport_failures_are_retryable() {
        assert!(map_ses_error_code("InternalFailure", "", 500).is_retryable());
        assert!(map_ses_error_code("Unknown", "", 502).is_retryable());
        assert!(map_ses_failure(&SdkFailure::Transport("connection failed".into())).is_retryable());
    }
}
