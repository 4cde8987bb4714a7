//! Planning against a real (embedded) table: a plan retried after its
//! checkpoint failed, and a sender's rights read again at plan time.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;

use super::*;
use crate::adapters::local::{EmbeddedTable, HookedTable, LocalQueue, Write, WriteHook};
use crate::domain::{
    BroadcastInput, ContactInput, EmailAddress, EmailStatus, Person, PersonInput, Principal, Region, Role,
};
use crate::ports::{BatchOp, FixedClock, TableError, TimeOrderedIds};
use crate::root::{Ports, Services, Wiring};
use crate::services::BroadcastService;

/// Fails the next checkpoint write (a batch of `CHUNK#` items) once, after
/// the chunks it records were queued.
#[derive(Default)]
struct CheckpointFailsOnce {
    fail_next: AtomicBool,
}

fn is_checkpoint(op: &BatchOp) -> bool {
    !matches!(op, BatchOp::Delete(_)) && op.key().is_ok_and(|key| key.sk.starts_with("CHUNK#"))
}

#[async_trait]
impl WriteHook for CheckpointFailsOnce {
    async fn before(&self, write: Write<'_>) -> Result<(), TableError> {
        match write {
            Write::Batch(ops) if ops.iter().any(is_checkpoint) && self.fail_next.swap(false, Ordering::SeqCst) => {
                Err(TableError::Unavailable("the checkpoint write failed, once".into()))
            }
            _ => Ok(()),
        }
    }
}

struct World {
    table: Arc<HookedTable<CheckpointFailsOnce>>,
    services: Services,
    broadcasts: BroadcastService,
    fanout: FanoutService,
    send: Arc<LocalQueue>,
    district: DistrictId,
}

async fn world() -> World {
    let table =
        Arc::new(HookedTable::new(Arc::new(EmbeddedTable::in_memory().unwrap()), CheckpointFailsOnce::default()));
    let district = DistrictId::parse("d-1").unwrap();
    for (id, email) in [("g-1", "ana@example.org"), ("g-2", "kim@example.org")] {
        let input = PersonInput {
            id: id.into(),
            role: "guardian".into(),
            given_name: "Pat".into(),
            family_name: "Doe".into(),
            schools: vec![],
            contacts: vec![ContactInput { channel: "email".into(), value: email.into() }],
        };
        let person = Person::from_input(&input, Region::US).unwrap();
        crate::store::PeopleStore::new(table.clone()).create(&district, &person).await.unwrap();
    }
    let send = Arc::new(LocalQueue::new());
    let ports = Ports::new(table.clone(), Arc::new(FixedClock::midday_today()), Arc::new(TimeOrderedIds))
        .with_plan_queue(Arc::new(LocalQueue::new()))
        .with_send_queue(send.clone());
    let services = Services::new(ports, Wiring { default_district: Some(district.clone()), ..Wiring::default() });
    World {
        broadcasts: services.broadcasts().unwrap(),
        fanout: services.fanout().unwrap(),
        services,
        table,
        send,
        district,
    }
}

fn admin() -> Principal {
    Principal {
        subject: "admin".into(),
        district: DistrictId::parse("d-1").unwrap(),
        roles: vec![Role::DistrictAdmin],
        schools: vec![],
    }
}

fn emergency_email() -> BroadcastInput {
    serde_json::from_value(serde_json::json!({
        "reason": "emergency", "emergency": true, "channels": ["email"],
        "content": {"email": {"subject": "Closed", "text": "School is closed today."}},
        "audience": {"people": ["g-1", "g-2"]}
    }))
    .unwrap()
}

/// Every send task queued, as (chunk number, addresses).
async fn queued_chunks(send: &LocalQueue) -> Vec<(u64, Vec<String>)> {
    let mut chunks = Vec::new();
    for message in send.receive(10, Duration::ZERO).await.unwrap() {
        if let Ok(Task::SendV1 { chunk, deliveries, .. }) = Task::from_body(&message.body) {
            chunks.push((chunk, deliveries.iter().map(|d| d.point().key()).collect()));
        }
    }
    chunks
}

