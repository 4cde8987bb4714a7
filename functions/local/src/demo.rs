//! `schoolbell demo`: the whole flow in a minute, on a data directory that
//! `serve` can open afterwards. Generates a small district (district id
//! `demo`, with guardians whose numbers the simulated carrier answers as
//! landline, blocked, inactive, turned off, unconfirmed and opted out),
//! imports it, records text consent for every messenger guardian, sends an
//! emergency text + email broadcast and a non-emergency one, lets the
//! simulated carrier and the outbox answer, and prints the delivery report
//! and the SMS statuses that changed. The last line is one JSON object.

use std::collections::BTreeMap;
use std::path::Path;

use schoolbell::domain::{BroadcastInput, DistrictId, DistrictSettings, SmsStatus};
use schoolbell::services::BroadcastReport;
use schoolbell::store::SmsStatusStore;
use serde::Serialize;

use crate::bench_fanout::{admin_of, consent_everyone};
use crate::import_cmd::{ImportRequest, run};

/// The demo's district id.
pub const DEMO_DISTRICT: &str = "demo";
/// Students in the demo's district.
const DEMO_STUDENTS: usize = 200;

/// Delivery counts over both broadcasts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DemoDeliveries {
    /// Messages the providers took (delivered, failed by a receipt, or awaiting one).
    pub sent: u64,
    /// Confirmed delivered.
    pub delivered: u64,
    /// Points and people skipped, each with a reason in the report.
    pub skipped: u64,
    /// Failed (carrier receipts and provider refusals).
    pub failed: u64,
}

/// The demo's last line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DemoSummary {
    /// Broadcasts created.
    pub broadcasts: u64,
    /// Delivery counts.
    pub deliveries: DemoDeliveries,
    /// Broadcasts waiting for the end of quiet hours (the non-emergency one, at night).
    pub deferred_broadcasts: u64,
    /// Numbers now in each SMS status other than Ok.
    pub sms_status_changes: BTreeMap<String, u64>,
}

/// Runs the demo on the data directory; prints as it goes.
pub async fn run_demo(data_path: &Path) -> anyhow::Result<DemoSummary> {
    let data = crate::DataDir::open(data_path)?;
    let gateway = crate::LocalGateway::open(&data, crate::GatewayOptions::default())?;
    let district = DistrictId::parse(DEMO_DISTRICT)?;
    let drainer = gateway.drainer();

    let folder = data_path.join("demo-district");
    let options = crate::gen_district::GenOptions { students: DEMO_STUDENTS, seed: 1, reachable: false };
    let generated = crate::gen_district::generate(&options, &folder)?;
    println!(
        "generated a district of {} students and {} guardians in {}",
        generated.students,
        generated.guardians,
        folder.display()
    );
    let request = ImportRequest {
        district: DEMO_DISTRICT.into(),
        name: "sis".into(),
        method: schoolbell::domain::ImportMethod::OneRoster,
        mapping: None,
    };
    let imported = run(&gateway, &request, &folder).await?;
    println!("imported: {}", schoolbell::services::counts_json(&imported.counts));
    let consented = consent_everyone(&gateway, &district).await?;
    println!("recorded text consent for {consented} messenger guardians");

    let admin = admin_of(&district);
    let broadcasts = gateway.broadcast_service();
    let settings = DistrictSettings { name: Some("Demo School District".into()), ..DistrictSettings::default() };
    gateway.services.settings().save(&admin, settings).await?;

    let emergency: BroadcastInput = serde_json::from_value(serde_json::json!({
        "reason": "emergency", "emergency": true, "channels": ["text", "email"],
        "content": {"sms": "Demo School District: schools close at noon today. Please pick up {{children}}.",
                    "email": {"subject": "Schools close at noon today",
                              "text": "Dear family of {{children}}: all schools close at noon today."}},
        "audience": {"rule": {}, "target": "guardians"}
    }))?;
    let general: BroadcastInput = serde_json::from_value(serde_json::json!({
        "reason": "general", "channels": ["text", "email"],
        "content": {"sms": "Picture day is Friday for {{children}}.",
                    "email": {"subject": "Picture day", "text": "Picture day is Friday for {{children}}."}},
        "audience": {"rule": {}, "target": "guardians"}
    }))?;
    // One after the other, so the second sees what the carrier said about the first.
    let mut reports: Vec<BroadcastReport> = Vec::new();
    for input in [&emergency, &general] {
        let id = broadcasts.create(&admin, input).await?.id;
        // Plans, sends, and applies every receipt the carrier and the outbox gave.
        drainer.drain().await;
        reports.push(broadcasts.report(&admin, id.as_str()).await?);
    }

    let mut summary = DemoSummary { broadcasts: reports.len() as u64, ..DemoSummary::default() };
    for report in &reports {
        println!(
            "\nbroadcast {} ({}, {}): {}",
            report.broadcast.id,
            report.broadcast.reason,
            report.progress,
            counts_line(report)
        );
        if let Some(until) = report.broadcast.deferred_until {
            println!("  deferred to the end of quiet hours: {until}");
            summary.deferred_broadcasts += 1;
        }
        let totals = report.totals;
        summary.deliveries.sent += totals.sent + totals.delivered + totals.failed;
        summary.deliveries.delivered += totals.delivered;
        summary.deliveries.skipped += totals.skipped;
        summary.deliveries.failed += totals.failed;
    }
    let statuses = SmsStatusStore::new(gateway.table.clone()).not_ok(&district, &[]).await?;
    for status in SmsStatus::ALL.iter().filter(|s| **s != SmsStatus::Ok) {
        summary
            .sms_status_changes
            .insert(status.to_string(), statuses.iter().filter(|s| s.status == *status).count() as u64);
    }
    println!("\nSMS statuses the carrier reported: {:?}", summary.sms_status_changes);
    println!(
        "\nnext: schoolbell serve --data {} and, with a token from `schoolbell token --data {} --district demo --role district_admin`, GET /v1/broadcasts",
        data_path.display(),
        data_path.display()
    );
    Ok(summary)
}

fn counts_line(report: &BroadcastReport) -> String {
    report
        .counts
        .iter()
        .map(|(channel, c)| {
            format!(
                "{channel}: {} delivered, {} awaiting a receipt, failed {:?}, skipped {:?}",
                c.delivered, c.sent, c.failed, c.skipped
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}
