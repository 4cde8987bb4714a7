//! `schoolbell-inbound-sms`: texts families send back. Twilio posts them to
//! `POST /webhooks/twilio/inbound` (the number's "a message comes in" URL);
//! the request is verified like every Twilio webhook (`X-Twilio-Signature`
//! over the public URL, [`schoolbell::webhook_auth::verify_twilio_webhook`])
//! before anything is read, then [`schoolbell::services::ReplyService`]
//! applies the reply rule: STOP opts the number out with one confirmation,
//! START opts it back in, HELP is answered, anything else is stored for
//! staff.
//!
//! Answers: 200 with TwiML. A STOP, START or HELP is answered in it
//! (`<Response><Message>…</Message></Response>`): Twilio sends the answer
//! from the number the person texted, the way their text came. Anything
//! else gets an empty `<Response/>`. 403
//! `invalid_signature`, 404 `not_configured` without a Twilio token, 400
//! for a verified body that is not an inbound message.
//!
//! Telnyx `message.received` events and AWS two-way SMS arrive at the
//! receipts endpoints (`/webhooks/telnyx`, `/webhooks/sns`) and the
//! delivery-events function; they hand replies to the same service.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use schoolbell::domain::PhoneNumber;
use schoolbell::http::{ApiError, no_route, wrong_method};
use schoolbell::receipts::twilio_inbound;
use schoolbell::services::{AnswerRoute, InboundSms, ReplyService};
use schoolbell::webhook_auth::{Webhooks, verify_twilio_webhook};

/// What the handler needs.
#[derive(Clone)]
pub struct InboundState {
    /// The reply rule.
    pub replies: ReplyService,
    /// The configured providers' verifiers (Twilio's token, the public URL).
    pub webhooks: Arc<Webhooks>,
}

/// The routes without fallbacks (for merging).
pub fn routes(state: InboundState) -> Router {
    Router::new().route("/webhooks/twilio/inbound", post(twilio_inbound_route)).with_state(state)
}

/// The routes as their own service, with JSON fallbacks.
pub fn router(state: InboundState) -> Router {
    routes(state).fallback(no_route).method_not_allowed_fallback(wrong_method)
}

async fn twilio_inbound_route(
    State(state): State<InboundState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    verify_twilio_webhook(&state.webhooks, &uri, &headers, &body)?;
    let unreadable = |message: String| ApiError::new(StatusCode::BAD_REQUEST, "unreadable_message", message);
    let text = twilio_inbound(&body).map_err(|e| unreadable(e.to_string()))?;
    let from = PhoneNumber::parse_e164(&text.from).map_err(|e| unreadable(e.to_string()))?;
    let inbound = InboundSms {
        provider: "twilio".into(),
        provider_message_id: text.provider_message_id,
        from,
        to: text.to,
        body: text.body,
        received_at: text.received_at,
    };
    let handled = state.replies.handle_with(&inbound, AnswerRoute::Inline).await?;
    tracing::debug!(provider = "twilio", outcome = ?handled.outcome, "inbound text handled");
    Ok(([(header::CONTENT_TYPE, "text/xml")], twiml(handled.answer.as_deref())).into_response())
}

/// The webhook's answer: the keyword answer as a `<Message>`, or nothing.
fn twiml(answer: Option<&str>) -> String {
    let body = match answer {
        Some(text) => format!("<Response><Message>{}</Message></Response>", quick_xml::escape::escape(text)),
        None => "<Response/>".into(),
    };
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>{body}")
}

#[cfg(test)]
mod tests;
