//! `schoolbell-delivery-receipts`: the HTTP webhooks where SMS carriers and
//! AWS report what became of each message.
//!
//! Every route checks the provider's signature or secret on the raw request
//! first ([`schoolbell::webhook_auth`]), then reads the body in the
//! provider's dialect ([`schoolbell::receipts::parse`]) and applies each
//! receipt ([`schoolbell::services::ReceiptService::apply`]): the delivery
//! found by its provider message id gets its final state, the number its SMS
//! status (or the address its email status).
//!
//! | route | provider | check |
//! | --- | --- | --- |
//! | `POST /webhooks/twilio/status` | Twilio status callback (form) | `X-Twilio-Signature` over the public URL |
//! | `POST /webhooks/telnyx` | Telnyx v2 (JSON) | Ed25519 `telnyx-signature-ed25519` + `telnyx-timestamp` (5 min) |
//! | `POST /webhooks/vonage/status` | Vonage SMS DLR (form or JSON) | `Authorization: Bearer` JWT, `payload_hash` |
//! | `POST /webhooks/bandwidth` | Bandwidth v2 (JSON array) | Basic credentials |
//! | `GET, POST /webhooks/kannel/dlr` | Kannel `dlr-url` (query or form) | `?token=` or `X-Webhook-Token` |
//! | `GET, POST /webhooks/jasmin/dlr` | Jasmin `dlr-url` (query or form) | `?token=` or `X-Webhook-Token` |
//! | `POST /webhooks/sns` | SNS HTTPS subscription (EUM SMS events, SES events) | SNS signature v1/v2, topic allow-list |
//!
//! Answers:
//! - 200 `{}` when the body was applied, including a receipt for a message
//!   id we do not know (kept for operators), a replay (changes nothing), and
//!   a well-formed body that is not a delivery receipt (an SES open; an
//!   inbound text — Telnyx `message.received`, AWS two-way SMS — goes to
//!   the reply rule when `replies` is set). Jasmin gets `ACK/Jasmin` (text), or it retries.
//! - 403 `{"code": "invalid_signature"}` when verification fails, and
//!   `topic_not_allowed` for an SNS topic off the allow-list: nothing is
//!   read or changed (no subscription is confirmed).
//! - 404 `{"code": "not_configured"}` when the provider has no secret on
//!   this deployment: the route exists only for configured providers, and
//!   a 404 is final where a 503 would make providers retry for days.
//! - 400 `{"code": "unreadable_receipt"}` when a verified body is not a
//!   receipt of the dialect (the provider's bug; logged, never retried).
//! - 503 when a signing certificate or a subscription confirmation could not
//!   be fetched, or the store is busy (providers retry), 500 otherwise.
//!
//! Logs carry the provider, counts, error kinds and SNS topic ARNs, never a
//! phone number or an email address. Configuration: [`WebhookConfig`], and
//! the verifiers it turns on: [`Webhooks`] (both in
//! [`schoolbell::webhook_auth`], shared with the inbound-SMS function and
//! re-exported here). [`routes`] is mounted by the local gateway; [`router`]
//! adds JSON fallbacks for Lambda (`main.rs`, feature `lambda`).

mod replies;
mod sns;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use schoolbell::http::{ApiError, no_route, wrong_method};
use schoolbell::ports::Clock;
use schoolbell::receipts::{Dialect, ReceiptError, parse};
use schoolbell::services::{Applied, ReceiptEvent, ReceiptService, ReplyService};
use schoolbell::webhook_auth::{SharedSecret, VerifyError, verify_twilio_webhook};
use serde_json::json;

pub use schoolbell::webhook_auth::{
    ConfirmError, HttpConfirmer, SetupError, SnsSettings, SubscriptionConfirmer, WebhookConfig, Webhooks,
};

