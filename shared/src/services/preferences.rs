//! Preferences: read and change one person's (themself, or staff for them),
//! and the batch tool that sets reason × channel cells for many people.
//!
//! Rules kept here: only channels the person has; text is switched on only
//! by the person, or by an admin for one person with the consent recorded,
//! never in batch; household phone settings reach every active member of the
//! household; every change is written with an audit entry.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use futures::{StreamExt as _, stream};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::{
    CellAction, CellOutcome, Channel, ContactReason, DistrictId, DomainError, Effective, PersonId, PreferenceDefaults,
    PreferenceRecord, PreferenceSource, Principal, Role, SchoolId, Setting, TextConsent, batch_outcome, channels_of,
};
use crate::ports::table::BatchOp;
use crate::ports::{Clock, Ids};
use crate::services::ServiceError;
use crate::store::{ChangedCell, PeopleStore, PreferenceChange, PreferenceStore, RosterIndex, StoreError, Stores};

/// Write operations buffered before a batch flushes them.
const BATCH_FLUSH: usize = 5_000;
/// People read per step of a batch.
const LOAD_CHUNK: usize = 512;
/// Reads a batch keeps in flight.
const CONCURRENT_READS: usize = 16;

/// A person's preferences as shown: every channel they have × every reason.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PreferencesView {
    /// The person.
    pub person: PersonId,
    /// Channel → reason → value and source.
    pub channels: BTreeMap<Channel, BTreeMap<ContactReason, Effective>>,
    /// The recorded consent to texts, if any.
    pub text_consent: Option<TextConsent>,
}

/// A change to one person's preferences.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreferencesUpdate {
    /// Channel → reason → On (true) or Off (false).
    pub channels: BTreeMap<Channel, BTreeMap<ContactReason, bool>>,
    /// Required when an admin switches text on for someone: how they consented.
    #[serde(default)]
    pub consent: Option<ConsentInput>,
}

/// How a person consented to texts, as an admin records it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentInput {
    /// Where it came from (`paper form`, `phone call` ...).
    pub source: String,
    /// When it was given.
    pub at: chrono::DateTime<chrono::Utc>,
}

/// Who a batch reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchMode {
    /// Messenger guardians of the matched students.
    StudentContacts,
    /// The students themselves.
    Students,
    /// Staff.
    Staff,
}

/// Which people a batch matches.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchFilter {
    /// One school (default: every school in the caller's scope).
    #[serde(default)]
    pub school: Option<String>,
    /// One grade code (`05`, `KG`).
    #[serde(default)]
    pub grade: Option<String>,
    /// A saved list (its students, or its staff for the staff mode).
    #[serde(default)]
    pub list: Option<String>,
    /// An ad hoc rule, as a list's `rule` (schools, grades, section,
    /// teacher, bus route, language, conditions).
    #[serde(default)]
    pub rule: Option<Value>,
}

/// The batch tool's request.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// Who it reaches.
    pub mode: BatchMode,
    /// Which of them.
    #[serde(default)]
    pub filter: BatchFilter,
    /// Reason → channel → no_change / on / off.
    pub cells: BTreeMap<ContactReason, BTreeMap<Channel, CellAction>>,
    /// Leave choices people made themselves alone.
    #[serde(default)]
    pub preserve_self_set: bool,
    /// Count only; write nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// A results grid cell: how many changed, or `"no_change"` when not asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum GridCell {
    /// Preferences changed.
    Changed(u64),
    /// The cell asked for no change.
    NoChange(NoChange),
}

/// Serializes as the string `"no_change"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoChange;

impl Serialize for NoChange {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("no_change")
    }
}

