//! SNS verification tests: keys and certificates made at test time with
//! `rsa` and `rcgen`, plus AWS's own published messages (aws-sdk-ruby's
//! message verifier spec) signed by the real, now expired, SNS certificate.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};

use rsa::pkcs8::{EncodePrivateKey, LineEnding};
use rsa::rand_core::OsRng;
use rsa::signature::{SignatureEncoding, Signer};
use rsa::{RsaPrivateKey, pkcs1v15::SigningKey};

use super::*;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const CERT_URL: &str = "https://sns.us-east-2.amazonaws.com/SimpleNotificationService-test.pem";

struct Signer1 {
    key: RsaPrivateKey,
    certificate_pem: String,
}

fn make_signer() -> Result<Signer1, Box<dyn std::error::Error>> {
    let key = RsaPrivateKey::new(&mut OsRng, 2048)?;
    let pkcs8 = key.to_pkcs8_pem(LineEnding::LF)?;
    let key_pair = rcgen::KeyPair::from_pem_and_sign_algo(&pkcs8, &rcgen::PKCS_RSA_SHA256)?;
    let certificate = rcgen::CertificateParams::new(vec!["sns.amazonaws.com".to_string()])?.self_signed(&key_pair)?;
    Ok(Signer1 { key, certificate_pem: certificate.pem() })
}

static SIGNER: LazyLock<Result<Signer1, String>> = LazyLock::new(|| make_signer().map_err(|e| e.to_string()));
static OTHER_SIGNER: LazyLock<Result<Signer1, String>> = LazyLock::new(|| make_signer().map_err(|e| e.to_string()));

fn signer() -> Result<&'static Signer1, String> {
    SIGNER.as_ref().map_err(Clone::clone)
}

fn other_signer() -> Result<&'static Signer1, String> {
    OTHER_SIGNER.as_ref().map_err(Clone::clone)
}

/// Serves fixed certificates and counts how often it is asked.
#[derive(Default)]
struct MapCertificates {
    pems: HashMap<String, Vec<u8>>,
    asked: AtomicUsize,
}

impl MapCertificates {
    fn with(url: &str, pem: &str) -> Self {
        Self { pems: [(url.to_string(), pem.as_bytes().to_vec())].into(), asked: AtomicUsize::new(0) }
    }
}

#[async_trait::async_trait]
impl CertificateSource for MapCertificates {
    async fn certificate(&self, url: &str) -> Result<Vec<u8>, VerifyError> {
        self.asked.fetch_add(1, Ordering::SeqCst);
        tokio::task::yield_now().await;
        self.pems.get(url).cloned().ok_or(VerifyError::UnknownCertificate)
    }
}

fn notification(version: &str, subject: Option<&str>) -> SnsMessage {
    SnsMessage {
        kind: "Notification".into(),
        message_id: "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324".into(),
        token: None,
        topic_arn: "arn:aws:sns:us-east-2:123456789012:receipts".into(),
        subject: subject.map(String::from),
        message: "{\"eventType\":\"TEXT_DELIVERED\",\n\"note\":\"ünïcode\"}".into(),
        subscribe_url: None,
        timestamp: "2025-05-02T00:54:06.655Z".into(),
        signature_version: version.into(),
        signature: String::new(),
        signing_cert_url: CERT_URL.into(),
        unsubscribe_url: Some("https://sns.us-east-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=x".into()),
    }
}

fn confirmation(kind: &str, version: &str) -> SnsMessage {
    SnsMessage {
        kind: kind.into(),
        token: Some("2336412f37fb687f5d51e6e2425f004a".into()),
        subject: None,
        message: "You have chosen to subscribe to the topic.\nTo confirm the subscription, visit the SubscribeURL."
            .into(),
        subscribe_url: Some("https://sns.us-east-2.amazonaws.com/?Action=ConfirmSubscription&Token=2336".into()),
        unsubscribe_url: None,
        ..notification(version, None)
    }
}

fn signed(mut message: SnsMessage, signer: &Signer1) -> Result<SnsMessage, Box<dyn std::error::Error>> {
    let canonical = canonical_string(&message)?;
    let signature = match message.signature_version.as_str() {
        "1" => SigningKey::<Sha1>::new(signer.key.clone()).sign(canonical.as_bytes()).to_vec(),
        _ => SigningKey::<Sha256>::new(signer.key.clone()).sign(canonical.as_bytes()).to_vec(),
    };
    message.signature = STANDARD.encode(signature);
    Ok(message)
}

