//! `POST /webhooks/sns` through `router().oneshot()`, with keys and
//! certificates made at test time (rcgen): SignatureVersion 1 and 2
//! notifications are applied, tampered or foreign ones refused, and only
//! allowed topics are heard or have their subscription confirmed.
// A test crate through and through: its helpers unwrap as its tests do
// (clippy.toml allows it inside `#[test]` functions only).
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::LazyLock;

use axum::body::Body;
use axum::http::Request;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::*;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::{EncodePrivateKey, LineEnding};
use rsa::signature::{SignatureEncoding, Signer};
use rsa::{RsaPrivateKey, rand_core::OsRng};
use schoolbell::domain::{DeliveryState, SmsStatus};
use schoolbell::webhook_auth::{SnsMessage, canonical_string};
use serde_json::json;

const CERT_URL: &str = "https://sns.us-east-2.amazonaws.com/SimpleNotificationService-test.pem";
const MESSAGE_ID: &str = "862a8790-60c0-4430-9b2b-658bdexample";
const NUMBER: &str = "+16175552399";
const OTHER_TOPIC: &str = "arn:aws:sns:us-east-2:999999999999:someone-elses-topic";
const SUBSCRIBE_URL: &str = "https://sns.us-east-2.amazonaws.com/?Action=ConfirmSubscription&Token=2336412f37";

struct Key {
    private: RsaPrivateKey,
    certificate: String,
}

fn make_key() -> Result<Key, Box<dyn std::error::Error>> {
    let private = RsaPrivateKey::new(&mut OsRng, 2048)?;
    let pkcs8 = private.to_pkcs8_pem(LineEnding::LF)?;
    let pair = rcgen::KeyPair::from_pem_and_sign_algo(&pkcs8, &rcgen::PKCS_RSA_SHA256)?;
    let certificate = rcgen::CertificateParams::new(vec!["sns.amazonaws.com".to_string()])?.self_signed(&pair)?;
    Ok(Key { private, certificate: certificate.pem() })
}

static KEY: LazyLock<Key> = LazyLock::new(|| make_key().unwrap());
static OTHER_KEY: LazyLock<Key> = LazyLock::new(|| make_key().unwrap());

fn certificates() -> MapCertificates {
    MapCertificates { pems: [(CERT_URL.to_string(), KEY.certificate.clone().into_bytes())].into() }
}

async fn sns_world() -> World {
    let telnyx = ed25519_dalek::SigningKey::from_bytes(&[42; 32]);
    world(&config(&telnyx), certificates(), &[(MESSAGE_ID, NUMBER)]).await
}

fn eum_event(event_type: &str) -> String {
    json!({
        "eventType": event_type, "eventVersion": "1.0", "eventTimestamp": 1_686_975_103_470_i64, "isFinal": true,
        "originationPhoneNumber": "+12065550152", "destinationPhoneNumber": NUMBER, "messageId": MESSAGE_ID,
        "messageStatus": event_type.trim_start_matches("TEXT_"), "messageType": "TRANSACTIONAL",
    })
    .to_string()
}

fn notification(topic: &str, version: &str, message: &str) -> SnsMessage {
    SnsMessage {
        kind: "Notification".into(),
        message_id: "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324".into(),
        token: None,
        topic_arn: topic.into(),
        subject: None,
        message: message.into(),
        subscribe_url: None,
        timestamp: "2025-05-02T00:54:06.655Z".into(),
        signature_version: version.into(),
        signature: String::new(),
        signing_cert_url: CERT_URL.into(),
        unsubscribe_url: Some("https://sns.us-east-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=x".into()),
    }
}

fn confirmation(topic: &str, subscribe_url: &str) -> SnsMessage {
    SnsMessage {
        kind: "SubscriptionConfirmation".into(),
        token: Some("2336412f37".into()),
        message: "You have chosen to subscribe to the topic.\nTo confirm the subscription, visit the SubscribeURL."
            .into(),
        subscribe_url: Some(subscribe_url.into()),
        unsubscribe_url: None,
        ..notification(topic, "1", "")
    }
}