/// The batch tool's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchResult {
    /// People the mode and filter matched.
    pub matched_people: u64,
    /// Reason → channel → changed count or `"no_change"`.
    pub grid: BTreeMap<ContactReason, BTreeMap<Channel, GridCell>>,
    /// Self-set choices the batch overwrote.
    pub self_set_overwritten: u64,
    /// Self-set choices the batch left alone (`preserve_self_set`).
    pub self_set_preserved: u64,
    /// People whose preferences changed.
    pub people_changed: u64,
    /// Whether nothing was written.
    pub dry_run: bool,
}

/// What a use case needs to know about one person.
struct Loaded {
    id: PersonId,
    schools: Vec<SchoolId>,
    household: Option<String>,
    active: bool,
    channels: Vec<Channel>,
    record: PreferenceRecord,
}

/// Resolves a saved list into people, for the batch tool's `list` filter.
#[async_trait::async_trait]
pub trait ListResolver: Send + Sync {
    /// The list's students and staff, if the caller may see it.
    async fn students_and_staff(
        &self,
        caller: &Principal,
        list: &str,
    ) -> Result<(Vec<PersonId>, Vec<PersonId>), ServiceError>;

    /// The students and staff an ad hoc list rule matches, within the caller's scope.
    async fn rule_students_and_staff(
        &self,
        caller: &Principal,
        rule: &Value,
    ) -> Result<(Vec<PersonId>, Vec<PersonId>), ServiceError>;
}

/// The preference use cases.
#[derive(Clone)]
pub struct PreferenceService {
    people: PeopleStore,
    roster: RosterIndex,
    store: PreferenceStore,
    /// Who may manage whose preferences (token roles and stored assignments).
    roles: crate::services::roles::RoleService,
    defaults: PreferenceDefaults,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn Ids>,
    lists: Option<Arc<dyn ListResolver>>,
}

impl PreferenceService {
    /// A service over the stores; `defaults` serve districts that set none.
    pub fn new(
        stores: &Stores,
        defaults: PreferenceDefaults,
        roles: crate::services::roles::RoleService,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn Ids>,
    ) -> Self {
        Self {
            people: stores.people.clone(),
            roster: stores.roster.clone(),
            store: stores.preferences.clone(),
            roles,
            defaults,
            clock,
            ids,
            lists: None,
        }
    }

    /// Lets batches filter by saved lists.
    #[must_use]
    pub fn with_lists(mut self, lists: Arc<dyn ListResolver>) -> Self {
        self.lists = Some(lists);
        self
    }

    /// Reads what preferences need of a person (profile, contact points and
    /// preferences; never the audit trail or the links).
    async fn load(&self, district: &DistrictId, id: &PersonId) -> Result<Option<Loaded>, ServiceError> {
        Ok(self.people.with_preferences(district, id).await?.map(|person| Loaded {
            channels: channels_of(&person.contacts),
            id: person.id,
            schools: person.schools,
            household: person.household,
            active: person.active,
            record: person.preferences,
        }))
    }

    /// The district's defaults: stored by its admin, or the built-in ones.
    async fn defaults_for(&self, district: &DistrictId) -> Result<PreferenceDefaults, ServiceError> {
        Ok(self.store.defaults(district).await?.unwrap_or_else(|| self.defaults.clone()))
    }

    /// The defaults that fill what nobody set, for the caller's district.
    pub async fn district_defaults(&self, caller: &Principal) -> Result<PreferenceDefaults, ServiceError> {
        self.defaults_for(&caller.district).await
    }

    /// Replaces the district's defaults (district admins). Text can never
    /// default on: consent is the person's own.
    pub async fn set_district_defaults(
        &self,
        caller: &Principal,
        defaults: &PreferenceDefaults,
    ) -> Result<PreferenceDefaults, ServiceError> {
        if !caller.has(Role::DistrictAdmin) {
            return Err(ServiceError::Forbidden("only district admins set the district's defaults".into()));
        }
        if defaults.on.get(&Channel::Text).is_some_and(|reasons| !reasons.is_empty()) {
            return Err(
                DomainError::Invalid("on.text: texts cannot default on; consent is the person's own".into()).into()
            );
        }
        self.store.set_defaults(&caller.district, defaults).await?;
        tracing::info!(district = %caller.district, by = %caller.subject, "preference defaults replaced");
        Ok(defaults.clone())
    }

