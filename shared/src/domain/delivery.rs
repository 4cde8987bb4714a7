//! Deliveries: one message to one phone number or address for one
//! broadcast, or the record of why a contact point or person got nothing.
//! The work-queue tasks that carry planned deliveries between the steps.
//!
//! A delivery's [`DeliveryPoint`] (a number to text, an address to mail,
//! or a person for a person-level skip) is its key in the broadcast: one
//! message per phone number or address per broadcast, whoever reached it,
//! and a skip record per point or per person. Why a delivery was skipped or
//! failed is one [`DeliveryReason`], whichever step decided it.

use std::cmp::Ordering;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::call::CallDetail;
use super::named_enum::named_enum;
use super::segments::SmsEncoding;
use super::{Channel, ContactValue, DomainError, EmailAddress, PersonId, PhoneNumber};

named_enum!(
    /// Where one delivery is.
    DeliveryState, "delivery state" {
        /// Not sent, for the recorded reason.
        Skipped => "skipped",
        /// The provider took it.
        Sent => "sent",
        /// The carrier or mail server confirmed delivery.
        Delivered => "delivered",
        /// Not delivered, for the recorded reason.
        Failed => "failed",
    }
);

named_enum!(
    /// Why a delivery was not sent or not delivered: a skip decided when
    /// planning (a suppressed number or address, a person with nothing to
    /// reach), a provider's refusal at send time, or what a receipt
    /// reported. One vocabulary, so reports count by it.
    DeliveryReason, "delivery reason" {
        /// A landline: cannot take texts.
        Landline => "landline",
        /// The carrier or person blocks our texts.
        Blocked => "blocked",
        /// The number is out of service.
        Inactive => "inactive",
        /// The person opted out (STOP, or with the carrier).
        OptOut => "opt_out",
        /// The address bounced permanently.
        BouncedPermanent => "bounced_permanent",
        /// The address marked our mail as spam.
        Complaint => "complaint",
        /// No contact point for the broadcast's channels.
        NoContactPoint => "no_contact_point",
        /// Preferences Off for the reason on every channel.
        PreferencesOff => "preferences_off",
        /// A text for a non-emergency reason to someone whose consent nobody
        /// recorded, under the district's `opt_in` policy.
        NoTextConsent => "no_text_consent",
        /// A student with no messenger guardian to reach.
        NoGuardian => "no_guardian",
        /// The named person is no longer active (or unknown).
        InactivePerson => "inactive_person",
        /// The provider refused the number or address as invalid.
        InvalidRecipient => "invalid_recipient",
        /// Our side is at fault (account, configuration, content).
        SenderError => "sender_error",
        /// The provider throttled us and retries ran out.
        Throttled => "throttled",
        /// The provider was unavailable and retries ran out.
        ProviderUnavailable => "provider_unavailable",
        /// The phone was off or out of reach until the message expired.
        TurnedOff => "turned_off",
        /// The carrier could not say whether it was delivered.
        Unconfirmed => "unconfirmed",
        /// The mailbox refused it for now (full, out of office ...).
        BouncedTransient => "bounced_transient",
        /// The line was busy (a call), on every try once retries are spent.
        Busy => "busy",
        /// Nobody answered (a call), on every try once retries are spent.
        NoAnswer => "no_answer",
        /// The call did not go through and the voice service says no more.
        CallFailed => "call_failed",
        /// A record that names no reason (kept from before reasons were recorded).
        Unknown => "unknown",
    }
);

named_enum!(
    /// The groups a delivery report counts by: the broadcast's channels, and
    /// the people who got nothing at all.
    ReportGroup, "report group" {
        /// Texts.
        Text => "text",
        /// Emails (primary and secondary addresses).
        Email => "email",
        /// Calls (household, home, work and cell phones).
        Voice => "voice",
        /// Person-level records (nothing on, no contact point, no guardian ...).
        People => "people",
    }
);

impl ReportGroup {
    /// The group a delivery counts in.
    pub fn of(delivery: &Delivery) -> Self {
        match delivery.channel {
            None => ReportGroup::People,
            Some(channel) if channel.is_email() => ReportGroup::Email,
            Some(channel) if channel.is_call() => ReportGroup::Voice,
            Some(_) => ReportGroup::Text,
        }
    }
}

/// Where a delivery goes, and its key within the broadcast: a number to
/// text, an address to mail (primary and secondary share it), or a person
/// for a person-level skip. Stored and compared as `sms:+1…`, `email:a@b`,
/// `person:id`; shown masked.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum DeliveryPoint {
    /// A text to this number.
    Sms(PhoneNumber),
    /// A call to this number.
    Voice(PhoneNumber),
    /// An email to this address.
    Email(EmailAddress),
    /// A person-level record (nothing to send).
    Person(PersonId),
}

