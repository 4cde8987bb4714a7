//! The SNS adapter's request, recorded with `aws-smithy-mocks` (moto drops
//! SMS message attributes): each text carries the number it goes from.

use aws_sdk_sns::Client;
use aws_sdk_sns::operation::publish::{PublishInput, PublishOutput};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use schoolbell::adapters::aws::{SmsOptions, SnsSmsGateway};
use schoolbell::domain::PhoneNumber;
use schoolbell::ports::{OutboundSms, SmsGateway};

const DEFAULT: &str = "+18005550000";
const OWN: &str = "+18005550100";

fn origination(request: &PublishInput) -> Option<&str> {
    request.message_attributes()?.get("AWS.MM.SMS.OriginationNumber")?.string_value()
}

#[tokio::test]
async fn each_text_goes_from_the_number_it_names_else_from_the_deployment_s_default() {
    let from_own = mock!(Client::publish)
        .match_requests(|request| origination(request) == Some(OWN))
        .then_output(|| PublishOutput::builder().message_id("m-own").build());
    let from_default = mock!(Client::publish)
        .match_requests(|request| origination(request) == Some(DEFAULT))
        .then_output(|| PublishOutput::builder().message_id("m-default").build());
    let client = mock_client!(aws_sdk_sns, RuleMode::MatchAny, &[&from_own, &from_default]);
    let options = SmsOptions { sender_id: None, origination_number: Some(DEFAULT.into()) };
    let gateway = SnsSmsGateway::new(client, options);
    let to = PhoneNumber::parse_e164("+16175550142").unwrap();
    let own = Some(PhoneNumber::parse_e164(OWN).unwrap());

    let sent = gateway.send(&OutboundSms { to: to.clone(), body: "a".into(), from: own }).await.unwrap();
    assert_eq!(sent.provider_message_id, "m-own");
    let sent = gateway.send(&OutboundSms { to, body: "b".into(), from: None }).await.unwrap();
    assert_eq!(sent.provider_message_id, "m-default");
    assert_eq!((from_own.num_calls(), from_default.num_calls()), (1, 1));
}
