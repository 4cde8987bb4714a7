//! The message an SIS event becomes: the built-in wording per event type,
//! filled in with the event's own facts (the student's first name, the
//! period, the balance ...) when the event arrives, leaving the recipient
//! variables (`{{first_name}}`, `{{sender}}` ...) for delivery.
//!
//! Two stages because an event is about one student but its message goes to
//! each guardian: the event's facts are known once, the recipient's name per
//! message. The event stage copies through every name it does not fill, so
//! the result is an ordinary broadcast template.

use chrono::{DateTime, FixedOffset};
use chrono_tz::Tz;

use super::{BroadcastContent, EmailContent, EventDetails, SisEvent, SisEventType};

/// The built-in wording of one event type: one sentence read on the phone,
/// texted, and mailed under `subject`. `{{sender}}` is the district's name.
struct Wording {
    subject: &'static str,
    body: &'static str,
}

/// The languages the built-in wording comes in; English is the default.
pub const EVENT_LANGUAGES: &[&str] = &["en", "es"];

fn wording(kind: SisEventType, language: &str) -> Wording {
    if language == "es" {
        return spanish(kind);
    }
    match kind {
        SisEventType::AttendanceAbsent => Wording {
            subject: "Attendance: {{student}} was absent",
            body: "{{sender}}: {{student}} was marked {{status}} {{when}} on {{date}}. \
                   If you have questions, please contact the school.",
        },
        SisEventType::AttendanceTardy => Wording {
            subject: "Attendance: {{student}} was late",
            body: "{{sender}}: {{student}} arrived late {{when}} on {{date}}.",
        },
        SisEventType::BehaviorIncident => Wording {
            subject: "Behavior: {{student}}",
            body: "{{sender}}: A behavior incident involving {{student}} was recorded on {{date}}: {{incident}}. \
                   Please contact the school.",
        },
        SisEventType::LowBalance => Wording {
            subject: "Meal account: {{student}}'s balance is low",
            body: "{{sender}}: {{student}}'s meal account balance is {{balance}}, below {{threshold}}. \
                   Please add funds.",
        },
        SisEventType::NegativeBalance => Wording {
            subject: "Meal account: {{student}}'s balance is below zero",
            body: "{{sender}}: {{student}}'s meal account balance is {{balance}}. Please add funds.",
        },
        SisEventType::GradesFailing => Wording {
            subject: "Grades: {{student}} in {{course}}",
            body: "{{sender}}: {{student}} is currently failing {{course}}{{grade}}. \
                   Please contact the teacher.",
        },
        SisEventType::AssignmentsMissing => Wording {
            subject: "Missing assignment: {{student}} in {{course}}",
            body: "{{sender}}: {{student}} has a missing assignment in {{course}}: {{assignment}}{{due}}.",
        },
    }
}

fn spanish(kind: SisEventType) -> Wording {
    match kind {
        SisEventType::AttendanceAbsent => Wording {
            subject: "Asistencia: {{student}} estuvo ausente",
            body: "{{sender}}: {{student}} fue marcado/a {{status}} {{when}} el {{date}}. \
                   Si tiene preguntas, comuníquese con la escuela.",
        },
        SisEventType::AttendanceTardy => Wording {
            subject: "Asistencia: {{student}} llegó tarde",
            body: "{{sender}}: {{student}} llegó tarde {{when}} el {{date}}.",
        },
        SisEventType::BehaviorIncident => Wording {
            subject: "Conducta: {{student}}",
            body: "{{sender}}: Se registró un incidente de conducta de {{student}} el {{date}}: {{incident}}. \
                   Por favor, comuníquese con la escuela.",
        },
        SisEventType::LowBalance => Wording {
            subject: "Cuenta de comidas: el saldo de {{student}} está bajo",
            body: "{{sender}}: El saldo de la cuenta de comidas de {{student}} es {{balance}}, menos de {{threshold}}. \
                   Por favor, agregue fondos.",
        },
        SisEventType::NegativeBalance => Wording {
            subject: "Cuenta de comidas: el saldo de {{student}} es negativo",
            body: "{{sender}}: El saldo de la cuenta de comidas de {{student}} es {{balance}}. Por favor, agregue fondos.",
        },
        SisEventType::GradesFailing => Wording {
            subject: "Calificaciones: {{student}} en {{course}}",
            body: "{{sender}}: {{student}} está reprobando {{course}}{{grade}}. \
                   Por favor, comuníquese con el maestro.",
        },
        SisEventType::AssignmentsMissing => Wording {
            subject: "Tarea pendiente: {{student}} en {{course}}",
            body: "{{sender}}: {{student}} tiene una tarea sin entregar en {{course}}: {{assignment}}{{due}}.",
        },
    }
}