#[tokio::test]
async fn a_plan_retried_after_a_failed_checkpoint_never_gives_one_chunk_number_other_messages() {
    let world = world().await;
    let broadcast = world.broadcasts.create(&admin(), &emergency_email()).await.unwrap();
    world.table.hook.fail_next.store(true, Ordering::SeqCst);
    assert!(world.fanout.plan(&world.district, &broadcast.id).await.is_err(), "the checkpoint failed");
    // Between the two runs a bounce takes Kim's address off the plan.
    let kim = EmailAddress::parse("kim@example.org").unwrap();
    let at = chrono::Utc::now();
    world
        .services
        .stores()
        .email_status
        .record(&world.district, &kim, EmailStatus::BouncedPermanent, (at, "t", "e1"))
        .await
        .unwrap();
    assert!(matches!(world.fanout.plan(&world.district, &broadcast.id).await, Ok(PlanOutcome::Planned(_))));

    let chunks = queued_chunks(&world.send).await;
    assert_eq!(chunks.len(), 2, "the first run's task and the retry's: {chunks:?}");
    let (first, retried) = (&chunks[0], &chunks[1]);
    assert_ne!(first.1, retried.1, "the retry plans other messages");
    assert_ne!(first.0, retried.0, "so it must not reuse the chunk number: {chunks:?}");
}

#[tokio::test]
async fn a_plan_retried_with_the_same_messages_queues_the_same_chunk_number() {
    let world = world().await;
    let broadcast = world.broadcasts.create(&admin(), &emergency_email()).await.unwrap();
    world.table.hook.fail_next.store(true, Ordering::SeqCst);
    assert!(world.fanout.plan(&world.district, &broadcast.id).await.is_err());
    assert!(matches!(world.fanout.plan(&world.district, &broadcast.id).await, Ok(PlanOutcome::Planned(_))));
    let chunks = queued_chunks(&world.send).await;
    assert_eq!(chunks.len(), 2, "{chunks:?}");
    assert_eq!(chunks[0], chunks[1], "the same messages under the same number: the send claim sends them once");
}

#[tokio::test]
async fn a_sender_who_lost_their_role_since_scheduling_sends_nothing_and_the_broadcast_says_why() {
    let world = world().await;
    let roles = &world.services.stores().roles;
    let staff = PersonId::parse("p-1").unwrap();
    let assignment = crate::domain::roles::Assignment {
        staff_id: staff.clone(),
        school: None,
        role: "district_admin".into(),
        assigned_by: "admin".into(),
        assigned_at: chrono::Utc::now(),
    };
    roles.assign(&world.district, &assignment).await.unwrap();
    // The token says teacher; the stored assignment makes p-1 a district admin.
    let sender = Principal {
        subject: "p-1".into(),
        district: world.district.clone(),
        roles: vec![Role::Teacher],
        schools: vec![],
    };
    let broadcast = world.broadcasts.create(&sender, &emergency_email()).await.unwrap();
    assert!(roles.unassign(&world.district, &staff, None, "district_admin").await.unwrap());

    let outcome = world.fanout.plan(&world.district, &broadcast.id).await.unwrap();
    assert!(
        matches!(&outcome, PlanOutcome::Refused(why) if why.contains("`emergency` broadcasts district-wide")),
        "{outcome:?}"
    );
    assert!(queued_chunks(&world.send).await.is_empty(), "nothing is sent");
    let stored = world.services.stores().broadcasts.get(&world.district, &broadcast.id).await.unwrap().unwrap();
    assert_eq!(stored.state, BroadcastState::Refused);
    assert!(stored.refusal.is_some_and(|why| why.contains("no longer allowed")));
    assert_eq!(
        world.fanout.plan(&world.district, &broadcast.id).await.unwrap(),
        PlanOutcome::Refused(
            "when it was planned, its sender's roles no longer allowed `emergency` broadcasts district-wide".into()
        ),
        "a redelivered plan task is refused again"
    );
}

