//! The End User Messaging voice adapter over real HTTP: moto has no
//! `pinpoint-sms-voice-v2`, so a local server takes the SDK's requests,
//! keeps them, and answers as the service's JSON protocol does (a message
//! id, or an error type).

use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use schoolbell::adapters::aws::{EumVoiceGateway, VoiceOptions};
use schoolbell::domain::PhoneNumber;
use schoolbell::ports::{GatewayError, OutboundCall, VoiceGateway, VoiceScript};
use schoolbell_tests::moto;
use serde_json::{Value, json};

/// What the server answers, in turn, and what it was asked.
#[derive(Clone, Default)]
struct Service {
    answers: Arc<Mutex<Vec<(u16, Value)>>>,
    asked: Arc<Mutex<Vec<(String, Value)>>>,
}

async fn answer(State(service): State<Service>, headers: HeaderMap, body: Bytes) -> impl IntoResponse {
    let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let request = serde_json::from_slice(&body).unwrap_or(Value::Null);
    service.asked.lock().unwrap_or_else(PoisonError::into_inner).push((target, request));
    let (status, body) = service.answers.lock().unwrap_or_else(PoisonError::into_inner).remove(0);
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, [("content-type", "application/x-amz-json-1.0")], body.to_string())
}

async fn gateway(answers: Vec<(u16, Value)>, options: VoiceOptions) -> (EumVoiceGateway, Service) {
    let service = Service { answers: Arc::new(Mutex::new(answers)), ..Service::default() };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new().fallback(answer).with_state(service.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let config =
        moto::sdk_config(&address).to_builder().retry_config(aws_config::retry::RetryConfig::disabled()).build();
    (EumVoiceGateway::new(aws_sdk_pinpointsmsvoicev2::Client::new(&config), options), service)
}

fn call(from: Option<&str>, script: VoiceScript, language: Option<&str>) -> OutboundCall {
    OutboundCall {
        to: PhoneNumber::parse_e164("+16175550142").unwrap(),
        from: from.map(|n| PhoneNumber::parse_e164(n).unwrap()),
        script,
        language: language.map(str::to_string),
    }
}

#[tokio::test]
async fn a_call_names_every_field_the_service_needs() {
    let answers = vec![(200, json!({"MessageId": "call-1"})), (200, json!({"MessageId": "call-2"}))];
    let options =
        VoiceOptions { origination_identity: Some("pool-123".into()), configuration_set: Some("schoolbell".into()) };
    let (gateway, service) = gateway(answers, options).await;
    let text = VoiceScript::Text("Schools are closed today.".into());
    let placed = gateway.call(&call(Some("+18005550100"), text, Some("es-MX"))).await.unwrap();
    assert_eq!(placed.provider_message_id, "call-1");
    let ssml = VoiceScript::Ssml("<speak>Schools are closed.</speak>".into());
    assert_eq!(gateway.call(&call(None, ssml, None)).await.unwrap().provider_message_id, "call-2");

    let asked = service.asked.lock().unwrap_or_else(PoisonError::into_inner).clone();
    assert_eq!(asked[0].0, "PinpointSMSVoiceV2.SendVoiceMessage");
    assert_eq!(
        asked[0].1,
        json!({"DestinationPhoneNumber": "+16175550142", "OriginationIdentity": "+18005550100",
            "MessageBody": "Schools are closed today.", "MessageBodyTextType": "TEXT", "VoiceId": "LUPE",
            "ConfigurationSetName": "schoolbell"})
    );
    assert_eq!(asked[1].1["OriginationIdentity"], "pool-123", "the deployment's default when the district has none");
    assert_eq!(
        (asked[1].1["MessageBodyTextType"].as_str(), asked[1].1["VoiceId"].as_str()),
        (Some("SSML"), Some("JOANNA"))
    );
}

#[tokio::test]
async fn the_service_s_errors_map_to_who_can_fix_them() {
    let error = |kind: &str, message: &str| (400, json!({"__type": kind, "message": message}));
    let answers = vec![
        error("ThrottlingException", "Rate exceeded"),
        (500, json!({"__type": "InternalServerException", "message": "oops"})),
        error("ValidationException", "Reason: INVALID_PARAMETER for DestinationPhoneNumber"),
        error("ConflictException", "Reason: DESTINATION_PHONE_NUMBER_OPTED_OUT"),
        error("AccessDeniedException", "not allowed"),
    ];
    let (gateway, _) = gateway(answers, VoiceOptions::default()).await;
    let mut outcomes = Vec::new();
    for _ in 0..5 {
        let outcome = gateway.call(&call(Some("+18005550100"), VoiceScript::Text("Hello.".into()), None)).await;
        outcomes.push(outcome.err().unwrap_or_else(|| panic!("every answer is an error")));
    }
    assert!(matches!(outcomes[0], GatewayError::Throttled(_)), "{outcomes:?}");
    assert!(matches!(outcomes[1], GatewayError::Unavailable(_)), "{outcomes:?}");
    assert!(matches!(outcomes[2], GatewayError::InvalidRecipient(_)), "{outcomes:?}");
    assert_eq!(outcomes[3], GatewayError::OptedOut);
    assert!(matches!(outcomes[4], GatewayError::SenderError(_)), "{outcomes:?}");
    let none = gateway.call(&call(None, VoiceScript::Text("Hello.".into()), None)).await;
    assert!(matches!(none, Err(GatewayError::SenderError(_))), "no number, no default: ours to fix");
}
