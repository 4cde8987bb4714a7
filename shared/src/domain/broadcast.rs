//! A broadcast: why (contact reason), how (channels and the content of
//! each), to whom (audience) and when; and what a caller writes to create
//! one. Validation happens once here, so a stored broadcast is sendable.
//!
//! Channels are `text` and `email`. Voice calls are a later capability: a
//! phone channel in a request is refused with a message saying so, never
//! accepted and silently dropped.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::named_enum::named_enum;
use super::{BroadcastId, ContactReason, ListId, ListRule, ListTarget, PersonId, SchoolId};

mod input;
mod rights;

pub(crate) use input::checked_variants;
pub use input::{
    MAX_AUDIENCE_LISTS, MAX_SMS_CHARS, MAX_VOICE_SSML_CHARS, MAX_VOICE_TEXT_CHARS, ValidBroadcast, is_ssml,
    parse_channels,
};
pub use rights::{Acceptance, Unallowed, reaches_only_own_sections, unallowed};

named_enum!(
    /// How a broadcast reaches people.
    BroadcastChannel, "broadcast channel" {
        /// SMS to cell phones.
        Text => "text",
        /// Email to the primary and secondary addresses.
        Email => "email",
        /// A call reading a script to the household, home, work and cell phones.
        Voice => "voice",
    }
);

impl BroadcastChannel {
    /// Whether quiet hours hold this channel back. The rules behind them
    /// (TCPA's calling window, a district's dialing window) are about calls
    /// and texts, which ring or buzz a phone at night; an email wakes nobody,
    /// so it goes at once.
    pub fn waits_for_quiet_hours(self) -> bool {
        match self {
            BroadcastChannel::Text | BroadcastChannel::Voice => true,
            BroadcastChannel::Email => false,
        }
    }

    /// The broadcast channel a delivery's contact channel belongs to.
    pub fn of(channel: super::Channel) -> Self {
        if channel.is_email() {
            BroadcastChannel::Email
        } else if channel.is_call() {
            BroadcastChannel::Voice
        } else {
            BroadcastChannel::Text
        }
    }
}

named_enum!(
    /// Where a broadcast is in its life.
    BroadcastState, "broadcast state" {
        /// Waiting for its `send_at`.
        Scheduled => "scheduled",
        /// Queued for planning.
        Queued => "queued",
        /// Reached the district's quiet hours: its texts wait for their end
        /// (its email, if any, is already planned).
        Deferred => "deferred",
        /// Planned: every delivery is queued, sent or skipped.
        Sending => "sending",
        /// Not sent (or, when part of it went before quiet hours, not
        /// finished): when it was planned, its sender no longer had the
        /// right to send it (`refusal` says which).
        Refused => "refused",
    }
);

named_enum!(
    /// A broadcast to an audience, or a staff member's personal message.
    BroadcastKind, "broadcast kind" {
        /// A message to an audience.
        Broadcast => "broadcast",
        /// A staff member's 1:1 message, in their own name.
        Personal => "personal",
    }
);

/// The content of an email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailContent {
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// Optional HTML body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
}

/// The content per channel. Texts may use the template variables of
/// [`crate::domain::template`] (`{{children}}` names the recipient's students).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BroadcastContent {
    /// The SMS text (required with the `text` channel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms: Option<String>,
    /// The email (required with the `email` channel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailContent>,
    /// The script a call reads (required with the `voice` channel): plain
    /// text (3,000 characters at most), or SSML starting with `<speak>`
    /// (6,000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice: Option<String>,
    /// The same content in other languages, by language code (`es` ...):
    /// a recipient whose language has a variant gets it (and a call in a
    /// voice for it); everyone else gets the content above.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub translations: std::collections::BTreeMap<String, BroadcastContent>,
}

impl BroadcastContent {
    /// The variant for `language`, or this content when it has none.
    pub fn for_language(&self, language: Option<&str>) -> &BroadcastContent {
        language.and_then(|language| self.translations.get(language)).unwrap_or(self)
    }
}

/// Whom a broadcast reaches: saved lists, an ad hoc rule, and named people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Audience {
    /// Saved lists, each with its own target.
    #[serde(default)]
    pub lists: Vec<ListId>,
    /// An ad hoc rule (as a list's), reaching `target`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<ListRule>,
    /// Named people: a student reaches `target`; guardians and staff themselves.
    #[serde(default)]
    pub people: Vec<PersonId>,
    /// Whom the rule's and the named students reach (default: their messenger guardians).
    #[serde(default = "guardians")]
    pub target: ListTarget,
}

fn guardians() -> ListTarget {
    ListTarget::Guardians
}

/// A broadcast as a caller writes it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BroadcastInput {
    /// The contact reason (preferences are per reason).
    pub reason: String,
    /// `text` and/or `email`.
    pub channels: Vec<String>,
    /// Content per channel (absent when `template` names it).
    #[serde(default)]
    pub content: BroadcastContent,
    /// A saved template whose content to send, in place of `content`.
    #[serde(default)]
    pub template: Option<String>,
    /// Whom it reaches.
    pub audience: Audience,
    /// When to send; absent or past means now.
    #[serde(default)]
    pub send_at: Option<DateTime<Utc>>,
    /// Goes out whatever the hour (quiet hours do not apply).
    #[serde(default)]
    pub emergency: bool,
    /// Whether a text to a number known as a landline goes as a call
    /// reading the text (absent: the district's `landline_autocall`).
    #[serde(default)]
    pub landline_autocall: Option<bool>,
}