/// An amount as families read it: `$4.50`, `-$2.25`.
fn dollars(amount: f64) -> String {
    if amount < 0.0 { format!("-${:.2}", -amount) } else { format!("${amount:.2}") }
}

const SPANISH_DAYS: [&str; 7] = ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"];
const SPANISH_MONTHS: [&str; 12] = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
];

/// A date as a family reads it in `language`: "Friday, December 4" / "viernes, 4 de diciembre".
fn spoken_date(date: chrono::NaiveDate, language: &str, with_weekday: bool) -> String {
    use chrono::Datelike as _;
    if language == "es" {
        let month = SPANISH_MONTHS[date.month0() as usize];
        let day = SPANISH_DAYS[date.weekday().num_days_from_monday() as usize];
        return if with_weekday {
            format!("{day}, {} de {month}", date.day())
        } else {
            format!("{} de {month}", date.day())
        };
    }
    date.format(if with_weekday { "%A, %B %-d" } else { "%B %-d" }).to_string()
}

/// The event's facts by variable name in `language`, the date in the district's zone.
fn facts(event: &SisEvent, student: &str, zone: Tz, language: &str) -> Vec<(&'static str, String)> {
    let spanish = language == "es";
    let local: DateTime<Tz> = event.occurred_at.with_timezone(&zone);
    let mut facts = vec![("student", student.to_string()), ("date", spoken_date(local.date_naive(), language, true))];
    match &event.details {
        EventDetails::Attendance { period, excused } => {
            let tardy = event.kind == SisEventType::AttendanceTardy;
            let when = match (period, spanish) {
                (Some(period), false) => format!("{} period {period}", if tardy { "to" } else { "for" }),
                (Some(period), true) => format!("{} el período {period}", if tardy { "a" } else { "en" }),
                (None, false) if tardy => "to school".to_string(),
                (None, true) if tardy => "a la escuela".to_string(),
                (None, false) => "for the day".to_string(),
                (None, true) => "todo el día".to_string(),
            };
            facts.push(("when", when));
            let status = match (excused, spanish) {
                (true, false) => "absent (excused)",
                (false, false) => "absent",
                (true, true) => "ausente (justificado)",
                (false, true) => "ausente",
            };
            facts.push(("status", status.to_string()));
        }
        EventDetails::Behavior { incident, .. } => facts.push(("incident", incident.clone())),
        EventDetails::Balance { balance, threshold } => {
            facts.push(("balance", dollars(*balance)));
            facts.push(("threshold", threshold.map(dollars).unwrap_or_default()));
        }
        EventDetails::Grade { course, grade } => {
            facts.push(("course", course.clone()));
            let label = if spanish { "calificación" } else { "grade" };
            facts.push(("grade", grade.as_ref().map(|g| format!(" ({label}: {g})")).unwrap_or_default()));
        }
        EventDetails::Assignment { course, assignment, due } => {
            facts.push(("course", course.clone()));
            facts.push(("assignment", assignment.clone()));
            let label = if spanish { "para el" } else { "due" };
            facts.push((
                "due",
                due.map(|d| format!(", {label} {}", spoken_date(d, language, false))).unwrap_or_default(),
            ));
        }
    }
    facts
}

/// Fills the named `{{ variables }}` of `template`; every other
/// placeholder is copied through as written (the recipient's, for delivery).
/// A value is inserted as is: it cannot open a placeholder of its own,
/// because the scan never looks at what it inserted.
pub fn fill_facts(template: &str, facts: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            out.push_str(&rest[open..]);
            return out;
        };
        let name = after[..close].trim();
        match facts.iter().find(|(fact, _)| *fact == name) {
            // The value's own braces are made harmless: a guardian's
            // delivery renders this text again.
            Some((_, value)) => out.push_str(&value.replace("{{", "{ {")),
            None => out.push_str(&rest[open..open + 2 + close + 2]),
        }
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    out
}

