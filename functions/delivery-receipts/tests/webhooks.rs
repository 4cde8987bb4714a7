//! The carrier webhooks through `router().oneshot()`: each scheme takes a
//! correctly signed request and refuses tampered or foreign ones before
//! anything changes; replays, unknown ids, bodies that are not receipts and
//! providers that are off get their documented answers.
// A test crate through and through: its helpers unwrap as its tests do
// (clippy.toml allows it inside `#[test]` functions only).
#![allow(clippy::unwrap_used)]

mod common;

use axum::body::Body;
use axum::http::Request;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::Utc;
use common::*;
use ed25519_dalek::{Signer as _, SigningKey};
use schoolbell::domain::{DeliveryState, SmsStatus};
use schoolbell::webhook_auth::{sign_twilio, sign_vonage};
use schoolbell_delivery_receipts::WebhookConfig;

const TWILIO_SID: &str = "SMfake";
const TELNYX_ID: &str = "ac012cbf-5e09-46af-a69a-7c0e2d90993c";
const VONAGE_ID: &str = "0B00000127FDBC63";
const BANDWIDTH_ID: &str = "14762070468292kw2fuqty55yp2b2";
const KANNEL_ID: &str = "k-1";
const JASMIN_ID: &str = "8a2fb35d-2d0e-4b6c-9f0b-2a9e4b1c7d31";
const NUMBER: &str = "+16175552345";

const TWILIO_DELIVERED: &str = include_str!("../events/twilio-status-delivered.txt");
const TELNYX_FINALIZED: &str = include_str!("../events/telnyx-message-finalized-delivered.json");
const VONAGE_DELIVERED: &str = include_str!("../events/vonage-sms-dlr-delivered.json");
const BANDWIDTH_DELIVERED: &str = include_str!("../events/bandwidth-message-delivered.json");

fn telnyx_key() -> SigningKey {
    SigningKey::from_bytes(&[42; 32])
}

async fn every_provider_world() -> World {
    let sent = [TWILIO_SID, TELNYX_ID, VONAGE_ID, BANDWIDTH_ID, KANNEL_ID, JASMIN_ID, "SMlandline"];
    let sent: Vec<(&str, &str)> = sent.iter().map(|id| (*id, NUMBER)).collect();
    world(&config(&telnyx_key()), MapCertificates::default(), &sent).await
}

/// The recorded Twilio body's parameters (only `%2B` is escaped in it).
fn recorded_twilio_params() -> Vec<(String, String)> {
    TWILIO_DELIVERED
        .trim()
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_string(), v.replace("%2B", "+")))
        .collect()
}

