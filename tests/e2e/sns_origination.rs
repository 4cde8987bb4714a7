//! The SNS adapter's wire request, read by an SDK interceptor just before it
//! would leave (moto keeps no SMS message attributes): each text carries the
//! number it goes from.

use std::sync::{Arc, Mutex, PoisonError};

use aws_sdk_sns::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_sns::config::{ConfigBag, Intercept, RuntimeComponents};
use schoolbell::adapters::aws::{SmsOptions, SnsSmsGateway};
use schoolbell::domain::PhoneNumber;
use schoolbell::ports::{OutboundSms, SmsGateway};
use schoolbell_tests::moto;

const DEFAULT: &str = "+18005550000";
const OWN: &str = "+18005550100";

/// Keeps the form body of every request the client sends.
#[derive(Debug, Clone, Default)]
struct Bodies(Arc<Mutex<Vec<String>>>);

impl Intercept for Bodies {
    fn name(&self) -> &'static str {
        "request bodies"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let body = context.request().body().bytes().map(|b| String::from_utf8_lossy(b).into_owned());
        self.0.lock().unwrap_or_else(PoisonError::into_inner).push(body.unwrap_or_default());
        Ok(())
    }
}

/// The `AWS.MM.SMS.OriginationNumber` attribute of a `Publish` form body.
fn origination(body: &str) -> Option<String> {
    let fields: Vec<(String, String)> = body
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| {
            let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
            (decode(k), decode(v))
        })
        .collect();
    let name = fields.iter().find(|(_, v)| v == "AWS.MM.SMS.OriginationNumber")?;
    let entry = name.0.strip_suffix(".Name")?;
    fields.iter().find(|(k, _)| *k == format!("{entry}.Value.StringValue")).map(|(_, v)| v.clone())
}

#[tokio::test]
async fn each_text_goes_from_the_number_it_names_else_from_the_deployment_s_default() {
    // Nothing listens on the discard port: the requests are read, then fail.
    let bodies = Bodies::default();
    let config = moto::sdk_config("http://127.0.0.1:9")
        .to_builder()
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .build();
    let client =
        aws_sdk_sns::Client::from_conf(aws_sdk_sns::config::Builder::from(&config).interceptor(bodies.clone()).build());
    let options = SmsOptions { sender_id: None, origination_number: Some(DEFAULT.into()) };
    let gateway = SnsSmsGateway::new(client, options);
    let to = PhoneNumber::parse_e164("+16175550142").unwrap();
    let own = Some(PhoneNumber::parse_e164(OWN).unwrap());
    let _ = gateway.send(&OutboundSms { to: to.clone(), body: "a".into(), from: own }).await;
    let _ = gateway.send(&OutboundSms { to, body: "b".into(), from: None }).await;
    let sent = bodies.0.lock().unwrap_or_else(PoisonError::into_inner).clone();
    let origins: Vec<Option<String>> = sent.iter().map(|body| origination(body)).collect();
    assert_eq!(origins, [Some(OWN.to_string()), Some(DEFAULT.to_string())], "{sent:?}");
}