impl DeliveryPoint {
    /// The point of a message on a channel to a contact value (a text to a
    /// number, an email to an address); `None` when they do not go together.
    pub fn of(channel: Channel, value: &ContactValue) -> Option<Self> {
        match value {
            ContactValue::Email(address) if channel.is_email() => Some(DeliveryPoint::Email(address.clone())),
            ContactValue::Phone(number) if channel.is_call() => Some(DeliveryPoint::Voice(number.clone())),
            ContactValue::Phone(number) if channel == Channel::Text => Some(DeliveryPoint::Sms(number.clone())),
            _ => None,
        }
    }

    /// The key form, `sms:+1…` / `email:a@b` / `person:id`. Raw: never log it.
    pub fn key(&self) -> String {
        match self {
            DeliveryPoint::Sms(number) => format!("sms:{}", number.as_e164()),
            DeliveryPoint::Voice(number) => format!("voice:{}", number.as_e164()),
            DeliveryPoint::Email(address) => format!("email:{}", address.as_str()),
            DeliveryPoint::Person(person) => format!("person:{person}"),
        }
    }

    /// A point from its key form.
    pub fn parse(key: &str) -> Result<Self, DomainError> {
        match key.split_once(':') {
            Some(("sms", number)) => Ok(DeliveryPoint::Sms(PhoneNumber::parse_e164(number)?)),
            Some(("voice", number)) => Ok(DeliveryPoint::Voice(PhoneNumber::parse_e164(number)?)),
            Some(("email", address)) => Ok(DeliveryPoint::Email(EmailAddress::parse(address)?)),
            Some(("person", person)) => Ok(DeliveryPoint::Person(PersonId::parse(person)?)),
            _ => Err(DomainError::Invalid("not a delivery point".into())),
        }
    }

    /// The number or address a message goes to (`None` for a person).
    pub fn contact(&self) -> Option<ContactValue> {
        match self {
            DeliveryPoint::Sms(number) | DeliveryPoint::Voice(number) => Some(ContactValue::Phone(number.clone())),
            DeliveryPoint::Email(address) => Some(ContactValue::Email(address.clone())),
            DeliveryPoint::Person(_) => None,
        }
    }
}

impl Ord for DeliveryPoint {
    /// In key order: chunks of a plan are checkpointed as key ranges.
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}

impl PartialOrd for DeliveryPoint {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for DeliveryPoint {
    /// Masked, as the number's and the address's own `Display`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeliveryPoint::Sms(number) => write!(f, "sms:{number}"),
            DeliveryPoint::Voice(number) => write!(f, "voice:{number}"),
            DeliveryPoint::Email(address) => write!(f, "email:{address}"),
            DeliveryPoint::Person(person) => write!(f, "person:{person}"),
        }
    }
}

impl fmt::Debug for DeliveryPoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for DeliveryPoint {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.key())
    }
}

impl<'de> Deserialize<'de> for DeliveryPoint {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let key = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        DeliveryPoint::parse(&key).map_err(serde::de::Error::custom)
    }
}

/// A message the plan decided to send: to one number or address, on behalf
/// of everyone who reached it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedDelivery {
    /// `text`, `email` or `secondary_email`.
    pub channel: Channel,
    /// The number or the address (on the queue: the E.164 number or the address).
    pub to: ContactValue,
    /// The people reached at this point (household members sharing a phone ...).
    pub people: Vec<PersonId>,
    /// The recipient's first name when one person is reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// First names of the students through whom the point was reached.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<String>,
    /// The name of the recipient's school (`{{school}}`), when the content names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub school: Option<String>,
    /// The language of the content's variant this message goes in (`None`: the content itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

impl PlannedDelivery {
    /// The delivery's point (its key within the broadcast). A planned
    /// message pairs a text channel with a number and an email channel with
    /// an address; a mismatched one (a hand-made task) is its number's or
    /// address's own point.
    pub fn point(&self) -> DeliveryPoint {
        DeliveryPoint::of(self.channel, &self.to).unwrap_or_else(|| match &self.to {
            ContactValue::Phone(number) => DeliveryPoint::Sms(number.clone()),
            ContactValue::Email(address) => DeliveryPoint::Email(address.clone()),
        })
    }
}

/// A delivery as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// Where it goes (its key within the broadcast).
    pub point: DeliveryPoint,
    /// The channel (absent for person-level skips).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    /// People reached at the point.
    #[serde(default)]
    pub people: Vec<PersonId>,
    /// Where it is.
    pub state: DeliveryState,
    /// Why it was skipped or failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<DeliveryReason>,
    /// The provider's message id once sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_message_id: Option<String>,
    /// SMS segments billed for the text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segments: Option<u32>,
    /// GSM-7 or UCS-2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<SmsEncoding>,
    /// The provider's or carrier's raw code, kept as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_code: Option<String>,
    /// Send attempts made (a resend after a worker crash counts).
    #[serde(default)]
    pub attempts: u32,
    /// The provider that took the message (`aws`): only its receipts touch
    /// the delivery. `None`: any provider's (the simulated gateways).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// A call's own record: who answered, what a retry reads, the next try.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<CallDetail>,
    /// The language of the content's variant it went in (`None`: the content itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// When the state last changed.
    pub updated_at: DateTime<Utc>,
}