/// What the handlers need.
#[derive(Clone)]
pub struct ReceiptsState {
    /// Applies receipts to deliveries and contact statuses.
    pub receipts: ReceiptService,
    /// The configured providers' verifiers.
    pub webhooks: Arc<Webhooks>,
    /// Now, for the signed timestamps of Telnyx and Vonage.
    pub clock: Arc<dyn Clock>,
    /// The reply rule, for inbound texts that reach these endpoints
    /// (Telnyx `message.received`, AWS two-way SMS on the SNS topic);
    /// `None` acknowledges and ignores them.
    pub replies: Option<ReplyService>,
}

/// The routes without fallbacks (for merging).
pub fn routes(state: ReceiptsState) -> Router {
    Router::new()
        .route("/webhooks/twilio/status", post(twilio))
        .route("/webhooks/telnyx", post(telnyx))
        .route("/webhooks/vonage/status", post(vonage))
        .route("/webhooks/bandwidth", post(bandwidth))
        .route("/webhooks/kannel/dlr", get(kannel).post(kannel))
        .route("/webhooks/jasmin/dlr", get(jasmin).post(jasmin))
        .route("/webhooks/sns", post(sns::sns))
        .with_state(state)
}

/// The routes as their own service, with JSON fallbacks.
pub fn router(state: ReceiptsState) -> Router {
    routes(state).fallback(no_route).method_not_allowed_fallback(wrong_method)
}

/// A provider, as logs and answers name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Provider {
    Twilio,
    Telnyx,
    Vonage,
    Bandwidth,
    Kannel,
    Jasmin,
    Sns,
}

impl Provider {
    fn name(self) -> &'static str {
        self.dialect().as_str()
    }

    fn dialect(self) -> Dialect {
        match self {
            Provider::Twilio => Dialect::Twilio,
            Provider::Telnyx => Dialect::Telnyx,
            Provider::Vonage => Dialect::Vonage,
            Provider::Bandwidth => Dialect::Bandwidth,
            Provider::Kannel => Dialect::Kannel,
            Provider::Jasmin => Dialect::Jasmin,
            Provider::Sns => Dialect::Sns,
        }
    }
}

pub(crate) fn not_configured(provider: Provider) -> ApiError {
    schoolbell::webhook_auth::not_configured(provider.name())
}

pub(crate) fn refused(provider: Provider, error: &VerifyError) -> ApiError {
    schoolbell::webhook_auth::refused(provider.name(), error)
}

fn accepted() -> Response {
    (StatusCode::OK, Json(json!({}))).into_response()
}

/// Reads a verified body as the provider's dialect and applies each
/// receipt. A body that is well formed but not a receipt is acknowledged.
pub(crate) async fn apply_body(state: &ReceiptsState, provider: Provider, body: &[u8]) -> Result<(), ApiError> {
    let receipts = match parse(provider.dialect(), body) {
        Ok(receipts) => receipts,
        Err(error @ ReceiptError::UnsupportedMessageType { .. }) => {
            if replies::reply_if_inbound(state, provider, body).await? {
                return Ok(());
            }
            tracing::debug!(provider = provider.name(), reason = %error, "not a delivery receipt; acknowledged");
            return Ok(());
        }
        Err(error) => {
            tracing::warn!(provider = provider.name(), %error, "a verified body is not a readable receipt");
            return Err(ApiError::new(StatusCode::BAD_REQUEST, "unreadable_receipt", error.to_string()));
        }
    };
    let (mut recorded, mut unchanged, mut unmatched) = (0_usize, 0_usize, 0_usize);
    for receipt in &receipts {
        match state.receipts.apply(&ReceiptEvent::from(receipt)).await? {
            Applied::Recorded => recorded += 1,
            Applied::Unchanged => unchanged += 1,
            Applied::Unmatched => unmatched += 1,
        }
    }
    tracing::debug!(provider = provider.name(), recorded, unchanged, unmatched, "receipts applied");
    Ok(())
}

async fn twilio(
    State(state): State<ReceiptsState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    verify_twilio_webhook(&state.webhooks, &uri, &headers, &body)?;
    apply_body(&state, Provider::Twilio, &body).await?;
    Ok(accepted())
}

