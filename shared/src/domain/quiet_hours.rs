//! Quiet hours: the part of the day, on the district's wall clock, when
//! non-urgent messages are held back and sent when the window ends.
//!
//! The rules:
//!
//! - The window is `[start, end)` in local time, in the district's IANA time
//!   zone: a message at exactly `start` is held, one at exactly `end` goes.
//!   A window may cross midnight or not (12:00–13:00). The default,
//!   21:00–07:00, starts where the TCPA's calling hours end (no telemarketing
//!   before 8 a.m. or after 9 p.m. local time, 47 CFR 64.1200(c)(1)) and ends
//!   an hour earlier than they do, because a school's morning news (a delay,
//!   a closure) must arrive before the bus does. `start == end` is refused:
//!   it names no window, and reading it as "always" or "never" would be a
//!   guess.
//! - Whether `now` is inside is read from the local wall clock, so during a
//!   daylight-saving change the window follows what the clock on the wall
//!   says, not a fixed number of hours.
//! - The end is resolved to an instant on the day it falls: an end time
//!   that does not exist that day (spring forward, e.g. 02:30 in New York)
//!   is the first instant after it that does (03:00 EDT, the transition);
//!   an ambiguous one (fall back) is the earlier of its two instants. If
//!   that earlier instant has already passed (`now` is in the repeated
//!   hour), the window is over and nothing is deferred.
//!
//! Whether a message is urgent enough to ignore quiet hours is decided by
//! the caller; this module only answers "until when?".

use std::str::FromStr;

use chrono::{DateTime, Days, LocalResult, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::DomainError;

/// The wire format of a window bound.
const TIME_FORMAT: &str = "%H:%M";

/// A daily window, in local time, when non-urgent messages wait.
///
/// Serialized as `{"start": "HH:MM", "end": "HH:MM"}`; deserializing checks
/// the same rules as [`QuietHours::parse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "QuietHoursText", into = "QuietHoursText")]
pub struct QuietHours {
    /// The first minute of the window (inside).
    pub start: NaiveTime,
    /// The first minute after the window (outside); before `start` when the
    /// window crosses midnight.
    pub end: NaiveTime,
}

impl Default for QuietHours {
    /// 21:00–07:00.
    fn default() -> Self {
        Self { start: hour(21), end: hour(7) }
    }
}

fn hour(h: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, 0, 0).unwrap_or(NaiveTime::MIN)
}

impl QuietHours {
    /// Parses a window from two `HH:MM` times (24-hour clock); refuses equal
    /// times, which name no window.
    pub fn parse(start: &str, end: &str) -> Result<Self, DomainError> {
        let start = parse_time("start", start)?;
        let end = parse_time("end", end)?;
        if start == end {
            return Err(DomainError::Invalid(format!(
                "quiet hours start and end are both {}: a window needs two different times",
                start.format(TIME_FORMAT)
            )));
        }
        Ok(Self { start, end })
    }

    /// When `now` falls in the window (in `zone`), the instant the window
    /// ends; otherwise `None`.
    ///
    /// The end is the window's `end` on the local day it next comes, resolved
    /// as the module docs say (gap: the first instant after; ambiguous: the
    /// earlier). A window with `start == end` (only constructible field by
    /// field) never defers.
    pub fn deferral(&self, now: DateTime<Utc>, zone: Tz) -> Option<DateTime<Utc>> {
        let local = now.with_timezone(&zone).naive_local();
        let (today, time) = (local.date(), local.time());
        let end_day = if self.start < self.end {
            // Same-day window, e.g. 12:00–13:00.
            (self.start <= time && time < self.end).then_some(today)?
        } else if time >= self.start {
            // Evening part of a window that crosses midnight: ends tomorrow.
            today.checked_add_days(Days::new(1))?
        } else if time < self.end {
            // Morning part: ends today.
            today
        } else {
            return None;
        };
        let end = resolve(zone, end_day.and_time(self.end))?;
        (end > now).then_some(end)
    }
}

