//! A district's messaging settings: its name (messages and HELP answers
//! say who is writing), its time zone and its quiet hours.

use serde::{Deserialize, Serialize};

use super::DomainError;
use super::quiet_hours::{QuietHours, parse_time_zone};

/// The time zone of a district that set none.
pub const DEFAULT_TIME_ZONE: &str = "America/New_York";
/// Longest district display name.
pub const MAX_DISTRICT_NAME: usize = 100;
/// Longest support contact or HELP answer.
pub const MAX_HELP_CHARS: usize = 300;

/// A district's settings as stored and served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistrictSettings {
    /// The name messages are signed with.
    #[serde(default)]
    pub name: Option<String>,
    /// IANA time zone (`America/Chicago`).
    #[serde(default = "default_zone")]
    pub time_zone: String,
    /// No non-emergency message goes out inside this window.
    #[serde(default)]
    pub quiet_hours: QuietHours,
    /// How families reach the district for help (a phone number or web
    /// address), named in the answer to HELP.
    #[serde(default)]
    pub support_contact: Option<String>,
    /// The district's own answer to HELP (replaces the default one).
    #[serde(default)]
    pub help_text: Option<String>,
    /// The E.164 numbers the district's texts come from: replies to them
    /// (STOP, START, HELP) are the district's.
    #[serde(default)]
    pub sms_numbers: Vec<String>,
    /// Who may be texted for other reasons than emergencies (see
    /// [`super::TextConsentPolicy`]); changed by district admins, audited.
    #[serde(default)]
    pub text_consent: super::TextConsentPolicy,
    /// Whether a text to a number known as a landline goes as a call
    /// reading the text (on unless the district turns it off; a broadcast
    /// may turn it off for itself).
    #[serde(default = "calls_landlines")]
    pub landline_autocall: bool,
    /// How many more times a busy or unanswered call is placed (0 to
    /// [`MAX_CALL_RETRIES`]; 2 unless the district says otherwise).
    #[serde(default = "default_call_retries")]
    pub call_retries: u32,
    /// Minutes between those tries (1 to [`MAX_CALL_RETRY_MINUTES`]; 5 unless set).
    #[serde(default = "default_call_retry_minutes")]
    pub call_retry_minutes: u32,
    /// How SIS events become messages.
    #[serde(default)]
    pub sis_events: SisEventSettings,
    /// The district's own language (`en` unless set): what the built-in
    /// SIS event wording is in for families whose language has no variant.
    #[serde(default = "default_language")]
    pub language: String,
}

fn default_language() -> String {
    "en".into()
}

/// How the district's SIS events become messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SisEventSettings {
    /// Event types whose messages go whatever the hour (quiet hours do not
    /// apply); texts still follow the consent policy.
    #[serde(default)]
    pub urgent: Vec<super::SisEventType>,
    /// Whether an unexcused absence is an emergency-purpose message (FCC
    /// 16-88 names unexcused absences): it then goes whatever the hour and
    /// texts every cell not opted out, as emergencies do. Off by default.
    #[serde(default)]
    pub unexcused_absence_is_emergency: bool,
    /// Whom an event's message reaches: `guardians` (the student's
    /// messenger guardians, the default), `students`, or `students_and_guardians`.
    #[serde(default = "event_target")]
    pub target: super::ListTarget,
}

fn event_target() -> super::ListTarget {
    super::ListTarget::Guardians
}

impl Default for SisEventSettings {
    fn default() -> Self {
        Self { urgent: Vec::new(), unexcused_absence_is_emergency: false, target: event_target() }
    }
}

/// The most retries a district may ask of a busy or unanswered call.
pub const MAX_CALL_RETRIES: u32 = 5;
/// The longest wait between two tries of a call, in minutes.
pub const MAX_CALL_RETRY_MINUTES: u32 = 60;

fn default_call_retries() -> u32 {
    2
}

fn default_call_retry_minutes() -> u32 {
    5
}

fn calls_landlines() -> bool {
    true
}

fn default_zone() -> String {
    DEFAULT_TIME_ZONE.into()
}

impl Default for DistrictSettings {
    fn default() -> Self {
        Self {
            name: None,
            time_zone: default_zone(),
            quiet_hours: QuietHours::default(),
            support_contact: None,
            help_text: None,
            sms_numbers: Vec::new(),
            text_consent: super::TextConsentPolicy::default(),
            landline_autocall: true,
            call_retries: default_call_retries(),
            call_retry_minutes: default_call_retry_minutes(),
            sis_events: SisEventSettings::default(),
            language: default_language(),
        }
    }
}

