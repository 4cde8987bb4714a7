//! The receipt service's rules, on the embedded table.

use super::*;
use crate::adapters::local::EmbeddedTable;
use crate::domain::{BroadcastId, Channel, Delivery, DistrictId};
use crate::ports::FixedClock;

/// A text recorded as sent with the provider's message id.
fn sent_text(number: &str, message: &str, at: DateTime<Utc>) -> Result<Delivery, ServiceError> {
    let point = DeliveryPoint::parse(number).map_err(ServiceError::Invalid)?;
    Ok(Delivery { segments: Some(1), ..Delivery::sent(point, Channel::Text, Some(message.into()), at) })
}

#[tokio::test]
async fn a_receipt_that_beat_its_message_is_applied_once_the_message_is_recorded() -> Result<(), ServiceError> {
    let stores = Stores::new(Arc::new(EmbeddedTable::in_memory().map_err(StoreError::from)?));
    let clock = Arc::new(FixedClock::midday_today());
    let service = ReceiptService::new(&stores, clock.clone());
    let event = ReceiptEvent {
        provider_message_id: "m-1".into(),
        kind: ReceiptKind::Sms,
        status: ReceiptStatus::Landline,
        is_final: true,
        raw_code: Some("30006".into()),
        occurred_at: None,
        source: "twilio".into(),
    };
    assert_eq!(service.apply(&event).await?, Applied::Unmatched);
    assert_eq!(service.reapply_unmatched().await?, 0, "still unknown");

    let district = DistrictId::parse("d-1").map_err(ServiceError::Invalid)?;
    let broadcast = BroadcastId::parse("b-1").map_err(ServiceError::Invalid)?;
    let sent = sent_text("sms:+16175552345", "m-1", clock.now())?;
    let store = stores.broadcasts.clone();
    store.put_deliveries(&district, &broadcast, &[sent]).await?;
    assert_eq!(service.reapply_unmatched().await?, 1);
    let point = DeliveryPoint::parse("sms:+16175552345").map_err(ServiceError::Invalid)?;
    let recorded = store.delivery(&district, &broadcast, &point).await?;
    assert_eq!(recorded.map(|d| (d.state, d.reason)), Some((DeliveryState::Failed, Some(DeliveryReason::Landline))));
    assert_eq!(service.reapply_unmatched().await?, 0, "applied once, then gone from the list");
    Ok(())
}

#[tokio::test]
async fn a_receipt_dated_in_the_future_cannot_freeze_a_number_s_status() -> Result<(), ServiceError> {
    let stores = Stores::new(Arc::new(EmbeddedTable::in_memory().map_err(StoreError::from)?));
    let clock = Arc::new(FixedClock::midday_today());
    let service = ReceiptService::new(&stores, clock.clone());
    let district = DistrictId::parse("d-1").map_err(ServiceError::Invalid)?;
    let number = DeliveryPoint::parse("sms:+16175552345").map_err(ServiceError::Invalid)?;
    for (broadcast, message) in [("b-1", "m-1"), ("b-2", "m-2")] {
        let sent = sent_text("sms:+16175552345", message, clock.now())?;
        let broadcast = BroadcastId::parse(broadcast).map_err(ServiceError::Invalid)?;
        stores.broadcasts.put_deliveries(&district, &broadcast, &[sent]).await?;
    }
    let receipt = |message: &str, status, occurred_at| ReceiptEvent {
        provider_message_id: message.into(),
        kind: ReceiptKind::Sms,
        status,
        is_final: true,
        raw_code: None,
        occurred_at: Some(occurred_at),
        source: "test".into(),
    };
    let far_future = clock.now() + chrono::Duration::days(3650);
    service.apply(&receipt("m-1", ReceiptStatus::Blocked, far_future)).await?;
    clock.advance(chrono::Duration::minutes(5));
    service.apply(&receipt("m-2", ReceiptStatus::Delivered, clock.now())).await?;
    let DeliveryPoint::Sms(phone) = number else { unreachable!("an SMS point") };
    let status = stores.sms_status.get(&district, &phone).await?.map(|s| s.status);
    assert_eq!(status, Some(crate::domain::SmsStatus::Ok), "a later delivery clears the status");
    Ok(())
}

