//! Events the SIS posts (an absence, a tardy, a behavior incident, a low or
//! negative meal balance, a failing grade, a missing assignment): their
//! types and contact reasons, and the strict reading of one event from its
//! JSON, which says for a bad event exactly what is wrong so that the rest
//! of a batch goes on.
//!
//! Pure: whether the student exists, whether the event id was seen before
//! and the one-attendance-message-a-day rule are the service's.

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::Serialize;
use serde_json::{Map, Value};

use super::named_enum::named_enum;
use super::{ContactReason, MAX_ID_LEN};

named_enum!(
    /// What happened, as the SIS names it.
    SisEventType, "event type" {
        /// The student is absent (a period or the day).
        AttendanceAbsent => "attendance.absent",
        /// The student arrived late.
        AttendanceTardy => "attendance.tardy",
        /// A behavior incident was recorded.
        BehaviorIncident => "behavior.incident",
        /// The meal account fell below the district's threshold.
        LowBalance => "food_service.low_balance",
        /// The meal account is below zero.
        NegativeBalance => "food_service.negative_balance",
        /// The student is failing a course.
        GradesFailing => "grades.failing",
        /// An assignment was not turned in.
        AssignmentsMissing => "assignments.missing",
    }
);

impl SisEventType {
    /// The contact reason its message goes under (families choose by reason).
    pub fn reason(self) -> ContactReason {
        match self {
            SisEventType::AttendanceAbsent | SisEventType::AttendanceTardy => ContactReason::Attendance,
            SisEventType::BehaviorIncident => ContactReason::Behavior,
            SisEventType::LowBalance | SisEventType::NegativeBalance => ContactReason::FoodService,
            SisEventType::GradesFailing | SisEventType::AssignmentsMissing => ContactReason::Teacher,
        }
    }

    /// Absences and tardies share the one-message-a-day rule.
    pub fn is_attendance(self) -> bool {
        self.reason() == ContactReason::Attendance
    }
}

/// What each type of event says beyond who and when.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum EventDetails {
    /// An absence or a tardy.
    Attendance {
        /// The period (`"1"`, `"AM"` ...), absent for the whole day.
        #[serde(skip_serializing_if = "Option::is_none")]
        period: Option<String>,
        /// Whether the absence is excused (an unexcused one may be an
        /// emergency-purpose message, FCC 16-88).
        excused: bool,
    },
    /// A behavior incident.
    Behavior {
        /// What happened, as the SIS words it.
        incident: String,
        /// What the school did about it.
        #[serde(skip_serializing_if = "Option::is_none")]
        action: Option<String>,
    },
    /// A meal balance.
    Balance {
        /// The balance, in dollars.
        balance: f64,
        /// The district's threshold (low balances).
        #[serde(skip_serializing_if = "Option::is_none")]
        threshold: Option<f64>,
    },
    /// A course grade.
    Grade {
        /// The course.
        course: String,
        /// The grade, as the SIS gives it.
        #[serde(skip_serializing_if = "Option::is_none")]
        grade: Option<String>,
    },
    /// A missing assignment.
    Assignment {
        /// The course.
        course: String,
        /// The assignment.
        assignment: String,
        /// When it was due.
        #[serde(skip_serializing_if = "Option::is_none")]
        due: Option<NaiveDate>,
    },
}

/// One event, read and checked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SisEvent {
    /// The SIS's id of the event: one event is processed once.
    pub id: String,
    /// What happened.
    #[serde(rename = "type")]
    pub kind: SisEventType,
    /// The student's SIS id.
    pub student: String,
    /// When it happened, with the offset the SIS gave.
    pub occurred_at: DateTime<FixedOffset>,
    /// The type's own fields.
    #[serde(flatten)]
    pub details: EventDetails,
}

/// Why an event of a batch was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventRejection {
    /// `invalid_event`, `unknown_type`, `missing_field`, `invalid_field`,
    /// `unknown_student`.
    pub code: &'static str,
    /// What is wrong, naming the field.
    pub message: String,
}

impl EventRejection {
    fn missing(field: &str) -> Self {
        Self { code: "missing_field", message: format!("`{field}` is required") }
    }

    fn invalid(field: &str, why: &str) -> Self {
        Self { code: "invalid_field", message: format!("`{field}`: {why}") }
    }
}

/// The longest free-text field an event may carry (an incident's wording).
pub const MAX_EVENT_TEXT: usize = 500;

