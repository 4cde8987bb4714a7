//! Personal messages: a staff member with the permission writes, in their
//! own name, to one family contact of a student of their school, or to a
//! student aged 13 or over. The message says who sent it ("From Ana Diaz:
//! …"); no translation is applied. It is then planned, sent and reported
//! like a one-person broadcast (kind `personal`).
//!
//! The 13-and-over rule reads the birth date an import brought; a student
//! with none, or an unreadable one, is refused with that reason, as is a
//! student under 13 (403 either way: it is a rule about who may be
//! written to, not a malformed request).

use std::sync::Arc;

use chrono::{Datelike as _, NaiveDate};
use serde::Deserialize;

use crate::domain::Broadcast;
use crate::domain::{
    Audience, BroadcastContent, BroadcastInput, BroadcastKind, ContactReason, ListTarget, PersonId, PersonRole,
    Principal, SchoolId,
};
use crate::ports::Clock;
use crate::services::{BroadcastService, ServiceError};
use crate::store::PeopleStore;

/// Youngest age a student may be written to directly.
pub const MIN_STUDENT_AGE: i32 = 13;

/// A personal message as a staff member writes it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonalMessageInput {
    /// The person written to: a guardian or a student.
    pub to: String,
    /// For a guardian: the student of the sender's school the message is about
    /// (default: any of the guardian's students there).
    #[serde(default)]
    pub student: Option<String>,
    /// `text` and/or `email`.
    pub channels: Vec<String>,
    /// Content per channel, without the sender line (it is added).
    pub content: BroadcastContent,
    /// Contact reason whose preferences apply (default `general`).
    #[serde(default)]
    pub reason: Option<String>,
}

/// Age in whole years on `today` of someone born on `birth` (pure).
pub fn age_on(birth: NaiveDate, today: NaiveDate) -> i32 {
    let mut age = today.year() - birth.year();
    if (today.month(), today.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// Sends personal messages.
#[derive(Clone)]
pub struct PersonalMessageService {
    broadcasts: BroadcastService,
    people: PeopleStore,
    clock: Arc<dyn Clock>,
}

fn forbidden(message: impl Into<String>) -> ServiceError {
    ServiceError::Forbidden(message.into())
}

impl PersonalMessageService {
    /// The service over the broadcast service and the people store; `clock`
    /// tells a student's age today.
    pub fn new(broadcasts: BroadcastService, people: PeopleStore, clock: Arc<dyn Clock>) -> Self {
        Self { broadcasts, people, clock }
    }

    /// Checks who may write to whom, then submits the message. Someone the
    /// sender may not see (no role at a school of theirs or, for a guardian,
    /// of their students) answers 404 exactly as someone who does not exist.
    pub async fn send(&self, caller: &Principal, input: &PersonalMessageInput) -> Result<Broadcast, ServiceError> {
        let district = &caller.district;
        let grants = self.broadcasts.grants(caller).await?;
        let may = |schools: &[SchoolId]| schools.iter().any(|s| grants.may_send_personal(s));
        let not_found =
            || ServiceError::NotFound(format!("no person `{}`", input.to.chars().take(40).collect::<String>()));
        let to = PersonId::parse(input.to.clone()).map_err(|_| not_found())?;
        let person = self.people.contactable(district, &to).await?.filter(|p| p.active).ok_or_else(not_found)?;
        // A guardian's students of the caller's sight, with their schools.
        let mut family: Vec<(PersonId, Vec<SchoolId>)> = Vec::new();
        if person.role == PersonRole::Guardian {
            for (student, _) in self.people.students_of(district, &to).await? {
                let Some(profile) = self.people.contactable(district, &student).await? else { continue };
                if profile.active {
                    family.push((student, profile.schools));
                }
            }
        }
        let seen_at: Vec<SchoolId> =
            person.schools.iter().chain(family.iter().flat_map(|(_, schools)| schools)).cloned().collect();
        if !caller.sees_person(&grants, to.as_str(), &seen_at) {
            return Err(not_found());
        }
        let schools: Vec<SchoolId> = match person.role {
            PersonRole::Staff => {
                return Err(ServiceError::Invalid(crate::domain::DomainError::Invalid(
                    "to: personal messages go to family contacts and students".into(),
                )));
            }
            PersonRole::Student => {
                if !may(&person.schools) {
                    return Err(forbidden("you may not send personal messages to this student's school"));
                }
                let birth = person
                    .birth_date
                    .as_deref()
                    .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                    .ok_or_else(|| {
                        forbidden("the student's birth date is unknown: only students 13 or over can be written to")
                    })?;
                let age = age_on(birth, self.clock.now().date_naive());
                if age < MIN_STUDENT_AGE {
                    return Err(forbidden("the student is under 13: write to their family instead"));
                }
                person.schools.clone()
            }
            PersonRole::Guardian => family
                .into_iter()
                .filter(|(student, _)| input.student.as_deref().is_none_or(|only| student.as_str() == only))
                .map(|(_, schools)| schools)
                .find(|schools| may(schools))
                .ok_or_else(|| forbidden("this person is not a family contact of a student of your school"))?,
        };
        let sender =
            self.people.get(district, &PersonId::parse(caller.subject.clone()).map_err(ServiceError::Invalid)?).await?;
        let sender_name =
            sender.map(|p| format!("{} {}", p.given_name, p.family_name)).unwrap_or_else(|| caller.subject.clone());
        let mut content = input.content.clone();
        if let Some(sms) = &mut content.sms {
            *sms = format!("From {sender_name}: {}", sms.trim());
        }
        if let Some(email) = &mut content.email {
            email.text = format!("From {sender_name}:\n\n{}", email.text);
            if let Some(html) = &mut email.html {
                *html = format!("<p>From {}:</p>\n{html}", html_escape(&sender_name));
            }
        }
        let request = BroadcastInput {
            reason: input.reason.clone().unwrap_or_else(|| "general".into()),
            channels: input.channels.clone(),
            content,
            template: None,
            audience: Audience { lists: vec![], rule: None, people: vec![to], target: ListTarget::Students },
            send_at: None,
            emergency: false,
            landline_autocall: None,
        };
        let valid = request.validate()?;
        let schools: Vec<SchoolId> = schools.into_iter().filter(|s| grants.may_send_personal(s)).collect();
        // Preferences are per reason: a reason the sender may not use would
        // reach families who turned that kind of message off (`general`,
        // the default, comes with the permission to write at all).
        if valid.reason != ContactReason::General && !schools.iter().any(|s| grants.may_send_broadcast(valid.reason, s))
        {
            return Err(forbidden(format!("your roles do not allow `{}` messages in this school", valid.reason)));
        }
        self.broadcasts.submit(caller, valid, schools, BroadcastKind::Personal, Some(sender_name)).await
    }
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    #[test]
    fn a_student_turns_thirteen_on_their_birthday_not_the_day_before() {
        assert_eq!(age_on(date(2013, 11, 22), date(2026, 11, 21)), 12);
        assert_eq!(age_on(date(2013, 11, 22), date(2026, 11, 22)), 13);
        assert_eq!(age_on(date(2012, 2, 29), date(2025, 2, 28)), 12);
        assert_eq!(age_on(date(2012, 2, 29), date(2025, 3, 1)), 13);
    }
}
