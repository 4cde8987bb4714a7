//! Preferences: for each channel a person has and each contact reason, On
//! or Off, who set it and when; district defaults fill the rest. Pure rules:
//! which channels a person has, the defaults, text consent, and how a batch
//! cell changes one person's setting.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::named_enum::named_enum;
use super::{Channel, ContactPoint, ContactReason};

named_enum!(
    /// Who set a preference.
    PreferenceSource, "preference source" {
        /// Nobody: the district default.
        Default => "default",
        /// An import.
        Import => "import",
        /// An administrator, for this one person.
        Admin => "admin",
        /// The batch tool.
        Batch => "batch",
        /// The person themself (portal, app).
        SelfSet => "self",
    }
);

/// One explicit setting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Setting {
    /// On or Off.
    pub on: bool,
    /// Who set it.
    pub source: PreferenceSource,
    /// When.
    pub updated_at: DateTime<Utc>,
    /// The user who set it (a person id or staff user id).
    pub by: String,
}

/// The consent source of the SIS: recorded by an import's consent column,
/// and withdrawn only by it.
pub const IMPORT_CONSENT: &str = "import";
/// The consent source of a person who texted YES, Y or START.
pub const TEXT_CONSENT: &str = "text";

/// How the person consented to texts (US law on automated texts): recorded
/// when text is switched on, by the person or by an admin for them, by the
/// SIS (an import's consent column) or by the person texting YES.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextConsent {
    /// Where the consent came from (`self`, `paper form`, `phone call`,
    /// [`IMPORT_CONSENT`], [`TEXT_CONSENT`] ...).
    pub source: String,
    /// When it was given.
    pub at: DateTime<Utc>,
    /// Who recorded it.
    pub recorded_by: String,
}

/// Everything explicitly set for a person; what is absent is the default.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PreferenceRecord {
    /// Settings by channel, then reason.
    #[serde(default)]
    pub settings: BTreeMap<Channel, BTreeMap<ContactReason, Setting>>,
    /// The last recorded text consent.
    #[serde(default)]
    pub text_consent: Option<TextConsent>,
    /// Optimistic version, bumped on each write.
    #[serde(default)]
    pub version: u64,
}

named_enum!(
    /// What a change did to the recorded text consent (in the audit trail).
    ConsentChange, "consent change" {
        /// Consent recorded where none was.
        Recorded => "recorded",
        /// The SIS's consent withdrawn by the SIS.
        Withdrawn => "withdrawn",
    }
);

/// A preference as shown: the value and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Effective {
    /// On or Off.
    pub on: bool,
    /// Who set it (`default` when nobody did).
    pub source: PreferenceSource,
    /// When it was set (absent for defaults).
    pub updated_at: Option<DateTime<Utc>>,
}

/// The district's defaults: what a preference is when nobody set it.
///
/// Text is different: its defaults ([`Self::text_default`]) apply only to a
/// person who may be texted without an explicit setting — one whose consent
/// is recorded, or anyone under the `number_provided` policy (see
/// [`super::TextRule`]). A district that never named text defaults gets the
/// cell phone's, so "a number given is consent" texts for the reasons a
/// call to that cell would be made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreferenceDefaults {
    /// Reasons that default On, per channel (`text`: see [`Self::text_default`]).
    pub on: BTreeMap<Channel, Vec<ContactReason>>,
}

impl Default for PreferenceDefaults {
    /// Emergency On for every voice and email channel; attendance and
    /// priority also On for the cell and home phones and email; general,
    /// food service, behavior and teacher On for email; no text defaults of
    /// their own (text follows the cell phone where it may default at all).
    fn default() -> Self {
        use ContactReason as R;
        let voice = [Channel::HouseholdPhone, Channel::HomePhone, Channel::WorkPhone, Channel::CellPhone];
        let mut on: BTreeMap<Channel, Vec<ContactReason>> = BTreeMap::new();
        for channel in voice.iter().chain(&[Channel::Email, Channel::SecondaryEmail]) {
            on.entry(*channel).or_default().push(R::Emergency);
        }
        for channel in [Channel::CellPhone, Channel::HomePhone, Channel::HouseholdPhone, Channel::Email] {
            on.entry(channel).or_default().extend([R::Attendance, R::Priority]);
        }
        on.entry(Channel::Email).or_default().extend([R::General, R::FoodService, R::Behavior, R::Teacher, R::Staff]);
        Self { on }
    }
}