impl DistrictSettings {
    /// Checks the time zone and the name; quiet hours were checked when read.
    pub fn validate(self) -> Result<Self, DomainError> {
        parse_time_zone(&self.time_zone)?;
        let name = match self.name {
            Some(name) if name.trim().is_empty() => None,
            Some(name) if name.chars().count() > MAX_DISTRICT_NAME || name.chars().any(char::is_control) => {
                return Err(DomainError::Invalid(format!(
                    "name: at most {MAX_DISTRICT_NAME} characters, no control characters"
                )));
            }
            other => other.map(|n| n.trim().to_string()),
        };
        let mut sms_numbers = Vec::with_capacity(self.sms_numbers.len());
        for number in &self.sms_numbers {
            let parsed = super::PhoneNumber::parse_e164(number.trim())
                .map_err(|e| DomainError::Invalid(format!("sms_numbers: {e}")))?;
            sms_numbers.push(parsed.as_e164().to_string());
        }
        for (path, text) in [("support_contact", &self.support_contact), ("help_text", &self.help_text)] {
            if text.as_ref().is_some_and(|t| t.chars().count() > MAX_HELP_CHARS || t.chars().any(char::is_control)) {
                return Err(DomainError::Invalid(format!(
                    "{path}: at most {MAX_HELP_CHARS} characters, no control characters"
                )));
            }
        }
        if self.call_retries > MAX_CALL_RETRIES {
            return Err(DomainError::Invalid(format!("call_retries: 0 to {MAX_CALL_RETRIES}")));
        }
        if !(1..=MAX_CALL_RETRY_MINUTES).contains(&self.call_retry_minutes) {
            return Err(DomainError::Invalid(format!("call_retry_minutes: 1 to {MAX_CALL_RETRY_MINUTES}")));
        }
        let language = super::language_code(&self.language)
            .ok_or_else(|| DomainError::Invalid("language: a language code such as en or es".into()))?;
        if self.sis_events.target == super::ListTarget::Staff {
            return Err(DomainError::Invalid(
                "sis_events.target: guardians, students or students_and_guardians".into(),
            ));
        }
        Ok(Self { name, sms_numbers, language, ..self })
    }

    /// The district's rule for calling busy and unanswered lines again.
    pub fn call_retry_rule(&self) -> super::CallRetryRule {
        super::CallRetryRule {
            retries: self.call_retries.min(MAX_CALL_RETRIES),
            spacing: chrono::Duration::minutes(i64::from(self.call_retry_minutes.clamp(1, MAX_CALL_RETRY_MINUTES))),
        }
    }

    /// What the district texts back to STOP, START and HELP. The defaults
    /// carry what CTIA's handbook asks of each: who is writing, how to stop
    /// or come back, help contact, message frequency, and that message and
    /// data rates may apply.
    pub fn keyword_answer(&self, intent: super::ReplyIntent) -> Option<String> {
        let name = self.name.as_deref().unwrap_or("School notifications");
        let support = self.support_contact.as_deref().map(|c| format!(" Help: {c}.")).unwrap_or_default();
        match intent {
            super::ReplyIntent::OptOut => Some(format!(
                "{name}: You are unsubscribed and will receive no more messages. Reply START to resubscribe."
            )),
            super::ReplyIntent::OptIn => Some(format!(
                "{name}: You are resubscribed to school messages. Msg frequency varies. Msg & data rates may apply. Reply HELP for help, STOP to cancel."
            )),
            super::ReplyIntent::Help => Some(self.help_text.clone().unwrap_or_else(|| {
                format!(
                    "{name}: school and district notifications.{support} Msg frequency varies. Msg & data rates may apply. Reply STOP to cancel."
                )
            })),
            super::ReplyIntent::None => None,
        }
    }

    /// The district's time zone (the default when the stored one no longer parses).
    pub fn zone(&self) -> chrono_tz::Tz {
        parse_time_zone(&self.time_zone).unwrap_or(chrono_tz::America::New_York)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_keyword_answer_says_who_writes_and_the_help_answer_has_what_ctia_asks() {
        let settings = DistrictSettings {
            name: Some("Maple ISD".into()),
            support_contact: Some("555-0100".into()),
            ..DistrictSettings::default()
        };
        for intent in [super::super::ReplyIntent::OptOut, super::super::ReplyIntent::OptIn] {
            assert!(settings.keyword_answer(intent).is_some_and(|a| a.starts_with("Maple ISD:")));
        }
        let help = settings.keyword_answer(super::super::ReplyIntent::Help).unwrap_or_default();
        for part in ["Maple ISD", "555-0100", "Msg frequency varies", "Msg & data rates may apply", "Reply STOP"] {
            assert!(help.contains(part), "{part}: {help}");
        }
        assert_eq!(settings.keyword_answer(super::super::ReplyIntent::None), None);
    }

    #[test]
    fn call_retries_default_to_two_more_tries_five_minutes_apart_and_stay_in_bounds() {
        let rule = DistrictSettings::default().call_retry_rule();
        assert_eq!((rule.retries, rule.spacing), (2, chrono::Duration::minutes(5)));
        let too_many = DistrictSettings { call_retries: MAX_CALL_RETRIES + 1, ..DistrictSettings::default() };
        assert!(too_many.validate().is_err());
        let too_soon = DistrictSettings { call_retry_minutes: 0, ..DistrictSettings::default() };
        assert!(too_soon.validate().is_err());
        let none = DistrictSettings { call_retries: 0, ..DistrictSettings::default() };
        assert_eq!(none.validate().map(|s| s.call_retries), Ok(0));
    }

    #[test]
    fn the_district_s_language_is_read_as_a_code_and_an_unknown_one_is_refused() {
        let spanish = DistrictSettings { language: "Spanish".into(), ..DistrictSettings::default() };
        assert_eq!(spanish.validate().map(|s| s.language), Ok("es".to_string()));
        let unknown = DistrictSettings { language: "Klingon".into(), ..DistrictSettings::default() };
        assert!(unknown.validate().is_err());
    }

    #[test]
    fn an_unknown_time_zone_is_refused_and_a_blank_name_is_none() {
        let bad = DistrictSettings { time_zone: "Mars/Olympus".into(), ..DistrictSettings::default() };
        assert!(bad.validate().is_err());
        let blank = DistrictSettings { name: Some("  ".into()), ..DistrictSettings::default() };
        assert_eq!(blank.validate().map(|s| s.name), Ok(None));
    }
}
