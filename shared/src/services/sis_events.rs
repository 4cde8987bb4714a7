//! SIS events into messages, exactly once: each event of a batch is read
//! and checked on its own (a bad one is rejected with its index and the
//! rest go on), a replayed event id is a duplicate, a second attendance
//! event of a student's school day (in the district's time zone) is merged
//! into the first one's message, and every other event becomes a small
//! broadcast — its reason from the type, its audience the student's
//! messenger guardians (or whom the district names), its content the
//! type's wording with the event's facts — planned and sent like any other.
//!
//! Exactly once: the event's record, the day's attendance claim, the
//! broadcast and a schedule entry due now are one transaction. Once the
//! batch is handled its plans are queued (ten to a queue message) and
//! their entries removed in one write; should queuing fail (or the process
//! stop) in between, the scheduler's next tick queues them. A
//! replay, or the same event in two concurrent requests, finds the record.
//!
//! A batch's students are handled at once (each student's events in the
//! order sent), so the table commits their writes together.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use futures::StreamExt as _;
use serde::Serialize;
use serde_json::Value;

use crate::domain::{
    Audience, Broadcast, BroadcastChannel, BroadcastContent, BroadcastId, BroadcastKind, BroadcastState, DistrictId,
    DistrictSettings, EventDetails, EventRef, EventRejection, PersonId, PersonRole, SisEvent, SisEventType, Task,
    event_content, event_content_from, read_event, school_day,
};
use crate::ports::{Clock, Ids, QUEUE_BATCH, WorkQueue};
use crate::services::ServiceError;
use crate::store::{BroadcastStore, EventOutcome, PeopleStore, SeenEvent, SisEventStore, Stores, TemplateStore};

/// The most events one request may carry.
pub const MAX_EVENTS_PER_BATCH: usize = 500;

/// Students whose events are handled at once: the table commits their
/// writes together.
const STUDENTS_AT_ONCE: usize = 128;

/// The student an event is about, as sent (grouping only; checked later).
fn student_key(value: &Value) -> &str {
    value.get("student").and_then(Value::as_str).unwrap_or_default()
}

/// An event of a batch that was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RejectedEvent {
    /// Its place in the batch (from 0).
    pub index: usize,
    /// Its id, when it had a readable one.
    pub id: Option<String>,
    /// `invalid_event`, `unknown_type`, `missing_field`, `invalid_field`, `unknown_student`.
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
}

/// What a batch came to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EventsAnswer {
    /// Events that became a message.
    pub accepted: u32,
    /// Attendance events of a student's day that already had its message.
    pub merged: u32,
    /// Event ids seen before (in the last days).
    pub duplicates: u32,
    /// Events refused, each with why.
    pub rejected: Vec<RejectedEvent>,
}

/// What every event of a batch is handled with.
struct Batch<'a> {
    settings: &'a DistrictSettings,
    wordings: &'a HashMap<SisEventType, BroadcastContent>,
}

/// What became of one event.
enum Verdict {
    /// Recorded with its broadcast, whose plan is to be queued.
    Accepted(BroadcastId),
    Merged,
    Duplicate,
    Rejected(EventRejection),
}

/// Turns SIS events into broadcasts.
#[derive(Clone)]
pub struct SisEventService {
    people: PeopleStore,
    broadcasts: BroadcastStore,
    events: SisEventStore,
    templates: TemplateStore,
    plan_queue: Arc<dyn WorkQueue>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn Ids>,
}

impl SisEventService {
    /// The service over the stores; plans go to `plan_queue`.
    pub fn new(stores: &Stores, plan_queue: Arc<dyn WorkQueue>, clock: Arc<dyn Clock>, ids: Arc<dyn Ids>) -> Self {
        Self {
            people: stores.people.clone(),
            broadcasts: stores.broadcasts.clone(),
            events: stores.sis_events.clone(),
            templates: stores.templates.clone(),
            plan_queue,
            clock,
            ids,
        }
    }

