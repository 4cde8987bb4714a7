//! Fan-out: turns a broadcast into send chunks.
//!
//! 1. Quiet hours: inside the district's window, a non-emergency
//!    broadcast plans only the channels quiet hours do not govern (email)
//!    and defers the rest (texts) to the window's end; the scheduler queues
//!    the plan again then, and that run plans the channels left.
//! 2. The audience is resolved to people ([`RecipientResolver`]).
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
//!    per-point claim is the last line against duplicates.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::recipients::{Recipient, RecipientResolver, Recipients};
use crate::domain::{
    Broadcast, BroadcastChannel, BroadcastId, BroadcastState, Channel, ContactReason, ContactValue, Delivery,
    DeliveryPoint, DeliveryReason, DeliveryState, DistrictId, EmailAddress, EmailStatus, PersonId, PhoneNumber,
    PlanSummary, PlannedDelivery, PreferenceDefaults, SmsStatus, Task,
};
use crate::ports::{Clock, QUEUE_BATCH, WorkQueue};
use crate::services::ServiceError;
use crate::store::{BroadcastStore, EmailStatusStore, PreferenceStore, SmsStatusStore, StoreError, Stores};

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
}

/// Suppression states known to the district, by number or address.
#[derive(Debug, Clone, Default)]
pub struct Suppressions {
    /// Numbers whose SMS status is not Ok.
    pub sms: HashMap<PhoneNumber, SmsStatus>,
    /// Addresses whose email status is not Ok.
    pub email: HashMap<EmailAddress, EmailStatus>,
}

/// What [`plan_deliveries`] decided.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Messages to send, in point order, one per point.
    pub messages: Vec<PlannedDelivery>,
    /// Skip records (points and people), in point order.
    pub skips: Vec<Delivery>,
}

fn sms_skip(status: SmsStatus) -> Option<DeliveryReason> {
    match status {
        SmsStatus::Landline => Some(DeliveryReason::Landline),
        SmsStatus::Blocked => Some(DeliveryReason::Blocked),
        SmsStatus::Inactive => Some(DeliveryReason::Inactive),
        SmsStatus::OptOut => Some(DeliveryReason::OptOut),
        _ => None,
    }
}

fn email_skip(status: EmailStatus) -> Option<DeliveryReason> {
    match status {
        EmailStatus::BouncedPermanent => Some(DeliveryReason::BouncedPermanent),
        EmailStatus::Complaint => Some(DeliveryReason::Complaint),
        _ => None,
    }
}

fn skip(
    point: DeliveryPoint,
    channel: Option<Channel>,
    people: Vec<PersonId>,
    reason: DeliveryReason,
    now: DateTime<Utc>,
) -> Delivery {
    Delivery {
        point,
        channel,
        people,
        state: DeliveryState::Skipped,
        reason: Some(reason),
        provider_message_id: None,
        segments: None,
        encoding: None,
        raw_code: None,
        attempts: 0,
        provider: None,
        updated_at: now,
    }
}

