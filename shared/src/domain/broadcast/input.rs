//! A broadcast as a caller asks for it: the limits of each channel's
//! content, the channel names, and the validation that turns a
//! [`BroadcastInput`] into a [`ValidBroadcast`].

use chrono::{DateTime, Utc};

use super::{Audience, BroadcastChannel, BroadcastContent, BroadcastInput};
use crate::domain::template::validate_template;
use crate::domain::{ContactReason, DomainError};

/// Longest SMS text accepted (ten concatenated GSM-7 segments).
pub const MAX_SMS_CHARS: usize = 1530;
/// Longest plain-text call script (what the voice service takes).
pub const MAX_VOICE_TEXT_CHARS: usize = 3000;
/// Longest SSML call script, tags included.
pub const MAX_VOICE_SSML_CHARS: usize = 6000;

/// Whether a call script is SSML (it starts with `<speak>`).
pub fn is_ssml(script: &str) -> bool {
    script.trim_start().starts_with("<speak")
}
/// Longest email subject accepted.
pub const MAX_SUBJECT_CHARS: usize = 200;
/// Largest email body (text or HTML) accepted, in bytes.
pub const MAX_EMAIL_BYTES: usize = 256 * 1024;
/// Most people one audience names.
pub const MAX_AUDIENCE_ENTRIES: usize = 10_000;
/// Most lists one audience names: each list's definition is kept with the
/// broadcast, written in the one transaction that accepts it.
pub const MAX_AUDIENCE_LISTS: usize = 50;

/// A validated broadcast request: everything of a [`Broadcast`] a caller
/// decides (the service adds ids, sender, schools and state).
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)] // fields named for what they hold
pub struct ValidBroadcast {
    /// The contact reason.
    pub reason: ContactReason,
    /// Channels, without duplicates, in order.
    pub channels: Vec<BroadcastChannel>,
    /// Content, only of the chosen channels.
    pub content: BroadcastContent,
    /// The audience, deduplicated.
    pub audience: Audience,
    /// Requested time, if any.
    pub send_at: Option<DateTime<Utc>>,
    pub emergency: bool,
    pub landline_autocall: Option<bool>,
}

/// Parses the channel names; voice and other phone channels get a clear refusal.
pub fn parse_channels(names: &[String]) -> Result<Vec<BroadcastChannel>, DomainError> {
    if names.is_empty() {
        return Err(DomainError::invalid("channels: name at least one of `voice`, `text`, `email`"));
    }
    let mut channels = Vec::new();
    for name in names {
        let phones = ["call", "cell_phone", "home_phone", "work_phone", "household_phone"];
        if phones.contains(&name.as_str()) {
            return Err(DomainError::invalid(format!(
                "channels: `{name}`: calls go by `voice`, to every phone whose preference is On"
            )));
        }
        let channel: BroadcastChannel =
            name.parse().map_err(|e: DomainError| DomainError::invalid(format!("channels: {e}")))?;
        if !channels.contains(&channel) {
            channels.push(channel);
        }
    }
    Ok(channels)
}

