//! The `schoolbell` binary as a person runs it: `token`, then `serve`,
//! a write and a read with curl's equivalent, SIGTERM, and a restart that
//! still has the data.
// A test crate through and through: its helpers unwrap as its tests do
// (clippy.toml allows it inside `#[test]` functions only).
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn schoolbell(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_schoolbell"));
    command.args(args).env("RUST_LOG", "warn");
    command
}

fn token(data: &Path, role: &str) -> String {
    let output = schoolbell(&["token", "--data", &data.to_string_lossy(), "--district", "d-1", "--role", role])
        .output()
        .unwrap_or_else(|e| panic!("token: {e}"));
    assert!(output.status.success(), "token failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

struct Server {
    child: Child,
    base: String,
}

impl Server {
    async fn start(data: &Path) -> Self {
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let child = schoolbell(&["serve", "--data", &data.to_string_lossy(), "--addr", &addr])
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("serve: {e}"));
        let server = Self { child, base: format!("http://{addr}") };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(response) = reqwest::get(format!("{}/healthz", server.base)).await {
                assert_eq!(response.status().as_u16(), 200);
                return server;
            }
            assert!(Instant::now() < deadline, "serve did not answer /healthz in time");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn terminate(mut self) {
        let pid = self.child.id().to_string();
        let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap_or_else(|e| panic!("kill: {e}"));
        assert!(killed.success());
        let status = self.child.wait().unwrap_or_else(|e| panic!("wait: {e}"));
        assert!(status.success(), "serve exits cleanly on SIGTERM, got {status}");
    }
}

#[tokio::test]
async fn a_token_from_the_cli_lets_curl_write_and_read_and_data_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let admin = token(&data, "district_admin");
    let client = reqwest::Client::new();

    let server = Server::start(&data).await;
    let created = client
        .post(format!("{}/v1/people", server.base))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body(r#"{"id":"g-1","role":"guardian","given_name":"Ana","family_name":"Diaz","contacts":[{"channel":"cell_phone","value":"(617) 555-0199"}]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);
    let anonymous = client.get(format!("{}/v1/people/g-1", server.base)).send().await.unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
    server.terminate();

    let server = Server::start(&data).await;
    let read = client.get(format!("{}/v1/people/g-1", server.base)).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(read.status().as_u16(), 200);
    let body = read.text().await.unwrap_or_default();
    assert!(body.contains("+16175550199"), "{body}");
    server.terminate();
}

#[test]
fn token_refuses_an_unknown_role_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let output =
        schoolbell(&["token", "--data", &dir.path().to_string_lossy(), "--district", "d-1", "--role", "wizard"])
            .output()
            .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown role `wizard`"));
}

/// `schoolbell import` of `path` into district `d-1`, import `sis`, with `--json`.
fn import_json(data: &Path, path: &Path) -> (bool, serde_json::Value, String) {
    let (data, path) = (data.to_string_lossy(), path.to_string_lossy());
    run_json(&["import", "--data", &data, "--district", "d-1", "--name", "sis", &path, "--json"])
}

fn run_json(args: &[&str]) -> (bool, serde_json::Value, String) {
    let output = schoolbell(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let json = serde_json::from_str(stdout.trim()).unwrap_or(serde_json::Value::Null);
    (output.status.success(), json, String::from_utf8_lossy(&output.stderr).to_string())
}

#[test]
fn import_prints_the_contract_json_and_an_unchanged_reimport_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let district = dir.path().join("district");
    let data = dir.path().join("data");
    let (ok, summary, _) = run_json(&["gen-district", "--students", "40", "--seed", "3", &district.to_string_lossy()]);
    assert!(ok && summary["students"] == 40, "{summary}");

    let (ok, first, stderr) = import_json(&data, &district);
    assert!(ok, "{stderr}");
    for key in [
        "import",
        "run",
        "held",
        "seconds",
        "students",
        "guardians",
        "staff",
        "relationships",
        "enrollments",
        "rejected",
        "warnings",
    ] {
        assert!(first.get(key).is_some(), "the JSON has `{key}`: {first}");
    }
    assert_eq!((first["import"].as_str(), first["held"].as_bool()), (Some("sis"), Some(false)));
    assert_eq!(first["students"]["added"], 40);
    assert!(first["guardians"]["added"].as_u64().unwrap_or(0) >= 40);

    let (ok, second, stderr) = import_json(&data, &district);
    assert!(ok, "{stderr}");
    assert_eq!(second["students"], serde_json::json!({"added": 0, "updated": 0, "unchanged": 40, "removed": 0}));
    assert_ne!(first["run"], second["run"]);
}

#[test]
fn a_run_that_would_remove_most_students_is_held_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let (big, small, data) = (dir.path().join("big"), dir.path().join("small"), dir.path().join("data"));
    assert!(run_json(&["gen-district", "--students", "40", "--seed", "3", &big.to_string_lossy()]).0);
    assert!(run_json(&["gen-district", "--students", "5", "--seed", "3", &small.to_string_lossy()]).0);
    let import = |path: &Path| import_json(&data, path);
    assert!(import(&big).0);
    let (ok, held, stderr) = import(&small);
    assert!(ok, "a held run is an answer, not a failure: {stderr}");
    assert_eq!(held["held"], true, "{held}");
    assert!(held["hold_reason"].as_str().is_some_and(|r| r.contains("students")), "{held}");
}

