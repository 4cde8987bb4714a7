//! What makes SIS events exactly-once: a record per event id (kept
//! [`EVENT_KEPT_DAYS`] days, so a replay within them is a duplicate) and a
//! record per student and school day for attendance (one attendance message
//! a day), both written in the same transaction as the event's broadcast.
//!
//! | item | pk | sk |
//! | --- | --- | --- |
//! | event seen | `D#d#SISEVENT#event-id` | `#EVENT` |
//! | attendance message of a day | `D#d#ATTENDANCE#2026-12-04#student-id` | `#DAY` |
//!
//! Each its own partition: a district's events spread over the table
//! instead of queueing behind one hot key. Both expire (`expires_at`).

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::StoreError;
use super::items::{get_record, record_text};
use crate::domain::{BroadcastId, DistrictId, PersonId, SisEventType};
use crate::ports::table::{Condition, Key, Table, TableError, WriteOp};

/// How long an event id is remembered (the issue asks at least 7 days).
pub const EVENT_KEPT_DAYS: i64 = 8;

const EVENT_SK: &str = "#EVENT";
const DAY_SK: &str = "#DAY";

/// What became of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventOutcome {
    /// It became a broadcast.
    Accepted,
    /// Another attendance event of the student's day already had its message.
    Merged,
}

/// An event as remembered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeenEvent {
    /// The SIS's id.
    pub id: String,
    /// Its type.
    #[serde(rename = "type")]
    pub kind: String,
    /// The student.
    pub student: PersonId,
    /// What became of it.
    pub outcome: EventOutcome,
    /// Its broadcast (accepted), or the day's (merged).
    pub broadcast: Option<BroadcastId>,
    /// When it arrived.
    pub received_at: DateTime<Utc>,
    /// The SIS key it came with.
    pub key: String,
}

/// The record of a student's day claimed by its attendance message.
#[derive(Serialize)]
struct DayClaim<'a> {
    broadcast: &'a BroadcastId,
}

/// The SIS events' exactly-once records.
#[derive(Clone)]
pub struct SisEventStore {
    table: Arc<dyn Table>,
}

fn event_key(district: &DistrictId, id: &str) -> Key {
    Key::new(format!("D#{district}#SISEVENT#{id}"), EVENT_SK)
}

fn day_key(district: &DistrictId, student: &PersonId, day: NaiveDate) -> Key {
    Key::new(format!("D#{district}#ATTENDANCE#{day}#{student}"), DAY_SK)
}

impl SisEventStore {
    /// The store over `table`.
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    /// The event with this id, if seen in the last [`EVENT_KEPT_DAYS`] days.
    pub async fn seen(&self, district: &DistrictId, id: &str) -> Result<Option<SeenEvent>, StoreError> {
        get_record(self.table.as_ref(), &event_key(district, id)).await
    }

    /// The broadcast that already told the student's family of this day's attendance.
    pub async fn attendance_message(
        &self,
        district: &DistrictId,
        student: &PersonId,
        day: NaiveDate,
    ) -> Result<Option<BroadcastId>, StoreError> {
        let Some(item) = self.table.get(&day_key(district, student, day)).await? else { return Ok(None) };
        let text = item.get("broadcast").and_then(serde_json::Value::as_str).unwrap_or_default();
        BroadcastId::parse(text).map(Some).map_err(StoreError::corrupt)
    }

    /// The write remembering `event` (only if its id is new).
    pub fn seen_op(&self, district: &DistrictId, event: &SeenEvent) -> Result<WriteOp, StoreError> {
        let expires = event.received_at + chrono::Duration::days(EVENT_KEPT_DAYS);
        let item = record_text(event_key(district, &event.id), event)?.expiring(expires.timestamp())?;
        Ok(WriteOp::PutText { item, condition: Condition::NotExists })
    }

