//! A district's saved message templates: content per channel (voice
//! script, SMS, email) and per language, checked when saved (an unknown
//! variable is refused), used by broadcasts (`"template": "<id>"` in place
//! of `content`) and, with `event_type`, as the district's own wording of
//! an SIS event type (which may also name the event's facts: `{{student}}`,
//! `{{date}}`, `{{period}}`-like `{{when}}` ...).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::broadcast::checked_variants;
use super::{BroadcastChannel, BroadcastContent, DomainError, SisEventType, fact_stand_ins, validate_id};

/// The longest template name.
pub const MAX_TEMPLATE_NAME: usize = 100;

/// A template as a caller writes it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateInput {
    /// What staff call it.
    pub name: String,
    /// The SIS event type whose messages it words (at most one per type).
    #[serde(default)]
    pub event_type: Option<String>,
    /// Content per channel, with `translations` per language.
    pub content: BroadcastContent,
}

/// A saved template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageTemplate {
    /// Its id within the district.
    pub id: String,
    /// What staff call it.
    pub name: String,
    /// The SIS event type it words, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<SisEventType>,
    /// The channels its content covers (`voice`, `text`, `email`).
    pub channels: Vec<BroadcastChannel>,
    /// Content per channel and language, as checked.
    pub content: BroadcastContent,
    /// Who saved it last.
    pub updated_by: String,
    /// When.
    pub updated_at: DateTime<Utc>,
}

impl TemplateInput {
    /// Checks the template; `id` is its id (new or kept).
    pub fn validate(&self, id: &str, by: &str, at: DateTime<Utc>) -> Result<MessageTemplate, DomainError> {
        validate_id("id", id)?;
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > MAX_TEMPLATE_NAME || name.chars().any(char::is_control) {
            return Err(DomainError::invalid(format!(
                "name: 1 to {MAX_TEMPLATE_NAME} characters, no control characters"
            )));
        }
        let event_type = self
            .event_type
            .as_deref()
            .map(|kind| kind.parse::<SisEventType>().map_err(|e| DomainError::invalid(format!("event_type: {e}"))))
            .transpose()?;
        let mut channels = Vec::new();
        if self.content.voice.is_some() {
            channels.push(BroadcastChannel::Voice);
        }
        if self.content.sms.is_some() {
            channels.push(BroadcastChannel::Text);
        }
        if self.content.email.is_some() {
            channels.push(BroadcastChannel::Email);
        }
        if channels.is_empty() {
            return Err(DomainError::invalid("content: a voice script, an SMS text or an email"));
        }
        let facts = event_type.map(fact_stand_ins).unwrap_or_default();
        let content = checked_variants(&self.content, &channels, &facts)?;
        Ok(MessageTemplate {
            id: id.to_string(),
            name: name.to_string(),
            event_type,
            channels,
            content,
            updated_by: by.to_string(),
            updated_at: at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(json: serde_json::Value) -> TemplateInput {
        serde_json::from_value(json).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_template_is_checked_for_its_channels_languages_and_variables() {
        let at = DateTime::<Utc>::UNIX_EPOCH;
        let good = input(serde_json::json!({"name": "Closing", "content": {
            "sms": "{{sender}}: {{school}} closes at noon.",
            "translations": {"es": {"sms": "{{sender}}: {{school}} cierra al mediodía."}}}}));
        let saved = good.validate("t-1", "admin", at).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(saved.channels, [BroadcastChannel::Text]);
        let absence = input(serde_json::json!({"name": "Absent", "event_type": "attendance.absent",
            "content": {"sms": "{{student}} was {{status}} {{when}} on {{date}}."}}));
        assert!(absence.validate("t-2", "admin", at).is_ok(), "an event template names the event's facts");
        for (json, names) in [
            (serde_json::json!({"name": "x", "content": {"sms": "Hi {{student}}"}}), "student"),
            (
                serde_json::json!({"name": "x", "event_type": "grades.failing", "content": {"sms": "{{balance}}"}}),
                "balance",
            ),
            (
                serde_json::json!({"name": "x", "event_type": "attendance.present", "content": {"sms": "x"}}),
                "event_type",
            ),
            (serde_json::json!({"name": " ", "content": {"sms": "x"}}), "name"),
            (serde_json::json!({"name": "x", "content": {}}), "content"),
            (
                serde_json::json!({"name": "x", "content": {"sms": "x", "translations": {"es": {"voice": "y"}}}}),
                "translations.es.sms",
            ),
        ] {
            let error =
                input(json.clone()).validate("t-3", "admin", at).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(error.contains(names), "{json}: {error}");
        }
    }
}