fn certificates() -> Result<MapCertificates, String> {
    Ok(MapCertificates::with(CERT_URL, &signer()?.certificate_pem))
}

#[test]
fn canonical_strings_follow_the_aws_field_order() -> TestResult {
    let with_subject = canonical_string(&notification("1", Some("Hi")))?;
    assert_eq!(
        with_subject,
        "Message\n{\"eventType\":\"TEXT_DELIVERED\",\n\"note\":\"ünïcode\"}\nMessageId\n22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\n\
         Subject\nHi\nTimestamp\n2025-05-02T00:54:06.655Z\nTopicArn\narn:aws:sns:us-east-2:123456789012:receipts\n\
         Type\nNotification\n"
    );
    assert!(!canonical_string(&notification("1", None))?.contains("Subject"));
    let confirmation = canonical_string(&confirmation("SubscriptionConfirmation", "1"))?;
    assert!(confirmation.starts_with(
        "Message\nYou have chosen to subscribe to the topic.\nTo confirm the subscription, visit the SubscribeURL.\nMessageId\n"
    ));
    assert!(confirmation.contains(
        "MessageId\n22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\nSubscribeURL\nhttps://sns.us-east-2.amazonaws.com/?Action=ConfirmSubscription&Token=2336\n\
         Timestamp\n2025-05-02T00:54:06.655Z\nToken\n2336412f37fb687f5d51e6e2425f004a\nTopicArn\n"
    ));
    assert!(confirmation.ends_with("Type\nSubscriptionConfirmation\n"));
    Ok(())
}

#[tokio::test]
async fn version_1_and_2_notifications_verify() -> TestResult {
    let source = certificates()?;
    for version in ["1", "2"] {
        verify_sns(&signed(notification(version, Some("Receipt")), signer()?)?, &source).await?;
        verify_sns(&signed(notification(version, None), signer()?)?, &source).await?;
    }
    Ok(())
}

#[tokio::test]
async fn version_1_and_2_confirmations_verify() -> TestResult {
    let source = certificates()?;
    for version in ["1", "2"] {
        for kind in ["SubscriptionConfirmation", "UnsubscribeConfirmation"] {
            verify_sns(&signed(confirmation(kind, version), signer()?)?, &source).await?;
        }
    }
    Ok(())
}

#[tokio::test]
async fn a_tampered_message_subject_or_token_is_refused() -> TestResult {
    let source = certificates()?;
    for version in ["1", "2"] {
        let mut message = signed(notification(version, Some("Receipt")), signer()?)?;
        message.message = message.message.replace("DELIVERED", "FAILED");
        assert_eq!(verify_sns(&message, &source).await, Err(VerifyError::Mismatch));
        let mut message = signed(notification(version, Some("Receipt")), signer()?)?;
        message.subject = None;
        assert_eq!(verify_sns(&message, &source).await, Err(VerifyError::Mismatch));
        let mut message = signed(confirmation("SubscriptionConfirmation", version), signer()?)?;
        message.subscribe_url = Some("https://sns.us-east-2.amazonaws.com/?Action=ConfirmSubscription&Token=x".into());
        assert_eq!(verify_sns(&message, &source).await, Err(VerifyError::Mismatch));
    }
    Ok(())
}

#[tokio::test]
async fn a_tampered_signature_is_refused() -> TestResult {
    let source = certificates()?;
    let mut message = signed(notification("2", None), signer()?)?;
    let mut bytes = STANDARD.decode(&message.signature)?;
    bytes[17] ^= 0x40;
    message.signature = STANDARD.encode(&bytes);
    assert_eq!(verify_sns(&message, &source).await, Err(VerifyError::Mismatch));
    message.signature = "bad".into();
    assert_eq!(verify_sns(&message, &source).await, Err(VerifyError::BadEncoding("Signature")));
    message.signature = STANDARD.encode([7u8; 16]);
    assert_eq!(verify_sns(&message, &source).await, Err(VerifyError::Mismatch));
    Ok(())
}