/// The pure heart of fan-out: which message goes to which point, and why
/// every other point and person gets nothing.
pub fn plan_deliveries(
    recipients: &Recipients,
    channels: &[BroadcastChannel],
    reason: ContactReason,
    defaults: &PreferenceDefaults,
    suppressions: &Suppressions,
    now: DateTime<Utc>,
) -> Plan {
    let mut messages: BTreeMap<DeliveryPoint, PlannedDelivery> = BTreeMap::new();
    let mut skips: BTreeMap<DeliveryPoint, Delivery> = BTreeMap::new();
    for Recipient { person, children } in &recipients.people {
        let mut has_point = false;
        let mut any_on = false;
        for contact in &person.contacts {
            let channel = match (&contact.value, contact.channel) {
                (ContactValue::Phone(_), Channel::CellPhone) if channels.contains(&BroadcastChannel::Text) => {
                    Channel::Text
                }
                (ContactValue::Email(_), channel) if channels.contains(&BroadcastChannel::Email) => channel,
                _ => continue,
            };
            has_point = true;
            if !person.preferences.effective(defaults, channel, reason).on {
                continue;
            }
            any_on = true;
            let Some(point) = DeliveryPoint::of(channel, &contact.value) else { continue };
            let suppressed = match &contact.value {
                ContactValue::Phone(number) => suppressions.sms.get(number).copied().and_then(sms_skip),
                ContactValue::Email(address) => suppressions.email.get(address).copied().and_then(email_skip),
            };
            if let Some(reason) = suppressed {
                let record =
                    skips.entry(point.clone()).or_insert_with(|| skip(point, Some(channel), vec![], reason, now));
                record.people.push(person.id.clone());
                continue;
            }
            let message = messages.entry(point).or_insert_with(|| PlannedDelivery {
                channel,
                to: contact.value.clone(),
                people: Vec::new(),
                first_name: Some(person.given_name.clone()),
                children: Vec::new(),
            });
            if !message.people.contains(&person.id) {
                message.people.push(person.id.clone());
            }
            if message.people.len() > 1 {
                message.first_name = None;
            }
            for child in children {
                if !message.children.contains(child) {
                    message.children.push(child.clone());
                }
            }
        }
        if !any_on {
            let reason = if has_point { DeliveryReason::PreferencesOff } else { DeliveryReason::NoContactPoint };
            let point = DeliveryPoint::Person(person.id.clone());
            skips.insert(point.clone(), skip(point, None, vec![person.id.clone()], reason, now));
        }
    }
    for (ids, reason) in [
        (&recipients.without_guardian, DeliveryReason::NoGuardian),
        (&recipients.inactive, DeliveryReason::InactivePerson),
    ] {
        for id in ids {
            let point = DeliveryPoint::Person(id.clone());
            skips.insert(point.clone(), skip(point, None, vec![id.clone()], reason, now));
        }
    }
    let mut messages: Vec<PlannedDelivery> = messages.into_values().collect();
    for message in &mut messages {
        message.children.sort();
    }
    Plan { messages, skips: skips.into_values().collect() }
}

/// Plans broadcasts (the fan-out worker's use case).
#[derive(Clone)]
pub struct FanoutService {
    broadcasts: BroadcastStore,
    resolver: RecipientResolver,
    preferences: PreferenceStore,
    sms_status: SmsStatusStore,
    email_status: EmailStatusStore,
    send_queue: Arc<dyn WorkQueue>,
    clock: Arc<dyn Clock>,
    defaults: PreferenceDefaults,
}

