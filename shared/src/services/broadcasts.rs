//! Broadcasts: create (permission per reason and school, then a plan task
//! or a place in the schedule), the delivery report, the deliveries page
//! and CSV. The schedule's hand-off is `scheduler`'s.
//!
//! Who may send: the caller's grants (token roles plus stored role
//! assignments, read on every request) must allow the reason — and, for an
//! emergency, the `emergency` reason too — in every school the audience
//! lies in; a district-wide audience needs a district admin. Who may read a
//! broadcast: its sender, district admins, and staff allowed to send its
//! reason or see the clean-up list in one of its schools. Numbers and
//! addresses are shown only to district admins and those who may see the
//! clean-up list in the school of that delivery's people (`contacts`);
//! everyone else sees them masked.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::domain::roles::Grants;
use crate::domain::{
    Acceptance, Broadcast, BroadcastId, BroadcastInput, BroadcastKind, BroadcastState, DeliveryReason, DistrictId,
    ListInput, PersonId, Principal, RecipientList, SchoolId, ValidBroadcast, unallowed,
};
use crate::ports::{Clock, Cursor, Ids, WorkQueue};
use crate::services::cursors::{CursorError, CursorScope, Cursors, PageKind};
use crate::services::roles::RoleService;
use crate::services::{FamilySchools, ListService, ServiceError, spreadsheet_safe};
use crate::store::{BroadcastStore, StoreError, Stores, TemplateStore};

mod contacts;
mod report;

use contacts::ContactScope;
use report::view;
pub use report::{
    BroadcastReport, CallCounts, ChannelCounts, DeliveriesPage, DeliveryView, PartProgress, Totals, build_report,
};

/// Who a broadcast is from when the district has no name: `{{sender}}`.
pub const DEFAULT_SENDER: &str = "School notifications";

/// Deliveries per page when the caller names no limit.
pub const DEFAULT_DELIVERIES_PAGE: u32 = 100;
/// Most deliveries one page holds.
pub const MAX_DELIVERIES_PAGE: u32 = 1000;

/// The broadcast use cases behind the API and the scheduler.
#[derive(Clone)]
pub struct BroadcastService {
    store: BroadcastStore,
    lists: ListService,
    family: FamilySchools,
    roles: RoleService,
    plan_queue: Arc<dyn WorkQueue>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn Ids>,
    cursors: Cursors,
    templates: TemplateStore,
}

fn not_found(id: &str) -> ServiceError {
    ServiceError::NotFound(format!("no broadcast `{}`", id.chars().take(40).collect::<String>()))
}

impl BroadcastService {
    /// The service over the stores; plan tasks go to `plan_queue`; `roles` answers who may send.
    pub fn new(
        stores: &Stores,
        lists: ListService,
        roles: RoleService,
        plan_queue: Arc<dyn WorkQueue>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn Ids>,
        cursors: Cursors,
    ) -> Self {
        Self {
            store: stores.broadcasts.clone(),
            family: FamilySchools::new(stores),
            roles,
            lists,
            plan_queue,
            clock,
            ids,
            cursors,
            templates: stores.templates.clone(),
        }
    }

    /// The caller's grants, read from the store now.
    pub async fn grants(&self, caller: &Principal) -> Result<Grants, ServiceError> {
        self.roles.grants(caller).await
    }

    /// Creates and queues (or schedules) a broadcast: 422 for a bad
    /// request, 403 when the caller may not send it there. The definitions
    /// of its lists are kept with it as they are now.
    pub async fn create(&self, caller: &Principal, input: &BroadcastInput) -> Result<Broadcast, ServiceError> {
        let valid = match &input.template {
            Some(id) => self.with_template(caller, input, id).await?.validate()?,
            None => input.validate()?,
        };
        let grants = self.grants(caller).await?;
        let (valid, schools, lists) = self.placed(caller, valid).await?;
        if let Some(unallowed) = unallowed(&grants, BroadcastKind::Broadcast, valid.reason, valid.emergency, &schools) {
            return Err(ServiceError::Forbidden(format!("your roles do not allow {unallowed}")));
        }
        self.accept(caller, valid, schools, BroadcastKind::Broadcast, None, &lists).await
    }

    /// The request with the content of the saved template it names (its
    /// language variants too); naming both a template and content is a 422.
    async fn with_template(
        &self,
        caller: &Principal,
        input: &BroadcastInput,
        id: &str,
    ) -> Result<BroadcastInput, ServiceError> {
        if input.content != crate::domain::BroadcastContent::default() {
            return Err(crate::domain::DomainError::invalid("content or template: name one, not both").into());
        }
        let template = self.templates.get(&caller.district, id).await?.ok_or_else(|| {
            crate::domain::DomainError::invalid(format!(
                "template: no template `{}`",
                id.chars().take(40).collect::<String>()
            ))
        })?;
        Ok(BroadcastInput { content: template.content, template: None, ..input.clone() })
    }

