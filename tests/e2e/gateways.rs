//! The gateway ports (SMS, email, queue, files): each contract suite against
//! the local adapter and against the AWS adapter on moto, then what only one
//! side has (magic numbers and `.eml` files locally; what moto recorded,
//! SQS redrive and S3 prefixes on AWS).

use std::time::Duration;

use schoolbell::adapters::aws::{
    EmailOptions, S3FileStore, SesEmailGateway, SmsOptions, SnsSmsGateway, SqsWorkQueue, create_queue_with_dead_letter,
};
use schoolbell::adapters::local::{
    CarrierReceipt, DirFileStore, EmailEvent, LocalQueue, MAGIC_ADDRESSES, MAGIC_NUMBERS, Outbox, SimulatedCarrier,
    Stored,
};
use schoolbell::domain::{EmailAddress, EmailStatus, PhoneNumber, SmsStatus};
use schoolbell::ports::{
    EmailGateway, FileStore, GatewayError, OutboundEmail, OutboundSms, QueueError, SmsGateway, WorkQueue,
};
use schoolbell_tests::contract::{email, files, queue, sms};
use schoolbell_tests::moto;
use serde_json::Value;

/// The local queue's visibility timeout: short, so redelivery tests are fast.
const LOCAL_VISIBILITY: Duration = Duration::from_millis(50);
/// SQS counts visibility in whole seconds.
const SQS_VISIBILITY: Duration = Duration::from_secs(1);
/// The sender's domain, verified on moto's SES before each email test.
const SENDER_DOMAIN: &str = "district.example.org";

fn phone(e164: &str) -> PhoneNumber {
    PhoneNumber::parse_e164(e164).unwrap_or_else(|e| panic!("{e164}: {e}"))
}

fn address(text: &str) -> EmailAddress {
    EmailAddress::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn local_queue() -> LocalQueue {
    LocalQueue::new().with_visibility_timeout(LOCAL_VISIBILITY)
}

async fn sqs_queue(test: &str) -> Option<SqsWorkQueue> {
    let config = moto::config(test)?;
    let client = aws_sdk_sqs::Client::new(&config);
    let (url, _dlq) = create_queue_with_dead_letter(&client, &moto::unique_name("contract"), 5, SQS_VISIBILITY)
        .await
        .unwrap_or_else(|e| panic!("create queue on moto: {e}"));
    Some(SqsWorkQueue::new(client, url))
}

fn s3_client(config: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(config).force_path_style(true).build())
}

async fn s3_bucket(client: &aws_sdk_s3::Client) -> String {
    let bucket = moto::unique_name("files");
    client.create_bucket().bucket(&bucket).send().await.unwrap_or_else(|e| panic!("create bucket on moto: {e:?}"));
    bucket
}

async fn s3_store(test: &str) -> Option<S3FileStore> {
    let config = moto::config(test)?;
    let client = s3_client(&config);
    let bucket = s3_bucket(&client).await;
    Some(S3FileStore::new(client, bucket, Some("district-1".into())))
}

fn sns_gateway(config: &aws_config::SdkConfig) -> SnsSmsGateway {
    let options = SmsOptions { sender_id: Some("SCHOOLBELL".into()), origination_number: Some("+18005550123".into()) };
    SnsSmsGateway::new(aws_sdk_sns::Client::new(config), options)
}

async fn ses_gateway(config: &aws_config::SdkConfig) -> SesEmailGateway {
    let client = aws_sdk_sesv2::Client::new(config);
    client
        .create_email_identity()
        .email_identity(SENDER_DOMAIN)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create email identity on moto: {e:?}"));
    let configuration_set = moto::unique_name("events");
    client
        .create_configuration_set()
        .configuration_set_name(&configuration_set)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create configuration set on moto: {e:?}"));
    let options =
        EmailOptions { from: address(&format!("office@{SENDER_DOMAIN}")), configuration_set: Some(configuration_set) };
    SesEmailGateway::new(client, options)
}

/// Every JSON object under `value` that has all of `keys`.
fn objects_with<'a>(value: &'a Value, keys: &[&str], found: &mut Vec<&'a serde_json::Map<String, Value>>) {
    match value {
        Value::Object(map) => {
            if keys.iter().all(|key| map.contains_key(*key)) {
                found.push(map);
            }
            map.values().for_each(|inner| objects_with(inner, keys, found));
        }
        Value::Array(items) => items.iter().for_each(|inner| objects_with(inner, keys, found)),
        _ => {}
    }
}