impl PreferenceDefaults {
    /// The default for a cell. Text is Off here: whether its default
    /// applies to a person is the consent rule's to say ([`super::TextRule`]),
    /// and that rule asks [`Self::text_default`].
    pub fn is_on(&self, channel: Channel, reason: ContactReason) -> bool {
        channel != Channel::Text && self.on.get(&channel).is_some_and(|reasons| reasons.contains(&reason))
    }

    /// The text default for a reason, for a person it applies to: the
    /// district's own text defaults when it set any (an empty list included),
    /// else the cell phone's.
    pub fn text_default(&self, reason: ContactReason) -> bool {
        match self.on.get(&Channel::Text) {
            Some(reasons) => reasons.contains(&reason),
            None => self.is_on(Channel::CellPhone, reason),
        }
    }
}

impl PreferenceRecord {
    /// The value of a cell, explicit or default.
    pub fn effective(&self, defaults: &PreferenceDefaults, channel: Channel, reason: ContactReason) -> Effective {
        match self.settings.get(&channel).and_then(|reasons| reasons.get(&reason)) {
            Some(setting) => Effective { on: setting.on, source: setting.source, updated_at: Some(setting.updated_at) },
            None => {
                Effective { on: defaults.is_on(channel, reason), source: PreferenceSource::Default, updated_at: None }
            }
        }
    }

    /// Sets a cell; answers the previous effective value when it changed.
    pub fn set(
        &mut self,
        defaults: &PreferenceDefaults,
        channel: Channel,
        reason: ContactReason,
        setting: Setting,
    ) -> Option<bool> {
        let before = self.effective(defaults, channel, reason);
        let changed = before.on != setting.on || before.source != setting.source;
        if !changed {
            return None;
        }
        self.settings.entry(channel).or_default().insert(reason, setting);
        Some(before.on)
    }

    /// Records a consent where none is recorded; the first one stays (its
    /// time is when consent was first given). Answers whether it changed.
    pub fn record_consent(&mut self, consent: TextConsent) -> Option<ConsentChange> {
        if self.text_consent.is_some() {
            return None;
        }
        self.text_consent = Some(consent);
        Some(ConsentChange::Recorded)
    }

    /// Withdraws the recorded consent if it came from `source` (the SIS
    /// withdraws its own, never the person's or an admin's).
    pub fn withdraw_consent(&mut self, source: &str) -> Option<ConsentChange> {
        if self.text_consent.as_ref().is_none_or(|consent| consent.source != source) {
            return None;
        }
        self.text_consent = None;
        Some(ConsentChange::Withdrawn)
    }
}

/// The channels a person has: each contact point's channel, and `text`
/// when they have a cell phone.
pub fn channels_of(contacts: &[ContactPoint]) -> Vec<Channel> {
    let mut channels: Vec<Channel> = contacts.iter().map(|c| c.channel).collect();
    if channels.contains(&Channel::CellPhone) {
        channels.push(Channel::Text);
    }
    channels.sort();
    channels.dedup();
    channels
}

named_enum!(
    /// What a batch cell asks for one reason × channel.
    CellAction, "cell action" {
        /// Leave it.
        NoChange => "no_change",
        /// Switch On.
        On => "on",
        /// Switch Off.
        Off => "off",
    }
);

/// What a batch cell does to one person's cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellOutcome {
    /// Already as asked (or not asked).
    Unchanged,
    /// Changed; `overwrote_self` when the person had set it themself.
    Changed {
        /// The person's own choice was overwritten.
        overwrote_self: bool,
    },
    /// Left alone because the person set it and self-set choices are preserved.
    PreservedSelfSet,
}