fn signed(mut message: SnsMessage, key: &Key) -> SnsMessage {
    let canonical = canonical_string(&message).unwrap();
    let signature = match message.signature_version.as_str() {
        "1" => SigningKey::<sha1::Sha1>::new(key.private.clone()).sign(canonical.as_bytes()).to_vec(),
        _ => SigningKey::<sha2::Sha256>::new(key.private.clone()).sign(canonical.as_bytes()).to_vec(),
    };
    message.signature = STANDARD.encode(signature);
    message
}

fn post(message: &SnsMessage) -> Request<Body> {
    let body = serde_json::to_string_pretty(message).unwrap();
    Request::post("/webhooks/sns")
        .header("content-type", "text/plain; charset=UTF-8")
        .header("x-amz-sns-message-type", message.kind.as_str())
        .body(Body::from(body))
        .unwrap()
}

#[tokio::test]
async fn signature_version_1_and_2_notifications_are_applied() {
    for (version, event, expected) in
        [("1", "TEXT_BLOCKED", SmsStatus::Blocked), ("2", "TEXT_DELIVERED", SmsStatus::Ok)]
    {
        let world = sns_world().await;
        let message = signed(notification(TOPIC, version, &eum_event(event)), &KEY);
        assert_eq!(world.call(post(&message)).await, (200, "{}".to_string()), "version {version}");
        let state = if expected == SmsStatus::Ok { DeliveryState::Delivered } else { DeliveryState::Failed };
        assert_eq!(world.delivery(MESSAGE_ID).await.0, state, "version {version}");
        assert_eq!(world.sms_status(NUMBER).await, Some(expected));
    }
}

#[tokio::test]
async fn tampered_foreign_or_unsigned_sns_messages_are_refused_and_change_nothing() {
    let world = sns_world().await;
    let genuine = signed(notification(TOPIC, "2", &eum_event("TEXT_DELIVERED")), &KEY);
    let mut tampered_body = genuine.clone();
    tampered_body.message = eum_event("TEXT_BLOCKED");
    let mut tampered_signature = genuine.clone();
    tampered_signature.signature = signed(notification(TOPIC, "2", "other"), &KEY).signature;
    let foreign_key = signed(notification(TOPIC, "1", &eum_event("TEXT_BLOCKED")), &OTHER_KEY);
    let mut unknown_certificate = genuine.clone();
    unknown_certificate.signing_cert_url = CERT_URL.replace("test.pem", "other.pem");
    let mut untrusted_host = genuine.clone();
    untrusted_host.signing_cert_url = "https://sns.us-east-2.amazonaws.com.evil.example/cert.pem".into();
    for (message, what) in [
        (tampered_body, "tampered body"),
        (tampered_signature, "tampered signature"),
        (foreign_key, "another key"),
        (unknown_certificate, "unknown certificate"),
        (untrusted_host, "untrusted certificate host"),
    ] {
        let (status, answer) = world.call(post(&message)).await;
        assert_eq!(status, 403, "{what}: {answer}");
        assert!(answer.contains("invalid_signature"), "{what}: {answer}");
    }
    let not_json = Request::post("/webhooks/sns").body(Body::from("hello")).unwrap();
    assert_eq!(world.call(not_json).await.0, 403);
    assert_eq!(world.delivery(MESSAGE_ID).await.0, DeliveryState::Sent);
    assert_eq!(world.sms_status(NUMBER).await, None);
}

#[tokio::test]
async fn a_signed_notification_carrying_unsigned_records_is_refused_and_changes_nothing() {
    // The review's reproduction: a genuine, signed notification of an allowed
    // topic with a forged Lambda-style `Records` added beside it.
    let world = sns_world().await;
    let genuine = signed(notification(TOPIC, "2", "a message that is no receipt"), &KEY);
    let mut body = serde_json::to_value(&genuine).unwrap();
    let forged = json!({"Type": "Notification", "TopicArn": TOPIC, "Message": eum_event("TEXT_BLOCKED")});
    body["Records"] = json!([{"EventSource": "aws:sns", "Sns": forged}]);
    let request = Request::post("/webhooks/sns")
        .header("x-amz-sns-message-type", "Notification")
        .body(Body::from(body.to_string()))
        .unwrap();
    let (status, answer) = world.call(request).await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer.contains("unsigned_records"), "{answer}");
    assert_eq!(world.delivery(MESSAGE_ID).await.0, DeliveryState::Sent);
    assert_eq!(world.sms_status(NUMBER).await, None, "the forged TEXT_BLOCKED changed nothing");
}

