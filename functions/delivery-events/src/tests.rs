//! The handler with events as AWS sends them (built here from the
//! documented shapes): SES through SNS, SMS delivery-status logs through a
//! CloudWatch Logs subscription, and a two-way STOP.

use std::io::Write as _;
use std::sync::Arc;

use base64::Engine as _;
use schoolbell::adapters::local::{EmbeddedTable, SimulatedCarrier};
use schoolbell::domain::{
    BroadcastId, Channel, Delivery, DeliveryPoint, DistrictId, EmailAddress, EmailStatus, PhoneNumber, SmsStatus,
};
use schoolbell::ports::{SystemClock, Table, TimeOrderedIds};
use schoolbell::root::{Ports, Services, Wiring};
use schoolbell::store::{BroadcastStore, EmailStatusStore, SmsStatusStore};
use serde_json::json;

use super::*;

fn district() -> DistrictId {
    DistrictId::parse("d-1").unwrap()
}

struct World {
    handlers: Handlers,
    table: Arc<dyn Table>,
    carrier: Arc<SimulatedCarrier>,
}

async fn world(sent: &[(&str, Channel, &str)]) -> World {
    let table: Arc<dyn Table> = Arc::new(EmbeddedTable::in_memory().unwrap());
    let deliveries: Vec<Delivery> = sent
        .iter()
        // Sent through SNS and SES: AWS's receipts speak for them.
        .map(|(point, channel, id)| Delivery {
            provider: Some("aws".into()),
            ..Delivery::sent(DeliveryPoint::parse(point).unwrap(), *channel, Some((*id).into()), chrono::Utc::now())
        })
        .collect();
    let broadcast = BroadcastId::parse("b-1").unwrap();
    BroadcastStore::new(table.clone()).put_deliveries(&district(), &broadcast, &deliveries).await.unwrap();
    let carrier = Arc::new(SimulatedCarrier::new());
    let ports = Ports::new(table.clone(), Arc::new(SystemClock), Arc::new(TimeOrderedIds)).with_sms(carrier.clone());
    let services = Services::new(ports, Wiring { default_district: Some(district()), ..Wiring::default() });
    let handlers = Handlers { receipts: services.receipts(), replies: services.replies().unwrap() };
    World { handlers, table, carrier }
}

fn sns_event(message: &str) -> Value {
    json!({"Records": [{
        "EventSource": "aws:sns", "EventVersion": "1.0",
        "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:schoolbell-events:1",
        "Sns": {
            "Type": "Notification", "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
            "TopicArn": "arn:aws:sns:us-east-1:123456789012:schoolbell-events", "Subject": null,
            "Message": message, "Timestamp": "2026-11-02T09:00:00.000Z", "SignatureVersion": "1",
            "Signature": "EXAMPLE", "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/cert.pem",
            "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe", "MessageAttributes": {}
        }
    }]})
}

#[tokio::test]
async fn an_ses_bounce_through_sns_fails_the_delivery_and_bounces_the_address() {
    let world = world(&[("email:parent.one@example.org", Channel::Email, "0100018d-ses-0001")]).await;
    let bounce = r#"{"notificationType": "Bounce", "bounce": {"bounceType": "Permanent", "bounceSubType": "General",
        "bouncedRecipients": [{"emailAddress": "parent.one@example.org", "action": "failed", "status": "5.1.1"}],
        "timestamp": "2026-11-02T08:00:05.000Z", "feedbackId": "fb-1"},
        "mail": {"timestamp": "2026-11-02T08:00:00.000Z", "messageId": "0100018d-ses-0001",
        "source": "news@district.example", "destination": ["parent.one@example.org"]}}"#;
    let report = handle_event(&world.handlers, sns_event(bounce)).await.unwrap();
    assert_eq!((report.recorded, report.unreadable), (1, 0), "{report:?}");
    let address = EmailAddress::parse("parent.one@example.org").unwrap();
    let status = EmailStatusStore::new(world.table.clone()).get(&district(), &address).await.unwrap_or_default();
    assert_eq!(status.map(|s| s.status), Some(EmailStatus::BouncedPermanent));
    let again = handle_event(&world.handlers, sns_event(bounce)).await.unwrap();
    assert_eq!((again.recorded, again.unchanged), (0, 1), "a replay changes nothing");
}

