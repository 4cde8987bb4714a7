//! Phone numbers and email addresses of a whole file, validated in one go.
//!
//! Parsing a phone number is the costliest step of an import (several
//! microseconds each, and serialised: the `phonenumber` crate matches under
//! one global lock, so more threads do not help), so readers queue every
//! contact cell while they read rows, and [`PendingContacts::resolve`] then
//! parses each distinct value once (households share numbers) and attaches
//! the results in file order. An invalid value drops that contact only and
//! becomes a rejected cell naming the column, never the value.

use std::collections::HashMap;
use std::ops::Range;

use crate::domain::{Channel, ContactPoint, ContactValue, DomainError, Region, RosterPerson};

use super::sheet::{Report, short};

/// Contact cells waiting to be validated.
#[derive(Debug, Default)]
pub(crate) struct PendingContacts<'c> {
    jobs: Vec<Job<'c>>,
    text: String,
}

#[derive(Debug)]
struct Job<'c> {
    person: usize,
    channel: Channel,
    column: &'c str,
    line: u64,
    raw: Range<usize>,
    /// Left out when it equals this slot's value (OneRoster `phone` = `sms`).
    unless_same_as: Option<Channel>,
}

impl<'c> PendingContacts<'c> {
    /// Queues a cell (blank cells are ignored) for the person at `person`
    /// in the people batch.
    pub fn push(&mut self, person: usize, channel: Channel, column: &'c str, line: u64, cell: &str) {
        self.push_unless(person, channel, column, line, cell, None);
    }

    /// Queues a cell that is dropped when it holds the same value as the
    /// person's `same_as` slot.
    pub fn push_unless(
        &mut self,
        person: usize,
        channel: Channel,
        column: &'c str,
        line: u64,
        cell: &str,
        same_as: Option<Channel>,
    ) {
        if cell.is_empty() {
            return;
        }
        let start = self.text.len();
        self.text.push_str(cell);
        self.jobs.push(Job { person, channel, column, line, raw: start..self.text.len(), unless_same_as: same_as });
    }

    /// Validates every queued cell and adds the valid ones to `people` (at
    /// most one per slot: a second, different value for a slot is a rejected
    /// cell). Rejected cells go to `report` under `file`, and the rows
    /// `report` rejected from index `since` on are put back in row order.
    pub fn resolve(self, region: Region, people: &mut [RosterPerson], file: &str, report: &mut Report, since: usize) {
        let Self { jobs, text } = self;
        // Each distinct (kind, value) is parsed once.
        let mut distinct: HashMap<(bool, &str), usize> = HashMap::with_capacity(jobs.len());
        let mut values: Vec<(bool, &str)> = Vec::with_capacity(jobs.len());
        let slots: Vec<usize> = jobs
            .iter()
            .map(|job| {
                let key = (job.channel.is_phone(), &text[job.raw.clone()]);
                *distinct.entry(key).or_insert_with(|| {
                    values.push(key);
                    values.len() - 1
                })
            })
            .collect();
        let parsed = parse_all(&values, region);
        for (job, slot) in jobs.iter().zip(slots) {
            let Some(person) = people.get_mut(job.person) else {
                continue;
            };
            match parsed.get(slot) {
                Some(Ok(value)) => {
                    let same_as =
                        |channel: Channel| person.contacts.iter().any(|c| c.channel == channel && c.value == *value);
                    if job.unless_same_as.is_some_and(same_as) {
                        continue;
                    }
                    match person.contacts.iter().find(|c| c.channel == job.channel) {
                        Some(existing) if existing.value == *value => {}
                        Some(_) => report.reject(
                            file,
                            job.line,
                            Some(job.column),
                            format!("a second {} for this person; dropped", job.channel),
                        ),
                        None => person.contacts.push(ContactPoint { channel: job.channel, value: value.clone() }),
                    }
                }
                Some(Err(e)) => report.reject(
                    file,
                    job.line,
                    Some(job.column),
                    format!("{}: {e}; the person is kept without it", short(job.column)),
                ),
                None => {}
            }
        }
        if let Some(rejected) = report.rejected.get_mut(since..) {
            rejected.sort_by_key(|r| r.row);
        }
    }
}

/// Parses values: a phone number when the flag is set, else an email address.
fn parse_all(values: &[(bool, &str)], region: Region) -> Vec<Result<ContactValue, DomainError>> {
    values
        .iter()
        .map(|&(phone, raw)| {
            let channel = if phone { Channel::CellPhone } else { Channel::Email };
            ContactPoint::parse(channel, raw, region).map(|point| point.value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::PersonRole;

    fn person() -> Result<RosterPerson, DomainError> {
        Ok(RosterPerson {
            sis_role: "parent".into(),
            given_name: "A".into(),
            family_name: "B".into(),
            ..RosterPerson::bare("p1", PersonRole::Guardian, &[])
        })
    }

    #[test]
    fn each_distinct_value_is_parsed_and_attached_in_file_order() -> Result<(), DomainError> {
        let mut people = vec![person()?; 3_000];
        let mut pending = PendingContacts::default();
        // Every number three times (households share numbers).
        let numbers: Vec<String> = (0..people.len()).map(|n| format!("617-200-{:04}", n % 1_000)).collect();
        for (index, number) in numbers.iter().enumerate() {
            pending.push(index, Channel::CellPhone, "sms", index as u64 + 2, number);
        }
        pending.push(7, Channel::Email, "email", 9, "bad address");
        let mut report = Report::default();
        pending.resolve(Region::US, &mut people, "users.csv", &mut report, 0);
        assert_eq!(people[2500].contacts[0].value.as_raw(), "+16172000500");
        assert_eq!(people.iter().filter(|p| p.contacts.len() == 1).count(), people.len());
        assert_eq!(report.rejected.iter().map(|r| r.row).collect::<Vec<_>>(), vec![9]);
        Ok(())
    }

    #[test]
    fn a_value_equal_to_the_named_slot_is_left_out_and_a_second_value_for_a_slot_is_rejected() -> Result<(), DomainError>
    {
        let mut people = vec![person()?];
        let mut pending = PendingContacts::default();
        pending.push(0, Channel::CellPhone, "sms", 2, "6175550101");
        pending.push_unless(0, Channel::HomePhone, "phone", 2, "(617) 555-0101", Some(Channel::CellPhone));
        pending.push(0, Channel::CellPhone, "Cell 2", 3, "6175550102");
        pending.push(0, Channel::CellPhone, "Cell 3", 4, "+1 617 555 0101");
        let mut report = Report::default();
        pending.resolve(Region::US, &mut people, "f.csv", &mut report, 0);
        assert_eq!(people[0].contacts.len(), 1);
        let rejected: Vec<_> = report.rejected.iter().map(|r| (r.row, r.column.as_deref())).collect();
        assert_eq!(rejected, vec![(3, Some("Cell 2"))]);
        Ok(())
    }
}
