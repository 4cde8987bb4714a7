//! One person's preferences: the view, the audit trail, and an update by
//! the person or by staff for them (household phone cells reach the whole
//! household; text needs the person, or an admin with the consent recorded).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Loaded, PreferenceService};
use crate::domain::{
    Channel, ContactReason, DistrictId, DomainError, Effective, PersonId, PreferenceDefaults, PreferenceRecord,
    PreferenceSource, Principal, Setting, TextConsent,
};
use crate::services::ServiceError;
use crate::store::{ChangedCell, PreferenceChange, StoreError};

/// Channel → reason → On (true) or Off (false), as an update asks.
type Cells = BTreeMap<Channel, BTreeMap<ContactReason, bool>>;

/// Saves lost to a concurrent change before an update gives up.
const SAVE_ATTEMPTS: usize = 3;

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

/// Who changes preferences, as what, under which defaults: what the person
/// an update names and every household member it reaches have in common.
struct Edit<'a> {
    service: &'a PreferenceService,
    district: &'a DistrictId,
    defaults: &'a PreferenceDefaults,
    source: PreferenceSource,
    by: &'a str,
}

impl Edit<'_> {
    /// Sets cells on one person with an optimistic retry; members without
    /// the channel (household propagation) are skipped.
    async fn apply(&self, id: &PersonId, cells: &Cells, consent: Option<&TextConsent>) -> Result<(), ServiceError> {
        for _attempt in 0..SAVE_ATTEMPTS {
            let Some(person) = self.service.load(self.district, id).await? else { return Ok(()) };
            if !person.active {
                return Ok(());
            }
            let now = self.service.clock.now();
            let (mut record, changed) = self.set_cells(&person, cells, now);
            if let Some(consent) = consent {
                record.text_consent = Some(consent.clone());
            }
            if changed.is_empty() && consent.is_none() {
                return Ok(());
            }
            record.version += 1;
            let change = PreferenceChange { at: now, by: self.by.to_string(), source: self.source, cells: changed };
            match self.service.store.save(self.district, id, &record, &change, &self.service.ids.next_id()).await {
                Ok(()) => return Ok(()),
                Err(StoreError::Conflict) => continue,
                Err(other) => return Err(other.into()),
            }
        }
        Err(ServiceError::Conflict("the preferences changed meanwhile; try again".into()))
    }

    /// The person's record with the cells set, and the cells that changed
    /// (channels the person lacks are left out).
    fn set_cells(&self, person: &Loaded, cells: &Cells, now: DateTime<Utc>) -> (PreferenceRecord, Vec<ChangedCell>) {
        let mut record = person.record.clone();
        let mut changed = Vec::new();
        for (channel, reasons) in cells {
            if !person.channels.contains(channel) {
                continue;
            }
            for (reason, on) in reasons {
                let setting = Setting { on: *on, source: self.source, updated_at: now, by: self.by.to_string() };
                if let Some(from) = record.set(self.defaults, *channel, *reason, setting) {
                    changed.push(ChangedCell { channel: *channel, reason: *reason, from, to: *on });
                }
            }
        }
        (record, changed)
    }

    /// Household phone cells reach every other active member of the person's household.
    async fn reach_household(&self, person: &Loaded, cells: &Cells) -> Result<(), ServiceError> {
        let (Some(cells), Some(household)) = (cells.get(&Channel::HouseholdPhone), person.household.as_deref()) else {
            return Ok(());
        };
        let only_household = BTreeMap::from([(Channel::HouseholdPhone, cells.clone())]);
        for member in self.service.people.household_members(self.district, household).await? {
            if member != person.id {
                self.apply(&member, &only_household, None).await?;
            }
        }
        Ok(())
    }
}

/// Refuses channels the person lacks, and text switched on by someone else
/// without a recorded consent.
fn check_channels(person: &Loaded, update: &PreferencesUpdate, by_self: bool) -> Result<(), ServiceError> {
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
    Ok(())
}

impl PreferenceService {
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