#[tokio::test]
async fn an_sms_delivery_log_through_cloudwatch_logs_sets_the_numbers_status() {
    let world = world(&[("sms:+12025550166", Channel::Text, "5f2a9c1e-7d3b-5e4f-9a8b-1c2d3e4f5a6b")]).await;
    let record = json!({
        "notification": {"messageId": "5f2a9c1e-7d3b-5e4f-9a8b-1c2d3e4f5a6b", "timestamp": "2026-11-02 09:00:01.250"},
        "delivery": {"destination": "+12025550166", "smsType": "Transactional",
                     "providerResponse": "Phone carrier has blocked this message", "dwellTimeMs": 420},
        "status": "FAILURE"
    });
    let data = json!({
        "messageType": "DATA_MESSAGE", "owner": "123456789012",
        "logGroup": "sns/us-east-1/123456789012/DirectPublishToPhoneNumber/Failure",
        "logStream": "stream", "subscriptionFilters": ["schoolbell"],
        "logEvents": [{"id": "1", "timestamp": 1_793_000_000_000_i64, "message": record.to_string()}]
    });
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gzip.write_all(data.to_string().as_bytes()).unwrap();
    let zipped = gzip.finish().unwrap();
    let event = json!({"awslogs": {"data": base64::engine::general_purpose::STANDARD.encode(zipped)}});
    let report = handle_event(&world.handlers, event).await.unwrap();
    assert_eq!(report.recorded, 1, "{report:?}");
    let number = PhoneNumber::parse_e164("+12025550166").unwrap();
    let status = SmsStatusStore::new(world.table.clone()).get(&district(), &number).await.unwrap_or_default();
    assert_eq!(status.map(|s| s.status), Some(SmsStatus::Blocked));
}

#[tokio::test]
async fn a_two_way_stop_opts_the_number_out_and_answers_once() {
    let world = world(&[]).await;
    let stop = r#"{"originationNumber": "+16175552345", "destinationNumber": "+18005550123",
        "messageKeyword": "KEYWORD_123456789012", "messageBody": "Stop", "inboundMessageId": "in-1",
        "previousPublishedMessageId": "out-1"}"#;
    let report = handle_event(&world.handlers, sns_event(stop)).await.unwrap();
    assert_eq!(report.replies, 1);
    handle_event(&world.handlers, sns_event(stop)).await.unwrap();
    let number = PhoneNumber::parse_e164("+16175552345").unwrap();
    let status = SmsStatusStore::new(world.table.clone()).get(&district(), &number).await.unwrap_or_default();
    assert_eq!(status.map(|s| s.status), Some(SmsStatus::OptOut));
    assert_eq!(world.carrier.sent().len(), 1, "one confirmation, even when SNS delivers the reply twice");
}

#[tokio::test]
async fn other_events_are_refused_and_unknown_messages_skipped() {
    let world = world(&[]).await;
    assert!(handle_event(&world.handlers, json!({"detail-type": "Scheduled Event"})).await.is_err());
    let report = handle_event(&world.handlers, sns_event(r#"{"hello": "world"}"#)).await.unwrap();
    assert_eq!(report.unreadable, 1);
}

#[tokio::test]
async fn call_events_through_sns_answer_a_call_and_put_a_busy_line_in_line_for_another_try() {
    let world = world(&[
        ("voice:+16175550142", Channel::CellPhone, "call-0001"),
        ("voice:+16175550143", Channel::HomePhone, "call-0002"),
    ])
    .await;
    let event = |event_type: &str, id: &str, to: &str| {
        json!({"eventType": event_type, "eventVersion": "1.0", "eventTimestamp": 1_793_000_000_000_i64,
            "isFinal": true, "originationPhoneNumber": "+12025550100", "destinationPhoneNumber": to,
            "messageId": id, "messageStatus": event_type.trim_start_matches("VOICE_"),
            "messageStatusDescription": "Description"})
        .to_string()
    };
    let ringing = handle_event(&world.handlers, sns_event(&event("VOICE_RINGING", "call-0001", "+16175550142")));
    assert_eq!(ringing.await.unwrap().unreadable, 0, "a call event is no unreadable body");
    let completed = event("VOICE_COMPLETED", "call-0001", "+16175550142");
    assert_eq!(handle_event(&world.handlers, sns_event(&completed)).await.unwrap().recorded, 1);
    let busy = event("VOICE_BUSY", "call-0002", "+16175550143");
    assert_eq!(handle_event(&world.handlers, sns_event(&busy)).await.unwrap().recorded, 1);

    let store = BroadcastStore::new(world.table.clone());
    let broadcast = BroadcastId::parse("b-1").unwrap();
    let point = |key: &str| DeliveryPoint::parse(key).unwrap();
    let answered = store.delivery(&district(), &broadcast, &point("voice:+16175550142")).await.unwrap().unwrap();
    assert_eq!(answered.state, schoolbell::domain::DeliveryState::Delivered);
    let busy = store.delivery(&district(), &broadcast, &point("voice:+16175550143")).await.unwrap().unwrap();
    assert_eq!(
        (busy.state, busy.reason),
        (schoolbell::domain::DeliveryState::Sent, Some(schoolbell::domain::DeliveryReason::Busy)),
        "waiting for its next try"
    );
    let due = schoolbell::store::CallRetryStore::new(world.table.clone())
        .due(chrono::Utc::now() + chrono::Duration::minutes(6))
        .await
        .unwrap();
    assert_eq!(due.len(), 1, "the next try is in the scheduler's index");
}