#[tokio::test]
async fn a_certificate_for_another_key_is_refused() -> TestResult {
    let message = signed(notification("1", None), signer()?)?;
    let source = MapCertificates::with(CERT_URL, &other_signer()?.certificate_pem);
    assert_eq!(verify_sns(&message, &source).await, Err(VerifyError::Mismatch));
    let by_other = signed(notification("2", None), other_signer()?)?;
    assert_eq!(verify_sns(&by_other, &certificates()?).await, Err(VerifyError::Mismatch));
    Ok(())
}

#[tokio::test]
async fn an_untrusted_certificate_url_is_refused_before_any_fetch() -> TestResult {
    let mut message = signed(notification("1", None), signer()?)?;
    message.signing_cert_url = "https://internetbadguys.com/SimpleNotificationService-test.pem".into();
    let source = MapCertificates::with(&message.signing_cert_url, &signer()?.certificate_pem);
    assert!(matches!(verify_sns(&message, &source).await, Err(VerifyError::UntrustedCertificateUrl(_))));
    assert_eq!(source.asked.load(Ordering::SeqCst), 0);
    Ok(())
}

#[tokio::test]
async fn unknown_signature_versions_and_types_are_refused() -> TestResult {
    let source = certificates()?;
    let mut message = signed(notification("1", None), signer()?)?;
    message.signature_version = "3".into();
    assert_eq!(verify_sns(&message, &source).await, Err(VerifyError::UnsupportedSignatureVersion));
    message.signature_version = "2".into();
    assert_eq!(verify_sns(&message, &source).await, Err(VerifyError::Mismatch), "a SHA1 signature read as SHA256");
    let mut message = signed(notification("1", None), signer()?)?;
    message.kind = "Unknown".into();
    assert_eq!(verify_sns(&message, &source).await, Err(VerifyError::UnsupportedMessageType));
    let mut message = signed(confirmation("SubscriptionConfirmation", "1"), signer()?)?;
    message.token = None;
    assert_eq!(verify_sns(&message, &source).await, Err(VerifyError::Missing("Token")));
    assert_eq!(source.asked.load(Ordering::SeqCst), 1, "only the well-formed message reached the source");
    Ok(())
}

#[tokio::test]
async fn an_unusable_or_missing_certificate_is_refused() -> TestResult {
    let message = signed(notification("1", None), signer()?)?;
    let garbage = MapCertificates::with(CERT_URL, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    assert!(matches!(verify_sns(&message, &garbage).await, Err(VerifyError::BadCertificate(_))));
    assert_eq!(verify_sns(&message, &MapCertificates::default()).await, Err(VerifyError::UnknownCertificate));
    Ok(())
}

#[test]
fn envelopes_parse_in_both_the_https_and_the_lambda_spelling() -> TestResult {
    let https = br#"{"Type":"Notification","MessageId":"m","TopicArn":"t","Subject":"s","Message":"x",
        "Timestamp":"2025-01-01T00:00:00.000Z","SignatureVersion":"1","Signature":"c2ln",
        "SigningCertURL":"https://sns.us-east-1.amazonaws.com/a.pem","UnsubscribeURL":"https://u"}"#;
    let message = SnsMessage::from_json(https)?;
    assert_eq!(message.signing_cert_url, "https://sns.us-east-1.amazonaws.com/a.pem");
    assert_eq!(message.subject.as_deref(), Some("s"));
    let lambda = br#"{"Type":"Notification","MessageId":"m","TopicArn":"t","Subject":null,"Message":"x",
        "Timestamp":"2025-01-01T00:00:00.000Z","SignatureVersion":"1","Signature":"c2ln",
        "SigningCertUrl":"https://sns.us-east-1.amazonaws.com/a.pem","UnsubscribeUrl":"https://u",
        "MessageAttributes":{}}"#;
    let message = SnsMessage::from_json(lambda)?;
    assert_eq!(message.unsubscribe_url.as_deref(), Some("https://u"));
    assert_eq!(message.subject, None);
    assert_eq!(SnsMessage::from_json(b"{\"Type\":1}"), Err(VerifyError::BadEncoding("SNS message")));
    Ok(())
}