/// Event facts a text may name besides the recipient variables (an SIS
/// event template's `{{student}}` ...), with stand-in values; none for a broadcast.
type Facts<'a> = &'a [(&'a str, String)];

fn checked_text(path: &str, text: &str, max_chars: usize, facts: Facts<'_>) -> Result<(), DomainError> {
    if text.trim().is_empty() {
        return Err(DomainError::invalid(format!("{path}: must not be empty")));
    }
    if text.chars().count() > max_chars {
        return Err(DomainError::invalid(format!("{path}: must be at most {max_chars} characters")));
    }
    let text = if facts.is_empty() { text.to_string() } else { crate::domain::fill_facts(text, facts) };
    validate_template(&text).map_err(|e| DomainError::invalid(format!("{path}: {e}")))
}

/// The most languages a broadcast's content may come in.
pub const MAX_TRANSLATIONS: usize = 12;

/// The content for the channels, each required and checked (`path` names
/// where it is in the request).
fn checked_content(
    path: &str,
    given: &BroadcastContent,
    channels: &[BroadcastChannel],
    facts: Facts<'_>,
) -> Result<BroadcastContent, DomainError> {
    let mut content = BroadcastContent::default();
    if channels.contains(&BroadcastChannel::Text) {
        let sms =
            given.sms.as_deref().ok_or_else(|| DomainError::invalid(format!("{path}.sms: required for `text`")))?;
        checked_text(&format!("{path}.sms"), sms, MAX_SMS_CHARS, facts)?;
        content.sms = Some(sms.trim().to_string());
    }
    if channels.contains(&BroadcastChannel::Voice) {
        let script = given
            .voice
            .as_deref()
            .ok_or_else(|| DomainError::invalid(format!("{path}.voice: required for `voice`")))?;
        let most = if is_ssml(script) { MAX_VOICE_SSML_CHARS } else { MAX_VOICE_TEXT_CHARS };
        checked_text(&format!("{path}.voice"), script, most, facts)?;
        content.voice = Some(script.trim().to_string());
    }
    if channels.contains(&BroadcastChannel::Email) {
        let email =
            given.email.as_ref().ok_or_else(|| DomainError::invalid(format!("{path}.email: required for `email`")))?;
        checked_text(&format!("{path}.email.subject"), &email.subject, MAX_SUBJECT_CHARS, facts)?;
        if email.subject.contains(['\r', '\n']) {
            return Err(DomainError::invalid(format!("{path}.email.subject: must be one line")));
        }
        checked_text(&format!("{path}.email.text"), &email.text, MAX_EMAIL_BYTES, facts)?;
        if let Some(html) = &email.html {
            checked_text(&format!("{path}.email.html"), html, MAX_EMAIL_BYTES, facts)?;
        }
        content.email = Some(email.clone());
    }
    Ok(content)
}

/// The content and each of its language variants checked for the
/// channels (`content.translations.es.sms` ... in errors).
pub(crate) fn checked_variants(
    given: &BroadcastContent,
    channels: &[BroadcastChannel],
    facts: Facts<'_>,
) -> Result<BroadcastContent, DomainError> {
    let mut content = checked_content("content", given, channels, facts)?;
    if given.translations.len() > MAX_TRANSLATIONS {
        return Err(DomainError::invalid(format!("content.translations: at most {MAX_TRANSLATIONS} languages")));
    }
    for (language, variant) in &given.translations {
        let code = crate::domain::language_code(language).filter(|code| code == language).ok_or_else(|| {
            DomainError::invalid(format!("content.translations: `{language}` is no language code (es, vi ...)"))
        })?;
        if !variant.translations.is_empty() {
            return Err(DomainError::invalid(format!("content.translations.{code}: a variant has no variants")));
        }
        let checked = checked_content(&format!("content.translations.{code}"), variant, channels, facts)?;
        content.translations.insert(code, checked);
    }
    Ok(content)
}

impl BroadcastInput {
    /// Validates the request: reason, channels, content for each channel
    /// (and only those), template variables, a non-empty audience.
    pub fn validate(&self) -> Result<ValidBroadcast, DomainError> {
        let reason: ContactReason =
            self.reason.parse().map_err(|e: DomainError| DomainError::invalid(format!("reason: {e}")))?;
        let channels = parse_channels(&self.channels)?;
        let content = checked_variants(&self.content, &channels, &[])?;
        let audience = &self.audience;
        if audience.lists.is_empty() && audience.rule.is_none() && audience.people.is_empty() {
            return Err(DomainError::invalid("audience: name lists, a rule or people"));
        }
        if audience.lists.len() > MAX_AUDIENCE_LISTS || audience.people.len() > MAX_AUDIENCE_ENTRIES {
            return Err(DomainError::invalid(format!(
                "audience: at most {MAX_AUDIENCE_LISTS} lists and {MAX_AUDIENCE_ENTRIES} people"
            )));
        }
        let mut audience = audience.clone();
        audience.lists.sort();
        audience.lists.dedup();
        audience.people.sort();
        audience.people.dedup();
        if let Some(rule) = &audience.rule {
            audience.rule =
                Some(rule.validated(audience.target).map_err(|e| DomainError::invalid(format!("audience.rule: {e}")))?);
        }
        Ok(ValidBroadcast {
            reason,
            channels,
            content,
            audience,
            send_at: self.send_at,
            emergency: self.emergency,
            landline_autocall: self.landline_autocall,
        })
    }
}
