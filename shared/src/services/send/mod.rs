//! Sending: one chunk of a broadcast's messages through the SMS and email
//! gateways, each recorded so that no message goes twice.
//!
//! The protocol, per chunk (the plan puts every point in exactly one chunk):
//! 1. **claim** — one conditional put of the chunk's claim before any
//!    provider call. A chunk already `done` is acknowledged at once; one
//!    `sending` under a lease younger than the queue's visibility timeout
//!    belongs to a worker that may still be running, so the task goes back
//!    to the queue; an older one was left by a worker that died, and one
//!    marked `retry` was left on purpose: either is taken over
//!    (conditionally, so only one worker takes it), and the messages
//!    already recorded in the chunk's point range (one query) are skipped.
//! 2. **send** — each message through its gateway, at its channel's rate
//!    (texts and email each have their own token bucket);
//!    throttling and provider outages are retried with backoff.
//! 3. **mark** — messages go a slice of `concurrency` at a time, all of a
//!    slice in flight at once; once its providers answered, the slice's
//!    deliveries are written together: `sent` with the provider's message
//!    id (the receipt index) and the SMS segments, or `failed` with the
//!    classification (permanent recipient errors also set the number's or
//!    address's status at once).
//! 4. **done** — the claim says so, and later deliveries of the task stop
//!    at the claim. The last slice's deliveries and the claim go in one
//!    [`crate::ports::Table::write_then`]: the claim is never written
//!    without them (the embedded table commits both at once).
//!
//! So a message costs one item written (its mark) and a chunk two more.
//!
//! The window between 2 and 3: a worker that dies after a provider took a
//! message but before its slice was marked leaves it unrecorded, and the
//! takeover sends it again. That is the at-least-once choice — a duplicate
//! of a message that was in flight at the crash rather than a lost
//! emergency message — and the window is the messages in flight (at most
//! `concurrency`, one slice). A worker that dies between slices leaves
//! nothing ambiguous: the redelivered task sends each remaining message
//! exactly once.
//!
//! Texts go from the district's own sending number, else the deployment's
//! shared one, else the provider's default; opt-outs are read again right
//! before each group goes (`opt_outs`). Each channel's provider call
//! (call, email, text) is in `providers`.
//!
//! Messages that fail only for retryable reasons after their retries leave
//! the chunk in `retry` and the task is reported failed, so SQS hands it
//! out again; nothing else goes back to the queue.

mod call_again;
mod messages;
mod opt_outs;
mod providers;

pub use call_again::CallAgain;
use messages::Sending;

use std::sync::Arc;
use std::time::Duration;

use super::rate::RateLimiter;
use crate::domain::{BroadcastId, DeliveryPoint, DeliveryReason, DistrictId, PlannedDelivery};
use crate::ports::{Clock, EmailGateway, GatewayError, Ids, SmsGateway, VoiceGateway};
use crate::services::ServiceError;
use crate::store::{
    BroadcastStore, CallRetryStore, ChunkClaim, ChunkState, EmailStatusStore, SendingNumberStore, SmsPairStore,
    SmsStatusStore, Stores, TextingNumber,
};

/// How a send worker behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendSettings {
    /// Messages in flight at once (and the most a crash can duplicate).
    pub concurrency: usize,
    /// How long a chunk's claim keeps other workers off it; set it to the
    /// queue's visibility timeout.
    pub claim_lease: Duration,
    /// Tries per message for throttling and outages.
    pub attempts: u32,
    /// First backoff; doubled each retry.
    pub backoff: Duration,
    /// Texts per second across the worker: the origination number's (or
    /// the account's) throughput (`None`: as fast as the provider takes them).
    pub texts_per_second: Option<u32>,
    /// Emails per second across the worker: the email account's sending
    /// rate. Its own bucket, so email never waits at the text rate.
    pub emails_per_second: Option<u32>,
    /// Calls per second across the worker: the voice service's call rate.
    pub calls_per_second: Option<u32>,
}

impl Default for SendSettings {
    fn default() -> Self {
        Self {
            concurrency: 16,
            claim_lease: Duration::from_secs(300),
            attempts: 4,
            backoff: Duration::from_millis(200),
            texts_per_second: None,
            emails_per_second: None,
            calls_per_second: None,
        }
    }
}

/// What one chunk came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChunkReport {
    /// Messages the provider took in this run.
    pub sent: u32,
    /// Messages that failed for good.
    pub failed: u32,
    /// Messages an earlier run already finished.
    pub already_done: u32,
    /// Texts not sent: their number opted out after planning.
    pub skipped: u32,
    /// Messages left for a later delivery of the task (retryable failures,
    /// or a chunk another worker may still hold). Non-zero: report the task failed.
    pub retry: u32,
}

/// The send worker's use case.
#[derive(Clone)]
pub struct SendService {
    broadcasts: BroadcastStore,
    sms: Arc<dyn SmsGateway>,
    email: Arc<dyn EmailGateway>,
    voice: Option<Arc<dyn VoiceGateway>>,
    sms_status: SmsStatusStore,
    sms_pairs: SmsPairStore,
    numbers: SendingNumberStore,
    email_status: EmailStatusStore,
    call_retries: CallRetryStore,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn Ids>,
    text_rate: Arc<RateLimiter>,
    email_rate: Arc<RateLimiter>,
    call_rate: Arc<RateLimiter>,
    settings: SendSettings,
}

