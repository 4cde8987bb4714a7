//! What the webhook tests share: a configuration with a known secret for
//! every provider, an in-memory table holding sent deliveries, fakes for the
//! SNS certificate source and confirmer, and `oneshot` calls.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::http::Request;
use chrono::Utc;
use schoolbell::adapters::local::EmbeddedTable;
use schoolbell::domain::{
    BroadcastId, Channel, Delivery, DeliveryPoint, DeliveryState, DistrictId, PhoneNumber, SmsStatus,
};
use schoolbell::ports::{SystemClock, Table, TimeOrderedIds};
use schoolbell::root::{Ports, Services, Wiring};
use schoolbell::store::{BroadcastStore, SmsStatusStore};
use schoolbell::webhook_auth::{CertificateSource, VerifyError};
use schoolbell_delivery_receipts::{ConfirmError, ReceiptsState, SubscriptionConfirmer, WebhookConfig, Webhooks};
use tower::ServiceExt as _;

/// The public URL Twilio signs in these tests.
pub const PUBLIC_URL: &str = "https://hooks.example.org";
/// Twilio's auth token.
pub const TWILIO_TOKEN: &str = "twilio-token-for-tests";
/// Vonage's signature secret.
pub const VONAGE_SECRET: &str = "vonage-signature-secret-for-tests";
/// Bandwidth's Basic credentials.
pub const BANDWIDTH: (&str, &str) = ("bandwidth-user", "bandwidth-password");
/// Kannel's and Jasmin's tokens.
pub const KANNEL_TOKEN: &str = "kannel-token";
/// Jasmin's token.
pub const JASMIN_TOKEN: &str = "jasmin-token";
/// The one allowed SNS topic.
pub const TOPIC: &str = "arn:aws:sns:us-east-2:123456789012:schoolbell-receipts";
/// The district of every delivery.
pub const DISTRICT: &str = "district-a";

/// A configuration with every provider on; Telnyx with `telnyx_key`.
pub fn config(telnyx_key: &ed25519_dalek::SigningKey) -> WebhookConfig {
    use base64::Engine as _;
    WebhookConfig {
        public_url: Some(PUBLIC_URL.into()),
        twilio_auth_token: Some(TWILIO_TOKEN.into()),
        telnyx_public_key: Some(
            base64::engine::general_purpose::STANDARD.encode(telnyx_key.verifying_key().to_bytes()),
        ),
        vonage_signature_secret: Some(VONAGE_SECRET.into()),
        bandwidth: Some((BANDWIDTH.0.into(), BANDWIDTH.1.into())),
        kannel_token: Some(KANNEL_TOKEN.into()),
        jasmin_token: Some(JASMIN_TOKEN.into()),
        sns_topics: vec![TOPIC.into()],
        sns_cert_dir: None,
    }
}

/// Certificates by URL, counting how often each is asked.
#[derive(Default)]
pub struct MapCertificates {
    /// PEM by URL.
    pub pems: HashMap<String, Vec<u8>>,
}

#[async_trait]
impl CertificateSource for MapCertificates {
    async fn certificate(&self, url: &str) -> Result<Vec<u8>, VerifyError> {
        self.pems.get(url).cloned().ok_or(VerifyError::UnknownCertificate)
    }
}

/// Records every URL it is asked to confirm.
#[derive(Default)]
pub struct RecordingConfirmer {
    /// URLs confirmed, in order.
    pub confirmed: Mutex<Vec<String>>,
}

#[async_trait]
impl SubscriptionConfirmer for RecordingConfirmer {
    async fn confirm(&self, subscribe_url: &str) -> Result<(), ConfirmError> {
        self.confirmed.lock().unwrap().push(subscribe_url.to_string());
        Ok(())
    }
}

/// The router over an in-memory table that holds one sent text per
/// `(provider message id, number)`.
pub struct World {
    /// The function's routes with fallbacks.
    pub router: Router,
    /// Its table.
    pub table: Arc<dyn Table>,
    /// The confirmer SNS uses.
    pub confirmer: Arc<RecordingConfirmer>,
}

/// Builds the world for `config`, with SNS certificates from `certificates`.
pub async fn world(config: &WebhookConfig, certificates: MapCertificates, sent: &[(&str, &str)]) -> World {
    let table: Arc<dyn Table> = Arc::new(EmbeddedTable::in_memory().unwrap());
    // One broadcast each, so that several messages may go to one number.
    let store = BroadcastStore::new(table.clone());
    for (n, (id, number)) in sent.iter().enumerate() {
        let point = DeliveryPoint::Sms(PhoneNumber::parse_e164(number).unwrap());
        let sent_at = Utc::now() - chrono::Duration::minutes(5);
        let delivery =
            Delivery { segments: Some(1), ..Delivery::sent(point, Channel::Text, Some((*id).into()), sent_at) };
        let broadcast = BroadcastId::parse(format!("b-{n}")).unwrap();
        store.put_deliveries(&district(), &broadcast, &[delivery]).await.unwrap();
    }
    let confirmer = Arc::new(RecordingConfirmer::default());
    let webhooks = Webhooks::with_sns_parts(config, Arc::new(certificates), confirmer.clone()).unwrap();
    // Webhook signatures carry the signer's real time: the system clock.
    let clock = Arc::new(SystemClock);
    let services = Services::new(Ports::new(table.clone(), clock.clone(), Arc::new(TimeOrderedIds)), Wiring::default());
    let state = ReceiptsState { receipts: services.receipts(), webhooks: Arc::new(webhooks), clock, replies: None };
    World { router: schoolbell_delivery_receipts::router(state), table, confirmer }
}

fn district() -> DistrictId {
    DistrictId::parse(DISTRICT).unwrap()
}

impl World {
    /// Sends a request; answers (status, body text).
    pub async fn call(&self, request: Request<Body>) -> (u16, String) {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    /// The delivery's state, reason and raw code.
    pub async fn delivery(&self, message_id: &str) -> (DeliveryState, Option<String>, Option<String>) {
        let found = BroadcastStore::new(self.table.clone())
            .by_provider_message(message_id)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no delivery {message_id}"));
        (found.2.state, found.2.reason.map(|r| r.as_str().to_string()), found.2.raw_code)
    }

    /// The number's SMS status, if any was recorded.
    pub async fn sms_status(&self, number: &str) -> Option<SmsStatus> {
        let number = PhoneNumber::parse_e164(number).unwrap();
        SmsStatusStore::new(self.table.clone()).get(&district(), &number).await.unwrap().map(|s| s.status)
    }
}
