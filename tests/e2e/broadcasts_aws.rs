//! One small broadcast on the AWS path: DynamoDB, the plan and send queues
//! on SQS, texts through SNS and email through SESv2, all on moto.

use std::sync::Arc;

use schoolbell::domain::{BroadcastInput, DeliveryState, Principal, Role};
use schoolbell::ports::{Clock as _, FixedClock, TimeOrderedIds};
use schoolbell::root::{Ports, Services, Wiring};
use schoolbell::store::BroadcastStore;
use schoolbell_tests::aws_district::drain_sqs;
use schoolbell_tests::moto;
use serde_json::{Value, json};

#[tokio::test]
async fn a_small_broadcast_goes_through_sqs_sns_and_ses_on_moto() {
    let test = "a_small_broadcast_goes_through_sqs_sns_and_ses_on_moto";
    let (Some(endpoint), Some(config)) = (moto::endpoint(test), moto::config(test)) else { return };
    let (table, district) = schoolbell_tests::aws_district::family_district_on_dynamodb(&config, "district-aws").await;
    let admin = Principal {
        subject: "admin".into(),
        district: district.clone(),
        roles: vec![Role::DistrictAdmin],
        schools: vec![],
    };
    let clock = Arc::new(FixedClock::midday_today());
    let ports = Ports::new(table.clone(), clock, Arc::new(TimeOrderedIds));
    let preferences = Services::new(ports.clone(), Wiring::default()).preferences();
    for guardian in ["c-ana", "c-kim"] {
        let update: schoolbell::services::PreferencesUpdate =
            serde_json::from_value(json!({"channels": {"text": {"emergency": true}},
            "consent": {"source": "paper form", "at": "2026-09-01T12:00:00Z"}}))
            .unwrap();
        preferences.update(&admin, guardian, &update).await.unwrap();
    }

    let (ports, plan_queue, send_queue) = schoolbell_tests::aws_district::messaging_on_moto(&config, ports).await;
    let services = Services::new(ports, Wiring::default());
    let broadcasts = services.broadcasts().unwrap();
    let runner = services.task_runner().unwrap();

    let marker = moto::unique_name("closed");
    let input: BroadcastInput = serde_json::from_value(json!({
        "reason": "emergency", "emergency": true, "channels": ["text", "email"],
        "content": {"sms": format!("Closed today ({marker}) for {{{{children}}}}"),
                    "email": {"subject": format!("Closed today ({marker})"), "text": "Closed for {{children}}."}},
        "audience": {"rule": {}, "target": "guardians"}
    }))
    .unwrap();
    let broadcast = broadcasts.create(&admin, &input).await.unwrap();
    assert_eq!(drain_sqs(&plan_queue, &runner).await, 1, "one plan task");
    assert_eq!(drain_sqs(&send_queue, &runner).await, 1, "four messages fit one chunk");

    let data = moto::sent_data(&endpoint).await;
    let texts: Vec<&Value> = data["sns"]["SMS"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(
            data["sns"].as_object().into_iter().flat_map(|m| m.values()).filter_map(|v| v["SMS"].as_array()).flatten(),
        )
        .filter(|sms| sms["message"].as_str().is_some_and(|m| m.contains(&marker)))
        .collect();
    let mut numbers: Vec<&str> = texts.iter().filter_map(|sms| sms["phone_number"].as_str()).collect();
    numbers.sort_unstable();
    numbers.dedup();
    assert_eq!(numbers, ["+16175552345", "+16175552347"], "one text per messenger guardian: {texts:?}");
    assert!(texts.iter().any(|sms| sms["message"].as_str().is_some_and(|m| m.contains("Leo and Mia"))));
    let emails = data["ses"].to_string().matches(&format!("Closed today ({marker})")).count();
    assert!(emails >= 2, "two emails recorded by moto: {}", data["ses"]);

    let deliveries =
        BroadcastStore::new(table.clone()).all_deliveries(&district, &broadcast.id).await.unwrap_or_default();
    assert_eq!(deliveries.iter().filter(|d| d.state == DeliveryState::Sent).count(), 4, "{deliveries:?}");
    assert!(deliveries.iter().all(|d| d.provider_message_id.is_some()));
}

#[tokio::test]
async fn receipts_and_replies_apply_on_dynamodb_through_the_message_index() {
    use schoolbell::domain::{BroadcastId, Channel, Delivery, DeliveryPoint, PhoneNumber, SmsStatus};
    use schoolbell::receipts::{ReceiptKind, ReceiptStatus};
    use schoolbell::services::{Applied, InboundSms, ReceiptEvent};
    use schoolbell::store::SmsStatusStore;

    let Some(config) = moto::config("receipts_and_replies_apply_on_dynamodb_through_the_message_index") else { return };
    let (table, district) = schoolbell_tests::aws_district::family_district_on_dynamodb(&config, "district-r").await;
    let broadcast = BroadcastId::parse("b-1").unwrap();
    let clock = Arc::new(FixedClock::midday_today());
    let carrier = Arc::new(schoolbell::adapters::local::SimulatedCarrier::new());
    let ports = Ports::new(table.clone(), clock.clone(), Arc::new(TimeOrderedIds)).with_sms(carrier.clone());
    let services = Services::new(ports, Wiring { default_district: Some(district.clone()), ..Wiring::default() });
    let point = DeliveryPoint::parse("sms:+16175552345").unwrap();
    let sent = Delivery::sent(point, Channel::Text, Some("SM-moto-1".into()), clock.now());
    let store = BroadcastStore::new(table.clone());
    store.put_deliveries(&district, &broadcast, &[sent]).await.unwrap();
    let receipts = services.receipts();
    let landline = ReceiptEvent {
        provider_message_id: "SM-moto-1".into(),
        kind: ReceiptKind::Sms,
        status: ReceiptStatus::Landline,
        is_final: true,
        raw_code: Some("30006".into()),
        occurred_at: None,
        source: "twilio".into(),
    };
    assert_eq!(receipts.apply(&landline).await.ok(), Some(Applied::Recorded));
    assert_eq!(receipts.apply(&landline).await.ok(), Some(Applied::Unchanged), "a replay");
    let recorded = store
        .delivery(&district, &broadcast, &DeliveryPoint::parse("sms:+16175552345").unwrap())
        .await
        .unwrap_or_default();
    assert_eq!(recorded.map(|d| (d.state, d.raw_code)), Some((DeliveryState::Failed, Some("30006".into()))));
    let statuses = SmsStatusStore::new(table.clone());
    let not_ok = statuses.not_ok(&district, &[]).await.unwrap_or_default();
    assert_eq!(not_ok.iter().map(|s| s.status).collect::<Vec<_>>(), [SmsStatus::Landline], "the clean-up index");

    let replies = services.replies().unwrap();
    let number = PhoneNumber::parse_e164("+16175552345").unwrap();
    let stop = InboundSms {
        provider: "aws".into(),
        provider_message_id: moto::unique_name("in"),
        from: number.clone(),
        to: "+18005550123".into(),
        body: "STOP".into(),
        received_at: Some(clock.now()),
    };
    replies.handle(&stop).await.unwrap();
    replies.handle(&stop).await.unwrap();
    let status = statuses.get(&district, &number).await.unwrap_or_default().map(|s| s.status);
    assert_eq!(status, Some(SmsStatus::OptOut));
    assert_eq!(carrier.sent().len(), 1, "one confirmation for a reply delivered twice");
}