/// The content of the broadcast an event becomes: the type's wording
/// filled with the event's facts, for voice, text and email alike, in the
/// district's `language` (English when the built-in wording does not come
/// in it) with a variant in every other language of [`EVENT_LANGUAGES`].
pub fn event_content(event: &SisEvent, student_first_name: &str, zone: Tz, language: &str) -> BroadcastContent {
    let in_language = |language: &str| {
        let wording = wording(event.kind, language);
        let facts = facts(event, student_first_name, zone, language);
        let body = fill_facts(wording.body, &facts);
        BroadcastContent {
            sms: Some(body.clone()),
            email: Some(EmailContent { subject: fill_facts(wording.subject, &facts), text: body.clone(), html: None }),
            voice: Some(body),
            ..BroadcastContent::default()
        }
    };
    let own = if EVENT_LANGUAGES.contains(&language) { language } else { "en" };
    let mut content = in_language(own);
    content.translations =
        EVENT_LANGUAGES.iter().filter(|l| **l != own).map(|l| ((*l).to_string(), in_language(l))).collect();
    content
}

/// The fact names an event of `kind` fills, with stand-in values: what a
/// district's template for the type may name besides the recipient variables.
pub fn fact_stand_ins(kind: SisEventType) -> Vec<(&'static str, String)> {
    let own: &[&'static str] = match kind {
        SisEventType::AttendanceAbsent | SisEventType::AttendanceTardy => &["when", "status"],
        SisEventType::BehaviorIncident => &["incident"],
        SisEventType::LowBalance | SisEventType::NegativeBalance => &["balance", "threshold"],
        SisEventType::GradesFailing => &["course", "grade"],
        SisEventType::AssignmentsMissing => &["course", "assignment", "due"],
    };
    ["student", "date"].iter().chain(own).map(|name| (*name, "x".to_string())).collect()
}

/// [`event_content`] with a district's own wording for the type (a saved
/// template's content and its language variants) in place of the built-in one.
pub fn event_content_from(
    event: &SisEvent,
    student_first_name: &str,
    zone: Tz,
    template: &BroadcastContent,
) -> BroadcastContent {
    let fill = |content: &BroadcastContent, language: &str| {
        let facts = facts(event, student_first_name, zone, language);
        let text = |t: &Option<String>| t.as_deref().map(|t| fill_facts(t, &facts));
        BroadcastContent {
            sms: text(&content.sms),
            voice: text(&content.voice),
            email: content.email.as_ref().map(|email| EmailContent {
                subject: fill_facts(&email.subject, &facts),
                text: fill_facts(&email.text, &facts),
                html: email.html.as_deref().map(|html| fill_facts(html, &facts)),
            }),
            ..BroadcastContent::default()
        }
    };
    let mut content = fill(template, "en");
    content.translations =
        template.translations.iter().map(|(language, variant)| (language.clone(), fill(variant, language))).collect();
    content
}