macro_rules! queue_contract {
    ($($case:ident),+ $(,)?) => {
        mod queue_contract_on_the_local_queue {
            $(
                #[tokio::test]
                async fn $case() {
                    super::queue::$case(&super::local_queue(), super::LOCAL_VISIBILITY).await;
                }
            )+
        }

        mod queue_contract_on_sqs_on_moto {
            $(
                #[tokio::test]
                async fn $case() {
                    let Some(queue) = super::sqs_queue(stringify!($case)).await else { return };
                    super::queue::$case(&queue, super::SQS_VISIBILITY).await;
                }
            )+
        }
    };
}

queue_contract!(
    every_message_is_received_exactly_once_in_batches_of_at_most_ten,
    an_unacknowledged_message_comes_back_after_the_visibility_timeout,
    an_acknowledged_message_never_comes_back,
);

#[tokio::test]
async fn the_local_queue_answers_nothing_after_the_wait_when_empty() {
    queue::an_empty_queue_answers_nothing_after_the_wait(&local_queue()).await;
}

#[tokio::test]
async fn sqs_answers_nothing_after_the_wait_when_empty() {
    let Some(queue) = sqs_queue("sqs_answers_nothing_after_the_wait_when_empty").await else {
        return;
    };
    queue::an_empty_queue_answers_nothing_after_the_wait(&queue).await;
}

#[tokio::test]
async fn the_local_queue_refuses_empty_bodies() {
    queue::empty_bodies_are_refused(&local_queue()).await;
}

#[tokio::test]
async fn sqs_refuses_empty_bodies() {
    let Some(queue) = sqs_queue("sqs_refuses_empty_bodies").await else {
        return;
    };
    queue::empty_bodies_are_refused(&queue).await;
}

macro_rules! files_contract {
    ($($case:ident),+ $(,)?) => {
        mod files_contract_on_a_directory {
            $(
                #[tokio::test]
                async fn $case() {
                    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
                    super::files::$case(&super::DirFileStore::new(dir.path().join("files"))).await;
                }
            )+
        }

        mod files_contract_on_s3_on_moto {
            $(
                #[tokio::test]
                async fn $case() {
                    let Some(store) = super::s3_store(stringify!($case)).await else { return };
                    super::files::$case(&store).await;
                }
            )+
        }
    };
}

files_contract!(
    a_put_file_reads_back_and_a_missing_one_is_none,
    a_second_put_replaces_the_file,
    list_answers_sorted_keys_under_a_prefix,
    delete_removes_and_deleting_nothing_is_fine,
    unsafe_keys_are_refused,
    a_file_from_its_chunks_reads_back_whole,
    a_file_whose_chunks_fail_stores_nothing,
);

#[tokio::test]
async fn the_simulated_carrier_passes_the_sms_contract() {
    sms::each_sent_text_gets_its_own_provider_message_id(&SimulatedCarrier::new(), &phone("+16175550123")).await;
}

#[tokio::test]
async fn sns_passes_the_sms_contract() {
    let Some(config) = moto::config("sns_passes_the_sms_contract") else {
        return;
    };
    sms::each_sent_text_gets_its_own_provider_message_id(&sns_gateway(&config), &phone("+16175550123")).await;
}

#[tokio::test]
async fn the_outbox_passes_the_email_contract_in_memory_and_on_disk() {
    email::each_sent_email_gets_its_own_provider_message_id(&Outbox::in_memory(), &address("ana@example.org")).await;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    email::each_sent_email_gets_its_own_provider_message_id(&Outbox::in_dir(dir.path()), &address("ana@example.org"))
        .await;
}

#[tokio::test]
async fn ses_passes_the_email_contract() {
    let Some(config) = moto::config("ses_passes_the_email_contract") else {
        return;
    };
    email::each_sent_email_gets_its_own_provider_message_id(&ses_gateway(&config).await, &address("ana@example.org"))
        .await;
}

// --- local only -----------------------------------------------------------

