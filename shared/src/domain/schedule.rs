//! Import schedules: `daily HH:MM` or `weekdays HH:MM` (UTC), and which slot
//! is due. Pure: the scheduler asks with the current time.

use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone, Utc, Weekday};

use super::DomainError;

/// When a scheduled import runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    at: NaiveTime,
    weekdays_only: bool,
}

impl Schedule {
    /// Parses `daily HH:MM` or `weekdays HH:MM` (24-hour clock, UTC).
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let invalid =
            || DomainError::Invalid(format!("schedule `{text}`: expected `daily HH:MM` or `weekdays HH:MM` (UTC)"));
        let (kind, time) = text.trim().split_once(' ').ok_or_else(invalid)?;
        let weekdays_only = match kind.to_ascii_lowercase().as_str() {
            "daily" => false,
            "weekdays" => true,
            _ => return Err(invalid()),
        };
        let at = NaiveTime::parse_from_str(time.trim(), "%H:%M").map_err(|_| invalid())?;
        Ok(Self { at, weekdays_only })
    }

    /// The latest slot at or before `now`, if any in the past week.
    pub fn latest_slot(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        (0..8).map(|days_back| now.date_naive() - Duration::days(days_back)).find_map(|day| {
            let slot = Utc.from_utc_datetime(&day.and_time(self.at));
            let weekend = matches!(day.weekday(), Weekday::Sat | Weekday::Sun);
            (slot <= now && !(self.weekdays_only && weekend)).then_some(slot)
        })
    }

    /// The slot to run now, unless `last_slot` already covered it.
    pub fn due(&self, now: DateTime<Utc>, last_slot: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
        self.latest_slot(now).filter(|slot| last_slot.is_none_or(|last| last < *slot))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc)).unwrap()
    }

    #[test]
    fn a_daily_schedule_is_due_once_per_slot() -> Result<(), DomainError> {
        let schedule = Schedule::parse("daily 02:30")?;
        let slot = at("2026-11-22T02:30:00Z");
        assert_eq!(schedule.due(at("2026-11-22T02:29:00Z"), Some(at("2026-11-21T02:30:00Z"))), None);
        assert_eq!(schedule.due(at("2026-11-22T09:00:00Z"), Some(at("2026-11-21T02:30:00Z"))), Some(slot));
        assert_eq!(schedule.due(at("2026-11-22T09:00:00Z"), Some(slot)), None);
        assert_eq!(schedule.due(at("2026-11-22T09:00:00Z"), None), Some(slot));
        Ok(())
    }

    #[test]
    fn a_weekday_schedule_skips_the_weekend() -> Result<(), DomainError> {
        let schedule = Schedule::parse("weekdays 06:00")?;
        // 2026-11-22 is a Sunday: the latest slot is Friday's.
        assert_eq!(schedule.latest_slot(at("2026-11-22T12:00:00Z")), Some(at("2026-11-20T06:00:00Z")));
        Ok(())
    }

    #[test]
    fn malformed_schedules_say_what_is_expected() {
        for bad in ["", "daily", "hourly 02:00", "daily 25:00", "daily 2pm"] {
            let message = Schedule::parse(bad).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(message.contains("daily HH:MM"), "{bad:?}: {message}");
        }
    }
}