    fn view_of(&self, person: &Loaded, defaults: &PreferenceDefaults) -> PreferencesView {
        let channels = person
            .channels
            .iter()
            .map(|channel| {
                let reasons = ContactReason::ALL
                    .iter()
                    .map(|reason| (*reason, person.record.effective(defaults, *channel, *reason)))
                    .collect();
                (*channel, reasons)
            })
            .collect();
        PreferencesView { person: person.id.clone(), channels, text_consent: person.record.text_consent.clone() }
    }

    async fn person_for(&self, caller: &Principal, id: &str, write: bool) -> Result<Loaded, ServiceError> {
        let not_found = || ServiceError::NotFound(format!("no person `{id}`"));
        let id = PersonId::parse(id).map_err(|_| not_found())?;
        let person = self.load(&caller.district, &id).await?.ok_or_else(not_found)?;
        let allowed = if write {
            // Staff manage preferences where their grants say so (a custom
            // role with `manage_preferences` counts), for every school of the person.
            let grants = self.roles.grants(caller).await?;
            caller.subject == id.as_str()
                || grants.is_district_admin()
                || (!person.schools.is_empty() && person.schools.iter().all(|s| grants.may_manage_preferences(s)))
        } else {
            caller.may_read_person(id.as_str(), &person.schools)
        };
        if !allowed {
            return Err(ServiceError::Forbidden("your role may not see or change this person's preferences".into()));
        }
        Ok(person)
    }

    /// A person's preferences (themself, or staff allowed to read them).
    pub async fn view(&self, caller: &Principal, id: &str) -> Result<PreferencesView, ServiceError> {
        let person = self.person_for(caller, id, false).await?;
        Ok(self.view_of(&person, &self.defaults_for(&caller.district).await?))
    }

    /// A person's audit trail, newest first.
    pub async fn history(
        &self,
        caller: &Principal,
        id: &str,
        limit: u32,
    ) -> Result<Vec<PreferenceChange>, ServiceError> {
        let person = self.person_for(caller, id, false).await?;
        Ok(self.store.history(&caller.district, &person.id, limit).await?)
    }

