//! The `Clock` and `Ids` ports: time and fresh identifiers, fixed in tests.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};

/// Tells the time.
pub trait Clock: Send + Sync {
    /// Now, in UTC.
    fn now(&self) -> DateTime<Utc>;
}

/// The system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that says what tests tell it.
#[derive(Debug)]
pub struct FixedClock(Mutex<DateTime<Utc>>);

impl FixedClock {
    /// A clock stopped at `at`.
    pub fn new(at: DateTime<Utc>) -> Self {
        Self(Mutex::new(at))
    }

    /// Today (the system's UTC date) at 17:00 UTC: noon in New York in
    /// winter, 13:00 in summer, daytime in every US zone, outside any
    /// default quiet hours. Tests start here and move the clock on purpose;
    /// the date stays near the real one so time-to-live items are still
    /// alive for the store's own expiry.
    pub fn midday_today() -> Self {
        let today = Utc::now().date_naive();
        Self::new(today.and_time(chrono::NaiveTime::MIN).and_utc() + chrono::Duration::hours(17))
    }

    /// Moves the clock by `by` (negative moves it back).
    pub fn advance(&self, by: chrono::Duration) {
        let mut now = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *now += by;
    }

    /// Moves the clock to `at`.
    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = at;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Makes fresh identifiers (broadcasts, runs, message ids).
pub trait Ids: Send + Sync {
    /// A new identifier, unique for this generator.
    fn next_id(&self) -> String;
}

/// UUIDv7 identifiers: a millisecond timestamp, then 74 random bits.
/// Ids made close in time sort close together, so the items keyed by
/// them (an SIS batch's broadcasts, their deliveries) land in the same
/// pages of an ordered store instead of one page each; DynamoDB hashes
/// partition keys, so there it changes nothing. Not secrets: nothing
/// unguessable is made from them.
#[derive(Debug, Default, Clone, Copy)]
pub struct TimeOrderedIds;

impl Ids for TimeOrderedIds {
    fn next_id(&self) -> String {
        uuid::Uuid::now_v7().to_string()
    }
}

/// `prefix-1`, `prefix-2`, ... for tests that compare output.
#[derive(Debug)]
pub struct SequentialIds {
    prefix: String,
    next: AtomicU64,
}

impl SequentialIds {
    /// Counts from 1 with the prefix.
    pub fn new(prefix: impl Into<String>) -> Self {
        Self { prefix: prefix.into(), next: AtomicU64::new(1) }
    }
}

impl Ids for SequentialIds {
    fn next_id(&self) -> String {
        format!("{}-{}", self.prefix, self.next.fetch_add(1, Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_made_later_sort_after_earlier_ones_and_never_repeat() {
        let ids = TimeOrderedIds;
        let made: Vec<String> = (0..2_000).map(|_| ids.next_id()).collect();
        let mut sorted = made.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted, made);
    }
}
