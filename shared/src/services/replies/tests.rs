//! The opt-out property, across broadcasts and in any order of events:
//! after STOP (and until START), a number gets no text but the one
//! confirmation — whatever receipts, late or early, say in between.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{TimeZone as _, Utc};
use proptest::prelude::*;

use super::*;
use crate::adapters::local::{EmbeddedTable, LocalQueue, Outbox};
use crate::domain::{
    BroadcastInput, Channel, ContactInput, ContactReason, Person, PersonInput, PreferenceDefaults, PreferenceRecord,
    PreferenceSource, Principal, Region, Role, Setting, TEXT_CONSENT, TextConsent,
};
use crate::ports::{Condition, Table};
use crate::ports::{FixedClock, GatewayError, SentSms, TimeOrderedIds, WorkQueue};
use crate::receipts::{ReceiptKind, ReceiptStatus};
use crate::root::{Ports, Services, Wiring};
use crate::services::down_queue::DownQueue;
use crate::services::{BroadcastService, ReceiptEvent, ReceiptService, TaskRunner};
use crate::store::{PREFS_SK, PeopleStore, record_item};

const NUMBER: &str = "+16175552345";

#[derive(Default)]
struct RecordingCarrier {
    sent: Mutex<Vec<(String, String)>>,
    from: Mutex<Vec<Option<PhoneNumber>>>,
}

#[async_trait]
impl SmsGateway for RecordingCarrier {
    async fn send(&self, sms: &OutboundSms) -> Result<SentSms, GatewayError> {
        self.from.lock().unwrap_or_else(PoisonError::into_inner).push(sms.from.clone());
        let mut sent = self.sent.lock().unwrap_or_else(PoisonError::into_inner);
        sent.push((sms.to.as_e164().to_string(), sms.body.clone()));
        Ok(SentSms { provider_message_id: format!("m-{}", sent.len()) })
    }
}