/// Reads one event. Fields other than the type's are refused, so a typo
/// (`excsued`) is an error, not a silently unexcused absence.
pub fn read_event(value: &Value) -> Result<SisEvent, EventRejection> {
    let Some(object) = value.as_object() else {
        return Err(EventRejection { code: "invalid_event", message: "an event is a JSON object".into() });
    };
    let id = identifier(object, "id")?;
    let kind_name = text(object, "type", 64)?.ok_or_else(|| EventRejection::missing("type"))?;
    let kind: SisEventType = kind_name
        .parse()
        .map_err(|_| EventRejection { code: "unknown_type", message: format!("unknown event type `{kind_name}`") })?;
    let student = identifier(object, "student")?;
    let occurred_at = text(object, "occurred_at", 64)?.ok_or_else(|| EventRejection::missing("occurred_at"))?;
    let occurred_at = DateTime::parse_from_rfc3339(&occurred_at)
        .map_err(|_| EventRejection::invalid("occurred_at", "an RFC 3339 time with its offset"))?;
    let (details, fields): (EventDetails, &[&str]) = match kind {
        SisEventType::AttendanceAbsent | SisEventType::AttendanceTardy => {
            let excused = match object.get("excused") {
                Some(Value::Bool(excused)) => *excused,
                None if kind == SisEventType::AttendanceTardy => false,
                None => return Err(EventRejection::missing("excused")),
                Some(_) => return Err(EventRejection::invalid("excused", "true or false")),
            };
            (EventDetails::Attendance { period: text(object, "period", 40)?, excused }, &["period", "excused"])
        }
        SisEventType::BehaviorIncident => {
            let incident =
                text(object, "incident", MAX_EVENT_TEXT)?.ok_or_else(|| EventRejection::missing("incident"))?;
            (
                EventDetails::Behavior { incident, action: text(object, "action", MAX_EVENT_TEXT)? },
                &["incident", "action"],
            )
        }
        SisEventType::LowBalance | SisEventType::NegativeBalance => {
            let balance = amount(object, "balance")?.ok_or_else(|| EventRejection::missing("balance"))?;
            let threshold = amount(object, "threshold")?;
            if kind == SisEventType::LowBalance && threshold.is_none() {
                return Err(EventRejection::missing("threshold"));
            }
            if kind == SisEventType::NegativeBalance && balance >= 0.0 {
                return Err(EventRejection::invalid("balance", "a negative balance is below zero"));
            }
            (EventDetails::Balance { balance, threshold }, &["balance", "threshold"])
        }
        SisEventType::GradesFailing => {
            let course = text(object, "course", 200)?.ok_or_else(|| EventRejection::missing("course"))?;
            (EventDetails::Grade { course, grade: text(object, "grade", 20)? }, &["course", "grade"])
        }
        SisEventType::AssignmentsMissing => {
            let course = text(object, "course", 200)?.ok_or_else(|| EventRejection::missing("course"))?;
            let assignment = text(object, "assignment", 200)?.ok_or_else(|| EventRejection::missing("assignment"))?;
            let due = text(object, "due", 20)?
                .map(|due| {
                    NaiveDate::parse_from_str(&due, "%Y-%m-%d")
                        .map_err(|_| EventRejection::invalid("due", "a date, YYYY-MM-DD"))
                })
                .transpose()?;
            (EventDetails::Assignment { course, assignment, due }, &["course", "assignment", "due"])
        }
    };
    let common = ["id", "type", "student", "occurred_at"];
    if let Some(unknown) = object.keys().find(|key| !common.contains(&key.as_str()) && !fields.contains(&key.as_str()))
    {
        let unknown: String = unknown.chars().take(40).collect();
        return Err(EventRejection::invalid(&unknown, &format!("not a field of `{kind}` events")));
    }
    Ok(SisEvent { id, kind, student, occurred_at, details })
}

/// A required id, as every id here: 1 to [`MAX_ID_LEN`] letters, digits and `-_.:@`.
fn identifier(object: &Map<String, Value>, field: &'static str) -> Result<String, EventRejection> {
    let id = text(object, field, MAX_ID_LEN)?.ok_or_else(|| EventRejection::missing(field))?;
    super::validate_id(field, &id).map_err(|e| EventRejection::invalid(field, &e.to_string()))?;
    Ok(id)
}

/// An optional string field, trimmed; blank counts as absent.
fn text(object: &Map<String, Value>, field: &str, max: usize) -> Result<Option<String>, EventRejection> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => {
            let text = text.trim();
            if text.chars().count() > max || text.chars().any(char::is_control) {
                return Err(EventRejection::invalid(
                    field,
                    &format!("at most {max} characters, no control characters"),
                ));
            }
            Ok((!text.is_empty()).then(|| text.to_string()))
        }
        Some(_) => Err(EventRejection::invalid(field, "a string")),
    }
}