    /// Handles a batch for `district` (authenticated by the SIS key `key`,
    /// which named the district). Events go in order, so a later absence
    /// of the same day is the merged one.
    pub async fn receive(
        &self,
        district: &DistrictId,
        key: &str,
        events: &[Value],
    ) -> Result<EventsAnswer, ServiceError> {
        if events.len() > MAX_EVENTS_PER_BATCH {
            return Err(ServiceError::Invalid(crate::domain::DomainError::Invalid(format!(
                "events: at most {MAX_EVENTS_PER_BATCH} a request, this one has {}",
                events.len()
            ))));
        }
        let settings = self.broadcasts.settings(district).await?;
        // The district's own wording per event type, where it saved one.
        let wordings: HashMap<SisEventType, BroadcastContent> = self
            .templates
            .all(district)
            .await?
            .into_iter()
            .filter_map(|template| template.event_type.map(|kind| (kind, template.content)))
            .collect();
        let batch = Batch { settings: &settings, wordings: &wordings };
        let mut answer = EventsAnswer::default();
        // Each student's events in the order sent (the day's first attendance
        // event is the one that sends); different students at once.
        let mut by_student: BTreeMap<&str, Vec<(usize, SisEvent)>> = BTreeMap::new();
        for (index, value) in events.iter().enumerate() {
            match read_event(value) {
                Ok(event) => by_student.entry(student_key(value)).or_default().push((index, event)),
                Err(rejection) => {
                    let id = value.get("id").and_then(Value::as_str).map(|id| id.chars().take(128).collect());
                    answer.rejected.push(RejectedEvent { index, id, code: rejection.code, message: rejection.message });
                }
            }
        }
        let batch = &batch;
        let mut verdicts: Vec<(usize, String, Verdict)> = Vec::with_capacity(events.len());
        let mut students = futures::stream::iter(by_student.into_values().map(|student_events| async move {
            let mut verdicts = Vec::with_capacity(student_events.len());
            for (index, event) in student_events {
                let verdict = self.one(district, key, batch, &event).await?;
                verdicts.push((index, event.id, verdict));
            }
            Ok::<_, ServiceError>(verdicts)
        }))
        .buffer_unordered(STUDENTS_AT_ONCE);
        while let Some(done) = students.next().await {
            verdicts.extend(done?);
        }
        let mut accepted = Vec::new();
        for (index, id, verdict) in verdicts {
            match verdict {
                Verdict::Accepted(broadcast) => {
                    answer.accepted += 1;
                    accepted.push(broadcast);
                }
                Verdict::Merged => answer.merged += 1,
                Verdict::Duplicate => answer.duplicates += 1,
                Verdict::Rejected(rejection) => answer.rejected.push(RejectedEvent {
                    index,
                    id: Some(id),
                    code: rejection.code,
                    message: rejection.message,
                }),
            }
        }
        answer.rejected.sort_by_key(|rejected| rejected.index);
        self.queue_plans(district, &accepted).await?;
        tracing::info!(
            %district, accepted = answer.accepted, merged = answer.merged, duplicates = answer.duplicates,
            rejected = answer.rejected.len(), "SIS events received"
        );
        Ok(answer)
    }

    async fn one(
        &self,
        district: &DistrictId,
        key: &str,
        batch: &Batch<'_>,
        event: &SisEvent,
    ) -> Result<Verdict, ServiceError> {
        let settings = batch.settings;
        if self.events.seen(district, &event.id).await?.is_some() {
            return Ok(Verdict::Duplicate);
        }
        let unknown = || {
            Verdict::Rejected(EventRejection {
                code: "unknown_student",
                message: "no active student has this SIS id".into(),
            })
        };
        let Ok(student_id) = PersonId::parse(&event.student) else { return Ok(unknown()) };
        let Some(student) = self.people.get(district, &student_id).await? else { return Ok(unknown()) };
        if student.role != PersonRole::Student {
            return Ok(unknown());
        }
        let now = self.clock.now();
        let zone = settings.zone();
        let day = event.kind.is_attendance().then(|| school_day(&event.occurred_at, zone));
        let wording = batch.wordings.get(&event.kind);
        let broadcast =
            self.broadcast_of(settings, event, (&student.given_name, wording), student.schools.clone(), key)?;
        let seen = SeenEvent {
            id: event.id.clone(),
            kind: event.kind.as_str().to_string(),
            student: student_id.clone(),
            outcome: EventOutcome::Accepted,
            broadcast: Some(broadcast.id.clone()),
            received_at: now,
            key: key.to_string(),
        };
        let mut ops = vec![self.events.seen_op(district, &seen)?];
        if let Some(day) = day {
            ops.push(self.events.attendance_op(district, &student_id, day, &broadcast.id, now)?);
        }
        ops.extend(self.broadcasts.create_ops(district, &broadcast, &[])?);
        ops.push(self.broadcasts.schedule_op(district, &broadcast.id, now)?);
        if self.events.commit(ops).await? {
            tracing::debug!(%district, broadcast = %broadcast.id, kind = %event.kind, "SIS event accepted");
            return Ok(Verdict::Accepted(broadcast.id));
        }
        // A condition failed: the id was taken meanwhile, or the day has its message.
        if self.events.seen(district, &event.id).await?.is_some() {
            return Ok(Verdict::Duplicate);
        }
        let Some(day) = day else { return Ok(Verdict::Duplicate) };
        let first = self.events.attendance_message(district, &student_id, day).await?;
        let merged = SeenEvent { outcome: EventOutcome::Merged, broadcast: first, ..seen };
        Ok(if self.events.commit(vec![self.events.seen_op(district, &merged)?]).await? {
            Verdict::Merged
        } else {
            Verdict::Duplicate
        })
    }