fn twilio_request(body: &str, signature: &str) -> Request<Body> {
    Request::post("/webhooks/twilio/status")
        .header("host", "lambda-internal:3000")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-twilio-signature", signature)
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn twilio_signed(params: &[(&str, &str)], token: &str) -> (String, String) {
    let url = format!("{PUBLIC_URL}/webhooks/twilio/status");
    (schoolbell::webhook_auth::form_encode(params), sign_twilio(token, &url, params).unwrap())
}

#[tokio::test]
async fn a_recorded_twilio_callback_signed_over_the_public_url_is_applied() {
    let world = every_provider_world().await;
    let params = recorded_twilio_params();
    let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let signature = sign_twilio(TWILIO_TOKEN, &format!("{PUBLIC_URL}/webhooks/twilio/status"), &params).unwrap();
    let (status, body) = world.call(twilio_request(TWILIO_DELIVERED, &signature)).await;
    assert_eq!((status, body.as_str()), (200, "{}"));
    assert_eq!(world.delivery(TWILIO_SID).await.0, DeliveryState::Delivered);
    assert_eq!(world.sms_status(NUMBER).await, Some(SmsStatus::Ok));
}

#[tokio::test]
async fn twilio_refuses_a_tampered_body_a_tampered_signature_and_another_accounts_token() {
    let world = every_provider_world().await;
    let params = [("MessageSid", TWILIO_SID), ("MessageStatus", "undelivered"), ("ErrorCode", "30006")];
    let (body, signature) = twilio_signed(&params, TWILIO_TOKEN);
    let tampered_body = body.replace("30006", "30003");
    let mut tampered_signature = signature.clone().into_bytes();
    tampered_signature[3] = if tampered_signature[3] == b'A' { b'B' } else { b'A' };
    let tampered_signature = String::from_utf8(tampered_signature).unwrap_or_default();
    let (_, foreign) = twilio_signed(&params, "another-accounts-token");
    for request in [
        twilio_request(&tampered_body, &signature),
        twilio_request(&body, &tampered_signature),
        twilio_request(&body, &foreign),
        twilio_request(&body, ""),
    ] {
        let (status, answer) = world.call(request).await;
        assert_eq!(status, 403, "{answer}");
        assert!(answer.contains("\"code\":\"invalid_signature\""), "{answer}");
    }
    assert_eq!(world.delivery(TWILIO_SID).await.0, DeliveryState::Sent, "nothing changed");
    assert_eq!(world.sms_status(NUMBER).await, None);
}

#[tokio::test]
async fn a_replayed_receipt_changes_nothing_the_second_time() {
    let world = every_provider_world().await;
    let params = [("MessageSid", "SMlandline"), ("MessageStatus", "undelivered"), ("ErrorCode", "30006")];
    let (body, signature) = twilio_signed(&params, TWILIO_TOKEN);
    assert_eq!(world.call(twilio_request(&body, &signature)).await.0, 200);
    let (state, reason, raw_code) = world.delivery("SMlandline").await;
    assert_eq!(
        (state, reason.as_deref(), raw_code.as_deref()),
        (DeliveryState::Failed, Some("landline"), Some("30006"))
    );
    assert_eq!(world.sms_status(NUMBER).await, Some(SmsStatus::Landline));
    let written = world.table.stats().items_written;
    assert_eq!(world.call(twilio_request(&body, &signature)).await.0, 200);
    assert_eq!(world.table.stats().items_written, written, "the replay wrote nothing");
}

#[tokio::test]
async fn a_receipt_for_an_unknown_message_is_acknowledged() {
    let world = every_provider_world().await;
    let (body, signature) = twilio_signed(&[("MessageSid", "SMunknown"), ("MessageStatus", "delivered")], TWILIO_TOKEN);
    assert_eq!(world.call(twilio_request(&body, &signature)).await, (200, "{}".to_string()));
}

#[tokio::test]
async fn a_verified_body_that_is_no_receipt_is_a_400_and_an_inbound_message_is_acknowledged() {
    let world = every_provider_world().await;
    let (body, signature) = twilio_signed(&[("MessageStatus", "delivered")], TWILIO_TOKEN);
    let (status, answer) = world.call(twilio_request(&body, &signature)).await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer.contains("unreadable_receipt") && answer.contains("MessageSid"), "{answer}");
    let inbound = [("MessageSid", "SMin"), ("SmsStatus", "received"), ("Body", "STOP"), ("From", NUMBER)];
    let (body, signature) = twilio_signed(&inbound, TWILIO_TOKEN);
    assert_eq!(world.call(twilio_request(&body, &signature)).await.0, 200);
}

fn telnyx_request(body: &str, key: &SigningKey, timestamp: i64) -> Request<Body> {
    let signed = format!("{timestamp}|{body}");
    let signature = STANDARD.encode(key.sign(signed.as_bytes()).to_bytes());
    Request::post("/webhooks/telnyx")
        .header("content-type", "application/json")
        .header("telnyx-signature-ed25519", signature)
        .header("telnyx-timestamp", timestamp.to_string())
        .body(Body::from(body.to_string()))
        .unwrap()
}