/// A stored broadcast.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)] // fields named for what they hold
pub struct Broadcast {
    pub id: BroadcastId,
    /// Broadcast or personal message.
    pub kind: BroadcastKind,
    /// The contact reason.
    pub reason: ContactReason,
    /// Channels, without duplicates.
    pub channels: Vec<BroadcastChannel>,
    /// Content per channel.
    pub content: BroadcastContent,
    /// Whom it reaches.
    pub audience: Audience,
    /// Schools the audience lies in (empty: district-wide); what the sender's permission was checked on.
    pub schools: Vec<SchoolId>,
    /// When it should go.
    pub send_at: DateTime<Utc>,
    /// Quiet hours do not apply.
    pub emergency: bool,
    /// The staff member who created it.
    pub created_by: String,
    /// Their display name (personal messages say who sent them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_name: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Where it is.
    pub state: BroadcastState,
    /// Set when planning deferred part of it to the end of quiet hours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deferred_until: Option<DateTime<Utc>>,
    /// The channels still waiting for `deferred_until` (texts at night);
    /// empty once every channel is planned.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deferred_channels: Vec<BroadcastChannel>,
    /// What planning found, once planned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanSummary>,
    /// The sender's token as accepted, for planning to check their rights
    /// again; its presence also says the audience's lists were kept as they
    /// were then (`None`: accepted before either was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted: Option<Acceptance>,
    /// Why planning refused it (state `refused`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    /// The broadcast's word on calling landlines its texts cannot reach
    /// (absent: the district's setting).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub landline_autocall: Option<bool>,
    /// Quiet hours do not apply, though it is no emergency (an SIS event
    /// type the district marks urgent): texts still need consent.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub urgent: bool,
    /// The SIS event it was made from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<EventRef>,
}

/// The SIS event a broadcast was made from, as its report shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRef {
    /// The SIS's id of the event.
    pub id: String,
    /// Its type (`attendance.absent` ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// The student it is about.
    pub student: PersonId,
}

/// What planning a broadcast found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PlanSummary {
    /// People reached (after dedupe, before suppression).
    pub recipients: u64,
    /// Messages queued for sending.
    pub queued: u64,
    /// Contact points and people skipped, each recorded with its reason.
    pub skipped: u64,
    /// Send tasks queued.
    pub chunks: u64,
    /// When planning finished.
    pub planned_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(json: &str) -> BroadcastInput {
        serde_json::from_str(json).unwrap()
    }

    const TEXT_TO_PEOPLE: &str = r#"{"reason": "general", "channels": ["text"],
        "content": {"sms": "School is closed"}, "audience": {"people": ["s-2", "s-1", "s-2"]}}"#;

    #[test]
    fn a_valid_request_keeps_its_channels_and_deduplicates_people() {
        let valid = input(TEXT_TO_PEOPLE).validate().unwrap();
        assert_eq!(valid.channels, [BroadcastChannel::Text]);
        assert_eq!(valid.audience.people.len(), 2);
        assert_eq!(valid.audience.target, ListTarget::Guardians);
    }

    #[test]
    fn a_call_needs_its_script_and_a_phone_channel_name_points_to_voice() {
        let mut request = input(TEXT_TO_PEOPLE);
        request.channels = vec!["text".into(), "voice".into()];
        let message = request.validate().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("content.voice: required"), "{message}");
        request.content.voice = Some("School is closed today.".into());
        assert_eq!(
            request.validate().map(|v| v.channels).ok(),
            Some(vec![BroadcastChannel::Text, BroadcastChannel::Voice])
        );
        request.channels = vec!["home_phone".into()];
        let message = request.validate().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("calls go by `voice`"), "{message}");
    }

    #[test]
    fn each_channel_needs_its_content_and_content_of_other_channels_is_dropped() {
        let mut request = input(TEXT_TO_PEOPLE);
        request.channels = vec!["email".into()];
        assert!(request.validate().is_err());
        request.content.email =
            Some(EmailContent { subject: "Closed".into(), text: "Closed today".into(), html: None });
        let valid = request.validate().unwrap();
        assert_eq!(valid.content.sms, None);
    }

    #[test]
    fn an_empty_audience_an_unknown_reason_and_an_unknown_variable_are_refused() {
        let mut request = input(TEXT_TO_PEOPLE);
        request.audience.people.clear();
        assert!(request.validate().is_err());
        let mut request = input(TEXT_TO_PEOPLE);
        request.reason = "gossip".into();
        assert!(request.validate().is_err());
        let mut request = input(TEXT_TO_PEOPLE);
        request.content.sms = Some("Hello {{nickname}}".into());
        assert!(request.validate().is_err());
    }

    #[test]
    fn an_audience_names_at_most_the_lists_one_acceptance_can_keep() {
        let mut request = input(TEXT_TO_PEOPLE);
        request.audience.lists = (0..=MAX_AUDIENCE_LISTS).map(|n| ListId::parse(format!("l-{n}")).unwrap()).collect();
        let message = request.validate().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("at most 50 lists"), "{message}");
        request.audience.lists.pop();
        assert!(request.validate().is_ok());
    }

    #[test]
    fn a_two_line_subject_is_refused() {
        let mut request = input(TEXT_TO_PEOPLE);
        request.channels = vec!["email".into()];
        request.content.email = Some(EmailContent { subject: "a\nBcc: x".into(), text: "t".into(), html: None });
        assert!(request.validate().is_err());
    }
}