    /// Stores a checked broadcast and queues or schedules it (personal messages come here too).
    pub(crate) async fn submit(
        &self,
        caller: &Principal,
        valid: ValidBroadcast,
        schools: Vec<SchoolId>,
        kind: BroadcastKind,
        sender_name: Option<String>,
    ) -> Result<Broadcast, ServiceError> {
        self.accept(caller, valid, schools, kind, sender_name, &[]).await
    }

    /// [`Self::submit`] with the audience's lists as they are now, kept
    /// with the broadcast; records the caller's token for planning to check
    /// their rights again.
    async fn accept(
        &self,
        caller: &Principal,
        valid: ValidBroadcast,
        schools: Vec<SchoolId>,
        kind: BroadcastKind,
        sender_name: Option<String>,
        lists: &[RecipientList],
    ) -> Result<Broadcast, ServiceError> {
        let now = self.clock.now();
        let send_at = valid.send_at.filter(|at| *at > now).unwrap_or(now);
        let scheduled = send_at > now;
        // `{{sender}}` of a broadcast is the district (a personal message's is its writer).
        let sender_name = match sender_name {
            Some(name) => Some(name),
            None => Some(self.store.settings(&caller.district).await?.name.unwrap_or_else(|| DEFAULT_SENDER.into())),
        };
        let broadcast = Broadcast {
            id: BroadcastId::parse(self.ids.next_id()).map_err(ServiceError::Invalid)?,
            kind,
            reason: valid.reason,
            channels: valid.channels,
            content: valid.content,
            audience: valid.audience,
            schools,
            send_at,
            emergency: valid.emergency,
            created_by: caller.subject.clone(),
            sender_name,
            created_at: now,
            state: if scheduled { BroadcastState::Scheduled } else { BroadcastState::Queued },
            deferred_until: None,
            deferred_channels: Vec::new(),
            plan: None,
            accepted: Some(Acceptance::of(caller)),
            refusal: None,
            landline_autocall: valid.landline_autocall,
            urgent: false,
            event: None,
        };
        let district = &caller.district;
        match self.store.create_with_lists(district, &broadcast, lists).await {
            Err(StoreError::AlreadyExists) => return Err(ServiceError::Conflict("broadcast id taken; retry".into())),
            other => other?,
        }
        if scheduled {
            self.store.schedule(district, &broadcast.id, send_at).await?;
        } else if let Err(error) = self.queue_plan(district, &broadcast.id).await {
            // Stored but not queued: the scheduler queues it at its next
            // tick. The caller is answered 202 all the same, since a retry
            // would create the broadcast twice.
            tracing::warn!(%district, broadcast = %broadcast.id, %error, "plan queue unavailable; left to the scheduler");
            self.store.schedule(district, &broadcast.id, now).await?;
        }
        tracing::info!(
            %district, broadcast = %broadcast.id, kind = %kind, reason = %broadcast.reason,
            emergency = broadcast.emergency, scheduled, "broadcast created"
        );
        Ok(broadcast)
    }

    async fn queue_plan(&self, district: &DistrictId, id: &BroadcastId) -> Result<(), ServiceError> {
        super::scheduler::queue_plan(self.plan_queue.as_ref(), district, id).await
    }

    /// The schools the audience lies in (empty: district-wide), with the
    /// rule's schools made explicit so fan-out looks where the check looked,
    /// and the audience's lists as they are now.
    async fn placed(
        &self,
        caller: &Principal,
        mut valid: ValidBroadcast,
    ) -> Result<(ValidBroadcast, Vec<SchoolId>, Vec<RecipientList>), ServiceError> {
        let mut schools = BTreeSet::new();
        let mut district_wide = false;
        let mut lists = Vec::with_capacity(valid.audience.lists.len());
        for id in &valid.audience.lists {
            let list = self.lists.get(caller, id.as_str()).await?;
            district_wide |= list.schools.is_empty();
            schools.extend(list.schools.iter().cloned());
            lists.push(list);
        }
        if let Some(rule) = &valid.audience.rule {
            let draft = ListInput {
                name: "broadcast audience".into(),
                target: valid.audience.target,
                rule: rule.clone(),
                includes: Vec::new(),
                excludes: Vec::new(),
                version: None,
            };
            let list = self.lists.draft(caller, &draft).await?;
            district_wide |= list.schools.is_empty();
            let mut rule = list.rule;
            rule.schools = list.schools.clone();
            valid.audience.rule = Some(rule);
            schools.extend(list.schools);
        }
        let district = &caller.district;
        // Named people count with their schools (a guardian's through their students).
        let of_people = self.family.of(district, valid.audience.people.iter().cloned()).await?;
        for id in &valid.audience.people {
            let found =
                of_people.get(id).ok_or_else(|| ServiceError::invalid(format!("audience.people: no person `{id}`")))?;
            district_wide |= found.is_empty();
            schools.extend(found.iter().cloned());
        }
        Ok((valid, if district_wide { Vec::new() } else { schools.into_iter().collect() }, lists))
    }