#[tokio::test]
async fn telnyx_takes_a_signed_recorded_event_and_refuses_tampering_other_keys_and_stale_timestamps() {
    let world = every_provider_world().await;
    let now = Utc::now().timestamp();
    let other_key = SigningKey::from_bytes(&[7; 32]);
    let mut tampered = telnyx_request(TELNYX_FINALIZED, &telnyx_key(), now);
    *tampered.body_mut() = Body::from(TELNYX_FINALIZED.replace("\"delivered\"", "\"delivery_failed\""));
    let mut forged = telnyx_request(TELNYX_FINALIZED, &telnyx_key(), now);
    forged.headers_mut().insert("telnyx-signature-ed25519", STANDARD.encode([1_u8; 64]).parse().unwrap());
    for (request, what) in [
        (tampered, "tampered body"),
        (forged, "tampered signature"),
        (telnyx_request(TELNYX_FINALIZED, &other_key, now), "another key"),
        (telnyx_request(TELNYX_FINALIZED, &telnyx_key(), now - 600), "stale timestamp"),
    ] {
        let (status, answer) = world.call(request).await;
        assert_eq!(status, 403, "{what}: {answer}");
    }
    assert_eq!(world.delivery(TELNYX_ID).await.0, DeliveryState::Sent);
    let (status, answer) = world.call(telnyx_request(TELNYX_FINALIZED, &telnyx_key(), now - 10)).await;
    assert_eq!((status, answer.as_str()), (200, "{}"));
    assert_eq!(world.delivery(TELNYX_ID).await.0, DeliveryState::Delivered);
}

fn vonage_request(body: &str, secret: &str) -> Request<Body> {
    vonage_request_at(body, secret, Utc::now())
}

fn vonage_request_at(body: &str, secret: &str, at: chrono::DateTime<Utc>) -> Request<Body> {
    let token = sign_vonage(secret.as_bytes(), body.as_bytes(), at).unwrap();
    Request::post("/webhooks/vonage/status")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::from(body.to_string()))
        .unwrap()
}

#[tokio::test]
async fn vonage_takes_a_signed_recorded_receipt_and_refuses_tampering_and_other_secrets() {
    let world = every_provider_world().await;
    let mut tampered = vonage_request(VONAGE_DELIVERED, VONAGE_SECRET);
    *tampered.body_mut() = Body::from(VONAGE_DELIVERED.replace("\"err-code\": \"0\"", "\"err-code\": \"3\""));
    let mut forged = vonage_request(VONAGE_DELIVERED, VONAGE_SECRET);
    let header = forged.headers().get("authorization").and_then(|h| h.to_str().ok()).unwrap_or_default();
    let forged_header = format!("{}x", header.trim_end_matches(|c: char| c != '.'));
    forged.headers_mut().insert("authorization", forged_header.parse().unwrap());
    for (request, what) in [
        (tampered, "tampered body"),
        (forged, "tampered signature"),
        (vonage_request(VONAGE_DELIVERED, "another-secret"), "another secret"),
        (vonage_request_at(VONAGE_DELIVERED, VONAGE_SECRET, Utc::now() - chrono::Duration::hours(1)), "an old token"),
    ] {
        assert_eq!(world.call(request).await.0, 403, "{what}");
    }
    assert_eq!(world.delivery(VONAGE_ID).await.0, DeliveryState::Sent);
    assert_eq!(world.call(vonage_request(VONAGE_DELIVERED, VONAGE_SECRET)).await, (200, "{}".to_string()));
    assert_eq!(world.delivery(VONAGE_ID).await.0, DeliveryState::Delivered);
}

fn bandwidth_request(body: &str, user: &str, password: &str) -> Request<Body> {
    Request::post("/webhooks/bandwidth")
        .header("content-type", "application/json")
        .header("authorization", format!("Basic {}", STANDARD.encode(format!("{user}:{password}"))))
        .body(Body::from(body.to_string()))
        .unwrap()
}

