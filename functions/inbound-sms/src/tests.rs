//! The Twilio inbound route through `router().oneshot()`, signed as Twilio
//! signs, tampered, and unconfigured.

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use schoolbell::adapters::local::{EmbeddedTable, SimulatedCarrier};
use schoolbell::domain::{DistrictId, PhoneNumber, SmsStatus};
use schoolbell::ports::{SystemClock, Table, TimeOrderedIds};
use schoolbell::root::{Ports, Services, Wiring};
use schoolbell::store::SmsStatusStore;
use schoolbell::webhook_auth::sns::DirCertificates;
use schoolbell::webhook_auth::{HttpConfirmer, WebhookConfig, sign_twilio};
use tower::ServiceExt as _;

use super::*;

const TOKEN: &str = "twilio-auth-token";
const BASE: &str = "https://hooks.district.example";
const BODY: &str = "MessageSid=SM1&From=%2B16175552345&To=%2B18005550123&Body=STOP";

fn app(token: Option<&str>) -> (Router, Arc<dyn Table>, Arc<SimulatedCarrier>) {
    let table: Arc<dyn Table> = Arc::new(EmbeddedTable::in_memory().unwrap());
    let carrier = Arc::new(SimulatedCarrier::new());
    let district = DistrictId::parse("d-1").unwrap();
    let ports = Ports::new(table.clone(), Arc::new(SystemClock), Arc::new(TimeOrderedIds)).with_sms(carrier.clone());
    let services = Services::new(ports, Wiring { default_district: Some(district), ..Wiring::default() });
    let replies = services.replies().unwrap();
    let config = WebhookConfig {
        public_url: Some(BASE.into()),
        twilio_auth_token: token.map(str::to_string),
        ..WebhookConfig::default()
    };
    let confirmer = Arc::new(HttpConfirmer::new().unwrap());
    let webhooks =
        Webhooks::with_sns_parts(&config, Arc::new(DirCertificates::new("/nonexistent")), confirmer).unwrap();
    (router(InboundState { replies, webhooks: Arc::new(webhooks) }), table, carrier)
}

fn params(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_string(), v.replace("%2B", "+")))
        .collect()
}

fn request(body: &str, signature: &str) -> Request<Body> {
    Request::post("/webhooks/twilio/inbound")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-twilio-signature", signature)
        .body(Body::from(body.to_string()))
        .unwrap()
}

async fn text_of(response: axum::response::Response) -> String {
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 16).await.unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[tokio::test]
async fn a_signed_stop_opts_the_number_out_and_is_answered_once_in_the_twiml() {
    let (app, table, carrier) = app(Some(TOKEN));
    let signature = sign_twilio(TOKEN, &format!("{BASE}/webhooks/twilio/inbound"), &params(BODY)).unwrap();
    let response = app.clone().oneshot(request(BODY, &signature)).await.unwrap();
    assert_eq!(response.status(), 200);
    let twiml = text_of(response).await;
    assert!(twiml.contains("<Response><Message>School notifications: You are unsubscribed"), "{twiml}");
    let again = app.oneshot(request(BODY, &signature)).await.unwrap();
    assert_eq!(again.status(), 200, "Twilio retried: acknowledged, nothing twice");
    assert!(text_of(again).await.ends_with("<Response/>"));
    let district = DistrictId::parse("d-1").unwrap();
    let number = PhoneNumber::parse_e164("+16175552345").unwrap();
    let status = SmsStatusStore::new(table).get(&district, &number).await.unwrap_or_default();
    assert_eq!(status.map(|s| s.status), Some(SmsStatus::OptOut));
    assert!(carrier.sent().is_empty(), "Twilio sends the answer from the number texted; our gateway sends nothing");
}

#[test]
fn a_keyword_answer_is_escaped_in_the_twiml() {
    let twiml = twiml(Some("Smith & Jones <ISD>: Reply STOP"));
    assert!(
        twiml.ends_with("<Response><Message>Smith &amp; Jones &lt;ISD&gt;: Reply STOP</Message></Response>"),
        "{twiml}"
    );
}

#[tokio::test]
async fn a_tampered_body_a_wrong_key_and_a_missing_token_change_nothing() {
    let (app, table, carrier) = app(Some(TOKEN));
    let signature = sign_twilio(TOKEN, &format!("{BASE}/webhooks/twilio/inbound"), &params(BODY)).unwrap();
    let tampered = BODY.replace("STOP", "START");
    let response = app.clone().oneshot(request(&tampered, &signature)).await.unwrap();
    assert_eq!(response.status(), 403);
    let wrong = sign_twilio("another-token", &format!("{BASE}/webhooks/twilio/inbound"), &params(BODY)).unwrap();
    assert_eq!(app.oneshot(request(BODY, &wrong)).await.map(|r| r.status().as_u16()).ok(), Some(403));
    let district = DistrictId::parse("d-1").unwrap();
    let number = PhoneNumber::parse_e164("+16175552345").unwrap();
    assert_eq!(SmsStatusStore::new(table).get(&district, &number).await.ok(), Some(None));
    assert!(carrier.sent().is_empty());
    let (unconfigured, _, _) = self::app(None);
    let answer = unconfigured.oneshot(request(BODY, &signature)).await.map(|r| r.status().as_u16()).ok();
    assert_eq!(answer, Some(404));
}
