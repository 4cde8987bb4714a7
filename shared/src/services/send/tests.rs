//! The send step's pacing, on tokio's paused clock: each channel keeps its
//! own rate, and throttled messages are retried until each is sent once.

use std::sync::Mutex;

use async_trait::async_trait;
use tokio::time::Instant;

use super::*;
use crate::adapters::local::EmbeddedTable;
use crate::domain::{
    Audience, BroadcastChannel, BroadcastContent, BroadcastKind, BroadcastState, Channel, ContactReason, ContactValue,
    EmailAddress, EmailContent, ListTarget, PhoneNumber,
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
