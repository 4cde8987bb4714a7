//! Fan-out: turns a broadcast into send chunks.
//!
//! 0. Rights: the sender's grants are read again (their token as accepted,
//!    their stored assignments as they are now); a sender who lost the
//!    right to send it since it was accepted sends nothing, and the
//!    broadcast is marked `refused` with the reason. A teacher's
//!    `teacher`-reason broadcast reaches only their own sections' students
//!    and families.
//! 1. Quiet hours: inside the district's window, a non-emergency
//!    broadcast plans only the channels quiet hours do not govern (email)
//!    and defers the rest (texts) to the window's end; the scheduler queues
//!    the plan again then, and that run plans the channels left.
//! 2. The audience is resolved to people ([`RecipientResolver`]), its
//!    lists as they were when the broadcast was accepted.
//! 3. Each person's contact points that are On for the broadcast's reason
//!    become messages, one per number or address ([`plan_deliveries`], a
//!    pure function): a point reached by several people (a shared
//!    household phone, a guardian of two students) gets one message naming
//!    every child. Suppressed points (red SMS status or landline; permanent
//!    bounce or complaint) and people with nothing to reach become skip
//!    records with their reason.
//! 4. Messages are sorted by point and cut into chunks of [`CHUNK_SIZE`];
//!    each chunk is queued as a send task and then checkpointed with the
//!    range of points it holds. A restarted plan skips every point inside a
//!    checkpointed range, so a page already planned is never planned twice
//!    even when receipts changed statuses in between; the send worker's
//!    per-point claim is the last line against duplicates. A chunk's number
//!    is derived from its contents ([`chunk_number`]), so a plan retried
//!    after its checkpoint failed queues the same number only for the very
//!    same messages, which the send worker's claim on that number then
//!    sends once, and never reuses a number for other messages.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::recipients::{RecipientResolver, Recipients};
use crate::domain::ContactValue;
use crate::domain::{
    Broadcast, BroadcastChannel, BroadcastId, BroadcastState, Channel, Delivery, DeliveryPoint, DistrictId, PersonId,
    PlanSummary, PlannedDelivery, PreferenceDefaults, Task, TextRule, reaches_only_own_sections, unallowed,
};
use crate::ports::{Clock, QUEUE_BATCH, WorkQueue};
use crate::services::ServiceError;
use crate::services::roles::RoleService;
use crate::store::{
    BroadcastStore, EmailStatusStore, PreferenceStore, RosterIndex, SmsStatusStore, StoreError, Stores,
};

/// Audiences up to this many people read their own contact points'
/// statuses; larger ones read the district's not-Ok indexes.
const SMALL_AUDIENCE: usize = 100;

mod deliveries;
mod languages;
mod schools;
#[cfg(test)]
mod tests;

pub use deliveries::{Plan, Suppressions, plan_deliveries};

/// Messages per send task.
pub const CHUNK_SIZE: usize = 100;

/// What planning did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanOutcome {
    /// Every chunk is queued.
    Planned(PlanSummary),
    /// An earlier run finished the plan; nothing was done.
    AlreadyPlanned,
    /// Inside quiet hours: the texts wait until this instant (the email
    /// part, if any, is planned).
    Deferred(chrono::DateTime<Utc>),
    /// Its `send_at` has not come; the scheduler will queue it.
    NotDue,
    /// No such broadcast (deleted, or a stray task).
    Missing,
    /// Its sender no longer may send it: nothing (more) was planned, and
    /// the broadcast says why.
    Refused(String),
}

/// A send chunk's number, from its messages: the same messages always get
/// the same number and other messages (all but surely) another, so a plan
/// run again after a failure cannot hand one number two contents. A
/// stable hash (xxh3) of the messages as they travel, so it holds across
/// deploys.
pub fn chunk_number(messages: &[PlannedDelivery]) -> Result<u64, ServiceError> {
    let bytes = serde_json::to_vec(messages).map_err(ServiceError::internal)?;
    Ok(xxhash_rust::xxh3::xxh3_64(&bytes))
}