    /// The person if the caller may read (or, with `write`, change) their
    /// preferences. Someone the caller may not see answers 404 exactly as
    /// someone who does not exist; 403 only for a person they do see.
    async fn person_for(&self, caller: &Principal, id: &str, write: bool) -> Result<Loaded, ServiceError> {
        let not_found = || ServiceError::NotFound(format!("no person `{id}`"));
        let id = PersonId::parse(id).map_err(|_| not_found())?;
        let person = self.load(&caller.district, &id).await?.ok_or_else(not_found)?;
        if caller.subject == id.as_str() {
            return Ok(person);
        }
        let grants = self.roles.grants(caller).await?;
        if !caller.sees_person(&grants, id.as_str(), &person.schools) {
            return Err(not_found());
        }
        // Staff manage preferences where their grants say so (a custom
        // role with `manage_preferences` counts), for every school of the person.
        let manages = grants.is_district_admin()
            || (!person.schools.is_empty() && person.schools.iter().all(|s| grants.may_manage_preferences(s)));
        if write && !manages {
            return Err(ServiceError::Forbidden("your role may not change this person's preferences".into()));
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
        check_channels(&person, update, by_self)?;
        let consent = self.consent_for(caller, update, by_self)?;
        let district = &caller.district;
        let defaults = self.defaults_for(district).await?;
        let edit = Edit { service: self, district, defaults: &defaults, source, by: &caller.subject };
        edit.apply(&person.id, &update.channels, consent.as_ref()).await?;
        edit.reach_household(&person, &update.channels).await?;
        let person = self
            .load(district, &person.id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("no person `{id}`")))?;
        Ok(self.view_of(&person, &defaults))
    }

