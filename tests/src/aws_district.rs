//! The family fixture imported into DynamoDB on moto (through S3 and the
//! import service, as the import-ingest function would), for AWS-path tests.

use std::sync::Arc;

use aws_config::SdkConfig;
use schoolbell::adapters::aws::{DynamoTable, S3FileStore, create_table};
use schoolbell::domain::DistrictId;
use schoolbell::ports::{FileStore, FixedClock, TimeOrderedIds};
use schoolbell::root::{Ports, Services, Wiring};
use schoolbell::services::{NewImport, upload_key};

use crate::family_fixture::{CSV, MAPPING};
use crate::moto;

/// A fresh table on moto holding the family fixture in `district`.
pub async fn family_district_on_dynamodb(config: &SdkConfig, district: &str) -> (Arc<DynamoTable>, DistrictId) {
    let dynamo = aws_sdk_dynamodb::Client::new(config);
    let table_name = moto::unique_name("district");
    create_table(&dynamo, &table_name).await.unwrap_or_else(|e| panic!("{e}"));
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(config).force_path_style(true).build());
    let bucket = moto::unique_name("district");
    s3.create_bucket().bucket(&bucket).send().await.unwrap_or_else(|e| panic!("{e}"));
    let table = Arc::new(DynamoTable::new(dynamo, table_name));
    let files = Arc::new(S3FileStore::new(s3, bucket, None));
    let imports = Services::new(
        Ports::new(table.clone(), Arc::new(FixedClock::midday_today()), Arc::new(TimeOrderedIds))
            .with_files(files.clone()),
        Wiring::default(),
    )
    .imports()
    .unwrap_or_else(|e| panic!("{e}"));
    let district = DistrictId::parse(district).unwrap_or_else(|e| panic!("{e}"));
    let new = NewImport {
        name: "families".into(),
        method: "mapped".parse().unwrap_or_else(|e| panic!("{e}")),
        trigger: "manual".parse().unwrap_or_else(|e| panic!("{e}")),
        schedule: None,
        mapping: Some(MAPPING.into()),
        hold_threshold_percent: None,
    };
    imports.create_in(&district, new).await.unwrap_or_else(|e| panic!("{e}"));
    let key = upload_key(&district, &"families".parse().unwrap_or_else(|e| panic!("{e}")), "families.csv");
    files.put(&key, CSV.as_bytes().to_vec().into()).await.unwrap_or_else(|e| panic!("{e}"));
    imports.file_arrived(&key).await.unwrap_or_else(|e| panic!("{e}"));
    imports.run_in(&district, "families").await.unwrap_or_else(|e| panic!("{e}"));
    (table, district)
}

/// Ports that send on moto: texts through SNS, email through SESv2 (from a
/// verified `district.example.org`), and fresh plan and send queues on SQS
/// (each with its dead-letter queue), added to `ports`. Answers the ports
/// and the two queues.
pub async fn messaging_on_moto(
    config: &SdkConfig,
    ports: Ports,
) -> (Ports, Arc<schoolbell::adapters::aws::SqsWorkQueue>, Arc<schoolbell::adapters::aws::SqsWorkQueue>) {
    use schoolbell::adapters::aws::{EmailOptions, SesEmailGateway, SmsOptions, SnsSmsGateway};
    let ses = aws_sdk_sesv2::Client::new(config);
    ses.create_email_identity().email_identity("district.example.org").send().await.unwrap_or_else(|e| panic!("{e:?}"));
    let from = schoolbell::domain::EmailAddress::parse("office@district.example.org").unwrap_or_else(|e| panic!("{e}"));
    let email = SesEmailGateway::new(ses, EmailOptions { from, configuration_set: None });
    let sms =
        SnsSmsGateway::new(aws_sdk_sns::Client::new(config), SmsOptions { sender_id: None, origination_number: None });
    let (plan_queue, send_queue) = (sqs_queue(config, "plan").await, sqs_queue(config, "send").await);
    let ports = ports
        .with_sms(Arc::new(sms))
        .with_email(Arc::new(email))
        .with_plan_queue(plan_queue.clone())
        .with_send_queue(send_queue.clone());
    (ports, plan_queue, send_queue)
}

/// A fresh queue on moto (with its dead-letter queue).
pub async fn sqs_queue(config: &SdkConfig, name: &str) -> Arc<schoolbell::adapters::aws::SqsWorkQueue> {
    let client = aws_sdk_sqs::Client::new(config);
    let (url, _dead) = schoolbell::adapters::aws::create_queue_with_dead_letter(
        &client,
        &moto::unique_name(name),
        5,
        std::time::Duration::from_secs(30),
    )
    .await
    .unwrap_or_else(|e| panic!("{e:?}"));
    Arc::new(schoolbell::adapters::aws::SqsWorkQueue::new(client, url))
}

/// Receives and runs tasks until the queue answers nothing; answers how many ran.
pub async fn drain_sqs(
    queue: &schoolbell::adapters::aws::SqsWorkQueue,
    runner: &schoolbell::services::TaskRunner,
) -> usize {
    use schoolbell::ports::WorkQueue as _;
    let mut ran = 0;
    loop {
        let messages =
            queue.receive(10, std::time::Duration::from_millis(200)).await.unwrap_or_else(|e| panic!("{e:?}"));
        if messages.is_empty() {
            return ran;
        }
        for message in messages {
            runner.run(&message.body).await.unwrap_or_else(|e| panic!("{e:?}"));
            queue.ack(&message.receipt).await.unwrap_or_else(|e| panic!("{e:?}"));
            ran += 1;
        }
    }
}
