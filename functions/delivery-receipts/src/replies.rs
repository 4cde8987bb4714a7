//! Replies that reach the receipt endpoints: Telnyx posts `message.received`
//! to the same messaging-profile URL as its delivery events, and an SNS
//! topic may carry AWS two-way SMS alongside delivery events. Those go to
//! the reply rule (`ReplyService`) instead of being ignored.

use schoolbell::domain::PhoneNumber;
use schoolbell::http::ApiError;
use schoolbell::receipts::{InboundText, aws_inbound, telnyx_inbound};
use schoolbell::services::InboundSms;

use crate::{Provider, ReceiptsState};

/// Hands a verified body that is an inbound text to the reply rule;
/// answers whether it was one.
pub(crate) async fn reply_if_inbound(state: &ReceiptsState, provider: Provider, body: &[u8]) -> Result<bool, ApiError> {
    let Some(replies) = &state.replies else { return Ok(false) };
    let text = match provider {
        Provider::Telnyx => telnyx_inbound(body).ok().flatten(),
        Provider::Sns => serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|envelope| envelope.get("Message").and_then(|m| m.as_str()).map(str::to_string))
            .and_then(|message| aws_inbound(message.as_bytes()).ok().flatten()),
        _ => None,
    };
    let Some(InboundText { provider_message_id, from, to, body, received_at }) = text else { return Ok(false) };
    let Ok(from) = PhoneNumber::parse_e164(&from) else { return Ok(false) };
    let inbound = InboundSms { provider: provider.name().into(), provider_message_id, from, to, body, received_at };
    let outcome = replies.handle(&inbound).await?;
    tracing::debug!(provider = provider.name(), outcome = ?outcome, "inbound text handled");
    Ok(true)
}
