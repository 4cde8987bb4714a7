//! The send protocol under faults: a send worker that dies after N of M
//! sends, and a queue that hands every task out up to three more times,
//! end with every message sent and recorded once — none twice, none lost.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use schoolbell::adapters::local::{EmbeddedTable, LocalQueue, Outbox};
use schoolbell::domain::{
    Audience, Broadcast, BroadcastChannel, BroadcastContent, BroadcastId, BroadcastKind, BroadcastState, Channel,
    ContactReason, ContactValue, DeliveryState, DistrictId, ListTarget, PersonId, PhoneNumber, PlannedDelivery, Task,
};
use schoolbell::ports::{
    FixedClock, GatewayError, OutboundSms, SentSms, SmsGateway, SystemClock, TimeOrderedIds, WorkQueue,
};
use schoolbell::root::{Ports, Services, Wiring};
use schoolbell::services::SendSettings;
use schoolbell::store::BroadcastStore;

/// Takes texts like a carrier, except that the call after the `die_after`th
/// kills the worker (a panic aborts its task before the text leaves).
struct DyingCarrier {
    calls: Mutex<Vec<String>>,
    die_after: usize,
    died: AtomicBool,
}

#[async_trait]
impl SmsGateway for DyingCarrier {
    async fn send(&self, sms: &OutboundSms) -> Result<SentSms, GatewayError> {
        let mut calls = self.calls.lock().unwrap_or_else(PoisonError::into_inner);
        if calls.len() == self.die_after && !self.died.swap(true, Ordering::SeqCst) {
            drop(calls);
            panic!("the send worker dies here");
        }
        calls.push(sms.to.as_e164().to_string());
        Ok(SentSms { provider_message_id: format!("m-{}", calls.len()) })
    }
}

fn id<T>(parse: impl Fn(String) -> Result<T, schoolbell::domain::DomainError>, value: &str) -> T {
    parse(value.to_string()).unwrap()
}

fn broadcast() -> Broadcast {
    Broadcast {
        id: id(BroadcastId::parse, "b-fault"),
        kind: BroadcastKind::Broadcast,
        reason: ContactReason::Emergency,
        channels: vec![BroadcastChannel::Text],
        content: BroadcastContent { sms: Some("Shelter in place.".into()), ..BroadcastContent::default() },
        audience: Audience { lists: vec![], rule: None, people: vec![], target: ListTarget::Guardians },
        schools: vec![],
        send_at: chrono::DateTime::UNIX_EPOCH,
        emergency: true,
        created_by: "admin".into(),
        sender_name: None,
        created_at: chrono::DateTime::UNIX_EPOCH,
        state: BroadcastState::Sending,
        deferred_until: None,
        deferred_channels: Vec::new(),
        plan: None,
        accepted: None,
        refusal: None,
        landline_autocall: None,
        urgent: false,
        event: None,
    }
}

