//! The pure heart of fan-out: [`plan_deliveries`] turns resolved people
//! into one message per number or address, and skip records for every
//! point and person that gets nothing, with the reason.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};

use crate::domain::{
    BroadcastChannel, Channel, ContactPoint, ContactReason, ContactValue, Delivery, DeliveryPoint, DeliveryReason,
    DeliveryState, EmailAddress, EmailStatus, PersonId, PhoneNumber, PlannedDelivery, PreferenceDefaults, SmsStatus,
    TextRule, TextVerdict,
};
use crate::services::recipients::{Recipient, Recipients};

/// Suppression states known to the district, by number or address.
#[derive(Debug, Clone, Default)]
pub struct Suppressions {
    /// Numbers whose SMS status is not Ok.
    pub sms: HashMap<PhoneNumber, SmsStatus>,
    /// Addresses whose email status is not Ok.
    pub email: HashMap<EmailAddress, EmailStatus>,
}

/// What [`plan_deliveries`] decided.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Messages to send, in point order, one per point.
    pub messages: Vec<PlannedDelivery>,
    /// Skip records (points and people), in point order.
    pub skips: Vec<Delivery>,
}

fn sms_skip(status: SmsStatus) -> Option<DeliveryReason> {
    match status {
        SmsStatus::Landline => Some(DeliveryReason::Landline),
        SmsStatus::Blocked => Some(DeliveryReason::Blocked),
        SmsStatus::Inactive => Some(DeliveryReason::Inactive),
        SmsStatus::OptOut => Some(DeliveryReason::OptOut),
        _ => None,
    }
}

/// A call skips only a number out of service: a landline takes calls, and
/// STOP and carrier blocks are about texts.
fn call_skip(status: SmsStatus) -> Option<DeliveryReason> {
    (status == SmsStatus::Inactive).then_some(DeliveryReason::Inactive)
}

/// The channels one contact point is reached on by a broadcast's channels:
/// a cell phone by text and by call, the other phones by call, addresses by email.
fn channels_of(contact: &ContactPoint, channels: &[BroadcastChannel]) -> Vec<Channel> {
    let mut reached = Vec::new();
    match (&contact.value, contact.channel) {
        (ContactValue::Phone(_), phone) if phone.is_call() => {
            if phone == Channel::CellPhone && channels.contains(&BroadcastChannel::Text) {
                reached.push(Channel::Text);
            }
            if channels.contains(&BroadcastChannel::Voice) {
                reached.push(phone);
            }
        }
        (ContactValue::Email(_), channel) if channels.contains(&BroadcastChannel::Email) => reached.push(channel),
        _ => {}
    }
    reached
}

fn email_skip(status: EmailStatus) -> Option<DeliveryReason> {
    match status {
        EmailStatus::BouncedPermanent => Some(DeliveryReason::BouncedPermanent),
        EmailStatus::Complaint => Some(DeliveryReason::Complaint),
        _ => None,
    }
}

fn skip(
    point: DeliveryPoint,
    channel: Option<Channel>,
    people: Vec<PersonId>,
    reason: DeliveryReason,
    now: DateTime<Utc>,
) -> Delivery {
    Delivery {
        point,
        channel,
        people,
        state: DeliveryState::Skipped,
        reason: Some(reason),
        call: None,
        language: None,
        provider_message_id: None,
        segments: None,
        encoding: None,
        raw_code: None,
        attempts: 0,
        provider: None,
        updated_at: now,
    }
}

