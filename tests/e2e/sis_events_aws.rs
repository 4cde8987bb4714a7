//! SIS events on the AWS path: the SIS key's lookup and the exactly-once
//! records and broadcast (one DynamoDB transaction) on DynamoDB, the plan
//! and send queues on SQS, texts through SNS and email through SESv2, all
//! on moto.

use std::sync::Arc;

use schoolbell::domain::{DistrictSettings, Principal, Role, TextConsentPolicy};
use schoolbell::ports::{FixedClock, TimeOrderedIds};
use schoolbell::root::{Ports, Services, Wiring};
use schoolbell::services::SisCredential;
use schoolbell_tests::aws_district::drain_sqs;
use schoolbell_tests::moto;
use serde_json::{Value, json};

#[tokio::test]
async fn an_absence_goes_once_through_dynamodb_sqs_sns_and_ses_on_moto() {
    let test = "an_absence_goes_once_through_dynamodb_sqs_sns_and_ses_on_moto";
    let (Some(endpoint), Some(config)) = (moto::endpoint(test), moto::config(test)) else { return };
    let district_name = moto::unique_name("district-sis");
    let (table, district) = schoolbell_tests::aws_district::family_district_on_dynamodb(&config, &district_name).await;
    let admin = Principal {
        subject: "admin".into(),
        district: district.clone(),
        roles: vec![Role::DistrictAdmin],
        schools: vec![],
    };
    let ports = Ports::new(table.clone(), Arc::new(FixedClock::midday_today()), Arc::new(TimeOrderedIds));
    let (ports, plan_queue, send_queue) = schoolbell_tests::aws_district::messaging_on_moto(&config, ports).await;
    let services = Services::new(ports, Wiring::default());
    let marker = moto::unique_name("Maple");
    let policy = DistrictSettings {
        name: Some(marker.clone()),
        text_consent: TextConsentPolicy::NumberProvided,
        ..DistrictSettings::default()
    };
    services.settings().save(&admin, policy).await.unwrap();

    let issued = services.sis_keys().issue(&district, "test").await.unwrap();
    let body = json!({"events": [{"id": "e-1", "type": "attendance.absent", "student": "s-1",
        "occurred_at": "2026-12-04T08:05:00-05:00", "period": "1", "excused": false}]})
    .to_string();
    let keys = services.sis_keys();
    let authenticated = keys.authenticate(SisCredential::Bearer(&issued.key), body.as_bytes()).await.unwrap();
    assert_eq!(authenticated, district, "the key's district, from DynamoDB");
    let events: Vec<Value> = serde_json::from_str::<Value>(&body).unwrap()["events"].as_array().cloned().unwrap();
    let receiver = services.sis_events().unwrap();
    let answer = receiver.receive(&district, issued.id.as_str(), &events).await.unwrap();
    assert_eq!((answer.accepted, answer.duplicates), (1, 0));
    let again = receiver.receive(&district, issued.id.as_str(), &events).await.unwrap();
    assert_eq!((again.accepted, again.duplicates), (0, 1), "the event id is remembered in DynamoDB");

    let runner = services.task_runner().unwrap();
    assert_eq!(drain_sqs(&plan_queue, &runner).await, 1, "one plan task");
    assert_eq!(drain_sqs(&send_queue, &runner).await, 1, "one chunk");
    let data = moto::sent_data(&endpoint).await;
    let all_sms = data["sns"].to_string();
    assert_eq!(all_sms.matches(&format!("{marker}: Leo was marked absent for period 1")).count(), 1, "{all_sms}");
    let emails = data["ses"].to_string();
    assert!(emails.contains("Attendance: Leo was absent"), "{emails}");
}
