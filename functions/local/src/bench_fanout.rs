//! `schoolbell bench fanout`: a generated district where every guardian
//! can be reached by voice, text and email (the district's text consent
//! policy `number_provided`, set through the settings service), one
//! emergency voice + text + email broadcast to every guardian, planned and
//! sent through the local queues, the simulated carrier and voice service
//! (which take every text and call at once, in memory: no files) and an
//! in-memory outbox. Measured from the API call that creates the broadcast
//! to the moment every message is recorded as sent, with the table
//! requests it cost.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use schoolbell::adapters::local::{LocalQueue, Outbox, SimulatedCalls, SimulatedCarrier};
use schoolbell::domain::{
    BroadcastInput, Channel, DeliveryState, DistrictId, DistrictSettings, Principal, Role, TextConsentPolicy,
};
use schoolbell::ports::{Table, TimeOrderedIds};
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
    /// Messages recorded as sent (texts, emails and calls).
    pub deliveries: u64,
    /// Of those, calls (one per phone number the plan called).
    pub calls: u64,
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

/// Sets the district's `text_consent` to `number_provided` through the
/// settings service, as `PUT /v1/settings` does (the caller a district
/// admin; the change audited): the FCC 16-88 policy that a number given to
/// the school is consent, so attendance and priority texts go to every cell
/// the SIS holds. The demo and the benchmarks reach families by text this
/// way, through the product's own consent paths, never by writing consent
/// into the table. Answers the settings as saved.
pub async fn adopt_number_provided_consent(
    gateway: &crate::LocalGateway,
    admin: &Principal,
) -> anyhow::Result<DistrictSettings> {
    let settings = gateway.services.settings();
    let current = settings.settings(admin).await?;
    let wanted = DistrictSettings { text_consent: TextConsentPolicy::NumberProvided, ..current };
    Ok(settings.save(admin, wanted).await?)
}

/// The district's administrator.
pub fn admin_of(district: &DistrictId) -> Principal {
    Principal { subject: "admin".into(), district: district.clone(), roles: vec![Role::DistrictAdmin], schools: vec![] }
}

/// A generated district imported into a fresh data directory under
/// `work`, its text consent policy `number_provided` (through settings),
/// and services over its table with queues of their own and simulated
/// providers that write no files: what the send benchmarks measure.
pub struct BenchWorld {
    /// The gateway over the data directory.
    pub gateway: crate::LocalGateway,
    /// `bench`.
    pub district: DistrictId,
    /// A district admin of it.
    pub admin: Principal,
    /// The services the benchmark drives.
    pub services: Services,
    /// Their plan queue.
    pub plan_queue: Arc<LocalQueue>,
    /// Their send queue.
    pub send_queue: Arc<LocalQueue>,
    /// The gateway's table.
    pub table: Arc<dyn Table>,
}

/// Builds the [`BenchWorld`] of `students` students (generator seed `seed`).
pub async fn bench_world(students: usize, seed: u64, work: &Path) -> anyhow::Result<BenchWorld> {
    let district_dir = work.join("district");
    let options = crate::gen_district::GenOptions { students, seed, reachable: true };
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
    let admin = admin_of(&district);
    adopt_number_provided_consent(&gateway, &admin).await?;

    let table: Arc<dyn Table> = gateway.table.clone();
    let plan_queue = Arc::new(LocalQueue::new());
    let send_queue = Arc::new(LocalQueue::new());
    // The gateway's table and clock, but queues of its own and providers
    // that write no files, so only the product's own work is measured.
    let ports = Ports::new(table.clone(), gateway.clock(), Arc::new(TimeOrderedIds))
        .with_sms(Arc::new(SimulatedCarrier::new()))
        .with_voice(Arc::new(SimulatedCalls::new()))
        .with_email(Arc::new(Outbox::in_memory()))
        .with_plan_queue(plan_queue.clone())
        .with_send_queue(send_queue.clone());
    let send = SendSettings { concurrency: 32, ..SendSettings::default() };
    let services = Services::new(ports, Wiring { send, ..gateway.services.wiring().clone() });
    Ok(BenchWorld { gateway, district, admin, services, plan_queue, send_queue, table })
}

/// Runs the benchmark in `work` (generated files and a data directory).
pub async fn fanout(students: usize, work: &Path) -> anyhow::Result<FanoutBenchReport> {
    let BenchWorld { district, admin, services, plan_queue, send_queue, table, .. } =
        bench_world(students, 11, work).await?;
    let broadcasts = services.broadcasts()?;
    let runner = services.task_runner()?;
    let input: BroadcastInput = serde_json::from_value(serde_json::json!({
        "reason": "emergency", "emergency": true, "channels": ["voice", "text", "email"],
        "content": {"voice": "This is an emergency message from your school district. All schools close at noon today. Please pick up {{children}} by noon.",
                    "sms": "Emergency: all schools close at noon today. Please pick up {{children}}.",
                    "email": {"subject": "Schools close at noon", "text": "Please pick up {{children}} by noon."}},
        "audience": {"rule": {}, "target": "guardians"}
    }))?;

    let rss_before = crate::bench::peak_rss_mb();
    let before = table.stats();
    let started = Instant::now();
    let broadcast = broadcasts.create(&admin, &input).await?;
    crate::workers::drain_once(&plan_queue, &runner).await;
    let plan_seconds = started.elapsed().as_secs_f64();
    crate::workers::drain(&plan_queue, &send_queue, &runner).await;
    let seconds = started.elapsed().as_secs_f64();
    let after = table.stats();

    let store = BroadcastStore::new(table.clone());
    let deliveries = store.all_deliveries(&district, &broadcast.id).await?;
    let sent = deliveries.iter().filter(|d| d.state == DeliveryState::Sent).count() as u64;
    let calls =
        deliveries.iter().filter(|d| d.state == DeliveryState::Sent && d.channel.is_some_and(Channel::is_call)).count()
            as u64;
    let plan = store.get(&district, &broadcast.id).await?.and_then(|b| b.plan).unwrap_or_default();
    let per = |n: u64| if sent == 0 { 0.0 } else { round(n as f64 / sent as f64) };
    Ok(FanoutBenchReport {
        students,
        deliveries: sent,
        calls,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_fanout_bench_plans_and_records_calls_under_the_number_provided_policy_set_through_settings() {
        let dir = tempfile::tempdir().unwrap();
        let report = fanout(12, dir.path()).await.unwrap();
        assert!(report.calls > 0, "the emergency broadcast called: {report:?}");
        assert!(report.deliveries > report.calls, "texts and emails too: {report:?}");
        let json = serde_json::to_value(&report).unwrap();
        for key in [
            "students",
            "deliveries",
            "calls",
            "seconds",
            "deliveries_per_sec",
            "writes_per_delivery",
            "reads_per_delivery",
            "write_requests_per_delivery",
            "items_read_per_delivery",
            "plan_seconds",
            "recipients",
            "skipped",
            "peak_rss_mb",
            "peak_rss_before_broadcast_mb",
        ] {
            assert!(json.get(key).is_some(), "{key}: {json}");
        }

        let data = crate::DataDir::open(dir.path().join("data")).unwrap();
        let gateway = crate::LocalGateway::open(&data, crate::GatewayOptions::default()).unwrap();
        let admin = admin_of(&DistrictId::parse("bench").unwrap());
        let settings = gateway.services.settings().settings(&admin).await.unwrap();
        assert_eq!(settings.text_consent, TextConsentPolicy::NumberProvided);
        assert_eq!(std::fs::read_dir(data.texts_dir()).unwrap().count(), 0, "the bench's carrier writes no files");
    }
}
