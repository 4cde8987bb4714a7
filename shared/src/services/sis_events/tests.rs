//! The SIS-event service when the plan queue is down: the events are
//! accepted (they are recorded), and the scheduler queues their plans.

use std::sync::Arc;

use serde_json::json;

use crate::adapters::local::{EmbeddedTable, LocalQueue};
use crate::domain::{DistrictId, Person, PersonInput, Region};
use crate::ports::{FixedClock, Table, TimeOrderedIds};
use crate::root::{Ports, Services, Wiring};
use crate::services::down_queue::DownQueue;
use crate::store::PeopleStore;

async fn district_with_a_student(table: &Arc<dyn Table>) -> DistrictId {
    let district = DistrictId::parse("d-1").unwrap();
    let input = PersonInput {
        id: "s-1".into(),
        role: "student".into(),
        given_name: "Leo".into(),
        family_name: "Diaz".into(),
        schools: vec![],
        contacts: vec![],
    };
    let leo = Person::from_input(&input, Region::US).unwrap();
    PeopleStore::new(table.clone()).create(&district, &leo).await.unwrap();
    district
}

fn absences() -> Vec<serde_json::Value> {
    ["e-1", "e-2"]
        .iter()
        .zip(["2026-12-03T08:05:00-05:00", "2026-12-04T08:05:00-05:00"])
        .map(|(id, at)| {
            json!({"id": id, "type": "attendance.absent", "student": "s-1", "occurred_at": at,
            "period": "1", "excused": false})
        })
        .collect()
}

fn services(table: &Arc<dyn Table>, plan_queue: Arc<dyn crate::ports::WorkQueue>) -> Services {
    let clock = Arc::new(FixedClock::midday_today());
    let ports = Ports::new(table.clone(), clock, Arc::new(TimeOrderedIds))
        .with_plan_queue(plan_queue)
        .with_send_queue(Arc::new(LocalQueue::new()));
    Services::new(ports, Wiring::default())
}

#[tokio::test]
async fn events_taken_while_the_plan_queue_is_down_are_queued_by_the_scheduler_and_only_those() {
    let table: Arc<dyn Table> = Arc::new(EmbeddedTable::in_memory().unwrap());
    let district = district_with_a_student(&table).await;
    let down = services(&table, Arc::new(DownQueue));
    let answer = down.sis_events().unwrap().receive(&district, "k-1", &absences()).await.unwrap();
    assert_eq!(answer.accepted, 2, "recorded, so accepted: {answer:?}");

    let plan_queue = Arc::new(LocalQueue::new());
    let up = services(&table, plan_queue.clone());
    assert_eq!(up.scheduler().unwrap().run_due().await.unwrap(), 2, "the scheduler queues both plans");
    assert_eq!(up.scheduler().unwrap().run_due().await.unwrap(), 0, "once");

    // With the queue up, the plans are queued at once and nothing is left for the scheduler.
    let later = [json!({"id": "e-3", "type": "behavior.incident", "student": "s-1",
        "occurred_at": "2026-12-04T10:00:00-05:00", "incident": "Left class without permission"})];
    let answer = up.sis_events().unwrap().receive(&district, "k-1", &later).await.unwrap();
    assert_eq!(answer.accepted, 1, "{answer:?}");
    assert_eq!(up.scheduler().unwrap().run_due().await.unwrap(), 0, "its entry was removed when it was queued");
}