    /// The consent an update records: the one an admin gives, or the
    /// person's own when they switch text on themself.
    fn consent_for(
        &self,
        caller: &Principal,
        update: &PreferencesUpdate,
        by_self: bool,
    ) -> Result<Option<TextConsent>, ServiceError> {
        Ok(match (&update.consent, by_self) {
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
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{World, admin, district, guardian, id, principal};
    use super::*;
    use crate::domain::Role;

    fn update(channel: Channel, reason: ContactReason, on: bool) -> PreferencesUpdate {
        PreferencesUpdate { channels: BTreeMap::from([(channel, BTreeMap::from([(reason, on)]))]), consent: None }
    }

    fn cell(view: &PreferencesView, channel: Channel, reason: ContactReason) -> Option<&Effective> {
        view.channels.get(&channel).and_then(|reasons| reasons.get(&reason))
    }

    #[tokio::test]
    async fn an_admin_update_records_an_audit_entry_with_the_admin_as_source() {
        let world = World::new().await;
        let view = world.service.update(&admin(), "g-1", &update(Channel::Email, ContactReason::General, false)).await;
        let general = cell(&view.unwrap(), Channel::Email, ContactReason::General).cloned().unwrap();
        assert_eq!((general.on, general.source), (false, PreferenceSource::Admin));
        let history = world.service.history(&admin(), "g-1", 10).await.unwrap();
        assert_eq!(history.len(), 1, "{history:?}");
        assert_eq!((history[0].source, history[0].by.as_str()), (PreferenceSource::Admin, "admin"));
        let changed = ChangedCell { channel: Channel::Email, reason: ContactReason::General, from: true, to: false };
        assert_eq!(history[0].cells, [changed]);
    }

    #[tokio::test]
    async fn asking_again_for_what_is_already_so_writes_no_audit_entry() {
        let world = World::new().await;
        let off = update(Channel::Email, ContactReason::General, false);
        world.service.update(&admin(), "g-1", &off).await.unwrap();
        world.service.update(&admin(), "g-1", &off).await.unwrap();
        assert_eq!(world.service.history(&admin(), "g-1", 10).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_person_who_switches_texts_on_records_their_own_consent() {
        let world = World::new().await;
        let texts = update(Channel::Text, ContactReason::General, true);
        let view = world.service.update(&guardian("g-1"), "g-1", &texts).await.unwrap();
        let consent = view.text_consent.as_ref().map(|c| (c.source.as_str(), c.recorded_by.as_str()));
        assert_eq!(consent, Some(("self", "g-1")));
        let general = cell(&view, Channel::Text, ContactReason::General).map(|e| e.source);
        assert_eq!(general, Some(PreferenceSource::SelfSet));
        let history = world.service.history(&guardian("g-1"), "g-1", 10).await.unwrap();
        assert_eq!(history[0].source, PreferenceSource::SelfSet);
    }

    #[tokio::test]
    async fn an_admin_switches_texts_on_only_with_a_recorded_consent() {
        let world = World::new().await;
        let mut texts = update(Channel::Text, ContactReason::Attendance, true);
        let refused = world.service.update(&admin(), "g-3", &texts).await;
        assert!(matches!(refused, Err(ServiceError::Invalid(_))), "{refused:?}");
        let at = DateTime::UNIX_EPOCH;
        texts.consent = Some(ConsentInput { source: "  ".into(), at });
        let blank = world.service.update(&admin(), "g-3", &texts).await;
        assert!(matches!(blank, Err(ServiceError::Invalid(_))), "{blank:?}");
        assert!(world.service.history(&admin(), "g-3", 10).await.unwrap().is_empty(), "refusals write nothing");
        texts.consent = Some(ConsentInput { source: " paper form ".into(), at });
        let view = world.service.update(&admin(), "g-3", &texts).await.unwrap();
        let consent = TextConsent { source: "paper form".into(), at, recorded_by: "admin".into() };
        assert_eq!(view.text_consent, Some(consent));
    }

    #[tokio::test]
    async fn household_phone_settings_reach_every_member_of_the_household() {
        let world = World::new().await;
        let household = update(Channel::HouseholdPhone, ContactReason::General, true);
        world.service.update(&admin(), "g-1", &household).await.unwrap();
        let other = world.service.view(&admin(), "g-2").await.unwrap();
        assert_eq!(cell(&other, Channel::HouseholdPhone, ContactReason::General).map(|e| e.on), Some(true));
        assert_eq!(world.service.history(&admin(), "g-2", 10).await.unwrap().len(), 1);
        let student = world.service.history(&admin(), "st-1", 10).await.unwrap();
        assert!(student.is_empty(), "a member without a household phone is skipped: {student:?}");
    }

    #[tokio::test]
    async fn a_parent_changes_only_their_own_and_only_channels_they_have() {
        let world = World::new().await;
        let email = update(Channel::Email, ContactReason::General, false);
        let other = world.service.update(&guardian("g-1"), "g-3", &email).await;
        assert!(matches!(other, Err(ServiceError::NotFound(_))), "as if g-3 did not exist: {other:?}");
        let missing = world.service.update(&guardian("g-3"), "g-3", &email).await;
        assert!(matches!(missing, Err(ServiceError::Invalid(_))), "g-3 has no email: {missing:?}");
        let nobody = world.service.view(&admin(), "nobody").await;
        assert!(matches!(nobody, Err(ServiceError::NotFound(_))), "{nobody:?}");
    }

    #[tokio::test]
    async fn staff_read_the_preferences_of_their_schools_people_only() {
        let world = World::new().await;
        let teacher = principal("t-1", &[Role::Teacher], &["s-1"]);
        assert!(world.service.view(&teacher, "g-1").await.is_ok());
        let elsewhere = world.service.view(&principal("t-9", &[Role::Teacher], &["s-2"]), "g-1").await;
        assert!(matches!(elsewhere, Err(ServiceError::NotFound(_))), "{elsewhere:?}");
        let change =
            world.service.update(&teacher, "g-1", &update(Channel::Email, ContactReason::General, false)).await;
        assert!(matches!(change, Err(ServiceError::Forbidden(_))), "teachers do not manage preferences: {change:?}");
    }

    #[tokio::test]
    async fn setting_cells_skips_channels_the_person_lacks_and_what_is_already_so() {
        let world = World::new().await;
        let person = world.service.load(&district(), &id("g-3")).await.unwrap().unwrap();
        let defaults = PreferenceDefaults::default();
        let district = district();
        let edit = Edit {
            service: &world.service,
            district: &district,
            defaults: &defaults,
            source: PreferenceSource::Admin,
            by: "admin",
        };
        let cells = BTreeMap::from([
            (Channel::Email, BTreeMap::from([(ContactReason::General, false)])),
            (Channel::CellPhone, BTreeMap::from([(ContactReason::Emergency, true), (ContactReason::General, true)])),
        ]);
        let (record, changed) = edit.set_cells(&person, &cells, DateTime::UNIX_EPOCH);
        let cell_phone = |reason, from| ChangedCell { channel: Channel::CellPhone, reason, from, to: true };
        assert_eq!(
            changed,
            [cell_phone(ContactReason::Emergency, true), cell_phone(ContactReason::General, false)],
            "g-3 has no email; a default becomes the admin's own setting"
        );
        assert_eq!(record.version, person.record.version, "the caller bumps the version when it saves");
        let person = Loaded { record, ..person };
        let (_, again) = edit.set_cells(&person, &cells, DateTime::UNIX_EPOCH);
        assert!(again.is_empty(), "{again:?}");
    }
}