    /// The write claiming the student's attendance message of `day` for
    /// `broadcast` (only if the day has none yet). It expires two days after
    /// the day, or after `now` for an event about a day long past (a late
    /// SIS), so that a second event of that day still finds it.
    pub fn attendance_op(
        &self,
        district: &DistrictId,
        student: &PersonId,
        day: NaiveDate,
        broadcast: &BroadcastId,
        now: DateTime<Utc>,
    ) -> Result<WriteOp, StoreError> {
        let expires = day.and_time(chrono::NaiveTime::MIN).and_utc().max(now) + chrono::Duration::days(2);
        let item =
            record_text(day_key(district, student, day), &DayClaim { broadcast })?.expiring(expires.timestamp())?;
        Ok(WriteOp::PutText { item, condition: Condition::NotExists })
    }

    /// Commits an event's writes together; `Ok(false)` when one of their
    /// conditions failed (the id was seen, or the day has its message).
    pub async fn commit(&self, ops: Vec<WriteOp>) -> Result<bool, StoreError> {
        match self.table.transact_write(ops).await {
            Ok(()) => Ok(true),
            Err(TableError::ConditionFailed { .. }) => Ok(false),
            Err(other) => Err(other.into()),
        }
    }
}

/// The type's name as remembered.
pub fn event_type_name(kind: SisEventType) -> String {
    kind.as_str().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::local::EmbeddedTable;

    #[tokio::test]
    async fn an_event_id_and_a_student_s_day_are_each_taken_once() -> Result<(), StoreError> {
        let store = SisEventStore::new(Arc::new(EmbeddedTable::in_memory().map_err(StoreError::from)?));
        let district = DistrictId::parse("d-1").map_err(StoreError::corrupt)?;
        let student = PersonId::parse("s-1").map_err(StoreError::corrupt)?;
        let broadcast = BroadcastId::parse("b-1").map_err(StoreError::corrupt)?;
        let day = crate::ports::Clock::now(&crate::ports::FixedClock::midday_today()).date_naive();
        let event = SeenEvent {
            id: "e-1".into(),
            kind: event_type_name(SisEventType::AttendanceAbsent),
            student: student.clone(),
            outcome: EventOutcome::Accepted,
            broadcast: Some(broadcast.clone()),
            // Today: the table hides what has expired by the time it is read.
            received_at: crate::ports::Clock::now(&crate::ports::FixedClock::midday_today()),
            key: "sk-1".into(),
        };
        let ops = |event: &SeenEvent| -> Result<Vec<WriteOp>, StoreError> {
            Ok(vec![
                store.seen_op(&district, event)?,
                store.attendance_op(&district, &student, day, &broadcast, event.received_at)?,
            ])
        };
        assert!(store.commit(ops(&event)?).await?);
        assert!(!store.commit(ops(&event)?).await?, "the same id again");
        let later = SeenEvent { id: "e-2".into(), ..event.clone() };
        assert!(!store.commit(ops(&later)?).await?, "the same student's day again");
        assert_eq!(store.seen(&district, "e-2").await?, None, "nothing of a refused commit stays");
        assert_eq!(store.seen(&district, "e-1").await?, Some(event));
        assert_eq!(store.attendance_message(&district, &student, day).await?, Some(broadcast));
        Ok(())
    }

    #[tokio::test]
    async fn a_long_past_day_s_claim_lasts_long_enough_for_its_second_event_to_find_it() -> Result<(), StoreError> {
        let store = SisEventStore::new(Arc::new(EmbeddedTable::in_memory().map_err(StoreError::from)?));
        let district = DistrictId::parse("d-1").map_err(StoreError::corrupt)?;
        let student = PersonId::parse("s-1").map_err(StoreError::corrupt)?;
        let broadcast = BroadcastId::parse("b-1").map_err(StoreError::corrupt)?;
        let now = crate::ports::Clock::now(&crate::ports::FixedClock::midday_today());
        let long_ago = (now - chrono::Duration::days(90)).date_naive();
        assert!(store.commit(vec![store.attendance_op(&district, &student, long_ago, &broadcast, now)?]).await?);
        assert_eq!(store.attendance_message(&district, &student, long_ago).await?, Some(broadcast));
        Ok(())
    }
}