/// Decides a batch cell for one person (pure): the value asked, the current
/// effective value, and whether self-set choices are kept.
pub fn batch_outcome(action: CellAction, current: &Effective, preserve_self_set: bool) -> CellOutcome {
    let wanted = match action {
        CellAction::NoChange => return CellOutcome::Unchanged,
        CellAction::On => true,
        CellAction::Off => false,
    };
    if current.on == wanted {
        return CellOutcome::Unchanged;
    }
    let self_set = current.source == PreferenceSource::SelfSet;
    if self_set && preserve_self_set {
        return CellOutcome::PreservedSelfSet;
    }
    CellOutcome::Changed { overwrote_self: self_set }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ContactPoint, Region};

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z").map(|t| t.to_utc()).unwrap_or_default()
    }

    fn setting(on: bool, source: PreferenceSource) -> Setting {
        Setting { on, source, updated_at: now(), by: "u".into() }
    }

    #[test]
    fn emergency_defaults_on_for_voice_and_email_and_text_never() {
        let defaults = PreferenceDefaults::default();
        for channel in [
            Channel::HouseholdPhone,
            Channel::HomePhone,
            Channel::WorkPhone,
            Channel::CellPhone,
            Channel::Email,
            Channel::SecondaryEmail,
        ] {
            assert!(defaults.is_on(channel, ContactReason::Emergency), "{channel}");
        }
        for reason in ContactReason::ALL {
            assert!(!defaults.is_on(Channel::Text, *reason), "{reason}");
        }
    }

    #[test]
    fn text_follows_the_cell_phone_s_defaults_until_the_district_names_its_own() {
        let mut defaults = PreferenceDefaults::default();
        assert!(defaults.text_default(ContactReason::Attendance));
        assert!(!defaults.text_default(ContactReason::General));
        defaults.on.insert(Channel::Text, vec![ContactReason::General]);
        assert!(defaults.text_default(ContactReason::General));
        assert!(!defaults.text_default(ContactReason::Attendance), "the district's own list replaces the cell's");
        defaults.on.insert(Channel::Text, vec![]);
        assert!(!defaults.text_default(ContactReason::Emergency), "an empty list is a choice too");
        assert!(!defaults.is_on(Channel::Text, ContactReason::General), "a text cell alone is never on by default");
    }

    #[test]
    fn the_first_consent_stays_and_the_sis_withdraws_only_its_own() {
        let consent = |source: &str, at| TextConsent { source: source.into(), at, recorded_by: "x".into() };
        let mut record = PreferenceRecord::default();
        assert_eq!(record.record_consent(consent(IMPORT_CONSENT, now())), Some(ConsentChange::Recorded));
        let later = now() + chrono::Duration::days(1);
        assert_eq!(record.record_consent(consent(TEXT_CONSENT, later)), None);
        assert_eq!(record.text_consent.as_ref().map(|c| (c.source.as_str(), c.at)), Some((IMPORT_CONSENT, now())));
        assert_eq!(record.withdraw_consent(IMPORT_CONSENT), Some(ConsentChange::Withdrawn));
        assert_eq!(record.withdraw_consent(IMPORT_CONSENT), None, "nothing left to withdraw");
        record.record_consent(consent("self", now()));
        assert_eq!(record.withdraw_consent(IMPORT_CONSENT), None, "the person's own consent stays");
        assert!(record.text_consent.is_some());
    }

    #[test]
    fn a_cell_phone_brings_the_text_channel() -> Result<(), crate::domain::DomainError> {
        let contacts = [
            ContactPoint::parse(Channel::Email, "a@example.org", Region::US)?,
            ContactPoint::parse(Channel::CellPhone, "617-555-2345", Region::US)?,
        ];
        assert_eq!(channels_of(&contacts), [Channel::CellPhone, Channel::Text, Channel::Email]);
        Ok(())
    }

    #[test]
    fn setting_the_same_value_from_the_same_source_changes_nothing() {
        let defaults = PreferenceDefaults::default();
        let mut record = PreferenceRecord::default();
        let on = setting(true, PreferenceSource::Admin);
        assert_eq!(
            record.set(&defaults, Channel::Email, ContactReason::General, on.clone()),
            Some(true),
            "default was on, source changes"
        );
        assert_eq!(record.set(&defaults, Channel::Email, ContactReason::General, on), None);
        assert_eq!(
            record.set(&defaults, Channel::Email, ContactReason::General, setting(false, PreferenceSource::Admin)),
            Some(true)
        );
    }

    #[test]
    fn a_batch_overwrites_or_preserves_self_set_choices() {
        let self_off = Effective { on: false, source: PreferenceSource::SelfSet, updated_at: Some(now()) };
        assert_eq!(batch_outcome(CellAction::On, &self_off, false), CellOutcome::Changed { overwrote_self: true });
        assert_eq!(batch_outcome(CellAction::On, &self_off, true), CellOutcome::PreservedSelfSet);
        assert_eq!(batch_outcome(CellAction::Off, &self_off, true), CellOutcome::Unchanged);
        assert_eq!(batch_outcome(CellAction::NoChange, &self_off, false), CellOutcome::Unchanged);
        let default_off = Effective { on: false, source: PreferenceSource::Default, updated_at: None };
        assert_eq!(batch_outcome(CellAction::On, &default_off, true), CellOutcome::Changed { overwrote_self: false });
    }
}
