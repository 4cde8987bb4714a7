//! Which language each planned message goes in: the variant of the
//! content in its first person's language, when the content has one;
//! otherwise the content itself (the district's own language). Pure.

use std::collections::HashMap;

use crate::domain::{BroadcastContent, PersonId, PlannedDelivery};
use crate::services::Recipients;

/// Sets each message's language from its first person's.
pub(super) fn choose_languages(messages: &mut [PlannedDelivery], recipients: &Recipients, content: &BroadcastContent) {
    if content.translations.is_empty() {
        return;
    }
    let language_of: HashMap<&PersonId, &str> = recipients
        .people
        .iter()
        .filter_map(|r| r.person.language.as_deref().map(|language| (&r.person.id, language)))
        .collect();
    for message in messages {
        message.language = message
            .people
            .first()
            .and_then(|person| language_of.get(person))
            .filter(|language| content.translations.contains_key(**language))
            .map(|language| (*language).to_string());
    }
}