    /// Queues the plans of a batch's new broadcasts, a queue message of
    /// [`QUEUE_BATCH`] at a time, and removes the schedule entries of those
    /// queued in one write. Entries of plans the queue did not take stay:
    /// the scheduler's next tick queues them.
    async fn queue_plans(&self, district: &DistrictId, broadcasts: &[BroadcastId]) -> Result<(), ServiceError> {
        let now = self.clock.now();
        let mut queued = Vec::with_capacity(broadcasts.len());
        for group in broadcasts.chunks(QUEUE_BATCH) {
            let bodies = group
                .iter()
                .map(|id| Task::PlanV1 { district: district.clone(), broadcast: id.clone() }.to_body())
                .collect();
            match self.plan_queue.send(bodies).await {
                Ok(()) => queued.extend(group.iter().map(|id| BroadcastStore::schedule_entry(district, id, now))),
                Err(error) => tracing::warn!(
                    %district, %error, broadcasts = group.len(), "plan queue unavailable; left to the scheduler"
                ),
            }
        }
        Ok(self.broadcasts.unschedule_all(&queued).await?)
    }

    /// The broadcast an event becomes (not stored yet).
    fn broadcast_of(
        &self,
        settings: &DistrictSettings,
        event: &SisEvent,
        (student_first_name, wording): (&str, Option<&BroadcastContent>),
        schools: Vec<crate::domain::SchoolId>,
        key: &str,
    ) -> Result<Broadcast, ServiceError> {
        let now = self.clock.now();
        let unexcused = matches!(event.details, EventDetails::Attendance { excused: false, .. })
            && event.kind == crate::domain::SisEventType::AttendanceAbsent;
        let emergency = unexcused && settings.sis_events.unexcused_absence_is_emergency;
        let student = PersonId::parse(&event.student).map_err(ServiceError::Invalid)?;
        let content = match wording {
            Some(wording) => event_content_from(event, student_first_name, settings.zone(), wording),
            None => event_content(event, student_first_name, settings.zone(), &settings.language),
        };
        // The channels the wording covers (a district's may be text only).
        let channels = [
            (BroadcastChannel::Voice, content.voice.is_some()),
            (BroadcastChannel::Text, content.sms.is_some()),
            (BroadcastChannel::Email, content.email.is_some()),
        ]
        .into_iter()
        .filter_map(|(channel, covered)| covered.then_some(channel))
        .collect();
        Ok(Broadcast {
            id: BroadcastId::parse(self.ids.next_id()).map_err(ServiceError::Invalid)?,
            kind: BroadcastKind::Broadcast,
            reason: event.kind.reason(),
            channels,
            content,
            audience: Audience {
                lists: Vec::new(),
                rule: None,
                people: vec![student.clone()],
                target: settings.sis_events.target,
            },
            schools,
            send_at: now,
            emergency,
            created_by: format!("sis:{key}"),
            sender_name: Some(settings.name.clone().unwrap_or_else(|| crate::services::DEFAULT_SENDER.into())),
            created_at: now,
            state: BroadcastState::Queued,
            deferred_until: None,
            deferred_channels: Vec::new(),
            plan: None,
            accepted: None,
            refusal: None,
            landline_autocall: None,
            urgent: settings.sis_events.urgent.contains(&event.kind),
            event: Some(EventRef { id: event.id.clone(), kind: event.kind.as_str().into(), student }),
        })
    }
}

#[cfg(test)]
mod tests;