#[tokio::test]
async fn an_undated_receipt_replayed_late_cannot_overturn_a_newer_status() -> Result<(), ServiceError> {
    let stores = Stores::new(Arc::new(EmbeddedTable::in_memory().map_err(StoreError::from)?));
    let clock = Arc::new(FixedClock::midday_today());
    let service = ReceiptService::new(&stores, clock.clone());
    let district = DistrictId::parse("d-1").map_err(ServiceError::Invalid)?;
    for (broadcast, message) in [("b-1", "m-1"), ("b-2", "m-2")] {
        let sent = sent_text("sms:+16175552345", message, clock.now())?;
        let broadcast = BroadcastId::parse(broadcast).map_err(ServiceError::Invalid)?;
        stores.broadcasts.put_deliveries(&district, &broadcast, &[sent]).await?;
        clock.advance(chrono::Duration::minutes(10));
    }
    let twilio = |message: &str, status| ReceiptEvent {
        provider_message_id: message.into(),
        kind: ReceiptKind::Sms,
        status,
        is_final: true,
        raw_code: None,
        occurred_at: None,
        source: "twilio".into(),
    };
    clock.advance(chrono::Duration::minutes(1));
    service.apply(&twilio("m-2", ReceiptStatus::Delivered)).await?;
    // m-1's landline receipt (Twilio's, undated) arrives a day later.
    clock.advance(chrono::Duration::days(1));
    assert_eq!(service.apply(&twilio("m-1", ReceiptStatus::Landline)).await?, Applied::Recorded);
    let phone = crate::domain::PhoneNumber::parse_e164("+16175552345").map_err(ServiceError::Invalid)?;
    let status = stores.sms_status.get(&district, &phone).await?.map(|s| s.status);
    assert_eq!(status, Some(crate::domain::SmsStatus::Ok), "the newer delivery's word stands");
    Ok(())
}

#[tokio::test]
async fn a_receipt_from_another_provider_leaves_a_delivery_alone() -> Result<(), ServiceError> {
    let stores = Stores::new(Arc::new(EmbeddedTable::in_memory().map_err(StoreError::from)?));
    let clock = Arc::new(FixedClock::midday_today());
    let service = ReceiptService::new(&stores, clock.clone());
    let district = DistrictId::parse("d-1").map_err(ServiceError::Invalid)?;
    let broadcast = BroadcastId::parse("b-1").map_err(ServiceError::Invalid)?;
    let sent = Delivery { provider: Some("aws".into()), ..sent_text("sms:+16175552345", "m-1", clock.now())? };
    stores.broadcasts.put_deliveries(&district, &broadcast, &[sent]).await?;
    let receipt = |source: &str| ReceiptEvent {
        provider_message_id: "m-1".into(),
        kind: ReceiptKind::Sms,
        status: ReceiptStatus::Blocked,
        is_final: true,
        raw_code: None,
        occurred_at: None,
        source: source.into(),
    };
    assert_eq!(service.apply(&receipt("twilio")).await?, Applied::Unchanged, "Twilio never took it");
    let point = DeliveryPoint::parse("sms:+16175552345").map_err(ServiceError::Invalid)?;
    let state = |stores: &Stores| {
        let (store, district, broadcast, point) =
            (stores.broadcasts.clone(), district.clone(), broadcast.clone(), point.clone());
        async move { store.delivery(&district, &broadcast, &point).await.map(|d| d.map(|d| d.state)) }
    };
    assert_eq!(state(&stores).await?, Some(DeliveryState::Sent));
    assert_eq!(service.apply(&receipt("aws-eum")).await?, Applied::Recorded, "End User Messaging took it");
    assert_eq!(state(&stores).await?, Some(DeliveryState::Failed));
    Ok(())
}
