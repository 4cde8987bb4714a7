//! SIS events on the AWS path: the SIS key's lookup and the exactly-once
//! records and broadcast (one DynamoDB transaction) on DynamoDB, the plan
//! and send queues on SQS, texts through SNS and email through SESv2, all
//! on moto.

use std::sync::Arc;
use std::time::Duration;

use schoolbell::adapters::aws::{
    EmailOptions, SesEmailGateway, SmsOptions, SnsSmsGateway, SqsWorkQueue, create_queue_with_dead_letter,
};
use schoolbell::domain::{DistrictSettings, EmailAddress, Principal, Role, TextConsentPolicy};
use schoolbell::ports::{FixedClock, RandomIds, WorkQueue};
use schoolbell::root::{Ports, Services, Wiring};
use schoolbell::services::{SisCredential, TaskRunner};
use schoolbell_tests::moto;
use serde_json::{Value, json};

async fn queue(config: &aws_config::SdkConfig, name: &str) -> Arc<SqsWorkQueue> {
    let client = aws_sdk_sqs::Client::new(config);
    let (url, _dead) =
        create_queue_with_dead_letter(&client, &moto::unique_name(name), 5, Duration::from_secs(30)).await.unwrap();
    Arc::new(SqsWorkQueue::new(client, url))
}

async fn drain(queue: &SqsWorkQueue, runner: &TaskRunner) -> usize {
    let mut ran = 0;
    loop {
        let messages = queue.receive(10, Duration::from_millis(200)).await.unwrap();
        if messages.is_empty() {
            return ran;
        }
        for message in messages {
            runner.run(&message.body).await.unwrap();
            queue.ack(&message.receipt).await.unwrap();
            ran += 1;
        }
    }
}

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
    let ses = aws_sdk_sesv2::Client::new(&config);
    ses.create_email_identity().email_identity("district.example.org").send().await.unwrap_or_else(|e| panic!("{e:?}"));
    let from = EmailAddress::parse("office@district.example.org").unwrap();
    let email = SesEmailGateway::new(ses, EmailOptions { from, configuration_set: None });
    let sms =
        SnsSmsGateway::new(aws_sdk_sns::Client::new(&config), SmsOptions { sender_id: None, origination_number: None });
    let (plan_queue, send_queue) = (queue(&config, "sis-plan").await, queue(&config, "sis-send").await);
    let ports = Ports::new(table.clone(), Arc::new(FixedClock::midday_today()), Arc::new(RandomIds))
        .with_sms(Arc::new(sms))
        .with_email(Arc::new(email))
        .with_plan_queue(plan_queue.clone())
        .with_send_queue(send_queue.clone());
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
    assert_eq!(drain(&plan_queue, &runner).await, 1, "one plan task");
    assert_eq!(drain(&send_queue, &runner).await, 1, "one chunk");
    let data = moto::sent_data(&endpoint).await;
    let all_sms = data["sns"].to_string();
    assert_eq!(all_sms.matches(&format!("{marker}: Leo was marked absent for period 1")).count(), 1, "{all_sms}");
    let emails = data["ses"].to_string();
    assert!(emails.contains("Attendance: Leo was absent"), "{emails}");
}