#[test]
fn a_file_that_cannot_be_imported_exits_non_zero_with_its_problems() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(broken.join("users.csv"), "sourcedId,role\r\nu-1,student\r\n").unwrap();
    let data = dir.path().join("data");
    let (ok, json, stderr) = run_json(&[
        "import",
        "--data",
        &data.to_string_lossy(),
        "--district",
        "d-1",
        &broken.to_string_lossy(),
        "--json",
    ]);
    assert!(!ok, "exit code is non-zero");
    assert_eq!(json["state"], "rejected", "{json}");
    assert!(stderr.contains("users.csv"), "problems are on stderr: {stderr}");
    let (ok, _, stderr) =
        run_json(&["import", "--data", &data.to_string_lossy(), "--district", "d-1", "/no/such/path"]);
    assert!(!ok && stderr.contains("does not exist"), "{stderr}");
}

#[test]
fn replies_classify_prints_one_word_per_the_inbound_rule() {
    for (text, word) in [
        ("STOP", "opt_out"),
        ("  stop texting me!", "opt_out"),
        ("Unstop", "opt_in"),
        ("HELP", "help"),
        ("see you at 3", "none"),
    ] {
        let output = schoolbell(&["replies", "classify", text]).output().unwrap();
        assert!(output.status.success());
        assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), word, "{text}");
    }
}

#[test]
fn receipts_parse_prints_normalized_receipts_and_refuses_garbage() {
    let dir = tempfile::tempdir().unwrap();
    let body = dir.path().join("twilio.txt");
    std::fs::write(
        &body,
        "MessageSid=SM123&MessageStatus=undelivered&ErrorCode=30006&To=%2B16175550100&From=%2B16175550000",
    )
    .unwrap();
    let (ok, json, stderr) = run_json(&["receipts", "parse", "--dialect", "twilio", &body.to_string_lossy()]);
    assert!(ok, "{stderr}");
    assert_eq!(json[0]["provider_message_id"], "SM123", "{json}");
    assert_eq!(json[0]["status"], "landline");
    assert_eq!(json[0]["final"], true);
    assert_eq!(json[0]["raw_code"], "30006");
    std::fs::write(&body, "not json at all").unwrap();
    let (ok, _, _) = run_json(&["receipts", "parse", "--dialect", "telnyx", &body.to_string_lossy()]);
    assert!(!ok, "a malformed body exits non-zero");
    let (ok, _, stderr) = run_json(&["receipts", "parse", "--dialect", "carrier-pigeon", &body.to_string_lossy()]);
    assert!(!ok && !stderr.is_empty());
}

#[tokio::test]
async fn demo_ends_with_the_contract_json_and_serve_shows_what_it_made() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let output = schoolbell(&["demo", "--data", &data.to_string_lossy()]).output().unwrap();
    assert!(output.status.success(), "demo failed: {}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let imported = stdout.lines().find_map(|l| l.strip_prefix("imported: ")).unwrap_or_default();
    let imported: serde_json::Value = serde_json::from_str(imported).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert!(imported["students"]["added"].as_u64() > Some(0), "the import's counts: {imported}");
    let last = stdout.lines().last().unwrap_or_default();
    let summary: serde_json::Value = serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {last}"));
    assert_eq!(summary["broadcasts"], 2);
    for key in ["sent", "delivered", "skipped", "failed"] {
        assert!(summary["deliveries"][key].is_u64(), "{key}: {summary}");
    }
    assert!(summary["deliveries"]["delivered"].as_u64() > Some(100), "{summary}");
    for status in ["landline", "blocked", "opt_out"] {
        assert!(summary["sms_status_changes"][status].as_u64() >= Some(1), "{status}: {summary}");
    }
    for outcome in ["answered", "machine", "busy", "no_answer", "failed", "skipped"] {
        assert!(summary["calls"][outcome].is_u64(), "{outcome}: {summary}");
    }
    assert!(summary["calls"]["answered"].as_u64() > Some(0), "the emergency broadcast called families: {summary}");
    assert!(stdout.contains("text consent policy: number_provided"), "{stdout}");

    let output =
        schoolbell(&["token", "--data", &data.to_string_lossy(), "--district", "demo", "--role", "district_admin"])
            .output()
            .unwrap();
    let admin = String::from_utf8_lossy(&output.stdout).trim().to_string();
    let server = Server::start(&data).await;
    let listed: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/v1/broadcasts", server.base))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["broadcasts"].as_array().map(Vec::len), Some(2), "{listed}");
    server.terminate();
}