#[tokio::test]
async fn carrier_magic_numbers_give_their_documented_statuses_on_subscribed_receipts() {
    let carrier = SimulatedCarrier::new();
    let mut receipts = carrier.subscribe();
    let mut expected = Vec::new();
    let numbers = MAGIC_NUMBERS.iter().map(|magic| (magic.example, magic.status));
    for (number, status) in numbers.chain([("+16175550199", SmsStatus::Ok), ("+16175550123", SmsStatus::Ok)]) {
        let to = phone(number);
        let sms = OutboundSms { to: to.clone(), body: format!("test {number}"), from: None };
        let sent = carrier.send(&sms).await.unwrap_or_else(|e| panic!("simulated send: {e}"));
        expected.push(CarrierReceipt { provider_message_id: sent.provider_message_id, to, status });
    }
    for want in &expected {
        let got = tokio::time::timeout(Duration::from_secs(1), receipts.recv())
            .await
            .unwrap_or_else(|_| panic!("no receipt"))
            .unwrap_or_else(|e| panic!("receipt channel: {e}"));
        assert_eq!(&got, want);
    }
    let sent = carrier.sent();
    assert_eq!(sent.len(), expected.len());
    assert!(sent.iter().zip(&expected).all(|(sms, receipt)| sms.provider_message_id == receipt.provider_message_id));
    assert!(sent.iter().all(|sms| sms.provider_message_id.starts_with("sim-")));
}

/// Headers of an RFC 5322 message, unfolded, with its body.
fn parse_eml(eml: &str) -> (Vec<(String, String)>, String) {
    let (head, body) = eml.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no blank line after the headers:\n{eml}"));
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.split("\r\n") {
        assert!(line.len() <= 998, "RFC 5322 lines are at most 998 characters");
        if line.starts_with([' ', '\t']) {
            let (_, value) = headers.last_mut().unwrap_or_else(|| panic!("a continuation line first"));
            value.push_str(line);
        } else {
            let (name, value) = line.split_once(':').unwrap_or_else(|| panic!("not a header line: {line:?}"));
            assert!(!name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic()), "header name {name:?}");
            headers.push((name.to_owned(), value.trim().to_owned()));
        }
    }
    (headers, body.to_owned())
}

#[tokio::test]
async fn the_outbox_writes_a_parseable_eml_file_with_the_simulated_status() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let outbox = Outbox::in_dir(dir.path().join("outbox")).with_from(address("office@district.example.org"));
    let mut events = outbox.subscribe();
    let email = OutboundEmail {
        to: address("bounce@simulator.amazonses.com"),
        subject: "Bus 12 is running late".into(),
        text: "Bus 12 will arrive 20 minutes late.".into(),
        html: Some("<p>Bus 12 will arrive <b>20 minutes</b> late.</p>".into()),
    };
    let sent = outbox.send(&email).await.unwrap_or_else(|e| panic!("outbox send: {e}"));
    let event = events.recv().await.unwrap_or_else(|e| panic!("event channel: {e}"));
    assert_eq!(
        event,
        EmailEvent {
            provider_message_id: sent.provider_message_id.clone(),
            to: email.to,
            status: EmailStatus::BouncedPermanent
        }
    );

    let files: Vec<_> = std::fs::read_dir(dir.path().join("outbox"))
        .unwrap_or_else(|e| panic!("outbox dir: {e}"))
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .collect();
    assert_eq!(files.len(), 1, "one file, no leftovers: {files:?}");
    assert_eq!(files[0].extension().and_then(|e| e.to_str()), Some("eml"));
    assert_eq!(outbox.sent()[0].stored, Stored::File(files[0].clone()));
    let eml = std::fs::read_to_string(&files[0]).unwrap_or_else(|e| panic!("eml: {e}"));
    let (headers, body) = parse_eml(&eml);
    let header = |name: &str| {
        headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).unwrap_or_default()
    };
    assert_eq!(header("From"), "<office@district.example.org>");
    assert_eq!(header("To"), "<bounce@simulator.amazonses.com>");
    assert_eq!(header("Subject"), "Bus 12 is running late");
    assert_eq!(header("Message-ID"), format!("<{}@outbox.schoolbell.test>", sent.provider_message_id));
    assert_eq!(header("MIME-Version"), "1.0");
    assert!(!header("Date").is_empty());
    assert_eq!(header("X-Schoolbell-Simulated-Status"), "bounced_permanent");
    assert!(header("Content-Type").starts_with("multipart/alternative"), "{}", header("Content-Type"));
    assert!(body.contains("Bus 12 will arrive 20 minutes late.") && body.contains("text/html"), "{body}");
}

