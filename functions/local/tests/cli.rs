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