#[tokio::test]
async fn a_foreign_topic_is_refused_before_any_certificate_is_fetched() {
    let world = sns_world().await;
    let mut message = signed(notification(OTHER_TOPIC, "2", &eum_event("TEXT_BLOCKED")), &OTHER_KEY);
    // A certificate this world cannot fetch: verifying first would fail on it.
    message.signing_cert_url = "https://sns.us-east-2.amazonaws.com/attacker-chosen.pem".into();
    let (status, answer) = world.call(post(&message)).await;
    assert_eq!(status, 403);
    assert!(answer.contains("topic_not_allowed"), "the topic is checked first: {answer}");
}

#[tokio::test]
async fn a_genuine_notification_from_a_topic_off_the_allow_list_is_refused() {
    let world = sns_world().await;
    let message = signed(notification(OTHER_TOPIC, "1", &eum_event("TEXT_BLOCKED")), &KEY);
    let (status, answer) = world.call(post(&message)).await;
    assert_eq!(status, 403);
    assert!(answer.contains("topic_not_allowed"), "{answer}");
    assert_eq!(world.delivery(MESSAGE_ID).await.0, DeliveryState::Sent);
}

#[tokio::test]
async fn a_subscription_is_confirmed_only_for_an_allowed_topic() {
    let world = sns_world().await;
    let foreign = signed(confirmation(OTHER_TOPIC, SUBSCRIBE_URL), &KEY);
    assert_eq!(world.call(post(&foreign)).await.0, 403);
    let lookalike = signed(confirmation(TOPIC, "https://sns.us-east-2.amazonaws.com.evil.example/?Action=x"), &KEY);
    assert_eq!(world.call(post(&lookalike)).await.0, 403);
    let mut tampered = signed(confirmation(TOPIC, SUBSCRIBE_URL), &KEY);
    tampered.subscribe_url = Some("https://sns.us-east-2.amazonaws.com/?Action=ConfirmSubscription&Token=other".into());
    assert_eq!(world.call(post(&tampered)).await.0, 403);
    assert!(world.confirmer.confirmed.lock().map(|c| c.is_empty()).unwrap_or(false), "nothing was confirmed");

    let allowed = signed(confirmation(TOPIC, SUBSCRIBE_URL), &KEY);
    assert_eq!(world.call(post(&allowed)).await, (200, "{}".to_string()));
    let confirmed = world.confirmer.confirmed.lock().map(|c| c.clone()).unwrap_or_default();
    assert_eq!(confirmed, [SUBSCRIBE_URL]);
}

#[tokio::test]
async fn sns_messages_that_are_no_receipt_are_acknowledged_and_unreadable_ones_are_a_400() {
    let world = sns_world().await;
    let mut unsubscribed = confirmation(TOPIC, SUBSCRIBE_URL);
    unsubscribed.kind = "UnsubscribeConfirmation".into();
    assert_eq!(world.call(post(&signed(unsubscribed, &KEY))).await.0, 200);
    let reply = json!({"originationNumber": NUMBER, "destinationNumber": "+12125550101", "messageBody": "STOP",
        "inboundMessageId": "cae173d2", "messageKeyword": "KEYWORD_X"});
    let inbound = signed(notification(TOPIC, "1", &reply.to_string()), &KEY);
    assert_eq!(world.call(post(&inbound)).await.0, 200, "an inbound reply is not a receipt");
    let broken = signed(notification(TOPIC, "1", r#"{"eventType":"TEXT_DELIVERED","messageId":""}"#), &KEY);
    let (status, answer) = world.call(post(&broken)).await;
    assert_eq!(status, 400, "{answer}");
    assert!(world.confirmer.confirmed.lock().map(|c| c.is_empty()).unwrap_or(false));
}