async fn telnyx(State(state): State<ReceiptsState>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    let verifier = state.webhooks.telnyx.as_ref().ok_or_else(|| not_configured(Provider::Telnyx))?;
    verifier.verify(&headers, &body, state.clock.now()).map_err(|e| refused(Provider::Telnyx, &e))?;
    apply_body(&state, Provider::Telnyx, &body).await?;
    Ok(accepted())
}

async fn vonage(State(state): State<ReceiptsState>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    let verifier = state.webhooks.vonage.as_ref().ok_or_else(|| not_configured(Provider::Vonage))?;
    verifier.verify(&headers, &body, state.clock.now()).map_err(|e| refused(Provider::Vonage, &e))?;
    apply_body(&state, Provider::Vonage, &body).await?;
    Ok(accepted())
}

async fn bandwidth(
    State(state): State<ReceiptsState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let secret = state.webhooks.bandwidth.as_ref().ok_or_else(|| not_configured(Provider::Bandwidth))?;
    secret.verify(&headers, uri.query()).map_err(|e| refused(Provider::Bandwidth, &e))?;
    apply_body(&state, Provider::Bandwidth, &body).await?;
    Ok(accepted())
}

/// Accepts the token in either place; when neither matches, reports the
/// more telling error (a wrong token rather than a missing one).
fn verify_token(secrets: &[SharedSecret; 2], headers: &HeaderMap, query: Option<&str>) -> Result<(), VerifyError> {
    let results = secrets.each_ref().map(|secret| secret.verify(headers, query));
    if results.iter().any(Result::is_ok) {
        return Ok(());
    }
    let [by_query, by_header] = results;
    match (by_query, by_header) {
        (Err(VerifyError::Missing(_)), Err(error)) | (Err(error), _) => Err(error),
        (Ok(()), _) => Ok(()),
    }
}

/// A DLR request's fields: the form body of a POST that has one, else the
/// query string (where the token rides along; the parsers ignore it).
fn dlr_fields<'a>(method: &Method, uri: &'a Uri, body: &'a Bytes) -> &'a [u8] {
    if *method == Method::POST && !body.is_empty() { body } else { uri.query().unwrap_or_default().as_bytes() }
}

/// Verifies a DLR gateway's token and applies the request's fields
/// (Kannel and Jasmin differ only in their token and their answer).
async fn apply_dlr(
    state: &ReceiptsState,
    provider: Provider,
    secrets: Option<&[SharedSecret; 2]>,
    (method, uri, headers, body): (&Method, &Uri, &HeaderMap, &Bytes),
) -> Result<(), ApiError> {
    let secrets = secrets.ok_or_else(|| not_configured(provider))?;
    verify_token(secrets, headers, uri.query()).map_err(|e| refused(provider, &e))?;
    apply_body(state, provider, dlr_fields(method, uri, body)).await
}

async fn kannel(
    State(state): State<ReceiptsState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let secrets = state.webhooks.kannel.as_ref();
    apply_dlr(&state, Provider::Kannel, secrets, (&method, &uri, &headers, &body)).await?;
    Ok(accepted())
}

async fn jasmin(
    State(state): State<ReceiptsState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let secrets = state.webhooks.jasmin.as_ref();
    apply_dlr(&state, Provider::Jasmin, secrets, (&method, &uri, &headers, &body)).await?;
    Ok((StatusCode::OK, [(CONTENT_TYPE, "text/plain; charset=utf-8")], "ACK/Jasmin").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, axum::http::HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn a_wrong_token_is_reported_rather_than_a_missing_header() -> Result<(), VerifyError> {
        let secrets = [SharedSecret::query("token", "right")?, SharedSecret::header("x-webhook-token", "right")?];
        let none = HeaderMap::new();
        assert_eq!(verify_token(&secrets, &none, Some("token=wrong")), Err(VerifyError::Mismatch));
        assert!(matches!(verify_token(&secrets, &none, None), Err(VerifyError::Missing(_))));
        assert_eq!(verify_token(&secrets, &headers(&[("x-webhook-token", "right")]), None), Ok(()));
        assert_eq!(verify_token(&secrets, &none, Some("id=1&token=right")), Ok(()));
        Ok(())
    }
}
