//! The queue's unit of work between the steps (plan, send, call again):
//! its message body, `{"task": "<name>_v<version>", ...fields}`.
//!
//! The body is read in one pass through [`TaskFields`], every variant's
//! fields side by side, rather than through serde's internally tagged
//! enums, which buffer the whole body (a send task's hundred messages) into
//! an intermediate tree before reading it again: that was a twentieth of
//! the send step's time. The format is the same either way.

use serde::{Deserialize, Serialize};

use super::{BroadcastId, DeliveryPoint, DistrictId, PlannedDelivery};

/// A unit of work between the steps. Variant names carry a version so
/// messages in flight during a deploy stay readable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "task", try_from = "TaskFields")]
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
    /// Call again a line that was busy or did not answer (the scheduler
    /// queues it when the try is due).
    #[serde(rename = "call_again_v1")]
    CallAgainV1 {
        /// The district.
        district: DistrictId,
        /// The broadcast.
        broadcast: BroadcastId,
        /// The call delivery (`voice:+1…`).
        point: DeliveryPoint,
        /// The try this is (2 for the first retry): a task for a try that
        /// was already placed changes nothing.
        attempt: u32,
    },
}

/// Every variant's fields, as a body holds them; which ones a task needs
/// depends on its `task`.
#[derive(Deserialize)]
struct TaskFields {
    task: String,
    district: DistrictId,
    broadcast: BroadcastId,
    chunk: Option<u64>,
    deliveries: Option<Vec<PlannedDelivery>>,
    point: Option<DeliveryPoint>,
    attempt: Option<u32>,
}

fn missing(task: &str, field: &str) -> String {
    format!("a `{task}` task needs `{field}`")
}

impl TryFrom<TaskFields> for Task {
    type Error = String;

    fn try_from(fields: TaskFields) -> Result<Self, String> {
        let TaskFields { task, district, broadcast, chunk, deliveries, point, attempt } = fields;
        Ok(match task.as_str() {
            "plan_v1" => Task::PlanV1 { district, broadcast },
            "send_v1" => Task::SendV1 {
                district,
                broadcast,
                chunk: chunk.ok_or_else(|| missing(&task, "chunk"))?,
                deliveries: deliveries.ok_or_else(|| missing(&task, "deliveries"))?,
            },
            "call_again_v1" => Task::CallAgainV1 {
                district,
                broadcast,
                point: point.ok_or_else(|| missing(&task, "point"))?,
                attempt: attempt.ok_or_else(|| missing(&task, "attempt"))?,
            },
            other => return Err(format!("unknown task `{}`", other.chars().take(64).collect::<String>())),
        })
    }
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
    use crate::domain::{Channel, ContactValue, PersonId, PhoneNumber};

    fn ids() -> (DistrictId, BroadcastId) {
        (DistrictId::parse("d-1").unwrap(), BroadcastId::parse("b-1").unwrap())
    }

    #[test]
    fn a_task_survives_the_queue_and_names_its_version() {
        let (district, broadcast) = ids();
        let task = Task::SendV1 {
            district,
            broadcast,
            chunk: 3,
            deliveries: vec![PlannedDelivery {
                channel: Channel::Text,
                to: ContactValue::Phone(PhoneNumber::parse_e164("+16175550142").unwrap()),
                people: vec![PersonId::parse("g-1").unwrap()],
                first_name: Some("Ana".into()),
                children: vec!["Ben".into()],
                school: None,
                language: None,
            }],
        };
        let body = task.to_body();
        assert!(body.contains(r#""task":"send_v1""#), "{body}");
        assert_eq!(Task::from_body(&body), Ok(task));
        assert!(Task::from_body(r#"{"task": "send_v0"}"#).is_err());
    }

    #[test]
    fn every_kind_of_task_reads_back_whatever_the_order_of_its_fields() {
        let (district, broadcast) = ids();
        let point = DeliveryPoint::parse("voice:+16175550142").unwrap();
        for task in [
            Task::PlanV1 { district: district.clone(), broadcast: broadcast.clone() },
            Task::CallAgainV1 { district: district.clone(), broadcast: broadcast.clone(), point, attempt: 2 },
            Task::SendV1 { district, broadcast, chunk: 0, deliveries: Vec::new() },
        ] {
            assert_eq!(Task::from_body(&task.to_body()), Ok(task));
        }
        let tag_last =
            r#"{"broadcast":"b-1","attempt":3,"point":"voice:+16175550142","district":"d-1","task":"call_again_v1"}"#;
        assert!(matches!(Task::from_body(tag_last), Ok(Task::CallAgainV1 { attempt: 3, .. })));
        let extra = r#"{"task":"plan_v1","district":"d-1","broadcast":"b-1","later_field":[1]}"#;
        assert!(matches!(Task::from_body(extra), Ok(Task::PlanV1 { .. })), "fields a later version adds are ignored");
    }

    #[test]
    fn a_task_missing_what_its_kind_needs_says_what() {
        let no_chunk = r#"{"task":"send_v1","district":"d-1","broadcast":"b-1","deliveries":[]}"#;
        let error = Task::from_body(no_chunk).unwrap_err();
        assert!(error.contains("`send_v1` task needs `chunk`"), "{error}");
        let no_attempt = r#"{"task":"call_again_v1","district":"d-1","broadcast":"b-1","point":"voice:+16175550142"}"#;
        assert!(Task::from_body(no_attempt).unwrap_err().contains("`attempt`"));
        assert!(Task::from_body(r#"{"task":"plan_v1","district":"d-1"}"#).unwrap_err().contains("broadcast"));
        assert!(
            Task::from_body(r#"{"task":"plan_v2","district":"d-1","broadcast":"b-1"}"#)
                .unwrap_err()
                .contains("unknown task `plan_v2`")
        );
    }
}