/// An SNS signing key with a self-signed certificate (rcgen), as AWS's own
/// validators test: SNS publishes no private key.
struct SnsSigner {
    key: rsa::RsaPrivateKey,
    certificate: String,
}

fn sns_signer() -> SnsSigner {
    use rsa::pkcs8::{EncodePrivateKey, LineEnding};
    let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
    let pkcs8 = key.to_pkcs8_pem(LineEnding::LF).unwrap();
    let pair = rcgen::KeyPair::from_pem_and_sign_algo(&pkcs8, &rcgen::PKCS_RSA_SHA256).unwrap();
    let params = rcgen::CertificateParams::new(vec!["sns.amazonaws.com".to_string()]).unwrap();
    let certificate = params.self_signed(&pair).unwrap();
    SnsSigner { key, certificate: certificate.pem() }
}

const SNS_CERT_URL: &str = "https://sns.us-east-2.amazonaws.com/SimpleNotificationService-cli.pem";

fn signed_sns_notification(signer: &SnsSigner, version: &str) -> schoolbell::webhook_auth::SnsMessage {
    use base64::Engine as _;
    use rsa::signature::{SignatureEncoding, Signer};
    let mut message = schoolbell::webhook_auth::SnsMessage {
        kind: "Notification".into(),
        message_id: "0f0e3c1a-9a53-5e26-9f3c-5b6f3f0a1a01".into(),
        token: None,
        topic_arn: "arn:aws:sns:us-east-2:123456789012:schoolbell-receipts".into(),
        subject: None,
        message: r#"{"eventType":"TEXT_DELIVERED","messageId":"m-1","isFinal":true}"#.into(),
        subscribe_url: None,
        timestamp: "2025-05-02T00:54:06.655Z".into(),
        signature_version: version.into(),
        signature: String::new(),
        signing_cert_url: SNS_CERT_URL.into(),
        unsubscribe_url: Some("https://sns.us-east-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=x".into()),
    };
    let canonical = schoolbell::webhook_auth::canonical_string(&message).unwrap();
    let signature = match version {
        "1" => rsa::pkcs1v15::SigningKey::<sha1::Sha1>::new(signer.key.clone()).sign(canonical.as_bytes()).to_vec(),
        _ => rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(signer.key.clone()).sign(canonical.as_bytes()).to_vec(),
    };
    message.signature = base64::engine::general_purpose::STANDARD.encode(signature);
    message
}

