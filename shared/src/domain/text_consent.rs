//! Who may be texted, as the FCC's school rulings have it (FCC 16-88, on
//! Blackboard's petition): a school may text a family's cell phone without
//! prior consent for an emergency purpose (closures, fire, health risks,
//! threats, unexcused absences); for other messages closely related to the
//! school's mission, a number the parent gave the school counts as consent
//! if the district says so in its policy. STOP always wins (that is a
//! suppression, not a preference), and so does the person's own Off.
//!
//! Consent, once recorded (by the person, an admin on their word, the SIS's
//! consent column, or a text saying YES), makes the person what
//! `number_provided` makes everybody: texted for each reason they did not
//! set, as the district's text defaults say.

use super::named_enum::named_enum;
use super::segments::{SmsEncoding, count_segments};
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

named_enum!(
    /// Whether a person is texted for a reason, and if not, why (the
    /// preference view shows it per reason).
    TextVerdict, "text verdict" {
        /// Texted.
        On => "on",
        /// Their own setting, or the district's text default, is Off.
        Off => "off",
        /// Nobody recorded their consent, and the district's policy asks for it.
        NoConsent => "no_consent",
    }
);

impl TextRule {
    /// The verdict for one person. An emergency texts whatever the
    /// preference says; otherwise an explicit setting decides (an On was
    /// only ever set with consent, and the person's own Off always wins);
    /// with nothing set, a person whose consent is recorded, or anyone under
    /// `number_provided`, takes the district's text default for the reason
    /// ([`PreferenceDefaults::text_default`]); under `opt_in` nobody else is
    /// texted, whatever the defaults say.
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
        let consented = self.policy == TextConsentPolicy::NumberProvided || record.text_consent.is_some();
        match (explicit, consented) {
            (Some(setting), _) if setting.on => TextVerdict::On,
            (Some(_), _) => TextVerdict::Off,
            (None, true) if defaults.text_default(reason) => TextVerdict::On,
            (None, true) => TextVerdict::Off,
            (None, false) => TextVerdict::NoConsent,
        }
    }
}

/// Whether an inbound text gives consent to texts: `YES`, `Y` or `START`,
/// any case, surrounding blanks (and a closing `.` or `!`) ignored — as
/// SchoolMessenger's "text Y to 67587" asks.
pub fn gives_text_consent(body: &str) -> bool {
    let word = body.trim().trim_end_matches(['.', '!']).trim();
    ["yes", "y", "start"].iter().any(|w| w.eq_ignore_ascii_case(word))
}

/// The one answer to a text that recorded consent: short, and GSM-7 in one
/// segment (a district name that would not be is replaced by "your school").
pub fn consent_confirmation(district_name: Option<&str>) -> String {
    let answer = |name: &str| format!("You will now get texts from {name}. Reply STOP to end.");
    match district_name.map(str::trim).filter(|name| !name.is_empty()) {
        Some(name) => {
            let text = answer(name);
            let cost = count_segments(&text);
            if cost.encoding == SmsEncoding::Gsm7 && cost.segments == 1 { text } else { answer("your school") }
        }
        None => answer("your school"),
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

    fn consented(mut record: PreferenceRecord, source: &str) -> PreferenceRecord {
        record.text_consent = Some(crate::domain::TextConsent {
            source: source.into(),
            at: DateTime::UNIX_EPOCH,
            recorded_by: "admin".into(),
        });
        record
    }

    #[test]
    fn under_opt_in_a_person_whose_consent_is_recorded_takes_the_text_default_for_each_reason() {
        let rule = TextRule::default();
        let defaults = PreferenceDefaults::default();
        for source in ["paper form", crate::domain::IMPORT_CONSENT, crate::domain::TEXT_CONSENT] {
            let record = consented(PreferenceRecord::default(), source);
            assert_eq!(rule.verdict(&record, &defaults, ContactReason::Attendance), TextVerdict::On, "{source}");
            assert_eq!(rule.verdict(&record, &defaults, ContactReason::Behavior), TextVerdict::Off, "{source}");
        }
        let own_off = consented(set(false, ContactReason::Attendance), "paper form");
        assert_eq!(rule.verdict(&own_off, &defaults, ContactReason::Attendance), TextVerdict::Off, "their Off wins");
    }

    #[test]
    fn a_district_s_own_text_defaults_apply_to_consenting_people_and_under_number_provided_only() {
        let defaults = PreferenceDefaults {
            on: std::collections::BTreeMap::from([(Channel::Text, vec![ContactReason::General])]),
        };
        let none = PreferenceRecord::default();
        let opt_in = TextRule::default();
        assert_eq!(opt_in.verdict(&none, &defaults, ContactReason::General), TextVerdict::NoConsent);
        let record = consented(PreferenceRecord::default(), "paper form");
        assert_eq!(opt_in.verdict(&record, &defaults, ContactReason::General), TextVerdict::On);
        assert_eq!(opt_in.verdict(&record, &defaults, ContactReason::Attendance), TextVerdict::Off);
        let number_provided = TextRule { policy: TextConsentPolicy::NumberProvided, ..TextRule::default() };
        assert_eq!(number_provided.verdict(&none, &defaults, ContactReason::General), TextVerdict::On);
        let own_off = set(false, ContactReason::General);
        assert_eq!(number_provided.verdict(&own_off, &defaults, ContactReason::General), TextVerdict::Off);
    }

    #[test]
    fn yes_y_and_start_give_consent_in_any_case_and_nothing_else_does() {
        for body in ["YES", "y", " Start ", "Yes!", "yes."] {
            assert!(gives_text_consent(body), "{body}");
        }
        for body in ["yes he will be there", "STOP", "UNSTOP", "", "yep"] {
            assert!(!gives_text_consent(body), "{body}");
        }
    }

    #[test]
    fn the_confirmation_names_the_district_when_it_fits_one_gsm_7_text() {
        let maple = consent_confirmation(Some("Maple ISD"));
        assert_eq!(maple, "You will now get texts from Maple ISD. Reply STOP to end.");
        for name in [None, Some("  "), Some("Écoles 🍁"), Some(&*"x".repeat(150))] {
            let answer = consent_confirmation(name);
            assert!(answer.contains("from your school."), "{answer}");
            let cost = count_segments(&answer);
            assert_eq!((cost.encoding, cost.segments), (SmsEncoding::Gsm7, 1));
        }
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
        assert_eq!(serde_json::to_value(TextVerdict::NoConsent).ok(), Some(serde_json::json!("no_consent")));
    }
}