/// When an event happened, in the district's zone: its school day.
pub fn school_day(occurred_at: &DateTime<FixedOffset>, zone: Tz) -> chrono::NaiveDate {
    occurred_at.with_timezone(&zone).date_naive()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::read_event;
    use crate::domain::template::validate_template;

    fn event(value: serde_json::Value) -> SisEvent {
        read_event(&value).unwrap_or_else(|e| panic!("{e:?}"))
    }

    #[test]
    fn an_absence_names_the_student_the_period_and_the_district_s_day() {
        let absent = event(json!({"id": "e-1", "type": "attendance.absent", "student": "s-1",
            "occurred_at": "2026-12-04T08:05:00-05:00", "period": "1", "excused": false}));
        let content = event_content(&absent, "Leo", chrono_tz::America::New_York, "en");
        assert_eq!(
            content.sms.as_deref(),
            Some(
                "{{sender}}: Leo was marked absent for period 1 on Friday, December 4. \
                 If you have questions, please contact the school."
            )
        );
        assert_eq!(content.email.map(|e| e.subject).as_deref(), Some("Attendance: Leo was absent"));
        // 23:30 in New York is the next day in UTC: the district's day counts.
        let late = event(json!({"id": "e-2", "type": "attendance.tardy", "student": "s-1",
            "occurred_at": "2026-12-05T04:30:00Z"}));
        let content = event_content(&late, "Leo", chrono_tz::America::New_York, "en");
        assert!(content.sms.is_some_and(|s| s.contains("to school on Friday, December 4")));
        let day = school_day(&late.occurred_at, chrono_tz::America::New_York);
        assert_eq!(day.to_string(), "2026-12-04");
    }

    #[test]
    fn every_type_s_message_is_a_valid_broadcast_template_once_its_facts_are_in() {
        let at = "2026-12-04T12:00:00Z";
        for value in [
            json!({"type": "attendance.absent", "excused": true}),
            json!({"type": "attendance.tardy", "period": "2"}),
            json!({"type": "behavior.incident", "incident": "Left class without permission"}),
            json!({"type": "food_service.low_balance", "balance": 4.5, "threshold": 5}),
            json!({"type": "food_service.negative_balance", "balance": -2.25}),
            json!({"type": "grades.failing", "course": "Algebra I", "grade": "F"}),
            json!({"type": "assignments.missing", "course": "Biology", "assignment": "Lab 3", "due": "2026-12-01"}),
        ] {
            let mut value = value;
            value["id"] = json!("e");
            value["student"] = json!("s-1");
            value["occurred_at"] = json!(at);
            let content = event_content(&event(value.clone()), "Mia", chrono_tz::UTC, "en");
            let sms = content.sms.unwrap_or_default();
            assert!(validate_template(&sms).is_ok(), "{value}: {sms}");
            assert!(sms.contains("Mia") && !sms.contains("{{student"), "{sms}");
        }
        let negative = event(json!({"id": "e", "type": "food_service.negative_balance", "student": "s",
            "occurred_at": at, "balance": -2.25}));
        assert!(event_content(&negative, "Mia", chrono_tz::UTC, "en").sms.is_some_and(|s| s.contains("-$2.25")));
    }

    #[test]
    fn a_fact_cannot_open_a_placeholder_and_unknown_names_stay_for_delivery() {
        let filled = fill_facts("{{sender}}: {{student}} {{ course }}", &[("course", "{{first_name}}".into())]);
        assert_eq!(filled, "{{sender}}: {{student}} { {first_name}}");
        assert_eq!(fill_facts("a {{ unclosed", &[]), "a {{ unclosed");
    }

    #[test]
    fn every_type_comes_in_spanish_too_with_the_date_said_in_spanish() {
        let missing = event(json!({"id": "e", "type": "assignments.missing", "student": "s-1",
            "occurred_at": "2026-12-04T12:00:00Z", "course": "Biología", "assignment": "Lab 3", "due": "2026-12-01"}));
        let content = event_content(&missing, "Mia", chrono_tz::UTC, "en");
        let spanish = content.translations.get("es").and_then(|es| es.sms.clone()).unwrap_or_default();
        assert_eq!(spanish, "{{sender}}: Mia tiene una tarea sin entregar en Biología: Lab 3, para el 1 de diciembre.");
        assert!(validate_template(&spanish).is_ok());
        assert_eq!(content.translations.len(), EVENT_LANGUAGES.len() - 1);
    }

    #[test]
    fn a_spanish_speaking_district_s_messages_are_in_spanish_with_an_english_variant() {
        let tardy = event(json!({"id": "e", "type": "attendance.tardy", "student": "s-1",
            "occurred_at": "2026-12-04T12:00:00Z"}));
        let content = event_content(&tardy, "Mia", chrono_tz::UTC, "es");
        assert_eq!(
            content.sms.as_deref(),
            Some("{{sender}}: Mia llegó tarde a la escuela el viernes, 4 de diciembre.")
        );
        assert!(
            content.translations.get("en").and_then(|en| en.sms.clone()).is_some_and(|s| s.contains("arrived late"))
        );
        let klingon = event_content(&tardy, "Mia", chrono_tz::UTC, "tlh");
        assert!(
            klingon.sms.is_some_and(|s| s.contains("arrived late")),
            "English when the wording has no such language"
        );
    }
}
