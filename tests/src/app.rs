//! `spawn_app()`: the local gateway on port 0 over a fresh data directory,
//! and a client that talks to it over real HTTP.
//!
//! The test says what time it is: every service of the gateway reads the
//! app's [`FixedClock`] (midday in New York unless the test moves it), and
//! nothing runs in the background. [`TestApp::drain`] runs the queues and
//! applies the receipts they caused; [`TestApp::tick`] is the scheduler's
//! tick at the clock's time. What they return from is done: no test waits.

use std::sync::Arc;

use schoolbell::ports::FixedClock;
use schoolbell_local::token::{TokenRequest, mint};
use schoolbell_local::workers::Drainer;
use schoolbell_local::{DataDir, GatewayOptions, LocalGateway};
use serde_json::Value;
use tokio::sync::oneshot;

/// A running local gateway. Dropping it stops the server.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    /// Its data directory.
    pub data: DataDir,
    /// An HTTP client.
    pub client: reqwest::Client,
    /// The gateway's table, for looking behind the API.
    pub table: std::sync::Arc<dyn schoolbell::ports::Table>,
    /// The clock every service of the gateway reads.
    pub clock: Arc<FixedClock>,
    /// The gateway's composition root, for reaching behind the API.
    pub services: schoolbell::root::Services,
    /// The simulated carrier: every text the gateway sent.
    pub carrier: Arc<schoolbell::adapters::local::SimulatedCarrier>,
    /// The simulated voice service: every call the gateway placed.
    pub calls: Arc<schoolbell::adapters::local::SimulatedCalls>,
    workers: Drainer,
    _dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow_free::Result>>,
}

mod anyhow_free {
    /// The server task's outcome, as text (the tests crate does not use anyhow).
    pub type Result = std::result::Result<(), String>;
}

/// Starts the local gateway on 127.0.0.1:0 over a temporary data directory,
/// at midday today in New York ([`FixedClock::midday_today`]).
pub async fn spawn_app() -> TestApp {
    spawn_app_at(FixedClock::midday_today()).await
}

/// [`spawn_app`] on a clock the test chose.
pub async fn spawn_app_at(clock: FixedClock) -> TestApp {
    schoolbell::telemetry::init_for_tests();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let data = DataDir::open(dir.path()).unwrap_or_else(|e| panic!("data dir: {e}"));
    let clock = Arc::new(clock);
    let options = GatewayOptions { clock: clock.clone(), background_workers: false, ..GatewayOptions::default() };
    let gateway = LocalGateway::open(&data, options).unwrap_or_else(|e| panic!("gateway: {e}"));
    let workers = gateway.drainer();
    let services = gateway.services.clone();
    let carrier = gateway.carrier.clone();
    let calls = gateway.calls.clone();
    let table: std::sync::Arc<dyn schoolbell::ports::Table> = gateway.table.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("bind: {e}"));
    let address = format!("http://{}", listener.local_addr().unwrap_or_else(|e| panic!("{e}")));
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        gateway
            .serve(listener, async {
                let _ = stopped.await;
            })
            .await
            .map_err(|e| e.to_string())
    });
    TestApp {
        address,
        data,
        client: reqwest::Client::new(),
        table,
        clock,
        services,
        carrier,
        calls,
        workers,
        _dir: dir,
        stop: Some(stop),
        server: Some(server),
    }
}

/// A gateway holding the family fixture (`crate::family_fixture`) in
/// `district`, imported through the API; answers it with a district admin's token.
pub async fn spawn_family_district(district: &str) -> (TestApp, String) {
    spawn_family_district_at(district, FixedClock::midday_today()).await
}

/// [`spawn_family_district`] on a clock the test chose.
pub async fn spawn_family_district_at(district: &str, clock: FixedClock) -> (TestApp, String) {
    let app = spawn_app_at(clock).await;
    let admin = app.import_families(district).await;
    (app, admin)
}

impl TestApp {
    /// Imports the family fixture into `district` through the API; answers
    /// a district admin's token.
    pub async fn import_families(&self, district: &str) -> String {
        use crate::family_fixture::{CSV, MAPPING};
        let admin = self.token(district, "district_admin", &[]);
        let definition = serde_json::json!({"name": "families", "method": "mapped", "mapping": MAPPING});
        assert_eq!(self.post("/v1/imports", Some(&admin), &definition.to_string()).await.0, 201);
        let upload = self.put_file("/v1/imports/families/file", &admin, "families.csv", CSV.as_bytes().to_vec()).await;
        assert_eq!(upload.0, 200);
        let (status, run) = self.post("/v1/imports/families/runs", Some(&admin), "").await;
        assert_eq!((status, run["state"].as_str()), (201, Some("applied")), "{run}");
        admin
    }