fn verify_sns_file(file: &Path, cert_dir: Option<&Path>) -> (Option<i32>, String, String) {
    let mut args = vec!["receipts".to_string(), "verify".into(), "--dialect".into(), "sns".into()];
    args.push(file.to_string_lossy().into_owned());
    if let Some(dir) = cert_dir {
        args.extend(["--cert-dir".to_string(), dir.to_string_lossy().into_owned()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output =
        schoolbell(&args).env_remove("SCHOOLBELL_SNS_CERT_DIR").output().unwrap_or_else(|e| panic!("verify: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).trim().to_string();
    (output.status.code(), stdout, String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn receipts_verify_accepts_signed_sns_messages_and_says_why_it_refuses_others() {
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().join("certs");
    std::fs::create_dir_all(&certs).unwrap();
    let signer = sns_signer();
    std::fs::write(certs.join("SimpleNotificationService-cli.pem"), &signer.certificate).unwrap();
    let file = dir.path().join("message.json");
    for version in ["1", "2"] {
        let message = signed_sns_notification(&signer, version);
        let json = serde_json::to_string_pretty(&message).unwrap();
        std::fs::write(&file, &json).unwrap();
        let (code, stdout, stderr) = verify_sns_file(&file, Some(&certs));
        assert_eq!((code, stdout.as_str()), (Some(0), "valid"), "version {version}: {stderr}");

        let lambda = serde_json::json!({"Records": [{"EventSource": "aws:sns", "Sns": message}]});
        let lambda = lambda.to_string().replace("SigningCertURL", "SigningCertUrl");
        std::fs::write(&file, lambda).unwrap();
        assert_eq!(verify_sns_file(&file, Some(&certs)).1, "valid", "a Lambda SNS event, version {version}");

        std::fs::write(&file, json.replace("TEXT_DELIVERED", "TEXT_BLOCKED")).unwrap();
        let (code, stdout, _) = verify_sns_file(&file, Some(&certs));
        assert_eq!(code, Some(1), "a tampered message fails");
        assert!(stdout.contains("do not match"), "{stdout}");
    }

    let mut untrusted = signed_sns_notification(&signer, "2");
    untrusted.signing_cert_url =
        "https://sns.us-east-2.amazonaws.com.evil.example/SimpleNotificationService-cli.pem".into();
    std::fs::write(&file, serde_json::to_string(&untrusted).unwrap()).unwrap();
    let (code, stdout, _) = verify_sns_file(&file, Some(&certs));
    assert_eq!(code, Some(1));
    assert!(stdout.contains("not trusted"), "{stdout}");

    std::fs::write(&file, "not an SNS message").unwrap();
    assert_eq!(verify_sns_file(&file, Some(&certs)).0, Some(1));
}

#[test]
fn receipts_verify_checks_a_published_aws_message_with_its_expired_certificate_from_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let name = "SimpleNotificationService-7ff5318490ec183fbaddaa2a969abfda.pem";
    let certificate = include_str!("../../../shared/src/webhook_auth/sns/aws_sns_2021.pem");
    std::fs::write(dir.path().join(name), certificate).unwrap();
    // aws/aws-sdk-ruby@039d3fec:gems/aws-sdk-sns/spec/message_verifier_spec.rb, SignatureVersion 1, as
    // an HTTP request with its headers.
    let message = format!(
        "POST / HTTP/1.1\r\nx-amz-sns-message-type: Notification\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n\
         {{\"Type\":\"Notification\",\"MessageId\":\"792cda85-518f-5dd3-9163-81d851212f3a\",\
         \"TopicArn\":\"arn:aws:sns:us-east-2:295079676684:publish-and-verify-892f85fe-4836-424d-8188-ab85bef0f362\",\
         \"Message\":\"Hello world\",\"Timestamp\":\"2022-07-28T21:23:58.317Z\",\"SignatureVersion\":\"1\",\
         \"Signature\":\"ghtf+deOBAzHJJZ6s6CdRLfTQAlcGzq9naoFM1wi0CJiq//uVRuZnamrkWNF0fhouMFvuLVRwcz8PZLUMSfnmd5VpdTKpTyiKmy1qJAZXma0w+yi7G+I33hD1Jyk1Nbym2n0kqp3fVu2aoooiN2ZeLAT2bH0/BtjLSfN1yAOKNoprco4qV9gGUZinXJdj9a1YdNhDR2jKi33ldlsVtEXAtiaDklGEk7DgRKX38GerBPiLg3FdtgY6KC7cdeGpU/dGK+4hjc83Ive1HoFkAwqhpgInM2sMytBosoiXfCmOKmU4xeGD0gHDNZTlJUJQDlzw8Eag0H9f/5zXF9d3uy0YQ==\",\
         \"SigningCertURL\":\"https://sns.us-east-2.amazonaws.com/{name}\",\
         \"UnsubscribeURL\":\"https://sns.us-east-2.amazonaws.com/?Action=Unsubscribe\"}}"
    );
    let file = dir.path().join("published.txt");
    std::fs::write(&file, &message).unwrap();
    let (code, stdout, stderr) = verify_sns_file(&file, Some(dir.path()));
    assert_eq!((code, stdout.as_str()), (Some(0), "valid"), "{stderr}");
    std::fs::write(&file, message.replace("Hello world", "Hello world!")).unwrap();
    assert_eq!(verify_sns_file(&file, Some(dir.path())).0, Some(1));
}

#[test]
fn the_operator_assigns_sending_numbers_and_no_district_takes_another_s() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data").to_string_lossy().into_owned();
    let run = |args: &[&str]| {
        let mut all = vec!["numbers"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--data", &data]);
        schoolbell(&all).output().unwrap()
    };
    let assigned = run(&["assign", "--number", "(800) 555-0100", "--district", "demo"]);
    assert!(assigned.status.success(), "{}", String::from_utf8_lossy(&assigned.stderr));
    assert_eq!(String::from_utf8_lossy(&assigned.stdout).trim(), "+18005550100 → demo");
    let taken = run(&["assign", "--number", "+18005550100", "--district", "evil"]);
    assert!(!taken.status.success());
    assert!(String::from_utf8_lossy(&taken.stderr).contains("assigned elsewhere"), "{taken:?}");
    assert!(run(&["assign", "--number", "+18005550123", "--shared"]).status.success());
    let listed = run(&["list"]);
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(
        listed,
        serde_json::json!([{"number": "+18005550100", "district": "demo"}, {"number": "+18005550123", "shared": true}])
    );
    assert!(run(&["release", "--number", "+18005550100"]).status.success());
    assert!(run(&["assign", "--number", "+18005550100", "--district", "evil"]).status.success(), "released, then free");
}