#[derive(Debug, Clone)]
enum Event {
    Broadcast,
    Stop(&'static str),
    Start,
    Receipt { message: usize, status: ReceiptStatus, minutes_late: i64 },
}

fn event() -> impl Strategy<Value = Event> {
    let receipt_status = prop_oneof![
        Just(ReceiptStatus::Delivered),
        Just(ReceiptStatus::Blocked),
        Just(ReceiptStatus::Inactive),
        Just(ReceiptStatus::TurnedOff),
    ];
    prop_oneof![
        3 => Just(Event::Broadcast),
        2 => prop_oneof![Just("STOP"), Just("stop texting me"), Just("Unsubscribe."), Just("ARRET")].prop_map(Event::Stop),
        1 => Just(Event::Start),
        4 => (0usize..3, receipt_status, -10i64..30)
            .prop_map(|(message, status, minutes_late)| Event::Receipt { message, status, minutes_late }),
    ]
}

struct World {
    broadcasts: BroadcastService,
    runner: TaskRunner,
    plan: Arc<LocalQueue>,
    send: Arc<LocalQueue>,
    replies: ReplyService,
    receipts: ReceiptService,
    carrier: Arc<RecordingCarrier>,
    clock: Arc<FixedClock>,
    table: Arc<dyn Table>,
    admin: Principal,
}

async fn world() -> World {
    let table: Arc<dyn Table> = Arc::new(EmbeddedTable::in_memory().unwrap());
    let district = DistrictId::parse("d-1").unwrap();
    let input = PersonInput {
        id: "g-1".into(),
        role: "guardian".into(),
        given_name: "Ana".into(),
        family_name: "Diaz".into(),
        schools: vec![],
        contacts: vec![ContactInput { channel: "cell_phone".into(), value: NUMBER.into() }],
    };
    let ana = Person::from_input(&input, Region::US).unwrap();
    PeopleStore::new(table.clone()).create(&district, &ana).await.unwrap();
    let clock = Arc::new(FixedClock::midday_today());
    let now = clock.now();
    let mut prefs = PreferenceRecord {
        text_consent: Some(TextConsent { source: "self".into(), at: now, recorded_by: "g-1".into() }),
        ..PreferenceRecord::default()
    };
    let on = Setting { on: true, source: PreferenceSource::SelfSet, updated_at: now, by: "g-1".into() };
    prefs.set(&PreferenceDefaults::default(), Channel::Text, ContactReason::General, on);
    let item = record_item(crate::store::keys::person_pk(&district, &ana.id), PREFS_SK.into(), &prefs).unwrap();
    table.put(item, Condition::None).await.unwrap();

    let carrier = Arc::new(RecordingCarrier::default());
    let (plan, send) = (Arc::new(LocalQueue::new()), Arc::new(LocalQueue::new()));
    let ports = Ports::new(table.clone(), clock.clone(), Arc::new(TimeOrderedIds))
        .with_sms(carrier.clone())
        .with_email(Arc::new(Outbox::in_memory()))
        .with_plan_queue(plan.clone())
        .with_send_queue(send.clone());
    let services = Services::new(ports, Wiring { default_district: Some(district.clone()), ..Wiring::default() });
    World {
        broadcasts: services.broadcasts().unwrap(),
        runner: services.task_runner().unwrap(),
        plan,
        send,
        replies: services.replies().unwrap(),
        receipts: services.receipts(),
        carrier,
        clock,
        table,
        admin: Principal { subject: "admin".into(), district, roles: vec![Role::DistrictAdmin], schools: vec![] },
    }
}

async fn drain(queue: &LocalQueue, runner: &TaskRunner) {
    while let Ok(messages) = queue.receive(10, Duration::ZERO).await {
        if messages.is_empty() {
            return;
        }
        for message in messages {
            runner.run(&message.body).await.unwrap();
            queue.ack(&message.receipt).await.unwrap();
        }
    }
}

async fn run(events: Vec<Event>) {
    let world = world().await;
    let broadcast: BroadcastInput = serde_json::from_value(serde_json::json!({
        "reason": "general", "emergency": true, "channels": ["text"],
        "content": {"sms": "Picture day is Friday."}, "audience": {"people": ["g-1"]}
    }))
    .unwrap();
    let from = PhoneNumber::parse_e164(NUMBER).unwrap();
    let mut opted_out = false;
    for (n, event) in events.into_iter().enumerate() {
        let before = world.carrier.sent.lock().unwrap_or_else(PoisonError::into_inner).len();
        let mut expect_new = None;
        match event {
            Event::Broadcast => {
                world.broadcasts.create(&world.admin, &broadcast).await.unwrap();
                drain(&world.plan, &world.runner).await;
                drain(&world.send, &world.runner).await;
            }
            Event::Stop(text) => {
                let inbound = InboundSms {
                    provider: "twilio".into(),
                    provider_message_id: format!("in-{n}"),
                    from: from.clone(),
                    to: "+18005550123".into(),
                    body: text.into(),
                    received_at: None,
                };
                assert_eq!(world.replies.handle(&inbound).await.ok(), Some(ReplyOutcome::OptedOut));
                opted_out = true;
                expect_new = Some("unsubscribed");
            }
            Event::Start => {
                let inbound = InboundSms {
                    provider: "twilio".into(),
                    provider_message_id: format!("in-{n}"),
                    from: from.clone(),
                    to: "+18005550123".into(),
                    body: "START".into(),
                    received_at: None,
                };
                // Ana has the number as her cell: START is her consent too, answered once.
                assert_eq!(world.replies.handle(&inbound).await.ok(), Some(ReplyOutcome::Consented));
                opted_out = false;
                expect_new = Some("You will now get texts");
            }
            Event::Receipt { message, status, minutes_late } => {
                let sent = before;
                if sent > 0 {
                    let receipt = ReceiptEvent {
                        provider_message_id: format!("m-{}", message % sent + 1),
                        kind: ReceiptKind::Sms,
                        status,
                        is_final: true,
                        raw_code: None,
                        occurred_at: Some(world.clock.now() + chrono::Duration::minutes(minutes_late)),
                        source: "test".into(),
                    };
                    world.receipts.apply(&receipt).await.unwrap();
                }
            }
        }
        let sent = world.carrier.sent.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let new = &sent[before..];
        match expect_new {
            Some(answer) => {
                assert_eq!(new.len(), 1, "one confirmation: {new:?}");
                assert!(new[0].1.contains(answer), "{new:?}");
            }
            None if opted_out => assert!(new.is_empty(), "nothing but the confirmation after STOP: {new:?}"),
            None => {}
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn after_stop_a_number_gets_nothing_but_the_confirmation(events in proptest::collection::vec(event(), 1..14)) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()
            .unwrap();
        runtime.block_on(run(events));
    }
}

#[tokio::test]
async fn the_same_inbound_message_twice_is_handled_once_and_other_text_is_stored_not_answered() {
    let world = world().await;
    let from = PhoneNumber::parse_e164(NUMBER).unwrap();
    let inbound = |id: &str, body: &str| InboundSms {
        provider: "twilio".into(),
        provider_message_id: id.into(),
        from: from.clone(),
        to: "+18005550123".into(),
        body: body.into(),
        received_at: Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).single(),
    };
    assert_eq!(world.replies.handle(&inbound("a", "HELP")).await.ok(), Some(ReplyOutcome::Helped));
    assert_eq!(world.replies.handle(&inbound("a", "HELP")).await.ok(), Some(ReplyOutcome::Duplicate));
    assert_eq!(world.replies.handle(&inbound("b", "Is school open tomorrow?")).await.ok(), Some(ReplyOutcome::Stored));
    let sent = world.carrier.sent.lock().unwrap_or_else(PoisonError::into_inner).clone();
    assert_eq!(sent.len(), 1, "HELP answered once, the question not at all: {sent:?}");
    assert!(sent[0].1.contains("Msg & data rates may apply") && sent[0].1.contains("Reply STOP"));
    let from = world.carrier.from.lock().unwrap_or_else(PoisonError::into_inner).clone();
    assert_eq!(from, [PhoneNumber::parse_e164("+18005550123").ok()], "answered from the number texted");
}

#[tokio::test]
async fn a_delivery_receipt_arriving_after_stop_does_not_lift_the_opt_out() {
    run(vec![
        Event::Broadcast,
        Event::Stop("STOP"),
        Event::Receipt { message: 0, status: ReceiptStatus::Delivered, minutes_late: 10 },
        Event::Broadcast,
    ])
    .await;
}

/// Fails the next transaction of more than one operation once, as an outage would.
#[derive(Default)]
struct OutageOnce {
    fail_next: std::sync::atomic::AtomicBool,
}

#[async_trait]
impl crate::adapters::local::WriteHook for OutageOnce {
    async fn before(&self, write: crate::adapters::local::Write<'_>) -> Result<(), crate::ports::TableError> {
        match write {
            crate::adapters::local::Write::Transaction(ops)
                if ops.len() > 1 && self.fail_next.swap(false, std::sync::atomic::Ordering::SeqCst) =>
            {
                Err(crate::ports::TableError::Unavailable("an outage, once".into()))
            }
            _ => Ok(()),
        }
    }
}

#[tokio::test]
async fn a_stop_that_failed_to_record_is_recorded_when_the_provider_retries() {
    let table = Arc::new(crate::adapters::local::HookedTable::new(
        Arc::new(EmbeddedTable::in_memory().unwrap()),
        OutageOnce::default(),
    ));
    let district = DistrictId::parse("d-1").unwrap();
    let ports = Ports::new(table.clone(), Arc::new(FixedClock::midday_today()), Arc::new(TimeOrderedIds))
        .with_sms(Arc::new(RecordingCarrier::default()));
    let services = Services::new(ports, Wiring { default_district: Some(district.clone()), ..Wiring::default() });
    let replies = services.replies().unwrap();
    let from = PhoneNumber::parse_e164(NUMBER).unwrap();
    let stop = InboundSms {
        provider: "twilio".into(),
        provider_message_id: "SMstop".into(),
        from: from.clone(),
        to: "+18005550123".into(),
        body: "STOP".into(),
        received_at: None,
    };
    table.hook.fail_next.store(true, std::sync::atomic::Ordering::SeqCst);
    let failed = replies.handle(&stop).await.err().unwrap();
    assert!(failed.is_retryable(), "{failed}: the provider retries");
    assert_eq!(replies.handle(&stop).await.ok(), Some(ReplyOutcome::OptedOut), "the retry is handled, not a duplicate");
    let status = services.stores().sms_status.get(&district, &from).await.unwrap().map(|s| s.status);
    assert_eq!(status, Some(SmsStatus::OptOut));
    assert_eq!(replies.handle(&stop).await.ok(), Some(ReplyOutcome::Duplicate), "once handled, a redelivery is one");
}

#[tokio::test]
async fn a_stop_that_arrives_while_a_broadcast_is_sent_stops_its_text_to_that_number() {
    let world = world().await;
    let broadcast: BroadcastInput = serde_json::from_value(serde_json::json!({
        "reason": "general", "emergency": true, "channels": ["text"],
        "content": {"sms": "Picture day is Friday."}, "audience": {"people": ["g-1"]}
    }))
    .unwrap();
    let created = world.broadcasts.create(&world.admin, &broadcast).await.unwrap();
    drain(&world.plan, &world.runner).await;
    // Planned, not yet sent: the family replies STOP now.
    let stop = InboundSms {
        provider: "twilio".into(),
        provider_message_id: "SMstop-mid-send".into(),
        from: PhoneNumber::parse_e164(NUMBER).unwrap(),
        to: "+18005550123".into(),
        body: "STOP".into(),
        received_at: None,
    };
    assert_eq!(world.replies.handle(&stop).await.ok(), Some(ReplyOutcome::OptedOut));
    drain(&world.send, &world.runner).await;
    let sent = world.carrier.sent.lock().unwrap_or_else(PoisonError::into_inner).clone();
    assert_eq!(sent.len(), 1, "only the STOP confirmation: {sent:?}");
    let report = world.broadcasts.report(&world.admin, created.id.as_str()).await.unwrap();
    let skipped = &report.counts[&crate::domain::ReportGroup::Text].skipped;
    assert_eq!(skipped.get(&crate::domain::DeliveryReason::OptOut), Some(&1), "{report:?}");
    assert_eq!(report.progress, "complete", "{report:?}");
}

#[tokio::test]
async fn a_broadcast_whose_plan_task_could_not_be_queued_is_queued_by_the_scheduler() {
    let world = world().await;
    let table = world.table.clone();
    let clock = world.clock.clone();
    let down = Services::new(
        Ports::new(table.clone(), clock.clone(), Arc::new(TimeOrderedIds)).with_plan_queue(Arc::new(DownQueue)),
        Wiring::default(),
    );
    let broadcast: BroadcastInput = serde_json::from_value(serde_json::json!({
        "reason": "general", "emergency": true, "channels": ["text"],
        "content": {"sms": "Picture day is Friday."}, "audience": {"people": ["g-1"]}
    }))
    .unwrap();
    let created = down.broadcasts().unwrap().create(&world.admin, &broadcast).await;
    assert!(created.is_ok(), "stored, so accepted: {created:?}");
    let up = Services::new(
        Ports::new(table, clock, Arc::new(TimeOrderedIds))
            .with_plan_queue(world.plan.clone())
            .with_send_queue(world.send.clone()),
        Wiring::default(),
    );
    assert_eq!(up.scheduler().unwrap().run_due().await.unwrap(), 1, "the scheduler queues it");
    drain(&world.plan, &world.runner).await;
    drain(&world.send, &world.runner).await;
    assert_eq!(world.carrier.sent.lock().unwrap_or_else(PoisonError::into_inner).len(), 1, "the text went");
}

/// A guardian of d-1 with no consent recorded, holding `number` as `channel`.
async fn add_guardian(world: &World, id: &str, channel: &str, number: &str) {
    let input = PersonInput {
        id: id.into(),
        role: "guardian".into(),
        given_name: "Kim".into(),
        family_name: "Lee".into(),
        schools: vec![],
        contacts: vec![ContactInput { channel: channel.into(), value: number.into() }],
    };
    let person = Person::from_input(&input, Region::US).unwrap();
    PeopleStore::new(world.table.clone()).create(&world.admin.district, &person).await.unwrap();
}

async fn consent_of(world: &World, id: &str) -> Option<TextConsent> {
    let id = crate::domain::PersonId::parse(id).unwrap();
    let stores = crate::store::Stores::new(world.table.clone());
    stores.preferences.get(&world.admin.district, &id).await.unwrap().text_consent
}

#[tokio::test]
async fn a_y_from_a_cell_records_consent_for_everyone_with_that_cell_and_is_answered_once() {
    let world = world().await;
    const KIM: &str = "+16175552399";
    add_guardian(&world, "g-2", "cell_phone", KIM).await;
    add_guardian(&world, "g-3", "cell_phone", KIM).await;
    add_guardian(&world, "g-4", "home_phone", KIM).await;
    let inbound = |id: &str, body: &str| InboundSms {
        provider: "twilio".into(),
        provider_message_id: id.into(),
        from: PhoneNumber::parse_e164(KIM).unwrap(),
        to: "+18005550123".into(),
        body: body.into(),
        received_at: None,
    };
    let handled = world.replies.handle_with(&inbound("SMy1", " y "), AnswerRoute::Inline).await.unwrap();
    assert_eq!(handled.outcome, ReplyOutcome::Consented);
    assert_eq!(handled.answer.as_deref(), Some("You will now get texts from your school. Reply STOP to end."));
    let first = consent_of(&world, "g-2").await.unwrap();
    let masked = PhoneNumber::parse_e164(KIM).unwrap().to_string();
    assert_eq!((first.source.as_str(), first.recorded_by.as_str()), (TEXT_CONSENT, masked.as_str()));
    assert!(consent_of(&world, "g-3").await.is_some(), "every person with that cell");
    assert_eq!(consent_of(&world, "g-4").await, None, "a home phone is not a cell");

    let again = world.replies.handle_with(&inbound("SMy1", " y "), AnswerRoute::Inline).await.unwrap();
    assert_eq!((again.outcome, again.answer), (ReplyOutcome::Duplicate, None), "the same message: nothing twice");
    world.clock.advance(chrono::Duration::hours(1));
    let second = world.replies.handle_with(&inbound("SMy2", "YES"), AnswerRoute::Inline).await.unwrap();
    assert_eq!(second.answer, handled.answer, "a new YES gets the same one answer");
    assert_eq!(consent_of(&world, "g-2").await, Some(first), "the first consent stays");
    let id = crate::domain::PersonId::parse("g-2").unwrap();
    let history = crate::store::Stores::new(world.table.clone())
        .preferences
        .history(&world.admin.district, &id, 10)
        .await
        .unwrap();
    assert_eq!(history.len(), 1, "recorded once: {history:?}");
    assert!(world.carrier.sent.lock().unwrap_or_else(PoisonError::into_inner).is_empty(), "inline answers only");
}

#[tokio::test]
async fn a_yes_from_a_number_nobody_holds_as_a_cell_is_an_opt_in_without_consent() {
    let world = world().await;
    add_guardian(&world, "g-4", "home_phone", "+16175552398").await;
    let inbound = InboundSms {
        provider: "twilio".into(),
        provider_message_id: "SMyes".into(),
        from: PhoneNumber::parse_e164("+16175552398").unwrap(),
        to: "+18005550123".into(),
        body: "YES".into(),
        received_at: None,
    };
    assert_eq!(world.replies.handle(&inbound).await.ok(), Some(ReplyOutcome::OptedIn));
    assert_eq!(consent_of(&world, "g-4").await, None);
    let sent = world.carrier.sent.lock().unwrap_or_else(PoisonError::into_inner).clone();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].1.contains("resubscribed"), "{sent:?}");
}