#[test]
fn certificate_urls_are_allowed_only_on_aws_sns_hosts() {
    for good in [
        "https://sns.us-east-2.amazonaws.com/SimpleNotificationService-7ff5318490ec183fbaddaa2a969abfda.pem",
        "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem",
        "https://sns.us-gov-west-1.amazonaws.com/SimpleNotificationService-abc.pem",
        "https://SNS.EU-WEST-1.AMAZONAWS.COM/SimpleNotificationService-abc.pem",
        "https://sns.eu-west-1.amazonaws.com/certs/SimpleNotificationService_2.pem",
    ] {
        assert!(check_cert_url(good).is_ok(), "{good}");
    }
    assert_eq!(check_cert_url("https://sns.us-east-1.amazonaws.com/x/a.pem"), Ok("a.pem"));
    for bad in [
        "http://sns.us-east-1.amazonaws.com/a.pem",
        "HTTPS://sns.us-east-1.amazonaws.com/a.pem",
        "https://internetbadguys.com/cert.pem",
        "https://sns.us-east-1.amazonaws.com.evil.com/a.pem",
        "https://sns.us-east-1.amazonaws.com.cn.evil/a.pem",
        "https://evil.com/sns.us-east-1.amazonaws.com/a.pem",
        "https://sns.us-east-1.amazonaws.com@evil.com/a.pem",
        "https://user@sns.us-east-1.amazonaws.com/a.pem",
        "https://evil.com#@sns.us-east-1.amazonaws.com/a.pem",
        "https://evil.com?@sns.us-east-1.amazonaws.com/a.pem",
        "https://sns.us-east-1.amazonaws.com\\@evil.com/a.pem",
        "https://sns.us-east-1.amazonaws.com:443/a.pem",
        "https://sns.us-east-1.amazonaws.com./a.pem",
        "https://sns.amazonaws.com/a.pem",
        "https://sns.a.b.amazonaws.com/a.pem",
        "https://sns.xx.amazonaws.com/a.pem",
        "https://snsxus-east-1.amazonaws.com/a.pem",
        "https://sqs.us-east-1.amazonaws.com/a.pem",
        "https://sns.us-east-1.amazonaws.co/a.pem",
        "https://sns.us-east-1.amazonaws.com",
        "https://sns.us-east-1.amazonaws.com/",
        "https://sns.us-east-1.amazonaws.com/a.key",
        "https://sns.us-east-1.amazonaws.com/a.pem?x=1",
        "https://sns.us-east-1.amazonaws.com/a.pem#x",
        "https://sns.us-east-1.amazonaws.com/../a.pem",
        "https://sns.us-east-1.amazonaws.com/%2e%2e/a.pem",
        "https://sns.us-east-1.amazonaws.com//a.pem",
        "https://sns.us-east-1.amazonaws.com/.pem",
        "https://sns.us-east-1.amazonaws.com/a .pem",
        "https://sns.us-east-1.amazonaws.com/ä.pem",
        " https://sns.us-east-1.amazonaws.com/a.pem",
        "",
    ] {
        assert!(matches!(check_cert_url(bad), Err(VerifyError::UntrustedCertificateUrl(_))), "{bad}");
    }
}

#[tokio::test]
async fn a_certificate_directory_serves_by_file_name() -> TestResult {
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("SimpleNotificationService-test.pem"), &signer()?.certificate_pem)?;
    let source = DirCertificates::new(dir.path());
    verify_sns(&signed(notification("2", None), signer()?)?, &source).await?;
    let missing = "https://sns.us-east-2.amazonaws.com/SimpleNotificationService-other.pem";
    assert_eq!(source.certificate(missing).await, Err(VerifyError::UnknownCertificate));
    let untrusted = "https://example.com/SimpleNotificationService-test.pem";
    assert!(matches!(source.certificate(untrusted).await, Err(VerifyError::UntrustedCertificateUrl(_))));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_fetches_each_url_once_and_forgets_failures() -> TestResult {
    let inner = Arc::new(certificates()?);
    let cache = CachedCertificates::new(inner.clone());
    let message = signed(notification("1", None), signer()?)?;
    let checks = (0..16).map(|_| verify_sns(&message, &cache));
    for result in futures::future::join_all(checks).await {
        result?;
    }
    assert_eq!(inner.asked.load(Ordering::SeqCst), 1);
    let missing = "https://sns.us-east-2.amazonaws.com/SimpleNotificationService-none.pem";
    assert_eq!(cache.certificate(missing).await, Err(VerifyError::UnknownCertificate));
    assert_eq!(cache.certificate(missing).await, Err(VerifyError::UnknownCertificate));
    assert_eq!(inner.asked.load(Ordering::SeqCst), 3, "a failure is asked again");
    assert!(format!("{cache:?}").contains("cached: 1"));
    Ok(())
}