#[tokio::test]
async fn the_outbox_reports_every_simulator_address_as_documented() {
    let outbox = Outbox::in_memory();
    for magic in MAGIC_ADDRESSES {
        let email = OutboundEmail { to: address(magic.address), subject: "s".into(), text: "t".into(), html: None };
        outbox.send(&email).await.unwrap_or_else(|e| panic!("outbox send: {e}"));
    }
    let statuses: Vec<EmailStatus> = outbox.sent().iter().map(|email| email.status).collect();
    assert_eq!(statuses, MAGIC_ADDRESSES.iter().map(|magic| magic.status).collect::<Vec<_>>());
}

#[tokio::test]
async fn the_local_queue_dead_letters_a_message_after_max_receives() {
    let queue = LocalQueue::new().with_visibility_timeout(Duration::from_millis(30)).with_max_receives(2);
    queue.send(vec!["poison".into(), "fine".into()]).await.unwrap_or_else(|e| panic!("send: {e}"));
    let mut counts = Vec::new();
    for _ in 0..10 {
        for message in queue.receive(10, Duration::from_millis(100)).await.unwrap_or_else(|e| panic!("receive: {e}")) {
            if message.body == "fine" {
                queue.ack(&message.receipt).await.unwrap_or_else(|e| panic!("ack: {e}"));
            } else {
                counts.push(message.receive_count);
            }
        }
    }
    assert_eq!(counts, [1, 2], "handed out max_receives times, then no more");
    assert_eq!(queue.dead_letters(), ["poison"]);
    assert!(queue.is_empty());
}

// --- AWS only ---------------------------------------------------------------

#[tokio::test]
async fn an_sms_published_through_sns_shows_up_in_moto() {
    let test = "an_sms_published_through_sns_shows_up_in_moto";
    let (Some(endpoint), Some(config)) = (moto::endpoint(test), moto::config(test)) else {
        return;
    };
    let body = format!("Snow day, schools closed ({})", moto::unique_name("sms"));
    let sms = OutboundSms { to: phone("+16175550142"), body: body.clone(), from: None };
    let sent = sns_gateway(&config).send(&sms).await.unwrap_or_else(|e| panic!("SNS publish: {e}"));
    let data = moto::sent_data(&endpoint).await;
    let mut found = Vec::new();
    objects_with(&data["sns"], &["phone_number", "message"], &mut found);
    let ours: Vec<_> = found.iter().filter(|sms| sms["message"] == Value::String(body.clone())).collect();
    assert_eq!(ours.len(), 1, "moto recorded the text once: {found:?}");
    assert_eq!(ours[0]["phone_number"], "+16175550142");
    if let Some(id) = ours[0].get("message_id") {
        assert_eq!(id, &Value::String(sent.provider_message_id));
    }
}

#[tokio::test]
async fn an_email_sent_through_ses_shows_up_in_moto() {
    let test = "an_email_sent_through_ses_shows_up_in_moto";
    let (Some(endpoint), Some(config)) = (moto::endpoint(test), moto::config(test)) else {
        return;
    };
    let subject = format!("Conference night ({})", moto::unique_name("email"));
    let email = OutboundEmail {
        to: address("guardian.one@example.org"),
        subject: subject.clone(),
        text: "Conferences are on Thursday.".into(),
        html: None,
    };
    let sent = ses_gateway(&config).await.send(&email).await.unwrap_or_else(|e| panic!("SES send: {e}"));
    let data = moto::sent_data(&endpoint).await;
    let mut found = Vec::new();
    objects_with(&data["ses"], &["subject", "destinations"], &mut found);
    let ours: Vec<_> = found.iter().filter(|m| m["subject"] == Value::String(subject.clone())).collect();
    assert_eq!(ours.len(), 1, "moto recorded the email once: {found:?}");
    let message = ours[0];
    assert!(message["destinations"].to_string().contains("guardian.one@example.org"), "{message:?}");
    assert_eq!(message["source"], format!("office@{SENDER_DOMAIN}"));
    assert!(message["body"].to_string().contains("Conferences are on Thursday."), "{message:?}");
    if let Some(id) = message.get("id") {
        assert_eq!(id, &Value::String(sent.provider_message_id));
    }
}

