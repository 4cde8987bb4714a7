//! Who may be texted, as the FCC's school rulings have it (FCC 16-88, on
//! Blackboard's petition): a school may text a family's cell phone without
//! prior consent for an emergency purpose (closures, fire, health risks,
//! threats, unexcused absences); for other messages closely related to the
//! school's mission, a number the parent gave the school counts as consent
//! if the district says so in its policy. STOP always wins (that is a
//! suppression, not a preference), and so does the person's own Off.

use super::named_enum::named_enum;
use super::{Channel, ContactReason, PreferenceDefaults, PreferenceRecord};

named_enum!(
    /// The district's text consent policy (`text_consent` in its settings).
    TextConsentPolicy, "text consent policy" {
        /// Texts for other reasons than emergencies only where the person,
        /// an admin on their word, or the SIS recorded consent. The default.
        OptIn => "opt_in",
        /// The district's documented policy that a number given to the
        /// school is consent: text takes, for each reason, the cell phone's
        /// default.
        NumberProvided => "number_provided",
    }
);

// The enum's derives are the macro's; `Default` is said here.
#[allow(clippy::derivable_impls)]
impl Default for TextConsentPolicy {
    fn default() -> Self {
        TextConsentPolicy::OptIn
    }
}

/// What a broadcast asks of the text channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TextRule {
    /// An emergency broadcast: texts every cell number not opted out.
    pub emergency: bool,
    /// The district's policy for everything else.
    pub policy: TextConsentPolicy,
    /// A text to a number known as a landline goes as a call reading it.
    pub landline_autocall: bool,
}

/// Whether a person is texted for a reason, and if not, why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextVerdict {
    /// Texted.
    On,
    /// Their preference (or the cell phone's default under
    /// `number_provided`) is Off.
    Off,
    /// Nobody recorded their consent, and the district's policy asks for it.
    NoConsent,
}

impl TextRule {
    /// The verdict for one person. An emergency texts whatever the
    /// preference says; otherwise an explicit setting decides (an On was
    /// only ever set with consent); with nothing set, `number_provided`
    /// takes the cell phone's default, and `opt_in` wants consent first (a
    /// person who consented has text Off for a reason they did not switch on).
    pub fn verdict(
        &self,
        record: &PreferenceRecord,
        defaults: &PreferenceDefaults,
        reason: ContactReason,
    ) -> TextVerdict {
        if self.emergency {
            return TextVerdict::On;
        }
        let explicit = record.settings.get(&Channel::Text).and_then(|reasons| reasons.get(&reason));
        match (explicit, self.policy) {
            (Some(setting), _) if setting.on => TextVerdict::On,
            (Some(_), _) => TextVerdict::Off,
            (None, TextConsentPolicy::NumberProvided) if defaults.is_on(Channel::CellPhone, reason) => TextVerdict::On,
            (None, TextConsentPolicy::NumberProvided) => TextVerdict::Off,
            // Consented, but not to this reason: text is off by default.
            (None, TextConsentPolicy::OptIn) if record.text_consent.is_some() => TextVerdict::Off,
            (None, TextConsentPolicy::OptIn) => TextVerdict::NoConsent,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;
    use crate::domain::{PreferenceSource, Setting};

    fn set(on: bool, reason: ContactReason) -> PreferenceRecord {
        let mut record = PreferenceRecord::default();
        let setting =
            Setting { on, source: PreferenceSource::SelfSet, updated_at: DateTime::UNIX_EPOCH, by: "me".into() };
        record.set(&PreferenceDefaults::default(), Channel::Text, reason, setting);
        record
    }

    #[test]
    fn an_emergency_texts_every_cell_whatever_the_preference() {
        let rule = TextRule { emergency: true, ..TextRule::default() };
        let defaults = PreferenceDefaults::default();
        for record in [PreferenceRecord::default(), set(false, ContactReason::Emergency)] {
            assert_eq!(rule.verdict(&record, &defaults, ContactReason::Emergency), TextVerdict::On);
        }
    }

    #[test]
    fn under_opt_in_nobody_is_texted_without_consent_and_says_so() {
        let rule = TextRule::default();
        let defaults = PreferenceDefaults::default();
        let none = PreferenceRecord::default();
        assert_eq!(rule.verdict(&none, &defaults, ContactReason::Attendance), TextVerdict::NoConsent);
        assert_eq!(
            rule.verdict(&set(true, ContactReason::Attendance), &defaults, ContactReason::Attendance),
            TextVerdict::On
        );
        assert_eq!(
            rule.verdict(&set(false, ContactReason::Attendance), &defaults, ContactReason::Attendance),
            TextVerdict::Off
        );
    }

    #[test]
    fn under_opt_in_a_person_who_consented_has_text_off_for_reasons_they_did_not_switch_on() {
        let mut record = set(true, ContactReason::Emergency);
        record.text_consent = Some(crate::domain::TextConsent {
            source: "paper form".into(),
            at: DateTime::UNIX_EPOCH,
            recorded_by: "admin".into(),
        });
        let verdict = TextRule::default().verdict(&record, &PreferenceDefaults::default(), ContactReason::Behavior);
        assert_eq!(verdict, TextVerdict::Off);
    }

    #[test]
    fn under_number_provided_text_follows_the_cell_phone_default_and_a_person_s_off_wins() {
        let rule = TextRule { policy: TextConsentPolicy::NumberProvided, ..TextRule::default() };
        let defaults = PreferenceDefaults::default();
        let none = PreferenceRecord::default();
        // Attendance and priority default On for the cell phone; general does not.
        assert_eq!(rule.verdict(&none, &defaults, ContactReason::Attendance), TextVerdict::On);
        assert_eq!(rule.verdict(&none, &defaults, ContactReason::General), TextVerdict::Off);
        assert_eq!(
            rule.verdict(&set(false, ContactReason::Attendance), &defaults, ContactReason::Attendance),
            TextVerdict::Off
        );
    }

    #[test]
    fn the_policy_travels_by_name() {
        assert_eq!(
            serde_json::to_value(TextConsentPolicy::NumberProvided).ok(),
            Some(serde_json::json!("number_provided"))
        );
        assert!(serde_json::from_value::<TextConsentPolicy>(serde_json::json!("whatever")).is_err());
    }
}
