//! The delivery report: counts per channel (calls by outcome), progress
//! per channel, totals, and one delivery as the API and the CSV show it.
//! Pure: built from the broadcast and its deliveries.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::domain::{
    Broadcast, BroadcastChannel, BroadcastState, CallOutcome, Delivery, DeliveryPoint, DeliveryReason, DeliveryState,
    PersonId, ReportGroup, call_outcome,
};

/// Counts of one channel's deliveries.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ChannelCounts {
    /// Taken by the provider, no receipt yet.
    pub sent: u64,
    /// Confirmed delivered.
    pub delivered: u64,
    /// Failed, by reason.
    pub failed: BTreeMap<DeliveryReason, u64>,
    /// Skipped, by reason.
    pub skipped: BTreeMap<DeliveryReason, u64>,
    /// Calls only: what the calls came to (busy and unanswered calls count
    /// here once their tries are spent, not under `failed`).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub calls: Option<CallCounts>,
}

/// What a broadcast's calls came to (answered and machine add up to `delivered`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CallCounts {
    /// A person picked up.
    pub answered: u64,
    /// An answering machine took the message.
    pub machine: u64,
    /// Busy on every try.
    pub busy: u64,
    /// Not answered on any try.
    pub no_answer: u64,
}

/// Totals over every channel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[allow(missing_docs)] // fields named for what they hold
pub struct Totals {
    /// Planned and not yet recorded by a send worker.
    pub queued: u64,
    /// Sent, no receipt yet.
    pub sent: u64,
    /// Confirmed delivered.
    pub delivered: u64,
    pub failed: u64,
    /// Skipped (points and people).
    pub skipped: u64,
}

/// The delivery report of a broadcast.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BroadcastReport {
    /// The broadcast.
    #[serde(flatten)]
    pub broadcast: Broadcast,
    /// `scheduled`, `queued`, `deferred`, `sending`, or `complete` once
    /// nothing is queued or in flight.
    pub progress: String,
    /// Where each channel is: `deferred` (with `until`) while it waits
    /// for quiet hours to end, otherwise as `progress` says for what is planned.
    pub parts: BTreeMap<BroadcastChannel, PartProgress>,
    /// By channel (`text`, `email`) and `people` (person-level skips).
    pub counts: BTreeMap<ReportGroup, ChannelCounts>,
    /// Over everything.
    pub totals: Totals,
    /// Messages (sent, delivered or failed) by the language they went in:
    /// a content variant's code, or the district's language (`settings.language`)
    /// for the content itself.
    pub languages: BTreeMap<String, u64>,
}

/// Where one channel of a broadcast is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartProgress {
    /// `scheduled`, `queued`, `deferred`, `sending` or `complete`.
    pub progress: String,
    /// When a deferred part goes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<chrono::DateTime<chrono::Utc>>,
}

/// One delivery as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveryView {
    /// `text`, `email`, `secondary_email`, or `person` for a person-level skip.
    pub channel: String,
    /// The number or address (masked unless the caller may see contact data), or the person id.
    pub to: String,
    /// People reached at the point.
    pub people: Vec<PersonId>,
    /// Where it is.
    pub state: DeliveryState,
    /// Why skipped or failed.
    pub reason: Option<DeliveryReason>,
    /// The provider's id.
    pub provider_message_id: Option<String>,
    /// SMS segments.
    pub segments: Option<u32>,
    /// The carrier's raw code.
    pub raw_code: Option<String>,
    /// A call's outcome once it has one (`answered`, `machine`, `busy`,
    /// `no_answer`, `failed`); tries placed are `attempts`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<CallOutcome>,
    /// Tries made (a call's retries count).
    pub attempts: u32,
    /// When a busy or unanswered call is tried again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The content variant's language it went in (absent: the content itself).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// When it last changed.
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// A page of deliveries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveriesPage {
    /// Deliveries in point order.
    pub items: Vec<DeliveryView>,
    /// Give it back as `cursor` for the next page.
    pub next: Option<String>,
}