#[tokio::test]
async fn bandwidth_takes_its_basic_credentials_and_nothing_else() {
    let world = every_provider_world().await;
    let (user, password) = BANDWIDTH;
    let mut anonymous = bandwidth_request(BANDWIDTH_DELIVERED, user, password);
    anonymous.headers_mut().remove("authorization");
    for request in [
        bandwidth_request(BANDWIDTH_DELIVERED, user, "wrong-password"),
        bandwidth_request(BANDWIDTH_DELIVERED, "someone-else", password),
        anonymous,
    ] {
        assert_eq!(world.call(request).await.0, 403);
    }
    assert_eq!(world.delivery(BANDWIDTH_ID).await.0, DeliveryState::Sent);
    assert_eq!(world.call(bandwidth_request(BANDWIDTH_DELIVERED, user, password)).await, (200, "{}".to_string()));
    assert_eq!(world.delivery(BANDWIDTH_ID).await.0, DeliveryState::Delivered);
}

#[tokio::test]
async fn kannel_takes_its_token_in_the_query_or_a_header_by_get_or_post() {
    let world = every_provider_world().await;
    let dlr = "id=k-1&status=2&answer=id%3Ak-1+stat%3AUNDELIV+err%3A001&to=%2B16175552345&smsc=a";
    let get =
        |token: &str| Request::get(format!("/webhooks/kannel/dlr?token={token}&{dlr}")).body(Body::empty()).unwrap();
    assert_eq!(world.call(get("wrong")).await.0, 403);
    let unsigned = Request::get(format!("/webhooks/kannel/dlr?{dlr}")).body(Body::empty()).unwrap();
    assert_eq!(world.call(unsigned).await.0, 403);
    assert_eq!(world.delivery(KANNEL_ID).await.0, DeliveryState::Sent);
    assert_eq!(world.call(get(KANNEL_TOKEN)).await, (200, "{}".to_string()));
    assert_eq!(world.delivery(KANNEL_ID).await.0, DeliveryState::Failed);

    let post = Request::post("/webhooks/kannel/dlr")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-webhook-token", KANNEL_TOKEN)
        .body(Body::from("id=k-1&status=1&to=%2B16175552345"))
        .unwrap();
    assert_eq!(world.call(post).await.0, 200);
    assert_eq!(world.delivery(KANNEL_ID).await.0, DeliveryState::Delivered, "a later final answer replaces it");
}

#[tokio::test]
async fn jasmin_is_answered_ack_jasmin_once_its_token_checks_out() {
    let world = every_provider_world().await;
    let request = |token: &str| {
        Request::post(format!("/webhooks/jasmin/dlr?token={token}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(format!("id={JASMIN_ID}&message_status=UNDELIV&level=2&err=001&donedate=2402011201")))
            .unwrap()
    };
    assert_eq!(world.call(request(KANNEL_TOKEN)).await.0, 403, "Kannel's token is not Jasmin's");
    assert_eq!(world.delivery(JASMIN_ID).await.0, DeliveryState::Sent);
    assert_eq!(world.call(request(JASMIN_TOKEN)).await, (200, "ACK/Jasmin".to_string()));
    assert_eq!(world.delivery(JASMIN_ID).await.0, DeliveryState::Failed);
}

#[tokio::test]
async fn a_provider_without_a_secret_answers_404_not_configured() {
    let world = world(&WebhookConfig::default(), MapCertificates::default(), &[]).await;
    for (method, path) in [
        ("POST", "/webhooks/twilio/status"),
        ("POST", "/webhooks/telnyx"),
        ("POST", "/webhooks/vonage/status"),
        ("POST", "/webhooks/bandwidth"),
        ("GET", "/webhooks/kannel/dlr"),
        ("POST", "/webhooks/jasmin/dlr"),
        ("POST", "/webhooks/sns"),
    ] {
        let request = Request::builder().method(method).uri(path).body(Body::empty()).unwrap();
        let (status, answer) = world.call(request).await;
        assert_eq!(status, 404, "{path}");
        assert!(answer.contains("\"code\":\"not_configured\""), "{answer}");
    }
    let wrong_method = Request::get("/webhooks/twilio/status").body(Body::empty()).unwrap();
    assert_eq!(world.call(wrong_method).await.0, 405);
    assert!(world.confirmer.confirmed.lock().is_ok_and(|c| c.is_empty()));
}