#[tokio::test]
async fn an_unverified_sender_is_a_final_sender_error_on_ses() {
    let Some(config) = moto::config("an_unverified_sender_is_a_final_sender_error_on_ses") else {
        return;
    };
    let options = EmailOptions { from: address("office@unverified-district.example.org"), configuration_set: None };
    let gateway = SesEmailGateway::new(aws_sdk_sesv2::Client::new(&config), options);
    let email = OutboundEmail { to: address("ana@example.org"), subject: "s".into(), text: "t".into(), html: None };
    let error = gateway.send(&email).await.err().unwrap_or_else(|| panic!("an unverified sender must be refused"));
    assert!(matches!(error, GatewayError::SenderError(_)), "{error:?}");
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn an_unreachable_provider_is_unavailable_and_retryable() {
    // No moto needed: nothing listens on the discard port.
    let config = moto::sdk_config("http://127.0.0.1:9")
        .to_builder()
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .build();
    let sms = OutboundSms { to: phone("+16175550142"), body: "hello".into(), from: None };
    let error = sns_gateway(&config).send(&sms).await.err().unwrap_or_else(|| panic!("nothing listens there"));
    assert!(matches!(error, GatewayError::Unavailable(_)), "{error:?}");
    let queue = SqsWorkQueue::new(aws_sdk_sqs::Client::new(&config), "http://127.0.0.1:9/000000000000/none");
    let error = queue.send(vec!["x".into()]).await.err().unwrap_or_else(|| panic!("nothing listens there"));
    assert!(matches!(error, QueueError::Unavailable(_)), "{error:?}");
}

#[tokio::test]
async fn sqs_moves_a_message_to_the_dead_letter_queue_after_max_receives() {
    let Some(config) = moto::config("sqs_moves_a_message_to_the_dead_letter_queue_after_max_receives") else {
        return;
    };
    let client = aws_sdk_sqs::Client::new(&config);
    let (url, dlq_url) = create_queue_with_dead_letter(&client, &moto::unique_name("redrive"), 2, SQS_VISIBILITY)
        .await
        .unwrap_or_else(|e| panic!("create queues: {e}"));
    let queue = SqsWorkQueue::new(client.clone(), url);
    let dead_letters = SqsWorkQueue::new(client, dlq_url);
    queue.send(vec!["poison".into()]).await.unwrap_or_else(|e| panic!("send: {e}"));
    let mut counts = Vec::new();
    for _ in 0..4 {
        let received = queue.receive(10, Duration::from_secs(2)).await.unwrap_or_else(|e| panic!("receive: {e}"));
        counts.extend(received.iter().map(|message| message.receive_count));
    }
    assert_eq!(counts, [1, 2], "received max_receives times, then moved");
    let moved = dead_letters.receive(10, Duration::from_secs(2)).await.unwrap_or_else(|e| panic!("receive dlq: {e}"));
    assert_eq!(moved.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), ["poison"]);
}

#[tokio::test]
async fn sqs_sends_more_than_one_batch_in_one_call() {
    let Some(queue) = sqs_queue("sqs_sends_more_than_one_batch_in_one_call").await else {
        return;
    };
    let bodies: Vec<String> = (0..23).map(|i| format!("chunked-{i}")).collect();
    queue.send(bodies).await.unwrap_or_else(|e| panic!("send: {e}"));
    let mut received = 0;
    for _ in 0..10 {
        let batch = queue.receive(10, Duration::from_secs(1)).await.unwrap_or_else(|e| panic!("receive: {e}"));
        for message in &batch {
            queue.ack(&message.receipt).await.unwrap_or_else(|e| panic!("ack: {e}"));
        }
        received += batch.len();
        if received == 23 {
            break;
        }
    }
    assert_eq!(received, 23);
}

#[tokio::test]
async fn s3_stores_with_different_prefixes_in_one_bucket_do_not_see_each_other() {
    let Some(config) = moto::config("s3_stores_with_different_prefixes_in_one_bucket_do_not_see_each_other") else {
        return;
    };
    let client = s3_client(&config);
    let bucket = s3_bucket(&client).await;
    let first = S3FileStore::new(client.clone(), bucket.clone(), Some("district-1/".into()));
    let second = S3FileStore::new(client.clone(), bucket.clone(), Some("district-2".into()));
    let whole = S3FileStore::new(client, bucket, None);
    first.put("roster.csv", bytes::Bytes::from_static(b"one")).await.unwrap_or_else(|e| panic!("put: {e}"));
    second.put("roster.csv", bytes::Bytes::from_static(b"two")).await.unwrap_or_else(|e| panic!("put: {e}"));
    assert_eq!(first.get("roster.csv").await, Ok(Some(bytes::Bytes::from_static(b"one"))));
    assert_eq!(first.list("").await, Ok(vec!["roster.csv".to_owned()]));
    assert_eq!(whole.list("").await, Ok(vec!["district-1/roster.csv".to_owned(), "district-2/roster.csv".to_owned()]));
}