/// The instant a local wall-clock time names in `zone`: the earlier of two
/// when it is ambiguous, the first existing instant after it when it falls
/// in a gap.
fn resolve(zone: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(at) => Some(at.with_timezone(&Utc)),
        LocalResult::Ambiguous(earlier, later) => Some(earlier.min(later).with_timezone(&Utc)),
        LocalResult::None => first_instant_at_or_after(zone, local),
    }
}

/// The earliest instant whose wall clock in `zone` reads `local` or later,
/// by bisection: UTC offsets lie within ±15 hours, so the instant is between
/// `local - 15h` and `local + 15h` read as UTC, and transitions fall on whole
/// seconds, so the search ends exactly on one.
fn first_instant_at_or_after(zone: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    const WINDOW: i64 = 15 * 3600;
    let reads_at_least =
        |second: i64| DateTime::from_timestamp(second, 0).map(|at| at.with_timezone(&zone).naive_local() >= local);
    let as_utc = local.and_utc().timestamp();
    let (mut before, mut after) = (as_utc - WINDOW, as_utc + WINDOW); // wall clock < local, >= local
    while after - before > 1 {
        let middle = before + (after - before) / 2;
        if reads_at_least(middle)? {
            after = middle;
        } else {
            before = middle;
        }
    }
    DateTime::from_timestamp(after, 0)
}

fn parse_time(which: &str, text: &str) -> Result<NaiveTime, DomainError> {
    NaiveTime::parse_from_str(text.trim(), TIME_FORMAT).map_err(|_| {
        DomainError::Invalid(format!("quiet hours {which} `{}`: expected HH:MM (24-hour clock)", shorten(text)))
    })
}

/// Parses an IANA time zone name such as `America/New_York` (exact case, as
/// in the tz database).
pub fn parse_time_zone(name: &str) -> Result<Tz, DomainError> {
    Tz::from_str(name.trim()).map_err(|_| {
        DomainError::Invalid(format!(
            "unknown time zone `{}`: expected an IANA name such as America/New_York",
            shorten(name)
        ))
    })
}

/// Keeps an echoed input short enough for an error message.
fn shorten(text: &str) -> &str {
    text.char_indices().nth(64).map_or(text, |(end, _)| &text[..end])
}

/// The serialized form: bounds as `HH:MM` strings.
#[derive(Serialize, Deserialize)]
struct QuietHoursText {
    start: String,
    end: String,
}

impl From<QuietHours> for QuietHoursText {
    fn from(hours: QuietHours) -> Self {
        Self { start: hours.start.format(TIME_FORMAT).to_string(), end: hours.end.format(TIME_FORMAT).to_string() }
    }
}

impl TryFrom<QuietHoursText> for QuietHours {
    type Error = DomainError;

