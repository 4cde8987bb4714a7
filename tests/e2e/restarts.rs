//! The local gateway across a restart: the plan and send tasks it queued are
//! kept in the data directory and done once it is opened again; the durable
//! local queue passes the `WorkQueue` contract as the in-memory one does.

use std::sync::Arc;
use std::time::Duration;

use schoolbell::adapters::local::{LocalQueue, QueueFile};
use schoolbell::domain::{BroadcastInput, DistrictId, ImportMethod};
use schoolbell::ports::{FixedClock, WorkQueue};
use schoolbell_local::bench_fanout::admin_of;
use schoolbell_local::gen_district::{GenOptions, generate};
use schoolbell_local::import_cmd::{ImportRequest, run};
use schoolbell_local::{DataDir, GatewayOptions, LocalGateway};
use schoolbell_tests::contract::queue;

/// Short, so the contract's redelivery cases are fast.
const VISIBILITY: Duration = Duration::from_millis(50);

fn open(data: &DataDir) -> LocalGateway {
    let clock = Arc::new(FixedClock::midday_today());
    let options = GatewayOptions { clock, background_workers: false, ..GatewayOptions::default() };
    LocalGateway::open(data, options).unwrap_or_else(|e| panic!("gateway: {e}"))
}

fn emergency_text() -> BroadcastInput {
    serde_json::from_value(serde_json::json!({
        "reason": "emergency", "emergency": true, "channels": ["text"],
        "content": {"sms": "Schools close at noon today."},
        "audience": {"rule": {}, "target": "guardians"}
    }))
    .unwrap()
}

#[tokio::test]
async fn a_broadcast_queued_before_the_gateway_stops_is_sent_after_it_reopens() {
    schoolbell::telemetry::init_for_tests();
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("district");
    generate(&GenOptions { students: 6, seed: 5, reachable: true }, &folder).unwrap();
    let data = DataDir::open(dir.path().join("data")).unwrap();
    let district = DistrictId::parse("restart").unwrap();
    {
        let gateway = open(&data);
        let request = ImportRequest {
            district: "restart".into(),
            name: "sis".into(),
            method: ImportMethod::OneRoster,
            mapping: None,
        };
        run(&gateway, &request, &folder).await.unwrap();
        gateway.broadcast_service().create(&admin_of(&district), &emergency_text()).await.unwrap();
        assert_eq!(gateway.plan_queue.len(), 1, "the plan task waits in its queue");
        assert!(gateway.carrier.sent().is_empty());
    }

    let gateway = open(&data);
    let ran = gateway.drainer().drain().await;
    assert!(ran >= 2, "the plan task and its send tasks ran after the restart ({ran})");
    let texts = gateway.carrier.sent();
    assert!(!texts.is_empty(), "the broadcast's texts went out");
    assert!(texts.iter().all(|text| text.body.contains("Schools close at noon today.")));
    drop(gateway);

    let gateway = open(&data);
    assert_eq!(gateway.drainer().drain().await, 0, "work done before a restart is not done again");
    assert!(gateway.carrier.sent().is_empty());
}

#[tokio::test]
async fn a_durable_queue_hands_out_again_what_was_sent_and_not_acknowledged_before_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("queues.redb");
    {
        let file = QueueFile::open(&path).unwrap();
        let queue = LocalQueue::durable(&file, "send").unwrap();
        queue.send(vec!["done".into(), "in flight".into(), "waiting".into()]).await.unwrap();
        let received = queue.receive(2, Duration::ZERO).await.unwrap();
        queue.ack(&received[0].receipt).await.unwrap();
        let other = LocalQueue::durable(&file, "plan").unwrap();
        other.send(vec!["plan".into()]).await.unwrap();
    }
    let file = QueueFile::open(&path).unwrap();
    let queue = LocalQueue::durable(&file, "send").unwrap();
    let again = queue.receive(10, Duration::ZERO).await.unwrap();
    let seen: Vec<(&str, u32)> = again.iter().map(|m| (m.body.as_str(), m.receive_count)).collect();
    assert_eq!(seen, [("in flight", 2), ("waiting", 1)], "in order, receive counts kept");
    assert_eq!(LocalQueue::durable(&file, "plan").unwrap().len(), 1, "each queue keeps its own");
}

#[tokio::test]
async fn a_message_at_the_receive_limit_is_a_dead_letter_after_reopening_and_stays_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("queues.redb");
    {
        let file = QueueFile::open(&path).unwrap();
        let queue = LocalQueue::durable(&file, "plan").unwrap().with_max_receives(1);
        queue.send(vec!["poison".into()]).await.unwrap();
        assert_eq!(queue.receive(1, Duration::ZERO).await.unwrap().len(), 1);
    }
    for _ in 0..2 {
        let file = QueueFile::open(&path).unwrap();
        let queue = LocalQueue::durable(&file, "plan").unwrap().with_max_receives(1);
        assert!(queue.receive(1, Duration::ZERO).await.unwrap().is_empty());
        assert_eq!(queue.dead_letters(), ["poison"]);
        assert!(queue.is_empty());
    }
}

fn durable_queue(dir: &tempfile::TempDir) -> LocalQueue {
    let file = QueueFile::open(&dir.path().join("queues.redb")).unwrap();
    LocalQueue::durable(&file, "contract").unwrap().with_visibility_timeout(VISIBILITY)
}

macro_rules! durable_queue_contract {
    ($($case:ident),+ $(,)?) => {
        mod queue_contract_on_the_durable_local_queue {
            $(
                #[tokio::test]
                async fn $case() {
                    let dir = tempfile::tempdir().unwrap();
                    super::queue::$case(&super::durable_queue(&dir), super::VISIBILITY).await;
                }
            )+
        }
    };
}

durable_queue_contract!(
    every_message_is_received_exactly_once_in_batches_of_at_most_ten,
    an_unacknowledged_message_comes_back_after_the_visibility_timeout,
    an_acknowledged_message_never_comes_back,
);

#[tokio::test]
async fn the_durable_local_queue_answers_nothing_after_the_wait_when_empty() {
    let dir = tempfile::tempdir().unwrap();
    queue::an_empty_queue_answers_nothing_after_the_wait(&durable_queue(&dir)).await;
}

#[tokio::test]
async fn the_durable_local_queue_refuses_empty_bodies() {
    let dir = tempfile::tempdir().unwrap();
    queue::empty_bodies_are_refused(&durable_queue(&dir)).await;
}
