//! `POST /webhooks/sns`: an SNS HTTPS subscription's envelope. The message
//! is verified with its signing certificate (SignatureVersion 1 or 2), then
//! only messages of allowed topics are acted on: a
//! `SubscriptionConfirmation` is confirmed by GETting its `SubscribeURL`, an
//! `UnsubscribeConfirmation` is logged, and a `Notification` (End User
//! Messaging SMS events, SES events, SNS SMS delivery logs) is applied.
//!
//! The topic check matters as much as the signature: anyone can have SNS
//! sign messages of their own topic, so a genuine signature alone proves
//! nothing about who published. It comes first, so a foreign topic never
//! makes us fetch a certificate.
//!
//! Only what was signed is applied: the verified envelope is re-encoded
//! and read, never the body as posted, and a body that also carries a
//! Lambda event's `Records` (whose messages the signature does not cover)
//! is refused outright.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use schoolbell::http::ApiError;
use schoolbell::webhook_auth::{SnsMessage, SnsMessageType, is_sns_https_url, verify_sns};

use crate::{Provider, ReceiptsState, accepted, apply_body, not_configured, refused};

pub(crate) async fn sns(State(state): State<ReceiptsState>, body: Bytes) -> Result<Response, ApiError> {
    let settings = state.webhooks.sns.as_ref().ok_or_else(|| not_configured(Provider::Sns))?;
    let message = SnsMessage::from_json(&body).map_err(|e| refused(Provider::Sns, &e))?;
    if carries_records(&body) {
        tracing::warn!(provider = "sns", topic = %message.topic_arn, "an envelope that also carries `Records`");
        let text = "one SNS envelope per request; `Records` (a Lambda event's shape) is not signed and not accepted";
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "unsigned_records", text));
    }
    if !settings.topics.contains(&message.topic_arn) {
        tracing::warn!(provider = "sns", topic = %message.topic_arn, kind = %message.kind, "topic not on the allow-list");
        let text = "messages from this topic are not accepted here";
        return Err(ApiError::new(StatusCode::FORBIDDEN, "topic_not_allowed", text));
    }
    verify_sns(&message, settings.certificates.as_ref()).await.map_err(|e| refused(Provider::Sns, &e))?;
    match message.message_type().map_err(|e| refused(Provider::Sns, &e))? {
        SnsMessageType::SubscriptionConfirmation => {
            let Some(url) = message.subscribe_url.as_deref().filter(|url| is_sns_https_url(url)) else {
                tracing::warn!(provider = "sns", topic = %message.topic_arn, "SubscribeURL is not an SNS https URL");
                let text = "the SubscribeURL is not an https URL on an SNS host";
                return Err(ApiError::new(StatusCode::FORBIDDEN, "invalid_signature", text));
            };
            settings.confirmer.confirm(url).await.map_err(|error| {
                tracing::warn!(provider = "sns", topic = %message.topic_arn, %error, "subscription not confirmed");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the subscription could not be confirmed now",
                )
            })?;
            tracing::info!(provider = "sns", topic = %message.topic_arn, "subscription confirmed");
        }
        SnsMessageType::UnsubscribeConfirmation => {
            tracing::info!(provider = "sns", topic = %message.topic_arn, "subscription ended by SNS");
        }
        SnsMessageType::Notification => {
            // The verified envelope, re-encoded: nothing but what was signed.
            let verified = serde_json::to_vec(&message).map_err(|error| {
                tracing::error!(provider = "sns", %error, "a verified envelope did not encode");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "something went wrong on our side")
            })?;
            apply_body(&state, Provider::Sns, &verified).await?;
        }
    }
    Ok(accepted())
}

/// Whether the posted JSON object has a top-level `Records` key.
fn carries_records(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(body)
        .is_ok_and(|object| object.contains_key("Records"))
}