impl Delivery {
    /// A message the provider took: sent once, awaiting its receipt, with
    /// the provider's id when known.
    pub fn sent(
        point: DeliveryPoint,
        channel: Channel,
        provider_message_id: Option<String>,
        at: DateTime<Utc>,
    ) -> Self {
        Delivery {
            point,
            channel: Some(channel),
            people: Vec::new(),
            state: DeliveryState::Sent,
            reason: None,
            provider_message_id,
            segments: None,
            encoding: None,
            raw_code: None,
            attempts: 1,
            provider: None,
            call: None,
            language: None,
            updated_at: at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primary_and_secondary_email_share_a_point_and_texts_use_the_number() {
        let address = ContactValue::Email(EmailAddress::parse("a@b.org").unwrap());
        let number = ContactValue::Phone(PhoneNumber::parse_e164("+16175550142").unwrap());
        assert_eq!(DeliveryPoint::of(Channel::Email, &address), DeliveryPoint::of(Channel::SecondaryEmail, &address));
        assert_eq!(DeliveryPoint::of(Channel::Text, &number).map(|p| p.key()).as_deref(), Some("sms:+16175550142"));
        assert_eq!(DeliveryPoint::of(Channel::Text, &address), None, "a text needs a number");
    }

    #[test]
    fn a_point_reads_back_from_its_key_is_shown_masked_and_sorts_as_its_key() {
        for key in ["sms:+16175550142", "email:a@b.org", "person:g-1"] {
            let point = DeliveryPoint::parse(key).unwrap();
            assert_eq!(point.key(), key);
            assert_eq!(serde_json::to_value(&point).unwrap(), serde_json::json!(key));
        }
        let shown = DeliveryPoint::parse("sms:+16175550142").unwrap().to_string();
        assert!(!shown.contains("555014"), "{shown}");
        let mut points: Vec<DeliveryPoint> = ["sms:+16175550142", "person:g-1", "email:a@b.org"]
            .iter()
            .map(|k| DeliveryPoint::parse(k).unwrap())
            .collect();
        points.sort();
        assert_eq!(
            points.iter().map(DeliveryPoint::key).collect::<Vec<_>>(),
            ["email:a@b.org", "person:g-1", "sms:+16175550142"]
        );
        assert!(DeliveryPoint::parse("fax:123").is_err());
    }

    #[test]
    fn deliveries_and_tasks_stored_before_typed_points_read_back_and_write_the_same() {
        // As the store and the queue hold them today (no migration).
        let stored = serde_json::json!([
            {"point": "sms:+16175552345", "channel": "text", "people": ["g-1"], "state": "failed",
             "reason": "landline", "provider_message_id": "SM1", "segments": 1, "raw_code": "30006",
             "attempts": 1, "updated_at": "2026-11-02T09:00:00Z"},
            {"point": "email:ana@example.org", "channel": "email", "people": ["g-1"], "state": "skipped",
             "reason": "complaint", "attempts": 0, "updated_at": "2026-11-02T09:00:00Z"},
            {"point": "person:s-1", "people": ["s-1"], "state": "skipped", "reason": "no_guardian",
             "attempts": 0, "updated_at": "2026-11-02T09:00:00Z"},
            {"point": "sms:+16175552346", "channel": "text", "people": [], "state": "failed",
             "reason": "provider_unavailable", "attempts": 3, "updated_at": "2026-11-02T09:00:00Z"}
        ]);
        let read: Vec<Delivery> = serde_json::from_value(stored.clone()).unwrap();
        assert_eq!(read[0].point, DeliveryPoint::Sms(PhoneNumber::parse_e164("+16175552345").unwrap()));
        assert_eq!(read[0].reason, Some(DeliveryReason::Landline));
        assert_eq!(read[2].point, DeliveryPoint::Person(PersonId::parse("s-1").unwrap()));
        assert_eq!(serde_json::to_value(&read).unwrap(), stored, "written back the same");
        let task = r#"{"task":"send_v1","district":"d-1","broadcast":"b-1","chunk":0,
            "deliveries":[{"channel":"email","to":"ana@example.org","people":["g-1"]},
                          {"channel":"text","to":"+16175552345","people":["g-1"]}]}"#;
        let Ok(crate::domain::Task::SendV1 { deliveries, .. }) = crate::domain::Task::from_body(task) else {
            panic!("{task}")
        };
        assert_eq!(deliveries[0].point().key(), "email:ana@example.org");
        assert_eq!(deliveries[1].point().key(), "sms:+16175552345");
    }
}