/// The pure heart of fan-out: which message goes to which point, and why
/// every other point and person gets nothing.
pub fn plan_deliveries(
    recipients: &Recipients,
    channels: &[BroadcastChannel],
    (reason, texts): (ContactReason, TextRule),
    defaults: &PreferenceDefaults,
    suppressions: &Suppressions,
    now: DateTime<Utc>,
) -> Plan {
    let mut messages: BTreeMap<DeliveryPoint, PlannedDelivery> = BTreeMap::new();
    let mut skips: BTreeMap<DeliveryPoint, Delivery> = BTreeMap::new();
    for Recipient { person, children } in &recipients.people {
        let mut has_point = false;
        let mut any_on = false;
        let mut no_consent = false;
        for contact in &person.contacts {
            for channel in channels_of(contact, channels) {
                has_point = true;
                let on = if channel == Channel::Text {
                    let verdict = texts.verdict(&person.preferences, defaults, reason);
                    no_consent |= verdict == TextVerdict::NoConsent;
                    verdict == TextVerdict::On
                } else {
                    person.preferences.effective(defaults, channel, reason).on
                };
                if !on {
                    continue;
                }
                any_on = true;
                let Some(mut point) = DeliveryPoint::of(channel, &contact.value) else { continue };
                let mut channel = channel;
                let mut suppressed = match (&point, &contact.value) {
                    (DeliveryPoint::Voice(number), _) => suppressions.sms.get(number).copied().and_then(call_skip),
                    (_, ContactValue::Phone(number)) => suppressions.sms.get(number).copied().and_then(sms_skip),
                    (_, ContactValue::Email(address)) => suppressions.email.get(address).copied().and_then(email_skip),
                };
                // A text to a landline goes as a call reading it (the landline autocall).
                if let (Some(DeliveryReason::Landline), DeliveryPoint::Sms(number)) = (suppressed, &point)
                    && texts.landline_autocall
                {
                    point = DeliveryPoint::Voice(number.clone());
                    channel = Channel::CellPhone;
                    suppressed = None;
                }
                if let Some(reason) = suppressed {
                    let record =
                        skips.entry(point.clone()).or_insert_with(|| skip(point, Some(channel), vec![], reason, now));
                    record.people.push(person.id.clone());
                    continue;
                }
                let message = messages.entry(point).or_insert_with(|| PlannedDelivery {
                    channel,
                    to: contact.value.clone(),
                    people: Vec::new(),
                    first_name: Some(person.given_name.clone()),
                    children: Vec::new(),
                    school: None,
                    language: None,
                });
                if !message.people.contains(&person.id) {
                    message.people.push(person.id.clone());
                }
                if message.people.len() > 1 {
                    message.first_name = None;
                }
                for child in children {
                    if !message.children.contains(child) {
                        message.children.push(child.clone());
                    }
                }
            }
        }
        if !any_on {
            let reason = match (has_point, no_consent) {
                (false, _) => DeliveryReason::NoContactPoint,
                (true, true) => DeliveryReason::NoTextConsent,
                (true, false) => DeliveryReason::PreferencesOff,
            };
            let point = DeliveryPoint::Person(person.id.clone());
            skips.insert(point.clone(), skip(point, None, vec![person.id.clone()], reason, now));
        }
    }
    for (ids, reason) in [
        (&recipients.without_guardian, DeliveryReason::NoGuardian),
        (&recipients.inactive, DeliveryReason::InactivePerson),
    ] {
        for id in ids {
            let point = DeliveryPoint::Person(id.clone());
            skips.insert(point.clone(), skip(point, None, vec![id.clone()], reason, now));
        }
    }
    let mut messages: Vec<PlannedDelivery> = messages.into_values().collect();
    for message in &mut messages {
        message.children.sort();
    }
    Plan { messages, skips: skips.into_values().collect() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ContactPoint, PersonRole, PreferenceRecord, Region};
    use crate::services::{Contactable, Recipient};

    fn person(id: &str, name: &str, contacts: &[(Channel, &str)]) -> Contactable {
        Contactable {
            id: PersonId::parse(id).unwrap(),
            role: PersonRole::Guardian,
            given_name: name.into(),
            family_name: "Diaz".into(),
            schools: vec![],
            active: true,
            birth_date: None,
            household: None,
            language: None,
            contacts: contacts
                .iter()
                .map(|(channel, value)| ContactPoint::parse(*channel, value, Region::US).unwrap())
                .collect(),
            preferences: PreferenceRecord::default(),
            guardians: vec![],
        }
    }

    fn texts_on(mut person: Contactable) -> Contactable {
        let setting = crate::domain::Setting {
            on: true,
            source: crate::domain::PreferenceSource::SelfSet,
            updated_at: DateTime::UNIX_EPOCH,
            by: "me".into(),
        };
        let defaults = PreferenceDefaults::default();
        person.preferences.set(&defaults, Channel::Text, ContactReason::Emergency, setting);
        person
    }

    fn recipients(people: Vec<(Contactable, &[&str])>) -> Recipients {
        Recipients {
            people: people
                .into_iter()
                .map(|(person, children)| Recipient {
                    person,
                    children: children.iter().map(|c| (*c).to_string()).collect(),
                })
                .collect(),
            ..Recipients::default()
        }
    }

    fn plan(recipients: &Recipients, suppressions: &Suppressions) -> Plan {
        let channels = [BroadcastChannel::Text, BroadcastChannel::Email];
        plan_deliveries(
            recipients,
            &channels,
            (ContactReason::Emergency, TextRule::default()),
            &PreferenceDefaults::default(),
            suppressions,
            DateTime::UNIX_EPOCH,
        )
    }

    #[test]
    fn a_guardian_of_siblings_gets_one_message_naming_both() {
        let ana = texts_on(person("g-1", "Ana", &[(Channel::CellPhone, "617-555-2345")]));
        let plan = plan(&recipients(vec![(ana, &["Leo", "Mia"])]), &Suppressions::default());
        assert_eq!(plan.messages.len(), 1);
        assert_eq!(plan.messages[0].children, ["Leo", "Mia"]);
        assert_eq!(plan.messages[0].first_name.as_deref(), Some("Ana"));
    }

    #[test]
    fn two_people_sharing_a_phone_or_an_address_get_one_message_for_both() {
        let ana = texts_on(person(
            "g-1",
            "Ana",
            &[(Channel::CellPhone, "617-555-2345"), (Channel::Email, "home@example.org")],
        ));
        let luis = texts_on(person(
            "g-2",
            "Luis",
            &[(Channel::CellPhone, "617-555-2345"), (Channel::SecondaryEmail, "home@example.org")],
        ));
        let plan = plan(&recipients(vec![(ana, &["Leo"]), (luis, &["Mia"])]), &Suppressions::default());
        assert_eq!(plan.messages.len(), 2, "one text and one email: {:?}", plan.messages);
        for message in &plan.messages {
            assert_eq!(message.people.len(), 2);
            assert_eq!(message.children, ["Leo", "Mia"]);
            assert_eq!(message.first_name, None, "two people: no single first name");
        }
    }

    #[test]
    fn every_suppression_reason_is_a_skip_record_and_texts_off_by_default_explain_themselves() {
        let cases = [
            (SmsStatus::Landline, "landline"),
            (SmsStatus::Blocked, "blocked"),
            (SmsStatus::Inactive, "inactive"),
            (SmsStatus::OptOut, "opt_out"),
        ];
        for (status, reason) in cases {
            let ana = texts_on(person("g-1", "Ana", &[(Channel::CellPhone, "617-555-2345")]));
            let suppressions = Suppressions {
                sms: [(PhoneNumber::parse_e164("+16175552345").unwrap(), status)].into(),
                ..Default::default()
            };
            let plan = plan(&recipients(vec![(ana, &[])]), &suppressions);
            assert!(plan.messages.is_empty());
            assert_eq!(plan.skips.len(), 1);
            assert_eq!(plan.skips[0].reason.map(DeliveryReason::as_str), Some(reason));
        }
        for (status, reason) in
            [(EmailStatus::BouncedPermanent, "bounced_permanent"), (EmailStatus::Complaint, "complaint")]
        {
            let ana = person("g-1", "Ana", &[(Channel::Email, "ana@example.org")]);
            let suppressions = Suppressions {
                email: [(EmailAddress::parse("ana@example.org").unwrap(), status)].into(),
                ..Default::default()
            };
            let plan = plan(&recipients(vec![(ana, &[])]), &suppressions);
            assert_eq!(plan.skips[0].reason.map(DeliveryReason::as_str), Some(reason));
        }
        let ana = person("g-1", "Ana", &[(Channel::Email, "ana@example.org")]);
        let transient = Suppressions {
            email: [(EmailAddress::parse("ana@example.org").unwrap(), EmailStatus::BouncedTransient)].into(),
            ..Default::default()
        };
        assert_eq!(plan(&recipients(vec![(ana, &[])]), &transient).messages.len(), 1, "a soft bounce still gets mail");

        let no_consent = person("g-1", "Ana", &[(Channel::CellPhone, "617-555-2345")]);
        let unconsented = plan(&recipients(vec![(no_consent, &[])]), &Suppressions::default());
        assert_eq!(unconsented.skips[0].reason.map(DeliveryReason::as_str), Some("no_text_consent"));
        let mut texts_off = person("g-1", "Ana", &[(Channel::CellPhone, "617-555-2345")]);
        let off = crate::domain::Setting {
            on: false,
            source: crate::domain::PreferenceSource::SelfSet,
            updated_at: DateTime::UNIX_EPOCH,
            by: "me".into(),
        };
        texts_off.preferences.set(&PreferenceDefaults::default(), Channel::Text, ContactReason::Emergency, off);
        let plan = plan(&recipients(vec![(texts_off, &[])]), &Suppressions::default());
        assert_eq!(plan.skips[0].reason.map(DeliveryReason::as_str), Some("preferences_off"));
        let nothing = person("g-2", "Luis", &[(Channel::HomePhone, "617-555-2399")]);
        let plan = super::plan_deliveries(
            &recipients(vec![(nothing, &[])]),
            &[BroadcastChannel::Text],
            (ContactReason::Emergency, TextRule::default()),
            &PreferenceDefaults::default(),
            &Suppressions::default(),
            DateTime::UNIX_EPOCH,
        );
        assert_eq!(plan.skips[0].reason.map(DeliveryReason::as_str), Some("no_contact_point"));
    }
}
