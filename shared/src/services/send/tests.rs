//! The send step's pacing, on tokio's paused clock: each channel keeps its
//! own rate, and throttled messages are retried until each is sent once.

use std::sync::Mutex;

use async_trait::async_trait;
use tokio::time::Instant;

use super::*;
use crate::adapters::local::EmbeddedTable;
use crate::domain::{
    Audience, Broadcast, BroadcastChannel, BroadcastContent, BroadcastKind, BroadcastState, Channel, ContactReason,
    ContactValue, EmailAddress, EmailContent, ListTarget, PhoneNumber,
};
use crate::ports::{FixedClock, OutboundEmail, OutboundSms, SentEmail, SentSms, TimeOrderedIds};
use crate::root::{Ports, Services, Wiring};

/// Takes every message, noting when; the first `throttle` calls are throttled once each.
#[derive(Default)]
struct Recording {
    at: Mutex<Vec<(String, Instant)>>,
    throttled: Mutex<std::collections::HashSet<String>>,
    throttle: usize,
}

impl Recording {
    fn take(&self, to: String) -> Result<String, GatewayError> {
        let mut throttled = self.throttled.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if throttled.len() < self.throttle && throttled.insert(to.clone()) {
            return Err(GatewayError::Throttled("slow down".into()));
        }
        let mut at = self.at.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        at.push((to.clone(), Instant::now()));
        Ok(format!("m-{}", at.len()))
    }