    /// Posts a broadcast (202), drains the queues and answers its report.
    pub async fn broadcast_report(&self, token: &str, broadcast: &Value) -> Value {
        let (status, created) = self.post("/v1/broadcasts", Some(token), &broadcast.to_string()).await;
        assert_eq!(status, 202, "{created}");
        self.drain().await;
        let id = created["id"].as_str().unwrap_or_default();
        let (status, report) = self.get(&format!("/v1/broadcasts/{id}"), Some(token)).await;
        assert_eq!(status, 200, "{report}");
        report
    }

    /// The Twilio auth token the local gateway verifies webhooks with.
    pub fn twilio_token(&self) -> String {
        schoolbell_local::receipts_cmd::local_webhook_config(&self.data)
            .ok()
            .and_then(|config| config.twilio_auth_token)
            .unwrap_or_else(|| panic!("the local gateway has a Twilio token"))
    }

    /// Posts a form to a Twilio webhook path, signed with `token` as Twilio
    /// signs; answers (status, body text).
    pub async fn post_twilio(&self, path: &str, token: &str, params: &[(&str, &str)]) -> (u16, String) {
        let url = format!("{}{path}", self.address);
        let signature =
            schoolbell::webhook_auth::sign_twilio(token, &url, params).unwrap_or_else(|e| panic!("signing: {e}"));
        let body: Vec<String> =
            params.iter().map(|(k, v)| format!("{k}={}", v.replace('+', "%2B").replace(' ', "+"))).collect();
        let response = self
            .client
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-twilio-signature", signature)
            .body(body.join("&"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("request failed: {e}"));
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }

    /// Runs the plan and send queues to empty and applies every receipt
    /// the simulated carrier and the outbox gave; answers tasks run.
    pub async fn drain(&self) -> usize {
        self.workers.drain().await
    }

    /// The scheduler's tick at the app's clock: queues what is due (a
    /// `send_at` reached, quiet hours over), then drains; answers how many
    /// broadcasts were due.
    pub async fn tick(&self) -> usize {
        self.workers.tick().await.unwrap_or_else(|e| panic!("scheduler tick: {e}"))
    }

    /// A token for the district with one role (and schools).
    pub fn token(&self, district: &str, role: &str, schools: &[&str]) -> String {
        let request = TokenRequest {
            district: district.into(),
            roles: vec![role.into()],
            person: None,
            schools: schools.iter().map(|s| (*s).to_string()).collect(),
            hours: 1,
        };
        mint(&self.data, &request).unwrap_or_else(|e| panic!("token: {e}"))
    }

    /// `POST` a JSON body with a token; answers (status, JSON body).
    pub async fn post(&self, path: &str, token: Option<&str>, body: &str) -> (u16, Value) {
        let mut request = self
            .client
            .post(format!("{}{path}", self.address))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        answer(request.send().await).await
    }

    /// `GET` with a token; answers (status, JSON body).
    pub async fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let mut request = self.client.get(format!("{}{path}", self.address));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        answer(request.send().await).await
    }

    /// `PUT` a JSON body with a token; answers (status, JSON body).
    pub async fn put_json(&self, path: &str, token: &str, body: &str) -> (u16, Value) {
        let request = self
            .client
            .put(format!("{}{path}", self.address))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body.to_string());
        answer(request.send().await).await
    }

    /// A token for a person (portal users act for themselves).
    pub fn person_token(&self, district: &str, role: &str, person: &str) -> String {
        let request = TokenRequest {
            district: district.into(),
            roles: vec![role.into()],
            person: Some(person.into()),
            schools: Vec::new(),
            hours: 1,
        };
        mint(&self.data, &request).unwrap_or_else(|e| panic!("token: {e}"))
    }

    /// `PUT` a file as the raw body, named by `X-File-Name`.
    pub async fn put_file(&self, path: &str, token: &str, file_name: &str, content: Vec<u8>) -> (u16, Value) {
        let request = self
            .client
            .put(format!("{}{path}", self.address))
            .bearer_auth(token)
            .header("x-file-name", file_name)
            .body(content);
        answer(request.send().await).await
    }

    /// `DELETE` with a token.
    pub async fn delete(&self, path: &str, token: &str) -> (u16, Value) {
        answer(self.client.delete(format!("{}{path}", self.address)).bearer_auth(token).send().await).await
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let outcome = server.await.unwrap_or_else(|e| panic!("server task: {e}"));
            assert_eq!(outcome, Ok(()), "the server stops cleanly");
        }
    }
}

async fn answer(response: reqwest::Result<reqwest::Response>) -> (u16, Value) {
    let response = response.unwrap_or_else(|e| panic!("request failed: {e}"));
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}