    /// The broadcast if the caller may read it, with where they may see
    /// contacts (decided per delivery: a broadcast may span schools).
    async fn readable(&self, caller: &Principal, id: &str) -> Result<(Broadcast, ContactScope), ServiceError> {
        let broadcast_id = BroadcastId::parse(id).map_err(|_| not_found(id))?;
        let broadcast = self.store.get(&caller.district, &broadcast_id).await?.ok_or_else(|| not_found(id))?;
        let grants = self.grants(caller).await?;
        let sees_contacts = ContactScope::of(&grants);
        let reads = sees_contacts.covers_any(&broadcast.schools)
            || broadcast.created_by == caller.subject
            || broadcast.schools.iter().any(|s| grants.may_send_broadcast(broadcast.reason, s));
        if !reads {
            return Err(not_found(id));
        }
        Ok((broadcast, sees_contacts))
    }

    /// The broadcast with its delivery counts (reads its deliveries).
    pub async fn report(&self, caller: &Principal, id: &str) -> Result<BroadcastReport, ServiceError> {
        let (broadcast, _) = self.readable(caller, id).await?;
        let deliveries = self.store.all_deliveries(&caller.district, &broadcast.id).await?;
        let settings = self.store.settings(&caller.district).await?;
        Ok(build_report(broadcast, &deliveries, &settings.language))
    }

    /// A page of deliveries. `cursor` is the `next` of the page before,
    /// sealed to this broadcast (400 for any other): the store's key it
    /// holds names the number the page may mask.
    pub async fn deliveries(
        &self,
        caller: &Principal,
        id: &str,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<DeliveriesPage, ServiceError> {
        let (broadcast, sees_contacts) = self.readable(caller, id).await?;
        let limit = limit.unwrap_or(DEFAULT_DELIVERIES_PAGE).clamp(1, MAX_DELIVERIES_PAGE);
        let scope = CursorScope { district: &caller.district, kind: PageKind::Deliveries, of: broadcast.id.as_str() };
        let after = cursor.map(|token| self.cursors.open_text(scope, token)).transpose()?.map(Cursor::from_token);
        let page = self.store.deliveries(&caller.district, &broadcast.id, limit, after).await.map_err(|e| match e {
            StoreError::Table(crate::ports::TableError::Validation(_)) => {
                CursorError::refused(PageKind::Deliveries).into()
            }
            other => ServiceError::from(other),
        })?;
        let unmasked = self.unmasked(&caller.district, &sees_contacts, &page.deliveries).await?;
        Ok(DeliveriesPage {
            items: page.deliveries.iter().zip(unmasked).map(|(d, unmasked)| view(d, unmasked)).collect(),
            next: page.cursor.map(|c| self.cursors.seal_text(scope, c.as_str())),
        })
    }

    /// Every delivery as CSV (header row first).
    pub async fn deliveries_csv(&self, caller: &Principal, id: &str) -> Result<String, ServiceError> {
        let (broadcast, sees_contacts) = self.readable(caller, id).await?;
        let deliveries = self.store.all_deliveries(&caller.district, &broadcast.id).await?;
        let unmasked = self.unmasked(&caller.district, &sees_contacts, &deliveries).await?;
        let corrupt = ServiceError::internal;
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer
            .write_record([
                "channel",
                "to",
                "people",
                "state",
                "reason",
                "provider_message_id",
                "segments",
                "updated_at",
                "outcome",
                "attempts",
            ])
            .map_err(corrupt)?;
        for (delivery, unmasked) in deliveries.iter().zip(unmasked) {
            let v = view(delivery, unmasked);
            let people = v.people.iter().map(PersonId::as_str).collect::<Vec<_>>().join(" ");
            writer
                .write_record([
                    v.channel.as_str(),
                    &spreadsheet_safe(&v.to),
                    &spreadsheet_safe(&people),
                    v.state.as_str(),
                    v.reason.map(DeliveryReason::as_str).unwrap_or_default(),
                    &spreadsheet_safe(v.provider_message_id.as_deref().unwrap_or_default()),
                    &v.segments.map(|s| s.to_string()).unwrap_or_default(),
                    &v.updated_at.to_rfc3339(),
                    v.outcome.map(crate::domain::CallOutcome::as_str).unwrap_or_default(),
                    &v.attempts.to_string(),
                ])
                .map_err(corrupt)?;
        }
        let bytes = writer.into_inner().map_err(ServiceError::internal)?;
        String::from_utf8(bytes).map_err(ServiceError::internal)
    }

    /// The most recent broadcasts the caller may read, newest first.
    pub async fn recent(&self, caller: &Principal, limit: u32) -> Result<Vec<Broadcast>, ServiceError> {
        let mut found = Vec::new();
        for id in self.store.recent(&caller.district, limit.clamp(1, 200)).await? {
            match self.readable(caller, id.as_str()).await {
                Ok((broadcast, _)) => found.push(broadcast),
                Err(ServiceError::NotFound(_)) => {}
                Err(other) => return Err(other),
            }
        }
        Ok(found)
    }
}