/// A delivery as shown; `unmasked` (from [`BroadcastService::unmasked`])
/// says whether the caller may see this delivery's number or address.
pub(super) fn view(delivery: &Delivery, unmasked: bool) -> DeliveryView {
    let to = match (delivery.point.contact(), &delivery.point) {
        (None, DeliveryPoint::Person(person)) => person.to_string(),
        (None, _) => String::new(),
        (Some(contact), _) if unmasked => contact.as_raw().to_string(),
        // Masked: the number's or address's own `Display`.
        (Some(contact), _) => contact.to_string(),
    };
    DeliveryView {
        channel: delivery.channel.map_or_else(|| "person".to_string(), |c| c.as_str().to_string()),
        to,
        people: delivery.people.clone(),
        state: delivery.state,
        reason: delivery.reason,
        provider_message_id: delivery.provider_message_id.clone(),
        segments: delivery.segments,
        raw_code: delivery.raw_code.clone(),
        outcome: delivery
            .channel
            .filter(|channel| channel.is_call())
            .and_then(|_| call_outcome(delivery.state, delivery.reason, delivery.call.as_ref())),
        attempts: delivery.attempts,
        retry_at: delivery.call.as_ref().and_then(|call| call.retry_at),
        language: delivery.language.clone(),
        updated_at: delivery.updated_at,
    }
}

/// Counts a broadcast's deliveries (pure). The content itself is in
/// `content_language`, the district's.
pub fn build_report(broadcast: Broadcast, deliveries: &[Delivery], content_language: &str) -> BroadcastReport {
    let mut counts: BTreeMap<ReportGroup, ChannelCounts> = BTreeMap::new();
    let mut totals = Totals::default();
    let mut picked_up = 0u64;
    let mut languages: BTreeMap<String, u64> = BTreeMap::new();
    for delivery in deliveries {
        let group = ReportGroup::of(delivery);
        let entry = counts.entry(group).or_insert_with(|| ChannelCounts {
            calls: (group == ReportGroup::Voice).then(CallCounts::default),
            ..ChannelCounts::default()
        });
        let reason = delivery.reason.unwrap_or(DeliveryReason::Unknown);
        if delivery.channel.is_some() && delivery.state != DeliveryState::Skipped {
            let language = delivery.language.as_deref().unwrap_or(content_language);
            *languages.entry(language.to_string()).or_default() += 1;
        }
        if let Some(calls) = entry.calls.as_mut() {
            match call_outcome(delivery.state, delivery.reason, delivery.call.as_ref()) {
                Some(CallOutcome::Answered) => calls.answered += 1,
                Some(CallOutcome::Machine) => calls.machine += 1,
                Some(CallOutcome::Busy) => calls.busy += 1,
                Some(CallOutcome::NoAnswer) => calls.no_answer += 1,
                Some(CallOutcome::Failed) | None => {}
            }
            if matches!(delivery.reason, Some(DeliveryReason::Busy | DeliveryReason::NoAnswer))
                && delivery.state == DeliveryState::Failed
            {
                totals.failed += 1;
                picked_up += 1;
                continue;
            }
        }
        match delivery.state {
            DeliveryState::Skipped => {
                *entry.skipped.entry(reason).or_default() += 1;
                totals.skipped += 1;
            }
            DeliveryState::Sent => {
                entry.sent += 1;
                totals.sent += 1;
            }
            DeliveryState::Delivered => {
                entry.delivered += 1;
                totals.delivered += 1;
            }
            DeliveryState::Failed => {
                *entry.failed.entry(reason).or_default() += 1;
                totals.failed += 1;
            }
        }
        // Planned messages are picked up by the send step: sent, failed, or
        // skipped there (an opt-out after planning; it made an attempt).
        if delivery.state != DeliveryState::Skipped || delivery.attempts > 0 {
            picked_up += 1;
        }
    }
    totals.queued = broadcast.plan.map_or(0, |plan| plan.queued.saturating_sub(picked_up));
    let planned_progress = if totals.queued == 0 { "complete" } else { "sending" };
    let progress = match (broadcast.state, broadcast.plan) {
        (BroadcastState::Sending, Some(_)) => planned_progress.to_string(),
        (state, _) => state.as_str().to_string(),
    };
    let parts = broadcast
        .channels
        .iter()
        .map(|channel| {
            let part = if broadcast.deferred_channels.contains(channel) {
                PartProgress { progress: "deferred".into(), until: broadcast.deferred_until }
            } else if broadcast.plan.is_some() {
                PartProgress { progress: planned_progress.into(), until: None }
            } else {
                PartProgress { progress: progress.clone(), until: None }
            };
            (*channel, part)
        })
        .collect();
    BroadcastReport { broadcast, progress, parts, counts, totals, languages }
}