impl FanoutService {
    /// A fan-out over the stores that queues send tasks on `send_queue`.
    pub fn new(
        stores: &Stores,
        resolver: RecipientResolver,
        send_queue: Arc<dyn WorkQueue>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            broadcasts: stores.broadcasts.clone(),
            resolver,
            preferences: stores.preferences.clone(),
            sms_status: stores.sms_status.clone(),
            email_status: stores.email_status.clone(),
            send_queue,
            clock,
            defaults: PreferenceDefaults::default(),
        }
    }

    async fn suppressions(&self, district: &DistrictId) -> Result<Suppressions, StoreError> {
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
        let pending = match broadcast.plan {
            None => broadcast.channels.clone(),
            Some(_) if broadcast.deferred_channels.is_empty() => return Ok(PlanOutcome::AlreadyPlanned),
            Some(_) => broadcast.deferred_channels.clone(),
        };
        let now = self.clock.now();
        if broadcast.send_at > now + chrono::Duration::seconds(1) {
            return Ok(PlanOutcome::NotDue);
        }
        let quiet_until = if broadcast.emergency {
            None
        } else {
            let settings = self.broadcasts.settings(district).await?;
            settings.quiet_hours.deferral(now, settings.zone())
        };
        let (go_now, wait): (Vec<BroadcastChannel>, Vec<BroadcastChannel>) =
            pending.iter().partition(|channel| quiet_until.is_none() || !channel.waits_for_quiet_hours());
        if !go_now.is_empty() {
            let summary = self.plan_now(district, &broadcast, &go_now, now).await?;
            broadcast.plan = Some(summary);
            tracing::info!(
                %district, broadcast = %id, channels = ?go_now, recipients = summary.recipients,
                queued = summary.queued, skipped = summary.skipped, chunks = summary.chunks, "broadcast planned"
            );
        }
        match quiet_until.filter(|_| !wait.is_empty()) {
            Some(end) => {
                broadcast.state = BroadcastState::Deferred;
                broadcast.deferred_until = Some(end);
                broadcast.deferred_channels = wait;
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
                self.broadcasts.save(district, &broadcast).await?;
                Ok(PlanOutcome::Planned(broadcast.plan.unwrap_or_default()))
            }
        }
    }

    /// Plans the messages of `channels` (and, the first time, the
    /// person-level skips) and adds them to what earlier parts planned.
    async fn plan_now(
        &self,
        district: &DistrictId,
        broadcast: &Broadcast,
        channels: &[BroadcastChannel],
        now: DateTime<Utc>,
    ) -> Result<PlanSummary, ServiceError> {
        let recipients = self.resolver.resolve(district, &broadcast.audience, &broadcast.schools).await?;
        let defaults = self.preferences.defaults(district).await?.unwrap_or_else(|| self.defaults.clone());
        let suppressions = self.suppressions(district).await?;
        // The whole plan, every channel, so a person is judged on all of them;
        // only this part's messages and skips are kept.
        let plan = plan_deliveries(&recipients, &broadcast.channels, broadcast.reason, &defaults, &suppressions, now);
        let first_part = broadcast.plan.is_none();
        let in_part = |channel: Option<Channel>| {
            channel.map_or(first_part, |channel| channels.contains(&BroadcastChannel::of(channel)))
        };
        let messages: Vec<&PlannedDelivery> = plan.messages.iter().filter(|m| in_part(Some(m.channel))).collect();
        let skips: Vec<Delivery> = plan.skips.into_iter().filter(|s| in_part(s.channel)).collect();
        let recipient_count = recipients.people.len() as u64;
        drop(recipients);

        let done = self.broadcasts.planned_chunks(district, &broadcast.id).await?;
        let already = |point: &DeliveryPoint| done.values().any(|(first, last)| first <= point && point <= last);
        let fresh: Vec<&PlannedDelivery> = messages.iter().copied().filter(|m| !already(&m.point())).collect();
        let mut next_chunk = done.keys().next_back().map_or(0, |n| n + 1);
        let chunks: Vec<(u64, Vec<PlannedDelivery>)> = fresh
            .chunks(CHUNK_SIZE)
            .map(|chunk| {
                let n = next_chunk;
                next_chunk += 1;
                (n, chunk.iter().map(|m| (*m).clone()).collect())
            })
            .collect();
        for group in chunks.chunks(QUEUE_BATCH) {
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
            let ranges: Vec<(u64, DeliveryPoint, DeliveryPoint)> =
                group.iter().filter_map(|(n, d)| Some((*n, d.first()?.point(), d.last()?.point()))).collect();
            self.broadcasts.checkpoint_chunks(district, &broadcast.id, &ranges).await?;
        }
        self.broadcasts.put_deliveries(district, &broadcast.id, &skips).await?;
        let before = broadcast.plan.unwrap_or_default();
        Ok(PlanSummary {
            recipients: recipient_count,
            queued: before.queued + messages.len() as u64,
            skipped: before.skipped + skips.len() as u64,
            chunks: next_chunk,
            planned_at: now,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ContactPoint, PersonRole, PreferenceRecord, Region};
    use crate::services::{Contactable, Recipient};

    fn person(id: &str, name: &str, contacts: &[(Channel, &str)]) -> Contactable {
        Contactable {
            id: PersonId::parse(id).unwrap(),
            role: PersonRole::Guardian,
            given_name: name.into(),
            family_name: "Diaz".into(),
            schools: vec![],
            active: true,
            birth_date: None,
            household: None,
            contacts: contacts
                .iter()
                .map(|(channel, value)| ContactPoint::parse(*channel, value, Region::US).unwrap())
                .collect(),
            preferences: PreferenceRecord::default(),
            guardians: vec![],
        }
    }

    fn texts_on(mut person: Contactable) -> Contactable {
        let setting = crate::domain::Setting {
            on: true,
            source: crate::domain::PreferenceSource::SelfSet,
            updated_at: DateTime::UNIX_EPOCH,
            by: "me".into(),
        };
        let defaults = PreferenceDefaults::default();
        person.preferences.set(&defaults, Channel::Text, ContactReason::Emergency, setting);
        person
    }

    fn recipients(people: Vec<(Contactable, &[&str])>) -> Recipients {
        Recipients {
            people: people
                .into_iter()
                .map(|(person, children)| Recipient {
                    person,
                    children: children.iter().map(|c| (*c).to_string()).collect(),
                })
                .collect(),
            ..Recipients::default()
        }
    }

    fn plan(recipients: &Recipients, suppressions: &Suppressions) -> Plan {
        let channels = [BroadcastChannel::Text, BroadcastChannel::Email];
        plan_deliveries(
            recipients,
            &channels,
            ContactReason::Emergency,
            &PreferenceDefaults::default(),
            suppressions,
            DateTime::UNIX_EPOCH,
        )
    }

    #[test]
    fn a_guardian_of_siblings_gets_one_message_naming_both() {
        let ana = texts_on(person("g-1", "Ana", &[(Channel::CellPhone, "617-555-2345")]));
        let plan = plan(&recipients(vec![(ana, &["Leo", "Mia"])]), &Suppressions::default());
        assert_eq!(plan.messages.len(), 1);
        assert_eq!(plan.messages[0].children, ["Leo", "Mia"]);
        assert_eq!(plan.messages[0].first_name.as_deref(), Some("Ana"));
    }

    #[test]
    fn two_people_sharing_a_phone_or_an_address_get_one_message_for_both() {
        let ana = texts_on(person(
            "g-1",
            "Ana",
            &[(Channel::CellPhone, "617-555-2345"), (Channel::Email, "home@example.org")],
        ));
        let luis = texts_on(person(
            "g-2",
            "Luis",
            &[(Channel::CellPhone, "617-555-2345"), (Channel::SecondaryEmail, "home@example.org")],
        ));
        let plan = plan(&recipients(vec![(ana, &["Leo"]), (luis, &["Mia"])]), &Suppressions::default());
        assert_eq!(plan.messages.len(), 2, "one text and one email: {:?}", plan.messages);
        for message in &plan.messages {
            assert_eq!(message.people.len(), 2);
            assert_eq!(message.children, ["Leo", "Mia"]);
            assert_eq!(message.first_name, None, "two people: no single first name");
        }
    }

    #[test]
    fn every_suppression_reason_is_a_skip_record_and_texts_off_by_default_explain_themselves() {
        let cases = [
            (SmsStatus::Landline, "landline"),
            (SmsStatus::Blocked, "blocked"),
            (SmsStatus::Inactive, "inactive"),
            (SmsStatus::OptOut, "opt_out"),
        ];
        for (status, reason) in cases {
            let ana = texts_on(person("g-1", "Ana", &[(Channel::CellPhone, "617-555-2345")]));
            let suppressions = Suppressions {
                sms: [(PhoneNumber::parse_e164("+16175552345").unwrap(), status)].into(),
                ..Default::default()
            };
            let plan = plan(&recipients(vec![(ana, &[])]), &suppressions);
            assert!(plan.messages.is_empty());
            assert_eq!(plan.skips.len(), 1);
            assert_eq!(plan.skips[0].reason.map(DeliveryReason::as_str), Some(reason));
        }
        for (status, reason) in
            [(EmailStatus::BouncedPermanent, "bounced_permanent"), (EmailStatus::Complaint, "complaint")]
        {
            let ana = person("g-1", "Ana", &[(Channel::Email, "ana@example.org")]);
            let suppressions = Suppressions {
                email: [(EmailAddress::parse("ana@example.org").unwrap(), status)].into(),
                ..Default::default()
            };
            let plan = plan(&recipients(vec![(ana, &[])]), &suppressions);
            assert_eq!(plan.skips[0].reason.map(DeliveryReason::as_str), Some(reason));
        }
        let ana = person("g-1", "Ana", &[(Channel::Email, "ana@example.org")]);
        let transient = Suppressions {
            email: [(EmailAddress::parse("ana@example.org").unwrap(), EmailStatus::BouncedTransient)].into(),
            ..Default::default()
        };
        assert_eq!(plan(&recipients(vec![(ana, &[])]), &transient).messages.len(), 1, "a soft bounce still gets mail");

        let texts_off = person("g-1", "Ana", &[(Channel::CellPhone, "617-555-2345")]);
        let plan = plan(&recipients(vec![(texts_off, &[])]), &Suppressions::default());
        assert_eq!(plan.skips[0].reason.map(DeliveryReason::as_str), Some("preferences_off"));
        let nothing = person("g-2", "Luis", &[(Channel::HomePhone, "617-555-2399")]);
        let plan = super::plan_deliveries(
            &recipients(vec![(nothing, &[])]),
            &[BroadcastChannel::Text],
            ContactReason::Emergency,
            &PreferenceDefaults::default(),
            &Suppressions::default(),
            DateTime::UNIX_EPOCH,
        );
        assert_eq!(plan.skips[0].reason.map(DeliveryReason::as_str), Some("no_contact_point"));
    }
}