/// Runs the fault scenario; answers (provider calls, distinct numbers called, deliveries marked sent).
async fn run_with_a_crash(messages: usize, die_after: usize, concurrency: usize) -> (usize, usize, usize) {
    let table = Arc::new(EmbeddedTable::in_memory().unwrap());
    let district = id(DistrictId::parse, "d-fault");
    let store = BroadcastStore::new(table.clone());
    store.create(&district, &broadcast()).await.unwrap();
    let carrier = Arc::new(DyingCarrier { calls: Mutex::new(Vec::new()), die_after, died: AtomicBool::new(false) });
    let settings = SendSettings {
        concurrency,
        claim_lease: Duration::from_millis(150),
        backoff: Duration::from_millis(1),
        ..SendSettings::default()
    };
    // Leases run out in real time here: the system clock, on purpose.
    let ports = Ports::new(table.clone(), Arc::new(SystemClock), Arc::new(TimeOrderedIds))
        .with_sms(carrier.clone())
        .with_email(Arc::new(Outbox::in_memory()));
    let runner = Services::new(ports, Wiring::default()).with_send_settings(settings).sender().unwrap();
    let queue = LocalQueue::new().with_visibility_timeout(Duration::from_millis(250)).with_max_receives(20);

    let planned: Vec<PlannedDelivery> = (0..messages)
        .map(|n| PlannedDelivery {
            channel: Channel::Text,
            to: ContactValue::Phone(PhoneNumber::parse_e164(&format!("+1617555{:04}", 2000 + n)).unwrap()),
            people: vec![id(PersonId::parse, &format!("g-{n}"))],
            first_name: None,
            children: vec![],
            school: None,
            language: None,
        })
        .collect();
    let mut bodies = Vec::new();
    for (chunk, deliveries) in planned.chunks(100).enumerate() {
        let task = Task::SendV1 {
            district: district.clone(),
            broadcast: id(BroadcastId::parse, "b-fault"),
            chunk: chunk as u64,
            deliveries: deliveries.to_vec(),
        };
        // The task and three redeliveries of it.
        bodies.extend(std::iter::repeat_n(task.to_body(), 4));
    }
    queue.send(bodies).await.unwrap();

    for _ in 0..400 {
        if queue.is_empty() {
            break;
        }
        let received = queue.receive(10, Duration::from_millis(20)).await.unwrap_or_default();
        for message in received {
            let runner = runner.clone();
            let body = message.body.clone();
            // A panic inside the task is the worker dying: no acknowledgement.
            if let Ok(Ok(())) = tokio::spawn(async move { runner.run(&body).await }).await {
                queue.ack(&message.receipt).await.unwrap();
            }
        }
    }
    assert!(queue.is_empty() && queue.dead_letters().is_empty(), "every task finished");
    let calls = carrier.calls.lock().unwrap_or_else(PoisonError::into_inner).clone();
    let distinct: BTreeSet<&String> = calls.iter().collect();
    let deliveries = store.all_deliveries(&district, &id(BroadcastId::parse, "b-fault")).await.unwrap_or_default();
    let sent = deliveries.iter().filter(|d| d.state == DeliveryState::Sent).count();
    (calls.len(), distinct.len(), sent)
}

#[tokio::test]
async fn a_worker_dying_between_sends_and_redelivered_tasks_end_with_each_message_sent_once() {
    let (calls, distinct, sent) = run_with_a_crash(250, 137, 1).await;
    assert_eq!((calls, distinct, sent), (250, 250, 250), "exactly M provider calls and M deliveries");
}

#[tokio::test]
async fn with_sends_in_flight_a_crash_loses_nothing_and_repeats_at_most_the_messages_in_flight() {
    let (calls, distinct, sent) = run_with_a_crash(250, 137, 16).await;
    assert_eq!((distinct, sent), (250, 250), "none lost");
    assert!(calls - 250 < 16, "at most the messages in flight go twice: {calls}");
}

