//! One person's preferences: the view, the audit trail, and an update by
//! the person or by staff for them (household phone cells reach the whole
//! household; text needs the person, or an admin with the consent recorded).
//! The view says why a text will or will not go: the district's consent
//! policy and, per reason, the verdict of [`TextRule`].

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Loaded, PreferenceService};
use crate::domain::{
    Channel, ConsentChange, ContactReason, DistrictId, DomainError, Effective, PersonId, PreferenceDefaults,
    PreferenceRecord, PreferenceSource, Principal, Setting, TextConsent, TextConsentPolicy, TextRule, TextVerdict,
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
    /// The district's text consent policy (`opt_in` or `number_provided`).
    pub text_consent_policy: TextConsentPolicy,
    /// Per reason, whether a text reaches the person (`on`), and if not
    /// why (`off`: their setting or the district's text default;
    /// `no_consent`: the policy waits for their consent). An emergency
    /// broadcast texts them whatever this says, unless they opted out.
    /// Empty without a cell phone.
    pub text_verdicts: BTreeMap<ContactReason, TextVerdict>,
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
            let consent_change = consent.filter(|c| record.text_consent.as_ref() != Some(*c)).map(|consent| {
                record.text_consent = Some(consent.clone());
                ConsentChange::Recorded
            });
            if changed.is_empty() && consent_change.is_none() {
                return Ok(());
            }
            record.version += 1;
            let change = PreferenceChange {
                at: now,
                by: self.by.to_string(),
                source: self.source,
                cells: changed,
                text_consent: consent_change,
            };
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
    fn view_of(&self, person: &Loaded, defaults: &PreferenceDefaults, policy: TextConsentPolicy) -> PreferencesView {
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
        let rule = TextRule { policy, ..TextRule::default() };
        let text_verdicts = match person.channels.contains(&Channel::Text) {
            true => ContactReason::ALL
                .iter()
                .map(|reason| (*reason, rule.verdict(&person.record, defaults, *reason)))
                .collect(),
            false => BTreeMap::new(),
        };
        PreferencesView {
            person: person.id.clone(),
            channels,
            text_consent: person.record.text_consent.clone(),
            text_consent_policy: policy,
            text_verdicts,
        }
    }

    /// The district's text consent policy.
    async fn policy_of(&self, district: &DistrictId) -> Result<TextConsentPolicy, ServiceError> {
        Ok(self.settings.settings(district).await?.text_consent)
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
        let policy = self.policy_of(&caller.district).await?;
        Ok(self.view_of(&person, &self.defaults_for(&caller.district).await?, policy))
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
        Ok(self.view_of(&person, &defaults, self.policy_of(district).await?))
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
mod tests;