    fn sent(&self) -> Vec<(String, Instant)> {
        self.at.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

#[async_trait]
impl SmsGateway for Recording {
    async fn send(&self, sms: &OutboundSms) -> Result<SentSms, GatewayError> {
        self.take(sms.to.as_e164().to_string()).map(|provider_message_id| SentSms { provider_message_id })
    }
}

#[async_trait]
impl EmailGateway for Recording {
    async fn send(&self, email: &OutboundEmail) -> Result<SentEmail, GatewayError> {
        self.take(email.to.as_str().to_string()).map(|provider_message_id| SentEmail { provider_message_id })
    }
}

fn broadcast(id: &BroadcastId) -> Broadcast {
    Broadcast {
        id: id.clone(),
        kind: BroadcastKind::Broadcast,
        reason: ContactReason::Emergency,
        channels: vec![BroadcastChannel::Text, BroadcastChannel::Email],
        content: BroadcastContent {
            sms: Some("Shelter in place.".into()),
            email: Some(EmailContent { subject: "Shelter".into(), text: "Shelter in place.".into(), html: None }),
            ..BroadcastContent::default()
        },
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

/// Sends one chunk of `n` texts and `n` emails, interleaved; answers the
/// texts' and the emails' gateways and what the chunk came to.
async fn send_chunk_of(
    n: usize,
    settings: SendSettings,
    throttle: usize,
) -> (Arc<Recording>, Arc<Recording>, ChunkReport) {
    let table = Arc::new(EmbeddedTable::in_memory().unwrap());
    let district = DistrictId::parse("d-1").unwrap();
    let id = BroadcastId::parse("b-1").unwrap();
    let stores = Stores::new(table.clone());
    stores.broadcasts.create(&district, &broadcast(&id)).await.unwrap();
    let texts = Arc::new(Recording { throttle, ..Recording::default() });
    let emails = Arc::new(Recording { throttle, ..Recording::default() });
    let ports = Ports::new(table, Arc::new(FixedClock::midday_today()), Arc::new(TimeOrderedIds))
        .with_sms(texts.clone())
        .with_email(emails.clone());
    let sender = Services::new(ports, Wiring::default()).with_send_settings(settings).send().unwrap();
    let mut messages = Vec::new();
    for i in 0..n {
        let number = PhoneNumber::parse_e164(&format!("+1617555{:04}", 2000 + i)).unwrap();
        let address = EmailAddress::parse(&format!("family{i}@example.org")).unwrap();
        for (channel, to) in
            [(Channel::Text, ContactValue::Phone(number)), (Channel::Email, ContactValue::Email(address))]
        {
            messages.push(PlannedDelivery {
                channel,
                to,
                people: vec![],
                first_name: None,
                children: vec![],
                school: None,
                language: None,
            });
        }
    }
    let report = sender.send_chunk(&district, &id, 0, &messages).await.unwrap();
    (texts, emails, report)
}

#[tokio::test(start_paused = true)]
async fn email_keeps_its_own_rate_and_never_waits_at_the_text_rate() {
    let settings = SendSettings {
        concurrency: 64,
        texts_per_second: Some(10),
        emails_per_second: Some(100),
        ..Default::default()
    };
    let start = Instant::now();
    let (texts, emails, report) = send_chunk_of(30, settings, 0).await;
    assert_eq!((report.sent, report.failed, report.retry), (60, 0, 0));
    let last =
        |sent: Vec<(String, Instant)>| sent.iter().map(|(_, at)| at.duration_since(start)).max().unwrap_or_default();
    let (last_text, last_email) = (last(texts.sent()), last(emails.sent()));
    // 30 texts at 10/s with a burst of 10: the last goes after about 2 s.
    assert!(last_text >= Duration::from_millis(1900), "{last_text:?}");
    // 30 emails within a burst of 100: at once, not behind the texts.
    assert!(last_email < Duration::from_millis(100), "{last_email:?}");
}

#[tokio::test(start_paused = true)]
async fn throttled_messages_are_retried_with_backoff_and_each_is_sent_once() {
    let settings = SendSettings { concurrency: 8, texts_per_second: Some(50), ..Default::default() };
    let (texts, emails, report) = send_chunk_of(20, settings, 7).await;
    assert_eq!((report.sent, report.failed, report.retry), (40, 0, 0));
    for gateway in [texts, emails] {
        let mut sent: Vec<String> = gateway.sent().into_iter().map(|(to, _)| to).collect();
        let total = sent.len();
        sent.sort();
        sent.dedup();
        assert_eq!((total, sent.len()), (20, 20), "every message once");
    }
}

/// Fails the `fail_at`-th write of deliveries, once, as an outage would.
struct MarksFailOnce {
    seen: std::sync::atomic::AtomicUsize,
    fail_at: usize,
}

#[async_trait]
impl crate::adapters::local::WriteHook for MarksFailOnce {
    async fn before(&self, write: crate::adapters::local::Write<'_>) -> Result<(), crate::ports::TableError> {
        let crate::adapters::local::Write::Batch(ops) = write else { return Ok(()) };
        let marks = ops.iter().any(|op| op.key().is_ok_and(|key| key.sk.starts_with(crate::store::DELIVERY_SK_PREFIX)));
        if marks && self.seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1 == self.fail_at {
            return Err(crate::ports::TableError::Unavailable("the marks' write failed, once".into()));
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_chunk_whose_last_marks_were_not_written_is_not_done_and_its_takeover_sends_only_those() {
    let table = Arc::new(crate::adapters::local::HookedTable::new(
        Arc::new(EmbeddedTable::in_memory().unwrap()),
        MarksFailOnce { seen: Default::default(), fail_at: 3 },
    ));
    let district = DistrictId::parse("d-1").unwrap();
    let id = BroadcastId::parse("b-1").unwrap();
    let stores = Stores::new(table.clone());
    stores.broadcasts.create(&district, &broadcast(&id)).await.unwrap();
    let texts = Arc::new(Recording::default());
    let ports = Ports::new(table, Arc::new(FixedClock::midday_today()), Arc::new(TimeOrderedIds))
        .with_sms(texts.clone())
        .with_email(Arc::new(Recording::default()));
    // Slices of 8: 8, 8 and the last 4 with the claim; the last one's write fails.
    let settings = SendSettings { concurrency: 8, claim_lease: Duration::ZERO, ..Default::default() };
    let sender = Services::new(ports, Wiring::default()).with_send_settings(settings).send().unwrap();
    let messages: Vec<PlannedDelivery> = (0..20)
        .map(|i| PlannedDelivery {
            channel: Channel::Text,
            to: ContactValue::Phone(PhoneNumber::parse_e164(&format!("+1617555{:04}", 3000 + i)).unwrap()),
            people: vec![],
            first_name: None,
            children: vec![],
            school: None,
            language: None,
        })
        .collect();

    assert!(sender.send_chunk(&district, &id, 0, &messages).await.is_err(), "the last marks' write failed");
    let claim = stores.broadcasts.chunk_claim(&district, &id, 0).await.unwrap().unwrap();
    assert_eq!(claim.state, ChunkState::Sending, "not done without its last marks");
    assert_eq!(stores.broadcasts.all_deliveries(&district, &id).await.unwrap().len(), 16);

    let report = sender.send_chunk(&district, &id, 0, &messages).await.unwrap();
    assert_eq!((report.already_done, report.sent, report.retry), (16, 4, 0), "{report:?}");
    assert_eq!(texts.sent().len(), 24, "the 4 in flight when the write failed went again, no other");
    let claim = stores.broadcasts.chunk_claim(&district, &id, 0).await.unwrap().unwrap();
    assert_eq!(claim.state, ChunkState::Done);
    assert_eq!(stores.broadcasts.all_deliveries(&district, &id).await.unwrap().len(), 20);
}
