//! Deliveries: one message to one phone number or address for one
//! broadcast, or the record of why a contact point or person got nothing.
//! The work-queue tasks that carry planned deliveries between the steps.
//!
//! A delivery's *point* (`sms:+1…`, `email:a@b`, `person:id`) is its key in
//! the broadcast: one message per phone number or address per broadcast,
//! whoever reached it, and a skip record per point or per person.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::named_enum::named_enum;
use super::segments::SmsEncoding;
use super::{BroadcastId, Channel, DistrictId, PersonId};

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
    /// Why a point or person was not sent anything.
    SkipReason, "skip reason" {
        /// The number is a landline: it cannot take texts.
        Landline => "landline",
        /// The carrier or person blocks our texts.
        Blocked => "blocked",
        /// The number is out of service.
        Inactive => "inactive",
        /// The person replied STOP (or opted out with the carrier).
        OptOut => "opt_out",
        /// The address bounced permanently.
        BouncedPermanent => "bounced_permanent",
        /// The address marked our mail as spam.
        Complaint => "complaint",
        /// The person has no contact point for the broadcast's channels.
        NoContactPoint => "no_contact_point",
        /// The person's preferences are Off for this reason on every channel they have.
        PreferencesOff => "preferences_off",
        /// A student with no messenger guardian to reach.
        NoGuardian => "no_guardian",
        /// The named person is no longer active (or unknown).
        InactivePerson => "inactive_person",
    }
);

/// A message the plan decided to send: to one number or address, on behalf
/// of everyone who reached it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedDelivery {
    /// `text`, `email` or `secondary_email`.
    pub channel: Channel,
    /// The E.164 number or the address.
    pub to: String,
    /// The people reached at this point (household members sharing a phone ...).
    pub people: Vec<PersonId>,
    /// The recipient's first name when one person is reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// First names of the students through whom the point was reached.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<String>,
}

impl PlannedDelivery {
    /// The delivery's point (its key within the broadcast).
    pub fn point(&self) -> String {
        point_of(self.channel, &self.to)
    }
}

/// The point of a message on a channel to a value: texts by number, email
/// by address (primary and secondary share the address space).
pub fn point_of(channel: Channel, to: &str) -> String {
    if channel.is_email() { format!("email:{to}") } else { format!("sms:{to}") }
}

/// The point of a person-level skip record.
pub fn person_point(person: &PersonId) -> String {
    format!("person:{person}")
}

/// A delivery as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// `sms:+1…`, `email:a@b` or `person:id`.
    pub point: String,
    /// The channel (absent for person-level skips).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    /// People reached at the point.
    #[serde(default)]
    pub people: Vec<PersonId>,
    /// Where it is.
    pub state: DeliveryState,
    /// Why it was skipped or failed (`landline`, `opt_out`, `sender_error` ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
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
    /// When the state last changed.
    pub updated_at: DateTime<Utc>,
}

/// A unit of work between the steps. Variant names carry a version so
/// messages in flight during a deploy stay readable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "task")]
pub enum Task {
    /// Resolve a broadcast's audience and queue its send chunks.
    #[serde(rename = "plan_v1")]
    PlanV1 {
        /// The district.
        district: DistrictId,
        /// The broadcast.
        broadcast: BroadcastId,
    },
    /// Send one chunk of a broadcast's deliveries.
    #[serde(rename = "send_v1")]
    SendV1 {
        /// The district.
        district: DistrictId,
        /// The broadcast.
        broadcast: BroadcastId,
        /// The chunk's number within the plan.
        chunk: u64,
        /// The messages.
        deliveries: Vec<PlannedDelivery>,
    },
}

impl Task {
    /// The task as a queue message body.
    pub fn to_body(&self) -> String {
        // A Task is plain data: serializing it cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A task from a queue message body; the error says what is wrong.
    pub fn from_body(body: &str) -> Result<Task, String> {
        serde_json::from_str(body).map_err(|e| format!("unreadable task: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_survives_the_queue_and_names_its_version() {
        let task = Task::SendV1 {
            district: DistrictId::parse("d-1").unwrap(),
            broadcast: BroadcastId::parse("b-1").unwrap(),
            chunk: 3,
            deliveries: vec![PlannedDelivery {
                channel: Channel::Text,
                to: "+16175550142".into(),
                people: vec![PersonId::parse("g-1").unwrap()],
                first_name: Some("Ana".into()),
                children: vec!["Ben".into()],
            }],
        };
        let body = task.to_body();
        assert!(body.contains(r#""task":"send_v1""#), "{body}");
        assert_eq!(Task::from_body(&body), Ok(task));
        assert!(Task::from_body(r#"{"task": "send_v0"}"#).is_err());
    }

    #[test]
    fn primary_and_secondary_email_share_a_point_and_texts_use_the_number() {
        assert_eq!(point_of(Channel::Email, "a@b.org"), point_of(Channel::SecondaryEmail, "a@b.org"));
        assert_eq!(point_of(Channel::Text, "+16175550142"), "sms:+16175550142");
    }
}
