//! The `schoolbell` binary as a person runs it: `token`, then `serve`,
//! a write and a read with curl's equivalent, SIGTERM, and a restart that
//! still has the data.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    listener.local_addr().unwrap_or_else(|e| panic!("{e}")).port()
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
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
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
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(created.status().as_u16(), 201);
    let anonymous = client.get(format!("{}/v1/people/g-1", server.base)).send().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(anonymous.status().as_u16(), 401);
    server.terminate();

    let server = Server::start(&data).await;
    let read = client
        .get(format!("{}/v1/people/g-1", server.base))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(read.status().as_u16(), 200);
    let body = read.text().await.unwrap_or_default();
    assert!(body.contains("+16175550199"), "{body}");
    server.terminate();
}

#[test]
fn token_refuses_an_unknown_role_with_a_message() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let output =
        schoolbell(&["token", "--data", &dir.path().to_string_lossy(), "--district", "d-1", "--role", "wizard"])
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown role `wizard`"));
}

fn run_json(args: &[&str]) -> (bool, serde_json::Value, String) {
    let output = schoolbell(args).output().unwrap_or_else(|e| panic!("{e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let json = serde_json::from_str(stdout.trim()).unwrap_or(serde_json::Value::Null);
    (output.status.success(), json, String::from_utf8_lossy(&output.stderr).to_string())
}

#[test]
fn import_prints_the_contract_json_and_an_unchanged_reimport_changes_nothing() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let district = dir.path().join("district");
    let data = dir.path().join("data");
    let (ok, summary, _) = run_json(&["gen-district", "--students", "40", "--seed", "3", &district.to_string_lossy()]);
    assert!(ok && summary["students"] == 40, "{summary}");

    let args = [
        "import",
        "--data",
        &data.to_string_lossy(),
        "--district",
        "d-1",
        "--name",
        "sis",
        &district.to_string_lossy(),
        "--json",
    ];
    let (ok, first, stderr) = run_json(&args);
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

    let (ok, second, stderr) = run_json(&args);
    assert!(ok, "{stderr}");
    assert_eq!(second["students"], serde_json::json!({"added": 0, "updated": 0, "unchanged": 40, "removed": 0}));
    assert_ne!(first["run"], second["run"]);
}

#[test]
fn a_run_that_would_remove_most_students_is_held_and_says_why() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (big, small, data) = (dir.path().join("big"), dir.path().join("small"), dir.path().join("data"));
    assert!(run_json(&["gen-district", "--students", "40", "--seed", "3", &big.to_string_lossy()]).0);
    assert!(run_json(&["gen-district", "--students", "5", "--seed", "3", &small.to_string_lossy()]).0);
    let import = |path: &Path| {
        run_json(&[
            "import",
            "--data",
            &data.to_string_lossy(),
            "--district",
            "d-1",
            "--name",
            "sis",
            &path.to_string_lossy(),
            "--json",
        ])
    };
    assert!(import(&big).0);
    let (ok, held, stderr) = import(&small);
    assert!(ok, "a held run is an answer, not a failure: {stderr}");
    assert_eq!(held["held"], true, "{held}");
    assert!(held["hold_reason"].as_str().is_some_and(|r| r.contains("students")), "{held}");
}

#[test]
fn a_file_that_cannot_be_imported_exits_non_zero_with_its_problems() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let broken = dir.path().join("broken");
    std::fs::create_dir_all(&broken).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(broken.join("users.csv"), "sourcedId,role\r\nu-1,student\r\n").unwrap_or_else(|e| panic!("{e}"));
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
        let output = schoolbell(&["replies", "classify", text]).output().unwrap_or_else(|e| panic!("{e}"));
        assert!(output.status.success());
        assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), word, "{text}");
    }
}

#[test]
fn receipts_parse_prints_normalized_receipts_and_refuses_garbage() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let body = dir.path().join("twilio.txt");
    std::fs::write(
        &body,
        "MessageSid=SM123&MessageStatus=undelivered&ErrorCode=30006&To=%2B16175550100&From=%2B16175550000",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let (ok, json, stderr) = run_json(&["receipts", "parse", "--dialect", "twilio", &body.to_string_lossy()]);
    assert!(ok, "{stderr}");
    assert_eq!(json[0]["provider_message_id"], "SM123", "{json}");
    assert_eq!(json[0]["status"], "landline");
    assert_eq!(json[0]["final"], true);
    assert_eq!(json[0]["raw_code"], "30006");
    std::fs::write(&body, "not json at all").unwrap_or_else(|e| panic!("{e}"));
    let (ok, _, _) = run_json(&["receipts", "parse", "--dialect", "telnyx", &body.to_string_lossy()]);
    assert!(!ok, "a malformed body exits non-zero");
    let (ok, _, stderr) = run_json(&["receipts", "parse", "--dialect", "carrier-pigeon", &body.to_string_lossy()]);
    assert!(!ok && !stderr.is_empty());
}

#[tokio::test]
async fn demo_ends_with_the_contract_json_and_serve_shows_what_it_made() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let data = dir.path().join("data");
    let output = schoolbell(&["demo", "--data", &data.to_string_lossy()]).output().unwrap_or_else(|e| panic!("{e}"));
    assert!(output.status.success(), "demo failed: {}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
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

    let output =
        schoolbell(&["token", "--data", &data.to_string_lossy(), "--district", "demo", "--role", "district_admin"])
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
    let admin = String::from_utf8_lossy(&output.stdout).trim().to_string();
    let server = Server::start(&data).await;
    let listed: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/v1/broadcasts", server.base))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(listed["broadcasts"].as_array().map(Vec::len), Some(2), "{listed}");
    server.terminate();
}