/// Plans broadcasts (the fan-out worker's use case).
#[derive(Clone)]
pub struct FanoutService {
    broadcasts: BroadcastStore,
    resolver: RecipientResolver,
    roles: RoleService,
    preferences: PreferenceStore,
    sms_status: SmsStatusStore,
    email_status: EmailStatusStore,
    send_queue: Arc<dyn WorkQueue>,
    roster: RosterIndex,
    clock: Arc<dyn Clock>,
    defaults: PreferenceDefaults,
}

impl FanoutService {
    /// A fan-out over the stores that queues send tasks on `send_queue`;
    /// `roles` says which schools an author may reach when a plan starts.
    pub fn new(
        stores: &Stores,
        resolver: RecipientResolver,
        roles: RoleService,
        send_queue: Arc<dyn WorkQueue>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            broadcasts: stores.broadcasts.clone(),
            resolver,
            roles,
            preferences: stores.preferences.clone(),
            sms_status: stores.sms_status.clone(),
            email_status: stores.email_status.clone(),
            send_queue,
            roster: stores.roster.clone(),
            clock,
            defaults: PreferenceDefaults::default(),
        }
    }

    /// The not-Ok numbers and addresses the plan must skip: for a small
    /// audience (an SIS event's family) the statuses of its own contact
    /// points, one batched read; for a large one the district's not-Ok
    /// indexes, read whole once.
    async fn suppressions(&self, district: &DistrictId, recipients: &Recipients) -> Result<Suppressions, StoreError> {
        if recipients.people.len() > SMALL_AUDIENCE {
            return self.district_suppressions(district).await;
        }
        let (mut numbers, mut addresses) = (Vec::new(), Vec::new());
        for contact in recipients.people.iter().flat_map(|r| &r.person.contacts) {
            match &contact.value {
                ContactValue::Phone(number) => numbers.push(number.clone()),
                ContactValue::Email(address) => addresses.push(address.clone()),
            }
        }
        numbers.sort();
        numbers.dedup();
        addresses.sort();
        addresses.dedup();
        let sms = self.sms_status.not_ok_of(district, &numbers).await?;
        let email = self.email_status.not_ok_of(district, &addresses).await?;
        Ok(Suppressions {
            sms: sms.into_iter().map(|s| (s.number, s.status)).collect(),
            email: email.into_iter().map(|s| (s.address, s.status)).collect(),
        })
    }

    async fn district_suppressions(&self, district: &DistrictId) -> Result<Suppressions, StoreError> {
        let sms = self.sms_status.not_ok(district, &[]).await?;
        let email = self.email_status.not_ok(district).await?;
        Ok(Suppressions {
            sms: sms.into_iter().map(|s| (s.number, s.status)).collect(),
            email: email.into_iter().map(|s| (s.address, s.status)).collect(),
        })
    }

    /// Plans the broadcast: resolves, dedupes, suppresses, queues chunks.
    /// Inside quiet hours it plans only the channels they do not govern and
    /// defers the others. Safe to run again after a crash at any point (see
    /// the module docs).
    pub async fn plan(&self, district: &DistrictId, id: &BroadcastId) -> Result<PlanOutcome, ServiceError> {
        let Some(mut broadcast) = self.broadcasts.get(district, id).await? else {
            return Ok(PlanOutcome::Missing);
        };
        if broadcast.state == BroadcastState::Refused {
            // Refused once, refused for good: a redelivered task plans nothing.
            return Ok(PlanOutcome::Refused(broadcast.refusal.unwrap_or_default()));
        }
        let pending = match broadcast.plan {
            None => broadcast.channels.clone(),
            Some(_) if broadcast.deferred_channels.is_empty() => return Ok(PlanOutcome::AlreadyPlanned),
            Some(_) => broadcast.deferred_channels.clone(),
        };
        let now = self.clock.now();
        if broadcast.send_at > now + chrono::Duration::seconds(1) {
            return Ok(PlanOutcome::NotDue);
        }
        let bound = match self.sender_rights(district, &broadcast).await? {
            Ok(bound) => bound,
            Err(refusal) => return self.refuse(district, broadcast, refusal).await,
        };
        let settings = self.broadcasts.settings(district).await?;
        let quiet_until = if broadcast.emergency || broadcast.urgent {
            None
        } else {
            settings.quiet_hours.deferral(now, settings.zone())
        };
        let (go_now, wait): (Vec<BroadcastChannel>, Vec<BroadcastChannel>) =
            pending.iter().partition(|channel| quiet_until.is_none() || !channel.waits_for_quiet_hours());
        // The last queued chunks' checkpoints, written with the broadcast.
        let mut last_chunks = Vec::new();
        if !go_now.is_empty() {
            let summary;
            (summary, last_chunks) =
                self.plan_now(district, &broadcast, &settings, &go_now, bound.as_ref(), now).await?;
            broadcast.plan = Some(summary);
            // An SIS event's one-family broadcast logs at debug: a district's
            // day of absences would otherwise be thousands of lines; the
            // batch that brought them logs once.
            if broadcast.event.is_some() {
                tracing::debug!(%district, broadcast = %id, queued = summary.queued, "SIS event broadcast planned");
            } else {
                tracing::info!(
                    %district, broadcast = %id, channels = ?go_now, recipients = summary.recipients,
                    queued = summary.queued, skipped = summary.skipped, chunks = summary.chunks, "broadcast planned"
                );
            }
        }
        match quiet_until.filter(|_| !wait.is_empty()) {
            Some(end) => {
                broadcast.state = BroadcastState::Deferred;
                broadcast.deferred_until = Some(end);
                broadcast.deferred_channels = wait;
                if !last_chunks.is_empty() {
                    self.broadcasts.checkpoint_chunks(district, id, &last_chunks).await?;
                }
                self.broadcasts.schedule(district, id, end).await?;
                self.broadcasts.save(district, &broadcast).await?;
                tracing::info!(
                    %district, broadcast = %id, channels = ?broadcast.deferred_channels, until = %end,
                    "deferred to the end of quiet hours"
                );
                Ok(PlanOutcome::Deferred(end))
            }
            None => {
                broadcast.state = BroadcastState::Sending;
                broadcast.deferred_channels.clear();
                self.broadcasts.checkpoint_then_save(district, &broadcast, &last_chunks).await?;
                Ok(PlanOutcome::Planned(broadcast.plan.unwrap_or_default()))
            }
        }
    }

    /// The sender's rights now: `Err` with the reason when they no longer
    /// may send the broadcast; else the teacher whose sections bound its
    /// reach, if any. A broadcast accepted before the sender's token was
    /// recorded is planned as accepted.
    async fn sender_rights(
        &self,
        district: &DistrictId,
        broadcast: &Broadcast,
    ) -> Result<Result<Option<PersonId>, String>, ServiceError> {
        let Some(accepted) = &broadcast.accepted else { return Ok(Ok(None)) };
        let grants = self.roles.grants(&accepted.principal(district, &broadcast.created_by)).await?;
        let (kind, schools) = (broadcast.kind, &broadcast.schools);
        if let Some(unallowed) = unallowed(&grants, kind, broadcast.reason, broadcast.emergency, schools) {
            return Ok(Err(format!("when it was planned, its sender's roles no longer allowed {unallowed}")));
        }
        if !reaches_only_own_sections(&grants, kind, schools) {
            return Ok(Ok(None));
        }
        // A sender who is no person has no sections: the broadcast reaches nobody.
        Ok(PersonId::parse(broadcast.created_by.as_str()).map(Some).map_err(|_| {
            "its sender reaches only their own sections' families, and is no staff member with sections".to_string()
        }))
    }

    /// Marks the broadcast refused (nothing more is planned) and says why.
    async fn refuse(
        &self,
        district: &DistrictId,
        mut broadcast: Broadcast,
        refusal: String,
    ) -> Result<PlanOutcome, ServiceError> {
        broadcast.state = BroadcastState::Refused;
        broadcast.deferred_channels.clear();
        broadcast.deferred_until = None;
        broadcast.refusal = Some(refusal.clone());
        self.broadcasts.save(district, &broadcast).await?;
        tracing::warn!(%district, broadcast = %broadcast.id, reason = %broadcast.reason, "broadcast refused at plan time: the sender's rights changed");
        Ok(PlanOutcome::Refused(refusal))
    }

    /// Plans the messages of `channels` (and, the first time, the
    /// person-level skips) and adds them to what earlier parts planned.
    /// With `bound`, only that teacher's sections' students and families
    /// are reached. Answers the plan's summary and the checkpoints of the
    /// last group of chunks queued, which the caller writes (with the
    /// broadcast, when it is planned in full: one write fewer).
    async fn plan_now(
        &self,
        district: &DistrictId,
        broadcast: &Broadcast,
        settings: &crate::domain::DistrictSettings,
        channels: &[BroadcastChannel],
        bound: Option<&PersonId>,
        now: DateTime<Utc>,
    ) -> Result<(PlanSummary, Vec<(u64, DeliveryPoint, DeliveryPoint)>), ServiceError> {
        let recipients = self.resolver.resolve(district, broadcast, bound).await?;
        let defaults = self.preferences.defaults(district).await?.unwrap_or_else(|| self.defaults.clone());
        let suppressions = self.suppressions(district, &recipients).await?;
        // The whole plan, every channel, so a person is judged on all of them;
        // only this part's messages and skips are kept.
        let texts = TextRule {
            emergency: broadcast.emergency,
            policy: settings.text_consent,
            landline_autocall: broadcast.landline_autocall.unwrap_or(settings.landline_autocall),
        };
        let rule = (broadcast.reason, texts);
        let mut plan = plan_deliveries(&recipients, &broadcast.channels, rule, &defaults, &suppressions, now);
        if schools::names_school(&broadcast.content) {
            let names = self.roster.school_names(district).await?;
            schools::name_schools(&mut plan.messages, &recipients, &broadcast.schools, &names);
        }
        languages::choose_languages(&mut plan.messages, &recipients, &broadcast.content);
        let first_part = broadcast.plan.is_none();
        // A call in a broadcast without `voice` is a text's landline autocall: part of the text part.
        let part_of = |channel: Channel| match BroadcastChannel::of(channel) {
            BroadcastChannel::Voice if !broadcast.channels.contains(&BroadcastChannel::Voice) => BroadcastChannel::Text,
            other => other,
        };
        let in_part =
            |channel: Option<Channel>| channel.map_or(first_part, |channel| channels.contains(&part_of(channel)));
        let messages: Vec<&PlannedDelivery> = plan.messages.iter().filter(|m| in_part(Some(m.channel))).collect();
        let skips: Vec<Delivery> = plan.skips.into_iter().filter(|s| in_part(s.channel)).collect();
        let recipient_count = recipients.people.len() as u64;
        drop(recipients);

        let done = self.broadcasts.planned_chunks(district, &broadcast.id).await?;
        let already = |point: &DeliveryPoint| done.values().any(|(first, last)| first <= point && point <= last);
        let fresh: Vec<&PlannedDelivery> = messages.iter().copied().filter(|m| !already(&m.point())).collect();
        let chunks: Vec<(u64, Vec<PlannedDelivery>)> = fresh
            .chunks(CHUNK_SIZE)
            .map(|chunk| {
                let messages: Vec<PlannedDelivery> = chunk.iter().map(|m| (*m).clone()).collect();
                Ok((chunk_number(&messages)?, messages))
            })
            .collect::<Result<_, ServiceError>>()?;
        self.broadcasts.put_deliveries(district, &broadcast.id, &skips).await?;
        let mut last_chunks = Vec::new();
        for group in chunks.chunks(QUEUE_BATCH) {
            if !last_chunks.is_empty() {
                self.broadcasts.checkpoint_chunks(district, &broadcast.id, &last_chunks).await?;
            }
            let bodies = group
                .iter()
                .map(|(n, deliveries)| {
                    Task::SendV1 {
                        district: district.clone(),
                        broadcast: broadcast.id.clone(),
                        chunk: *n,
                        deliveries: deliveries.clone(),
                    }
                    .to_body()
                })
                .collect();
            self.send_queue.send(bodies).await?;
            // Chunks are never empty: each has a first and a last point.
            last_chunks = group.iter().filter_map(|(n, d)| Some((*n, d.first()?.point(), d.last()?.point()))).collect();
        }
        let before = broadcast.plan.unwrap_or_default();
        let summary = PlanSummary {
            recipients: recipient_count,
            queued: before.queued + messages.len() as u64,
            skipped: before.skipped + skips.len() as u64,
            chunks: done.len() as u64 + chunks.len() as u64,
            planned_at: now,
        };
        Ok((summary, last_chunks))
    }
}