/// An optional amount in dollars: a JSON number, or a decimal string.
fn amount(object: &Map<String, Value>, field: &str) -> Result<Option<f64>, EventRejection> {
    let value = match object.get(field) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(number)) => number.as_f64(),
        Some(Value::String(text)) => text.trim().trim_start_matches('$').parse::<f64>().ok(),
        Some(_) => None,
    };
    match value {
        Some(amount) if amount.is_finite() && amount.abs() < 1e7 => Ok(Some((amount * 100.0).round() / 100.0)),
        _ => Err(EventRejection::invalid(field, "an amount in dollars, such as 4.50")),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn absent() -> Value {
        json!({"id": "e-1", "type": "attendance.absent", "student": "s-1",
            "occurred_at": "2026-12-04T08:05:00-05:00", "period": "1", "excused": false})
    }

    #[test]
    fn an_absence_reads_with_its_period_and_whether_it_is_excused() {
        let event = read_event(&absent()).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            (event.id.as_str(), event.kind, event.student.as_str()),
            ("e-1", SisEventType::AttendanceAbsent, "s-1")
        );
        assert_eq!(event.details, EventDetails::Attendance { period: Some("1".into()), excused: false });
        assert_eq!(event.occurred_at.to_rfc3339(), "2026-12-04T08:05:00-05:00");
        assert_eq!(event.kind.reason(), ContactReason::Attendance);
    }

    #[test]
    fn every_type_has_its_reason_and_reads_its_own_fields() {
        let at = "2026-12-04T12:00:00Z";
        let cases = [
            (json!({"type": "attendance.tardy", "period": "2"}), ContactReason::Attendance),
            (
                json!({"type": "behavior.incident", "incident": "Left class", "action": "Detention"}),
                ContactReason::Behavior,
            ),
            (
                json!({"type": "food_service.low_balance", "balance": 4.5, "threshold": "5.00"}),
                ContactReason::FoodService,
            ),
            (json!({"type": "food_service.negative_balance", "balance": "-2.25"}), ContactReason::FoodService),
            (json!({"type": "grades.failing", "course": "Algebra I", "grade": "F"}), ContactReason::Teacher),
            (
                json!({"type": "assignments.missing", "course": "Biology", "assignment": "Lab 3", "due": "2026-12-01"}),
                ContactReason::Teacher,
            ),
        ];
        assert_eq!(cases.len() + 1, SisEventType::ALL.len(), "every type but the absence above");
        for (mut value, reason) in cases {
            value["id"] = json!("e-2");
            value["student"] = json!("s-1");
            value["occurred_at"] = json!(at);
            let event = read_event(&value).unwrap_or_else(|e| panic!("{value}: {e:?}"));
            assert_eq!(event.kind.reason(), reason, "{value}");
        }
    }

    #[test]
    fn a_bad_event_says_which_field_is_wrong() {
        let case = |change: &dyn Fn(&mut Value), code: &str, names: &str| {
            let mut value = absent();
            change(&mut value);
            let rejection = read_event(&value).err().unwrap_or_else(|| panic!("{value} was read"));
            assert_eq!(rejection.code, code, "{value}: {rejection:?}");
            assert!(rejection.message.contains(names), "{value}: {rejection:?}");
        };
        case(&|v| v["type"] = json!("attendance.present"), "unknown_type", "attendance.present");
        case(&|v| v["student"] = Value::Null, "missing_field", "student");
        case(&|v| v["occurred_at"] = json!("yesterday"), "invalid_field", "occurred_at");
        case(&|v| v["occurred_at"] = json!("2026-12-04T08:05:00"), "invalid_field", "offset");
        case(&|v| v["excused"] = json!("no"), "invalid_field", "excused");
        case(
            &|v| {
                v.as_object_mut().map(|o| o.remove("excused"));
            },
            "missing_field",
            "excused",
        );
        case(&|v| v["excsued"] = json!(true), "invalid_field", "excsued");
        case(&|v| v["id"] = json!("x".repeat(MAX_ID_LEN + 1)), "invalid_field", "id");
        case(&|v| v["id"] = json!("e#1"), "invalid_field", "id");
        let low = json!({"id": "e", "type": "food_service.low_balance", "student": "s", "occurred_at": "2026-12-04T12:00:00Z", "balance": 3});
        assert_eq!(read_event(&low).err().map(|r| r.message), Some("`threshold` is required".into()));
        let positive = json!({"id": "e", "type": "food_service.negative_balance", "student": "s", "occurred_at": "2026-12-04T12:00:00Z", "balance": 3});
        assert_eq!(read_event(&positive).err().map(|r| r.code), Some("invalid_field"));
        assert_eq!(read_event(&json!([1])).err().map(|r| r.code), Some("invalid_event"));
    }
}
