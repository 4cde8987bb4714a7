//! `schoolbell bench sis-events`: a generated district (text consent
//! `number_provided`, set through the settings service), then 10,000
//! absences of distinct students posted in batches of 500 to the SIS-event
//! service, with 5 % of them replayed (duplicates) and 5 % followed by a
//! tardy of the same day (merged); measured until every message they
//! cause is recorded as sent through the local queues, the simulated
//! carrier and voice service and an in-memory outbox. Then checked: each
//! accepted event has exactly one broadcast, and no other event sent anything.
//!
//! Raw baseline, same run: the embedded table alone taking one transaction
//! per event of the same size (the event record, the day's claim, the
//! broadcast, its listing, its schedule entry), the floor of what exactly-once costs.

use std::path::Path;
use std::time::Instant;

use schoolbell::adapters::local::EmbeddedTable;
use schoolbell::domain::DeliveryState;
use schoolbell::ports::Table;
use schoolbell::ports::table::{Condition, WriteOp};
use schoolbell::services::MAX_EVENTS_PER_BATCH;
use schoolbell::store::BroadcastStore;
use serde::Serialize;
use serde_json::{Value, json};

/// Absences posted (the figure).
pub const ABSENCES: usize = 10_000;

/// What `bench sis-events` prints.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SisEventsBenchReport {
    /// Events posted (absences, replays and same-day tardies).
    pub events: u64,
    /// Seconds from the first post to every message recorded.
    pub seconds: f64,
    /// Events per second over that time.
    pub events_per_sec: f64,
    /// Messages recorded as sent (calls, texts, emails).
    pub messages: u64,
    /// Tardies merged into their day's absence.
    pub merged: u64,
    /// Replays answered as duplicates.
    pub duplicates: u64,
    /// Events that became a broadcast.
    pub accepted: u64,
    /// Seconds the service took to answer every batch (before sending).
    pub receive_seconds: f64,
    /// Table read requests (gets, queries) per event, receiving to sent.
    pub reads_per_event: f64,
    /// Table write requests (puts, transactions, batches) per event.
    pub writes_per_event: f64,
    /// The raw baseline: transactions per second of the embedded table alone.
    pub raw_transactions_per_sec: f64,
}

fn event(id: String, kind: &str, student: usize, extra: Value) -> Value {
    let mut event = json!({"id": id, "type": kind, "student": format!("stu-{student:06}"),
        "occurred_at": "2026-12-04T08:05:00-05:00"});
    if let (Some(event), Some(extra)) = (event.as_object_mut(), extra.as_object()) {
        event.extend(extra.clone());
    }
    event
}

/// The events, in the order posted.
fn events(students: usize) -> Vec<Value> {
    let absences = ABSENCES.min(students);
    let mut events = Vec::with_capacity(absences * 11 / 10);
    for n in 1..=absences {
        events.push(event(format!("abs-{n}"), "attendance.absent", n, json!({"period": "1", "excused": false})));
        if n % 20 == 0 {
            events.push(event(format!("abs-{n}"), "attendance.absent", n, json!({"period": "1", "excused": false})));
        }
        if n % 20 == 10 {
            events.push(event(format!("tardy-{n}"), "attendance.tardy", n, json!({"period": "3"})));
        }
    }
    events
}

/// Runs the benchmark in `work` (generated files and a data directory).
pub async fn sis_events(students: usize, work: &Path) -> anyhow::Result<SisEventsBenchReport> {
    let crate::bench_fanout::BenchWorld { district, services, plan_queue, send_queue, table, .. } =
        crate::bench_fanout::bench_world(students, 14, work).await?;
    let receiver = services.sis_events()?;
    let runner = services.task_runner()?;
    let events = events(students);

    let before = table.stats();
    let started = Instant::now();
    let mut answered = schoolbell::services::EventsAnswer::default();
    for batch in events.chunks(MAX_EVENTS_PER_BATCH) {
        let answer = receiver.receive(&district, "bench", batch).await?;
        answered.accepted += answer.accepted;
        answered.merged += answer.merged;
        answered.duplicates += answer.duplicates;
        answered.rejected.extend(answer.rejected);
    }
    let receive_seconds = started.elapsed().as_secs_f64();
    crate::workers::drain(&plan_queue, &send_queue, &runner).await;
    let seconds = started.elapsed().as_secs_f64();
    let after = table.stats();
    anyhow::ensure!(answered.rejected.is_empty(), "rejected: {:?}", answered.rejected.first());

    // Every accepted event: one broadcast; its messages recorded once each.
    let store = BroadcastStore::new(table.clone());
    let mut messages = 0_u64;
    let mut event_broadcasts = 0_u64;
    for id in store.recent(&district, u32::MAX).await? {
        let Some(broadcast) = store.get(&district, &id).await? else { continue };
        if broadcast.event.is_none() {
            continue;
        }
        event_broadcasts += 1;
        let deliveries = store.all_deliveries(&district, &id).await?;
        messages +=
            deliveries.iter().filter(|d| matches!(d.state, DeliveryState::Sent | DeliveryState::Delivered)).count()
                as u64;
    }
    anyhow::ensure!(
        event_broadcasts == u64::from(answered.accepted),
        "{event_broadcasts} event broadcasts for {} accepted events",
        answered.accepted
    );

    let raw_transactions_per_sec = raw_baseline(events.len()).await?;
    let per_event = |requests: u64| round(requests as f64 / events.len().max(1) as f64);
    Ok(SisEventsBenchReport {
        events: events.len() as u64,
        seconds: round(seconds),
        events_per_sec: if seconds > 0.0 { (events.len() as f64 / seconds).round() } else { 0.0 },
        messages,
        merged: u64::from(answered.merged),
        duplicates: u64::from(answered.duplicates),
        accepted: u64::from(answered.accepted),
        receive_seconds: round(receive_seconds),
        reads_per_event: per_event(after.read_requests - before.read_requests),
        writes_per_event: per_event(after.write_requests - before.write_requests),
        raw_transactions_per_sec,
    })
}

/// One transaction of five conditional puts per event on a fresh
/// in-memory table: transactions per second.
async fn raw_baseline(events: usize) -> anyhow::Result<f64> {
    let table = EmbeddedTable::in_memory()?;
    let started = Instant::now();
    for n in 0..events {
        let ops = (0..5)
            .map(|part| {
                let mut item = schoolbell::ports::table::Item::new();
                item.insert("pk".into(), json!(format!("D#bench#RAW#{n}#{part}")));
                item.insert("sk".into(), json!("#RAW"));
                item.insert("body".into(), json!("x".repeat(200)));
                WriteOp::Put { item, condition: Condition::NotExists }
            })
            .collect();
        table.transact_write(ops).await?;
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok(if seconds > 0.0 { (events as f64 / seconds).round() } else { 0.0 })
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_sis_events_bench_sends_each_accepted_event_once_and_counts_replays_and_merges() {
        let dir = tempfile::tempdir().unwrap();
        let report = sis_events(40, dir.path()).await.unwrap();
        assert_eq!((report.events, report.accepted, report.duplicates, report.merged), (44, 40, 2, 2), "{report:?}");
        assert!(report.messages >= 40, "every absence reached someone: {report:?}");
        let json = serde_json::to_value(&report).unwrap();
        for key in ["events", "seconds", "events_per_sec", "messages", "merged", "duplicates"] {
            assert!(json.get(key).is_some(), "{key}: {json}");
        }
    }
}