const AWS_CERT_URL: &str =
    "https://sns.us-east-2.amazonaws.com/SimpleNotificationService-7ff5318490ec183fbaddaa2a969abfda.pem";

/// aws/aws-sdk-ruby@039d3fec:gems/aws-sdk-sns/spec/message_verifier_spec.rb,
/// a SignatureVersion 1 and a SignatureVersion 2 message and the SNS
/// certificate (CN=sns.amazonaws.com, 2021-09-07 to 2022-08-17) that signed
/// them.
const AWS_MESSAGES: [(&str, &str, &str, &str); 2] = [
    (
        "1",
        "792cda85-518f-5dd3-9163-81d851212f3a",
        "2022-07-28T21:23:58.317Z",
        "ghtf+deOBAzHJJZ6s6CdRLfTQAlcGzq9naoFM1wi0CJiq//uVRuZnamrkWNF0fhouMFvuLVRwcz8PZLUMSfnmd5VpdTKpTyiKmy1qJAZXma0w+yi7G+I33hD1Jyk1Nbym2n0kqp3fVu2aoooiN2ZeLAT2bH0/BtjLSfN1yAOKNoprco4qV9gGUZinXJdj9a1YdNhDR2jKi33ldlsVtEXAtiaDklGEk7DgRKX38GerBPiLg3FdtgY6KC7cdeGpU/dGK+4hjc83Ive1HoFkAwqhpgInM2sMytBosoiXfCmOKmU4xeGD0gHDNZTlJUJQDlzw8Eag0H9f/5zXF9d3uy0YQ==",
    ),
    (
        "2",
        "17dea24b-55c2-540b-8362-f916557af765",
        "2022-07-28T21:24:08.324Z",
        "CXVqp9PfZAL+4JHS3Zxo1PFbQsvnOjvmYhtIf17TWpwc+iIVas8kZ8GopuzVzVMdatE7rCl/O4P91Zp05Dwz8lk8dLhfp8gSu3Njlzxlyrmzo9x3va3Jb7zFnedgS2GKnZWHGBdwTXho+TosNUE+3e10OMSlwN5XGDwX7+R3WL+rn+AXmFAqp3alg27sYa55h1dLE9cGszGPjScPdtF3BmZsUDMx9wSdNKsCk+vSvE8yBjnCmUl7laSFj3LzPVrlSwgNYCF3kYnNAkah7NplK4SFhJYLwS0HCVCQJKa8rVbQLf9cBTu60U402mrgy0bN8xWoyimzbYbrOMJjalqkUg==",
    ),
];

const AWS_TOPICS: [&str; 2] = [
    "arn:aws:sns:us-east-2:295079676684:publish-and-verify-892f85fe-4836-424d-8188-ab85bef0f362",
    "arn:aws:sns:us-east-2:295079676684:publish-and-verify-62674b1d-4295-426b-88e7-5fb75652a04e",
];

const AWS_CERT: &str = include_str!("aws_sns_2021.pem");

#[tokio::test]
async fn the_published_aws_messages_verify_with_the_expired_sns_certificate() -> TestResult {
    let source = MapCertificates::with(AWS_CERT_URL, AWS_CERT);
    for ((version, id, timestamp, signature), topic) in AWS_MESSAGES.into_iter().zip(AWS_TOPICS) {
        let json = format!(
            r#"{{"Type":"Notification","MessageId":"{id}","TopicArn":"{topic}","Message":"Hello world",
            "Timestamp":"{timestamp}","SignatureVersion":"{version}","Signature":"{signature}",
            "SigningCertURL":"{AWS_CERT_URL}","UnsubscribeURL":"https://sns.us-east-2.amazonaws.com/?Action=Unsubscribe"}}"#
        );
        let message = SnsMessage::from_json(json.as_bytes())?;
        verify_sns(&message, &source).await?;
        let mut tampered = message.clone();
        tampered.message = "Hello world!".into();
        assert_eq!(verify_sns(&tampered, &source).await, Err(VerifyError::Mismatch));
    }
    Ok(())
}