    /// Changes one person's preferences (themself, or an admin for them).
    pub async fn update(
        &self,
        caller: &Principal,
        id: &str,
        update: &PreferencesUpdate,
    ) -> Result<PreferencesView, ServiceError> {
        let person = self.person_for(caller, id, true).await?;
        let by_self = caller.subject == person.id.as_str();
        let source = if by_self { PreferenceSource::SelfSet } else { PreferenceSource::Admin };
        for (channel, reasons) in &update.channels {
            if !person.channels.contains(channel) {
                return Err(DomainError::Invalid(format!("channels.{channel}: this person has no {channel}")).into());
            }
            let text_on = *channel == Channel::Text && reasons.values().any(|on| *on);
            if text_on && !by_self && update.consent.is_none() {
                return Err(DomainError::Invalid(
                    "channels.text: texts are switched on by the person, or by an admin with `consent` {source, at} recorded".into(),
                )
                .into());
            }
        }
        let consent = match (&update.consent, by_self) {
            (Some(consent), _) if consent.source.trim().is_empty() || consent.source.len() > 200 => {
                return Err(DomainError::Invalid(
                    "consent.source: say where the consent came from (1–200 characters)".into(),
                )
                .into());
            }
            (Some(consent), _) => Some(TextConsent {
                source: consent.source.trim().into(),
                at: consent.at,
                recorded_by: caller.subject.clone(),
            }),
            (None, true) if update.channels.get(&Channel::Text).is_some_and(|r| r.values().any(|on| *on)) => {
                Some(TextConsent { source: "self".into(), at: self.clock.now(), recorded_by: caller.subject.clone() })
            }
            _ => None,
        };
        let district = &caller.district;
        let defaults = self.defaults_for(district).await?;
        self.apply_one(district, &defaults, &person.id, &update.channels, source, &caller.subject, consent.clone())
            .await?;
        let household_cells = update.channels.get(&Channel::HouseholdPhone);
        if let (Some(cells), Some(household)) = (household_cells, person.household.as_deref()) {
            let only_household = BTreeMap::from([(Channel::HouseholdPhone, cells.clone())]);
            for member in self.people.household_members(district, household).await? {
                if member != person.id {
                    self.apply_one(district, &defaults, &member, &only_household, source, &caller.subject, None)
                        .await?;
                }
            }
        }
        let person = self
            .load(district, &person.id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("no person `{id}`")))?;
        Ok(self.view_of(&person, &defaults))
    }

    /// Sets cells on one person with an optimistic retry; members without
    /// the channel (household propagation) are skipped.
    #[allow(clippy::too_many_arguments)]
    async fn apply_one(
        &self,
        district: &DistrictId,
        defaults: &PreferenceDefaults,
        id: &PersonId,
        cells: &BTreeMap<Channel, BTreeMap<ContactReason, bool>>,
        source: PreferenceSource,
        by: &str,
        consent: Option<TextConsent>,
    ) -> Result<(), ServiceError> {
        for _attempt in 0..3 {
            let Some(person) = self.load(district, id).await? else { return Ok(()) };
            if !person.active {
                return Ok(());
            }
            let mut record = person.record.clone();
            let now = self.clock.now();
            let mut changed = Vec::new();
            for (channel, reasons) in cells {
                if !person.channels.contains(channel) {
                    continue;
                }
                for (reason, on) in reasons {
                    let setting = Setting { on: *on, source, updated_at: now, by: by.to_string() };
                    if let Some(from) = record.set(defaults, *channel, *reason, setting) {
                        changed.push(ChangedCell { channel: *channel, reason: *reason, from, to: *on });
                    }
                }
            }
            if consent.is_some() {
                record.text_consent.clone_from(&consent);
            }
            if changed.is_empty() && consent.is_none() {
                return Ok(());
            }
            record.version += 1;
            let change = PreferenceChange { at: now, by: by.to_string(), source, cells: changed };
            match self.store.save(district, id, &record, &change, &self.ids.next_id()).await {
                Ok(()) => return Ok(()),
                Err(StoreError::Conflict) => continue,
                Err(other) => return Err(other.into()),
            }
        }
        Err(ServiceError::Conflict("the preferences changed meanwhile; try again".into()))
    }

    async fn batch_schools(
        &self,
        caller: &Principal,
        filter: &BatchFilter,
    ) -> Result<Option<Vec<SchoolId>>, ServiceError> {
        let grants = self.roles.grants(caller).await?;
        let admin = grants.is_district_admin();
        let mine: Vec<SchoolId> = grants.schools().into_iter().filter(|s| grants.may_manage_preferences(s)).collect();
        if !admin && mine.is_empty() {
            return Err(ServiceError::Forbidden("your roles do not manage preferences (the batch tool)".into()));
        }
        match &filter.school {
            Some(school) => {
                let school =
                    SchoolId::parse(school.clone()).map_err(|e| DomainError::Invalid(format!("filter.school: {e}")))?;
                if !admin && !mine.contains(&school) {
                    return Err(ServiceError::Forbidden(format!("school `{school}` is not in your scope")));
                }
                Ok(Some(vec![school]))
            }
            None if admin => Ok(None),
            None => Ok(Some(mine)),
        }
    }

    async fn all_schools(&self, district: &DistrictId) -> Result<Vec<SchoolId>, ServiceError> {
        Ok(self.roster.schools(district).await?)
    }

    async fn batch_people(
        &self,
        caller: &Principal,
        request: &BatchRequest,
    ) -> Result<BTreeSet<PersonId>, ServiceError> {
        let district = &caller.district;
        let scope = self.batch_schools(caller, &request.filter).await?;
        let lists =
            || self.lists.as_ref().ok_or_else(|| DomainError::Invalid("filter: lists are not available".into()));
        let (students, staff) = match (&request.filter.list, &request.filter.rule) {
            (Some(_), Some(_)) => {
                return Err(DomainError::Invalid("filter: give a list or a rule, not both".into()).into());
            }
            (Some(list), None) => lists()?.students_and_staff(caller, list).await?,
            (None, Some(rule)) => lists()?.rule_students_and_staff(caller, rule).await?,
            (None, None) => {
                let schools = match scope {
                    Some(schools) => schools,
                    None => self.all_schools(district).await?,
                };
                let grade = request.filter.grade.as_deref().map(crate::domain::uniform_grade);
                let mut students = Vec::new();
                let mut staff = Vec::new();
                for school in &schools {
                    if request.mode == BatchMode::Staff {
                        staff.extend(self.people.school_members(district, school, "ROLE#staff#").await?);
                    } else {
                        let prefix = match &grade {
                            Some(grade) => format!("ROLE#student#G#{grade}#"),
                            None => "ROLE#student#".into(),
                        };
                        students.extend(self.people.school_members(district, school, &prefix).await?);
                    }
                }
                (students, staff)
            }
        };
        Ok(match request.mode {
            BatchMode::Students => students.into_iter().collect(),
            BatchMode::Staff => staff.into_iter().collect(),
            BatchMode::StudentContacts => {
                let unique: BTreeSet<PersonId> = students.into_iter().collect();
                let links: Vec<Result<Vec<(PersonId, bool)>, StoreError>> = stream::iter(unique)
                    .map(|student| {
                        let (people, district) = (self.people.clone(), district.clone());
                        async move { people.guardians_of(&district, &student).await }
                    })
                    .buffer_unordered(CONCURRENT_READS)
                    .collect()
                    .await;
                let mut guardians = BTreeSet::new();
                for found in links {
                    guardians
                        .extend(found?.into_iter().filter(|(_, messenger)| *messenger).map(|(guardian, _)| guardian));
                }
                guardians
            }
        })
    }

    /// The batch tool: sets the asked cells on every matched person who has
    /// the channel, writing only what changes, and answers the results grid.
    pub async fn batch(&self, caller: &Principal, request: &BatchRequest) -> Result<BatchResult, ServiceError> {
        for (reason, channels) in &request.cells {
            if channels.contains_key(&Channel::Text) {
                return Err(DomainError::Invalid(format!(
                    "cells.{reason}.text: text messaging cannot be set in batch; consent to texts is the person's own"
                ))
                .into());
            }
        }
        let people = self.batch_people(caller, request).await?;
        let district = &caller.district;
        let now = self.clock.now();
        let defaults = self.defaults_for(district).await?;
        let mut grid: BTreeMap<ContactReason, BTreeMap<Channel, GridCell>> = ContactReason::ALL
            .iter()
            .map(|reason| {
                let row = Channel::ALL
                    .iter()
                    .map(|channel| {
                        let asked = request
                            .cells
                            .get(reason)
                            .and_then(|c| c.get(channel))
                            .is_some_and(|a| *a != CellAction::NoChange);
                        (*channel, if asked { GridCell::Changed(0) } else { GridCell::NoChange(NoChange) })
                    })
                    .collect();
                (*reason, row)
            })
            .collect();
        let mut result = BatchResult {
            matched_people: people.len() as u64,
            grid: BTreeMap::new(),
            self_set_overwritten: 0,
            self_set_preserved: 0,
            people_changed: 0,
            dry_run: request.dry_run,
        };
        let mut pending: Vec<BatchOp> = Vec::new();
        let mut done_households = BTreeSet::new();
        let matched = people.len();
        let mut targets: Vec<PersonId> = people.into_iter().collect();
        let mut seen: BTreeSet<PersonId> = targets.iter().cloned().collect();
        let touches_household =
            request.cells.values().any(|c| c.get(&Channel::HouseholdPhone).is_some_and(|a| *a != CellAction::NoChange));
        let mut loaded: Vec<(usize, Loaded)> = Vec::new();
        let mut index = 0;
        loop {
            if loaded.is_empty() {
                if index >= targets.len() {
                    break;
                }
                // Read people a chunk at a time, several reads in flight
                // (DynamoDB answers in milliseconds, not microseconds).
                let end = (index + LOAD_CHUNK).min(targets.len());
                let reads: Vec<(usize, Result<Option<Loaded>, ServiceError>)> = stream::iter(index..end)
                    .map(|i| {
                        let (service, district, id) = (self.clone(), district.clone(), targets[i].clone());
                        async move { (i, service.load(&district, &id).await) }
                    })
                    .buffer_unordered(CONCURRENT_READS)
                    .collect()
                    .await;
                index = end;
                for (i, person) in reads {
                    if let Some(person) = person? {
                        loaded.push((i, person));
                    }
                }
                loaded.sort_by_key(|(position, _)| std::cmp::Reverse(*position));
                continue;
            }
            let Some((position, person)) = loaded.pop() else { continue };
            // Household members reached through a matched person take only
            // the household phone cells.
            let household_only = position >= matched;
            if !person.active {
                continue;
            }
            let new_household =
                person.household.clone().filter(|h| touches_household && done_households.insert(h.clone()));
            if let Some(household) = new_household {
                for member in self.people.household_members(district, &household).await? {
                    if seen.insert(member.clone()) {
                        targets.push(member);
                    }
                }
            }
            let mut record = person.record.clone();
            let mut changed = Vec::new();
            for (reason, channels) in &request.cells {
                for (channel, action) in channels {
                    if !person.channels.contains(channel) || (household_only && *channel != Channel::HouseholdPhone) {
                        continue;
                    }
                    let current = record.effective(&defaults, *channel, *reason);
                    match batch_outcome(*action, &current, request.preserve_self_set) {
                        CellOutcome::Unchanged => {}
                        CellOutcome::PreservedSelfSet => result.self_set_preserved += 1,
                        CellOutcome::Changed { overwrote_self } => {
                            let on = *action == CellAction::On;
                            let setting = Setting {
                                on,
                                source: PreferenceSource::Batch,
                                updated_at: now,
                                by: caller.subject.clone(),
                            };
                            record.settings.entry(*channel).or_default().insert(*reason, setting);
                            changed.push(ChangedCell { channel: *channel, reason: *reason, from: current.on, to: on });
                            result.self_set_overwritten += u64::from(overwrote_self);
                            if let Some(GridCell::Changed(count)) =
                                grid.get_mut(reason).and_then(|row| row.get_mut(channel))
                            {
                                *count += 1;
                            }
                        }
                    }
                }
            }
            if changed.is_empty() {
                continue;
            }
            result.people_changed += 1;
            if !request.dry_run {
                record.version += 1;
                let change = PreferenceChange {
                    at: now,
                    by: caller.subject.clone(),
                    source: PreferenceSource::Batch,
                    cells: changed,
                };
                pending.extend(PreferenceStore::write_ops(
                    district,
                    &person.id,
                    &record,
                    &change,
                    &self.ids.next_id(),
                )?);
                if pending.len() >= BATCH_FLUSH {
                    self.store.save_many(std::mem::take(&mut pending)).await?;
                }
            }
        }
        if !pending.is_empty() {
            self.store.save_many(pending).await?;
        }
        result.grid = grid;
        tracing::info!(district = %district, matched = result.matched_people, changed = result.people_changed, dry_run = request.dry_run, "preference batch finished");
        Ok(result)
    }
}