    fn try_from(text: QuietHoursText) -> Result<Self, DomainError> {
        Self::parse(&text.start, &text.end)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use chrono::TimeDelta;

    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc)).unwrap()
    }

    fn zone(name: &str) -> Tz {
        parse_time_zone(name).unwrap()
    }

    fn window(start: &str, end: &str) -> QuietHours {
        QuietHours::parse(start, end).unwrap()
    }

    #[test]
    fn the_default_window_is_nine_at_night_to_seven_in_the_morning() {
        assert_eq!(QuietHours::default(), window("21:00", "07:00"));
    }

    #[test]
    fn a_message_late_in_the_evening_waits_until_the_next_morning() {
        let chicago = zone("America/Chicago");
        // 22:30 CST on 2026-01-14 → 07:00 CST on the 15th.
        let deferred = QuietHours::default().deferral(at("2026-01-15T04:30:00Z"), chicago);
        assert_eq!(deferred, Some(at("2026-01-15T13:00:00Z")));
    }

    #[test]
    fn a_message_after_midnight_waits_until_the_same_morning() {
        let chicago = zone("America/Chicago");
        // 03:15 CST on 2026-01-15 → 07:00 CST the same day.
        let deferred = QuietHours::default().deferral(at("2026-01-15T09:15:00Z"), chicago);
        assert_eq!(deferred, Some(at("2026-01-15T13:00:00Z")));
    }

    #[test]
    fn a_message_during_the_day_is_not_deferred() {
        let chicago = zone("America/Chicago");
        assert_eq!(QuietHours::default().deferral(at("2026-01-15T18:00:00Z"), chicago), None);
    }

    #[test]
    fn the_start_is_inside_the_window_and_the_end_is_outside() {
        let utc = zone("UTC");
        let hours = QuietHours::default();
        assert_eq!(hours.deferral(at("2026-01-15T21:00:00Z"), utc), Some(at("2026-01-16T07:00:00Z")));
        assert_eq!(hours.deferral(at("2026-01-15T20:59:59Z"), utc), None);
        assert_eq!(hours.deferral(at("2026-01-16T06:59:59Z"), utc), Some(at("2026-01-16T07:00:00Z")));
        assert_eq!(hours.deferral(at("2026-01-16T07:00:00Z"), utc), None);
    }

    #[test]
    fn a_window_that_does_not_cross_midnight_ends_the_same_day() {
        let utc = zone("UTC");
        let lunch = window("12:00", "13:00");
        assert_eq!(lunch.deferral(at("2026-01-15T12:00:00Z"), utc), Some(at("2026-01-15T13:00:00Z")));
        assert_eq!(lunch.deferral(at("2026-01-15T12:59:00Z"), utc), Some(at("2026-01-15T13:00:00Z")));
        assert_eq!(lunch.deferral(at("2026-01-15T13:00:00Z"), utc), None);
        assert_eq!(lunch.deferral(at("2026-01-15T11:59:00Z"), utc), None);
        assert_eq!(lunch.deferral(at("2026-01-15T23:00:00Z"), utc), None);
    }

    #[test]
    fn the_window_follows_the_wall_clock_across_spring_forward() {
        let new_york = zone("America/New_York");
        // 2026-03-08: 02:00 EST becomes 03:00 EDT. 22:00 EST on the 7th
        // waits until 07:00 EDT on the 8th, only 8 hours later.
        let deferred = QuietHours::default().deferral(at("2026-03-08T03:00:00Z"), new_york);
        assert_eq!(deferred, Some(at("2026-03-08T11:00:00Z")));
    }

    #[test]
    fn the_window_follows_the_wall_clock_across_fall_back() {
        let new_york = zone("America/New_York");
        // 2026-11-01: 02:00 EDT becomes 01:00 EST. 22:00 EDT on 10-31
        // waits until 07:00 EST on 11-01, 10 hours later.
        let deferred = QuietHours::default().deferral(at("2026-11-01T02:00:00Z"), new_york);
        assert_eq!(deferred, Some(at("2026-11-01T12:00:00Z")));
    }

    #[test]
    fn an_end_in_the_spring_forward_gap_is_the_first_instant_after_it() {
        let new_york = zone("America/New_York");
        // 02:30 does not exist on 2026-03-08: the window ends at 03:00 EDT.
        let hours = window("23:00", "02:30");
        let deferred = hours.deferral(at("2026-03-08T05:00:00Z"), new_york); // 00:00 EST
        assert_eq!(deferred, Some(at("2026-03-08T07:00:00Z")));
        // At 03:00 EDT the clock reads past the end: not inside.
        assert_eq!(hours.deferral(at("2026-03-08T07:00:00Z"), new_york), None);
    }

    #[test]
    fn an_ambiguous_end_is_the_earlier_instant() {
        let new_york = zone("America/New_York");
        // 01:30 happens twice on 2026-11-01; the window ends at 01:30 EDT.
        let hours = window("23:00", "01:30");
        let deferred = hours.deferral(at("2026-11-01T04:00:00Z"), new_york); // 00:00 EDT
        assert_eq!(deferred, Some(at("2026-11-01T05:30:00Z")));
        // 01:10 EST, in the repeated hour: the window already ended.
        assert_eq!(hours.deferral(at("2026-11-01T06:10:00Z"), new_york), None);
    }

    #[test]
    fn equal_or_malformed_times_are_refused() {
        for (start, end) in
            [("21:00", "21:00"), ("25:00", "07:00"), ("21:00", "7am"), ("", "07:00"), ("21:00:00", "07:00")]
        {
            let error = QuietHours::parse(start, end).err();
            assert!(matches!(error, Some(DomainError::Invalid(_))), "{start:?}–{end:?}: {error:?}");
        }
        let message = QuietHours::parse("21:00", "9pm").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("HH:MM"), "{message}");
    }

    #[test]
    fn unknown_time_zones_are_refused_with_an_example() {
        for bad in ["", "Eastern", "America/Nowhere", "EST5EDT/x"] {
            let message = parse_time_zone(bad).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(message.contains("IANA"), "{bad:?}: {message}");
        }
        assert_eq!(parse_time_zone(" America/Denver "), Ok(Tz::America__Denver));
    }

    #[test]
    fn quiet_hours_serialize_as_hh_mm_strings() {
        let json = serde_json::to_string(&QuietHours::default()).unwrap();
        assert_eq!(json, r#"{"start":"21:00","end":"07:00"}"#);
        let back: QuietHours = serde_json::from_str(&json).unwrap();
        assert_eq!(back, QuietHours::default());
        assert!(serde_json::from_str::<QuietHours>(r#"{"start":"08:00","end":"08:00"}"#).is_err());
    }

    fn minute(m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(m / 60, m % 60, 0).unwrap_or(NaiveTime::MIN)
    }

    /// A deferral ends after `now`, within a day and a DST hour, at a moment
    /// the wall clock reads the window's end (or, past a gap, up to an hour
    /// more).
    fn check_deferral(hours: QuietHours, now: DateTime<Utc>, zone: Tz) -> Result<(), TestCaseError> {
        if let Some(until) = hours.deferral(now, zone) {
            prop_assert!(until > now);
            prop_assert!(until - now <= TimeDelta::hours(25), "{now} → {until}");
            let reads = until.with_timezone(&zone).time();
            prop_assert!(reads >= hours.end && reads - hours.end <= TimeDelta::hours(1), "{now} → {until}");
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn a_deferral_ends_after_now_when_the_clock_reads_the_end(
            start in 0u32..1440,
            end in 0u32..1440,
            now in 1_700_000_000i64..1_900_000_000,
            zone_index in 0usize..4,
        ) {
            prop_assume!(start != end);
            let zones = [Tz::America__New_York, Tz::America__Los_Angeles, Tz::Australia__Lord_Howe, Tz::UTC];
            let now = DateTime::from_timestamp(now, 0).unwrap_or_default();
            check_deferral(QuietHours { start: minute(start), end: minute(end) }, now, zones[zone_index])?;
        }

        #[test]
        fn deferrals_stay_sound_on_new_york_dst_days(
            start in 0u32..1440,
            end in 0u32..1440,
            minutes_from in 0i64..2 * 48 * 60,
        ) {
            prop_assume!(start != end);
            // 48 hours around each of 2026's transitions (03-08 and 11-01).
            let (base, offset) = if minutes_from < 48 * 60 {
                (at("2026-03-07T07:00:00Z"), minutes_from)
            } else {
                (at("2026-10-31T06:00:00Z"), minutes_from - 48 * 60)
            };
            let now = base + TimeDelta::minutes(offset);
            check_deferral(QuietHours { start: minute(start), end: minute(end) }, now, Tz::America__New_York)?;
        }
    }
}
