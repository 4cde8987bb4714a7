//! `schoolbell bench fanout`: a generated district where every guardian
//! can be reached by text and email, one emergency broadcast to every
//! guardian, planned and sent through the local queues, the simulated
//! carrier (which takes every text at once) and an in-memory outbox.
//! Measured from the API call that creates the broadcast to the moment
//! every message is recorded as sent, with the table requests it cost.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use schoolbell::adapters::local::{LocalQueue, Outbox};
use schoolbell::domain::{
    BroadcastInput, DeliveryState, DistrictId, ListRule, ListTarget, PreferenceDefaults, Principal, RecipientList, Role,
};
use schoolbell::ports::{RandomIds, Table};
use schoolbell::root::{Ports, Services, Wiring};
use schoolbell::services::SendSettings;
use schoolbell::store::BroadcastStore;
use serde::Serialize;

use crate::import_cmd::{ImportRequest, run};

/// What `bench fanout` prints.
#[derive(Debug, Clone, Default, Serialize)]
#[allow(missing_docs)] // fields named for what they hold
pub struct FanoutBenchReport {
    /// Students generated.
    pub students: usize,
    /// Messages recorded as sent.
    pub deliveries: u64,
    /// Seconds from create to every delivery recorded.
    pub seconds: f64,
    /// Deliveries per second.
    pub deliveries_per_sec: f64,
    /// Table items written per delivery.
    pub writes_per_delivery: f64,
    /// Table read requests per delivery.
    pub reads_per_delivery: f64,
    /// Write requests per delivery (batches and transactions count once).
    pub write_requests_per_delivery: f64,
    pub items_read_per_delivery: f64,
    /// Seconds spent planning (resolve, dedupe, queue the chunks).
    pub plan_seconds: f64,
    /// Recipients the plan found.
    pub recipients: u64,
    /// Skip records.
    pub skipped: u64,
    /// Peak resident memory of the process.
    pub peak_rss_mb: f64,
    /// Peak resident memory before the broadcast (generating and importing the district).
    pub peak_rss_before_broadcast_mb: f64,
}

/// Turns texts on (with a recorded consent) for every messenger guardian of
/// the district, as if each had opted in; answers how many.
pub async fn consent_everyone(gateway: &crate::LocalGateway, district: &DistrictId) -> anyhow::Result<usize> {
    use schoolbell::domain::{Channel, ContactReason, PreferenceRecord, PreferenceSource, Setting, TextConsent};
    use schoolbell::ports::BatchOp;

    let now = gateway.clock().now();
    let everyone = RecipientList {
        id: schoolbell::domain::ListId::parse("everyone")?,
        name: "everyone".into(),
        target: ListTarget::Guardians,
        rule: ListRule::default(),
        includes: vec![],
        excludes: vec![],
        owner: String::new(),
        schools: vec![],
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let guardians = gateway.list_service().resolve(district, &everyone).await?.guardians;
    let defaults = PreferenceDefaults::default();
    let mut record = PreferenceRecord {
        text_consent: Some(TextConsent { source: "generated district".into(), at: now, recorded_by: "bench".into() }),
        ..PreferenceRecord::default()
    };
    for reason in ContactReason::ALL {
        let setting = Setting { on: true, source: PreferenceSource::SelfSet, updated_at: now, by: "bench".into() };
        record.set(&defaults, Channel::Text, *reason, setting);
    }
    let ops: Vec<BatchOp> = guardians
        .iter()
        .map(|id| {
            let pk = schoolbell::store::keys::person_pk(district, id);
            schoolbell::store::record_item(pk, schoolbell::store::PREFS_SK.into(), &record).map(BatchOp::Put)
        })
        .collect::<Result<_, _>>()?;
    gateway.table.batch_write(ops).await?;
    Ok(guardians.len())
}

/// The district's administrator.
pub fn admin_of(district: &DistrictId) -> Principal {
    Principal { subject: "admin".into(), district: district.clone(), roles: vec![Role::DistrictAdmin], schools: vec![] }
}

/// Runs the benchmark in `work` (generated files and a data directory).
pub async fn fanout(students: usize, work: &Path) -> anyhow::Result<FanoutBenchReport> {
    let district_dir = work.join("district");
    let options = crate::gen_district::GenOptions { students, seed: 11, reachable: true };
    crate::gen_district::generate(&options, &district_dir)?;
    let data = crate::DataDir::open(work.join("data"))?;
    let gateway = crate::LocalGateway::open(&data, crate::GatewayOptions::default())?;
    let request = ImportRequest {
        district: "bench".into(),
        name: "sis".into(),
        method: schoolbell::domain::ImportMethod::OneRoster,
        mapping: None,
    };
    run(&gateway, &request, &district_dir).await?;
    let district = DistrictId::parse("bench")?;
    consent_everyone(&gateway, &district).await?;

    let table: Arc<dyn Table> = gateway.table.clone();
    let plan_queue = Arc::new(LocalQueue::new());
    let send_queue = Arc::new(LocalQueue::new());
    // The gateway's ports, but queues of its own and an outbox in memory.
    let ports = Ports::new(table.clone(), gateway.clock(), Arc::new(RandomIds))
        .with_sms(gateway.carrier.clone())
        .with_email(Arc::new(Outbox::in_memory()))
        .with_plan_queue(plan_queue.clone())
        .with_send_queue(send_queue.clone());
    let send = SendSettings { concurrency: 32, ..SendSettings::default() };
    let services = Services::new(ports, Wiring { send, ..gateway.services.wiring().clone() });
    let broadcasts = services.broadcasts()?;
    let runner = services.task_runner()?;
    let input: BroadcastInput = serde_json::from_value(serde_json::json!({
        "reason": "emergency", "emergency": true, "channels": ["text", "email"],
        "content": {"sms": "Emergency: all schools close at noon today. Please pick up {{children}}.",
                    "email": {"subject": "Schools close at noon", "text": "Please pick up {{children}} by noon."}},
        "audience": {"rule": {}, "target": "guardians"}
    }))?;

    let rss_before = crate::bench::peak_rss_mb();
    let before = table.stats();
    let started = Instant::now();
    let broadcast = broadcasts.create(&admin_of(&district), &input).await?;
    crate::workers::drain_once(&plan_queue, &runner).await;
    let plan_seconds = started.elapsed().as_secs_f64();
    crate::workers::drain(&plan_queue, &send_queue, &runner).await;
    let seconds = started.elapsed().as_secs_f64();
    let after = table.stats();

    let store = BroadcastStore::new(table.clone());
    let deliveries = store.all_deliveries(&district, &broadcast.id).await?;
    let sent = deliveries.iter().filter(|d| d.state == DeliveryState::Sent).count() as u64;
    let plan = store.get(&district, &broadcast.id).await?.and_then(|b| b.plan).unwrap_or_default();
    let per = |n: u64| if sent == 0 { 0.0 } else { round(n as f64 / sent as f64) };
    Ok(FanoutBenchReport {
        students,
        deliveries: sent,
        seconds: round(seconds),
        deliveries_per_sec: if seconds > 0.0 { (sent as f64 / seconds).round() } else { 0.0 },
        writes_per_delivery: per(after.items_written - before.items_written),
        reads_per_delivery: per(after.read_requests - before.read_requests),
        write_requests_per_delivery: per(after.write_requests - before.write_requests),
        items_read_per_delivery: per(after.items_read - before.items_read),
        plan_seconds: round(plan_seconds),
        recipients: plan.recipients,
        skipped: plan.skipped,
        peak_rss_mb: crate::bench::peak_rss_mb(),
        peak_rss_before_broadcast_mb: rss_before,
    })
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