#[tokio::test]
async fn a_bounced_address_is_skipped_whether_the_audience_is_small_or_reads_the_district_s_index() {
    let world = world().await;
    let people = crate::store::PeopleStore::new(world.table.clone());
    for n in 3..=SMALL_AUDIENCE + 2 {
        let input = PersonInput {
            id: format!("g-{n}"),
            role: "guardian".into(),
            given_name: "Pat".into(),
            family_name: "Doe".into(),
            schools: vec![],
            contacts: vec![ContactInput { channel: "email".into(), value: format!("family{n}@example.org") }],
        };
        people.create(&world.district, &Person::from_input(&input, Region::US).unwrap()).await.unwrap();
    }
    let kim = EmailAddress::parse("kim@example.org").unwrap();
    let stores = world.services.stores();
    let at = chrono::Utc::now();
    stores.email_status.record(&world.district, &kim, EmailStatus::BouncedPermanent, (at, "t", "e1")).await.unwrap();
    let everyone: Vec<String> = (1..=SMALL_AUDIENCE + 2).map(|n| format!("g-{n}")).collect();
    for audience in [vec!["g-1".to_string(), "g-2".to_string()], everyone] {
        let mut input = emergency_email();
        input.audience.people = audience.iter().map(|id| PersonId::parse(id).unwrap()).collect();
        let broadcast = world.broadcasts.create(&admin(), &input).await.unwrap();
        world.fanout.plan(&world.district, &broadcast.id).await.unwrap();
        let point = DeliveryPoint::Email(kim.clone());
        let skipped = stores.broadcasts.delivery(&world.district, &broadcast.id, &point).await.unwrap();
        assert_eq!(
            skipped.map(|d| (d.state, d.reason)),
            Some((crate::domain::DeliveryState::Skipped, Some(crate::domain::DeliveryReason::BouncedPermanent))),
            "{} people",
            audience.len()
        );
    }
}

#[tokio::test]
async fn a_plan_of_more_chunks_than_one_queue_batch_checkpoints_every_chunk_and_saves_the_broadcast() {
    let world = world().await;
    let people = crate::store::PeopleStore::new(world.table.clone());
    let count = CHUNK_SIZE * QUEUE_BATCH + 1;
    let mut ids = Vec::with_capacity(count);
    for n in 0..count {
        let input = PersonInput {
            id: format!("many-{n:05}"),
            role: "guardian".into(),
            given_name: "Pat".into(),
            family_name: "Doe".into(),
            schools: vec![],
            contacts: vec![ContactInput { channel: "email".into(), value: format!("f{n}@example.org") }],
        };
        people.create(&world.district, &Person::from_input(&input, Region::US).unwrap()).await.unwrap();
        ids.push(input.id);
    }
    let input: BroadcastInput = serde_json::from_value(serde_json::json!({
        "reason": "emergency", "emergency": true, "channels": ["email"],
        "content": {"email": {"subject": "Closed", "text": "School is closed today."}},
        "audience": {"people": ids}
    }))
    .unwrap();
    let broadcast = world.broadcasts.create(&admin(), &input).await.unwrap();
    let Ok(PlanOutcome::Planned(summary)) = world.fanout.plan(&world.district, &broadcast.id).await else {
        panic!("planned")
    };
    assert_eq!(summary.chunks, QUEUE_BATCH as u64 + 1, "two queue batches of chunks");
    let stores = world.services.stores();
    let checkpoints = stores.broadcasts.planned_chunks(&world.district, &broadcast.id).await.unwrap();
    assert_eq!(checkpoints.len(), QUEUE_BATCH + 1, "the first batch's and the last one, written with the broadcast");
    let saved = stores.broadcasts.get(&world.district, &broadcast.id).await.unwrap().unwrap();
    assert_eq!((saved.state, saved.plan.map(|p| p.chunks)), (BroadcastState::Sending, Some(summary.chunks)));
    assert!(matches!(world.fanout.plan(&world.district, &broadcast.id).await, Ok(PlanOutcome::AlreadyPlanned)));
}
