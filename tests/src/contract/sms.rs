//! The `SmsGateway` contract: what the simulated carrier and SNS must do
//! alike.

use schoolbell::domain::PhoneNumber;
use schoolbell::ports::{OutboundSms, SmsGateway};

/// Each text sent gets its own non-empty provider message id (receipts
/// find the delivery by it).
pub async fn each_sent_text_gets_its_own_provider_message_id(gateway: &dyn SmsGateway, to: &PhoneNumber) {
    let mut ids = Vec::new();
    for body in ["School closes at noon today.", "Reminder: picture day tomorrow."] {
        let sms = OutboundSms { to: to.clone(), body: body.into(), from: None };
        let sent = gateway.send(&sms).await.unwrap_or_else(|e| panic!("send failed: {e}"));
        assert!(!sent.provider_message_id.trim().is_empty(), "a provider message id");
        ids.push(sent.provider_message_id);
    }
    assert_ne!(ids[0], ids[1], "each text has its own id");
}