#[tokio::test]
async fn a_plan_run_again_after_a_crash_queues_no_chunk_twice() {
    use schoolbell::domain::{ContactInput, Person, PersonInput, Region};
    use schoolbell::ports::TimeOrderedIds;
    use schoolbell::store::PeopleStore;

    let table = Arc::new(EmbeddedTable::in_memory().unwrap());
    let district = id(DistrictId::parse, "d-plan");
    let people = PeopleStore::new(table.clone());
    let mut ids = Vec::new();
    for n in 0..250 {
        let input = PersonInput {
            id: format!("g-{n:03}"),
            role: "guardian".into(),
            given_name: "Ana".into(),
            family_name: "Diaz".into(),
            schools: vec![],
            contacts: vec![ContactInput { channel: "email".into(), value: format!("family{n}@example.org") }],
        };
        people.create(&district, &Person::from_input(&input, Region::US).unwrap()).await.unwrap();
        ids.push(format!("g-{n:03}"));
    }
    let (plan_queue, send_queue) = (Arc::new(LocalQueue::new()), Arc::new(LocalQueue::new()));
    let ports = Ports::new(table.clone(), Arc::new(FixedClock::midday_today()), Arc::new(TimeOrderedIds))
        .with_plan_queue(plan_queue)
        .with_send_queue(send_queue.clone());
    let services = Services::new(ports, Wiring::default());
    let broadcasts = services.broadcasts().unwrap();
    let fanout = services.fanout().unwrap();
    let admin = schoolbell::domain::Principal {
        subject: "admin".into(),
        district: district.clone(),
        roles: vec![schoolbell::domain::Role::DistrictAdmin],
        schools: vec![],
    };
    let input: schoolbell::domain::BroadcastInput = serde_json::from_value(serde_json::json!({
        "reason": "emergency", "emergency": true, "channels": ["email"],
        "content": {"email": {"subject": "Closed", "text": "Closed today."}}, "audience": {"people": ids}
    }))
    .unwrap();
    let created = broadcasts.create(&admin, &input).await.unwrap();
    fanout.plan(&district, &created.id).await.unwrap();
    assert_eq!(send_queue.len(), 3, "250 messages in chunks of 100");

    // The worker died after queueing its chunks but before saving the plan.
    let store = BroadcastStore::new(table.clone());
    let mut stored = store.get(&district, &created.id).await.unwrap_or_default().unwrap_or_else(|| panic!("stored"));
    stored.plan = None;
    stored.state = BroadcastState::Queued;
    store.save(&district, &stored).await.unwrap();
    let again = fanout.plan(&district, &created.id).await.unwrap();
    assert_eq!(send_queue.len(), 3, "nothing planned twice: {again:?}");
    let saved = store.get(&district, &created.id).await.unwrap_or_default().and_then(|b| b.plan);
    assert_eq!(saved.map(|p| p.queued), Some(250));
}

/// Takes every text, as SNS would: AWS's receipts speak for them.
struct AwsLikeCarrier;

#[async_trait]
impl SmsGateway for AwsLikeCarrier {
    async fn send(&self, _: &OutboundSms) -> Result<SentSms, GatewayError> {
        Ok(SentSms { provider_message_id: "m-aws".into() })
    }

    fn provider(&self) -> Option<&'static str> {
        Some("aws")
    }
}

#[tokio::test]
async fn a_sent_text_records_the_provider_whose_receipts_may_touch_it() {
    let table = Arc::new(EmbeddedTable::in_memory().unwrap());
    let district = id(DistrictId::parse, "d-provider");
    let store = BroadcastStore::new(table.clone());
    store.create(&district, &broadcast()).await.unwrap();
    let ports = Ports::new(table.clone(), Arc::new(FixedClock::midday_today()), Arc::new(TimeOrderedIds))
        .with_sms(Arc::new(AwsLikeCarrier))
        .with_email(Arc::new(Outbox::in_memory()));
    let runner = Services::new(ports, Wiring::default()).sender().unwrap();
    let to = ContactValue::Phone(PhoneNumber::parse_e164("+16175552000").unwrap());
    let message = PlannedDelivery {
        channel: Channel::Text,
        to,
        people: vec![],
        first_name: None,
        children: vec![],
        school: None,
        language: None,
    };
    let task = Task::SendV1 {
        district: district.clone(),
        broadcast: id(BroadcastId::parse, "b-fault"),
        chunk: 0,
        deliveries: vec![message],
    };
    runner.run(&task.to_body()).await.unwrap();
    let deliveries = store.all_deliveries(&district, &id(BroadcastId::parse, "b-fault")).await.unwrap();
    let recorded: Vec<_> = deliveries.iter().map(|d| (d.state, d.provider.as_deref())).collect();
    assert_eq!(recorded, [(DeliveryState::Sent, Some("aws"))]);
}
