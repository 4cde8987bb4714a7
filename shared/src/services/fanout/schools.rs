//! `{{school}}` for each planned message: the name of the recipient's
//! school — of the broadcast's schools the first the recipient belongs to,
//! else their first school. Pure; the plan reads the names only when the
//! content names a school at all.

use std::collections::{BTreeMap, HashMap};

use crate::domain::{BroadcastContent, PersonId, PlannedDelivery, SchoolId};
use crate::services::Recipients;

/// Whether any of the content's texts uses `{{school}}`.
pub(super) fn names_school(content: &BroadcastContent) -> bool {
    let email = content.email.iter().flat_map(|e| [Some(&e.subject), Some(&e.text), e.html.as_ref()]).flatten();
    content.sms.iter().chain(content.voice.iter()).chain(email).any(|text| {
        text.split("{{").skip(1).any(|rest| rest.split("}}").next().is_some_and(|name| name.trim() == "school"))
    })
}

/// Sets each message's school name from its first person's schools.
pub(super) fn name_schools(
    messages: &mut [PlannedDelivery],
    recipients: &Recipients,
    broadcast_schools: &[SchoolId],
    names: &BTreeMap<SchoolId, String>,
) {
    let schools_of: HashMap<&PersonId, &[SchoolId]> =
        recipients.people.iter().map(|r| (&r.person.id, r.person.schools.as_slice())).collect();
    for message in messages {
        let schools = message.people.first().and_then(|person| schools_of.get(person)).copied().unwrap_or_default();
        let school = schools.iter().find(|s| broadcast_schools.contains(s)).or_else(|| schools.first());
        message.school = school.and_then(|school| names.get(school)).filter(|name| !name.is_empty()).cloned();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::EmailContent;

    #[test]
    fn only_content_that_uses_the_school_variable_names_it() {
        let sms = |text: &str| BroadcastContent { sms: Some(text.into()), ..BroadcastContent::default() };
        assert!(names_school(&sms("From {{ school }}: closed")));
        assert!(!names_school(&sms("Our school is closed, {{first_name}}")));
        let email = BroadcastContent {
            email: Some(EmailContent {
                subject: "Hi".into(),
                text: "x".into(),
                html: Some("<b>{{school}}</b>".into()),
            }),
            ..BroadcastContent::default()
        };
        assert!(names_school(&email));
    }
}