fn failure_reason(error: &GatewayError) -> DeliveryReason {
    match error {
        GatewayError::OptedOut => DeliveryReason::OptOut,
        GatewayError::InvalidRecipient(_) => DeliveryReason::InvalidRecipient,
        GatewayError::SenderError(_) => DeliveryReason::SenderError,
        GatewayError::Throttled(_) => DeliveryReason::Throttled,
        GatewayError::Unavailable(_) => DeliveryReason::ProviderUnavailable,
    }
}

impl SendService {
    /// A sender over the table and the gateways (calls fail as the
    /// sender's error without a voice gateway).
    pub fn new(
        stores: &Stores,
        sms: Arc<dyn SmsGateway>,
        email: Arc<dyn EmailGateway>,
        voice: Option<Arc<dyn VoiceGateway>>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn Ids>,
        settings: SendSettings,
    ) -> Self {
        Self {
            broadcasts: stores.broadcasts.clone(),
            sms,
            email,
            voice,
            sms_status: stores.sms_status.clone(),
            sms_pairs: stores.sms_pairs.clone(),
            numbers: stores.sending_numbers.clone(),
            email_status: stores.email_status.clone(),
            call_retries: stores.call_retries.clone(),
            clock,
            ids,
            text_rate: Arc::new(RateLimiter::new(settings.texts_per_second)),
            email_rate: Arc::new(RateLimiter::new(settings.emails_per_second)),
            call_rate: Arc::new(RateLimiter::new(settings.calls_per_second)),
            settings,
        }
    }

    /// Sends one chunk (see the module docs for the protocol). Safe to run
    /// again with the same task, concurrently or after a crash.
    pub async fn send_chunk(
        &self,
        district: &DistrictId,
        id: &BroadcastId,
        chunk: u64,
        messages: &[PlannedDelivery],
    ) -> Result<ChunkReport, ServiceError> {
        let Some(broadcast) = self.broadcasts.get(district, id).await? else {
            tracing::warn!(%district, broadcast = %id, "send task for a broadcast that does not exist; dropped");
            return Ok(ChunkReport::default());
        };
        let mut report = ChunkReport::default();
        let Some(mut claim) = self.claim(district, id, chunk, messages, &mut report).await? else {
            return Ok(report);
        };
        let attempts = claim.attempts;
        let pending: Vec<&PlannedDelivery> = if attempts == 1 {
            messages.iter().collect()
        } else {
            let recorded: std::collections::HashSet<DeliveryPoint> = match (messages.first(), messages.last()) {
                (Some(first), Some(last)) => self
                    .broadcasts
                    .deliveries_between(district, id, &first.point(), &last.point())
                    .await?
                    .into_iter()
                    .map(|d| d.point)
                    .collect(),
                _ => std::collections::HashSet::new(),
            };
            report.already_done = recorded.len() as u32;
            messages.iter().filter(|m| !recorded.contains(&m.point())).collect()
        };

        let has_texts = pending.iter().any(|m| matches!(m.point(), DeliveryPoint::Sms(_)));
        let origin = if has_texts { self.numbers.texting_number(district).await? } else { TextingNumber::default() };
        let slices: Vec<&[&PlannedDelivery]> = pending.chunks(self.settings.concurrency.max(1)).collect();
        let mut last_marks = Vec::new();
        for (n, slice) in slices.iter().enumerate() {
            let sending = Sending { district, broadcast: &broadcast, origin: &origin, attempts };
            let marks = self.send_slice(&sending, slice, &mut report).await?;
            if n + 1 < slices.len() {
                self.broadcasts.put_deliveries(district, &broadcast.id, &marks).await?;
            } else {
                last_marks = marks;
            }
        }
        claim.state = if report.retry == 0 { ChunkState::Done } else { ChunkState::Retry };
        self.broadcasts.put_deliveries_then_claim(district, id, &last_marks, &claim).await?;
        Ok(report)
    }

    /// Takes the chunk's claim, or says why not (in `report`): done
    /// already, or held by a worker that may still be running.
    async fn claim(
        &self,
        district: &DistrictId,
        id: &BroadcastId,
        chunk: u64,
        messages: &[PlannedDelivery],
        report: &mut ChunkReport,
    ) -> Result<Option<ChunkClaim>, ServiceError> {
        let now = self.clock.now();
        let fresh = ChunkClaim { chunk, state: ChunkState::Sending, claimed_at: now, attempts: 1 };
        if self.broadcasts.claim_chunk(district, id, &fresh, None).await? {
            return Ok(Some(fresh));
        }
        let Some(current) = self.broadcasts.chunk_claim(district, id, chunk).await? else {
            report.retry = messages.len() as u32;
            return Ok(None);
        };
        let age = now.signed_duration_since(current.claimed_at).to_std().unwrap_or_default();
        match current.state {
            ChunkState::Done => {
                report.already_done = messages.len() as u32;
                return Ok(None);
            }
            ChunkState::Sending if age < self.settings.claim_lease => {
                report.retry = messages.len() as u32;
                return Ok(None);
            }
            ChunkState::Sending => tracing::warn!(
                %district, broadcast = %id, chunk, attempts = current.attempts,
                "taking over a chunk whose worker died; messages in flight then may go twice"
            ),
            ChunkState::Retry => {}
        }
        let next = ChunkClaim { chunk, state: ChunkState::Sending, claimed_at: now, attempts: current.attempts + 1 };
        if self.broadcasts.claim_chunk(district, id, &next, Some(&current)).await? {
            Ok(Some(next))
        } else {
            report.retry = messages.len() as u32;
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests;
