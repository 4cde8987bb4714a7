//! `schoolbell demo`: the whole flow in a minute, on a data directory that
//! `serve` can open afterwards. Generates a small district (district id
//! `demo`, with guardians whose numbers the simulated carrier answers as
//! landline, blocked, inactive, turned off, unconfirmed and opted out),
//! imports it, sets the district's text consent policy to
//! `number_provided` through the settings service (no consent is written
//! for anyone), sends an emergency voice + text + email broadcast and a
//! non-emergency attendance one, lets the simulated carrier, voice service
//! and outbox answer, and prints the delivery reports and the SMS statuses
//! that changed. The last line is one JSON object.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use schoolbell::domain::{BroadcastInput, DistrictId, DistrictSettings, SmsStatus};
use schoolbell::ports::{Clock, SystemClock};
use schoolbell::services::BroadcastReport;
use schoolbell::store::SmsStatusStore;
use serde::Serialize;

use crate::bench_fanout::{admin_of, adopt_number_provided_consent};
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
    /// What the calls of both broadcasts came to.
    pub calls: DemoCalls,
}

/// What calls came to, summed over the demo's broadcasts (the delivery
/// report's `counts.voice`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DemoCalls {
    /// A person picked up.
    pub answered: u64,
    /// An answering machine took the message.
    pub machine: u64,
    /// Busy on every try.
    pub busy: u64,
    /// Not answered on any try.
    pub no_answer: u64,
    /// Failed, every reason.
    pub failed: u64,
    /// Not called, every reason.
    pub skipped: u64,
}

impl DemoCalls {
    /// The calls of one delivery report, read from the report as the API
    /// serializes it (`counts.voice`: `answered`, `machine`, `busy`,
    /// `no_answer`, and the `failed` and `skipped` maps of reasons);
    /// anything absent counts 0.
    pub fn of(report: &BroadcastReport) -> anyhow::Result<Self> {
        Ok(Self::from_report_json(&serde_json::to_value(report)?))
    }

    /// [`Self::of`] on the report's JSON. Pure.
    pub fn from_report_json(report: &serde_json::Value) -> Self {
        let voice = &report["counts"]["voice"];
        let count = |key: &str| voice[key].as_u64().unwrap_or(0);
        let sum = |key: &str| {
            voice[key].as_object().map_or(0, |reasons| reasons.values().filter_map(serde_json::Value::as_u64).sum())
        };
        Self {
            answered: count("answered"),
            machine: count("machine"),
            busy: count("busy"),
            no_answer: count("no_answer"),
            failed: sum("failed"),
            skipped: sum("skipped"),
        }
    }

    fn add(&mut self, other: Self) {
        self.answered += other.answered;
        self.machine += other.machine;
        self.busy += other.busy;
        self.no_answer += other.no_answer;
        self.failed += other.failed;
        self.skipped += other.skipped;
    }
}

/// Runs the demo on the data directory, at the system's time; prints as it goes.
pub async fn run_demo(data_path: &Path) -> anyhow::Result<DemoSummary> {
    run_demo_at(data_path, Arc::new(SystemClock)).await
}

/// [`run_demo`] at the time `clock` tells (tests: midday, outside quiet hours).
pub async fn run_demo_at(data_path: &Path, clock: Arc<dyn Clock>) -> anyhow::Result<DemoSummary> {
    let data = crate::DataDir::open(data_path)?;
    let options = crate::GatewayOptions { clock, ..crate::GatewayOptions::default() };
    let gateway = crate::LocalGateway::open(&data, options)?;
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

    let admin = admin_of(&district);
    let broadcasts = gateway.broadcast_service();
    let settings = DistrictSettings { name: Some("Demo School District".into()), ..DistrictSettings::default() };
    gateway.services.settings().save(&admin, settings).await?;
    let settings = adopt_number_provided_consent(&gateway, &admin).await?;
    println!(
        "text consent policy: {} (FCC 16-88: a number given to the school is consent), so attendance and \
         priority texts go to every cell the SIS holds; emergencies text every cell not opted out",
        settings.text_consent
    );

    let emergency: BroadcastInput = serde_json::from_value(serde_json::json!({
        "reason": "emergency", "emergency": true, "channels": ["voice", "text", "email"],
        "content": {"voice": "This is Demo School District with an emergency message. All schools close at noon today. Please pick up {{children}} by noon.",
                    "sms": "Demo School District: schools close at noon today. Please pick up {{children}}.",
                    "email": {"subject": "Schools close at noon today",
                              "text": "Dear family of {{children}}: all schools close at noon today."}},
        "audience": {"rule": {}, "target": "guardians"}
    }))?;
    // Attendance: under `number_provided` it texts every cell, with nobody's consent recorded.
    let attendance: BroadcastInput = serde_json::from_value(serde_json::json!({
        "reason": "attendance", "channels": ["text", "email"],
        "content": {"sms": "Please tell the office by 9:00 when {{children}} will be absent.",
                    "email": {"subject": "Reporting an absence",
                              "text": "Please tell the office by 9:00 when {{children}} will be absent."}},
        "audience": {"rule": {}, "target": "guardians"}
    }))?;
    // One after the other, so the second sees what the carrier said about the first.
    let mut reports: Vec<BroadcastReport> = Vec::new();
    for input in [&emergency, &attendance] {
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
        let calls = DemoCalls::of(report)?;
        if report.counts.contains_key(&schoolbell::domain::ReportGroup::Voice) {
            println!(
                "  calls: {} answered, {} by a machine, {} busy, {} not answered, {} failed, {} not made",
                calls.answered, calls.machine, calls.busy, calls.no_answer, calls.failed, calls.skipped
            );
        }
        summary.calls.add(calls);
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
        "what was sent, one file a message: texts in {}, calls in {}, emails in {}",
        data.texts_dir().display(),
        data.calls_dir().display(),
        data.outbox_dir().display()
    );
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::PathBuf;

    use schoolbell::domain::{Channel, ListId, ListRule, ListTarget, RecipientList, TextConsentPolicy};
    use schoolbell::ports::FixedClock;
    use schoolbell::store::{BroadcastStore, PreferenceStore};

    use super::*;

    /// The demo run once at midday (outside quiet hours, so nothing waits),
    /// on a data directory the tests then open themselves.
    async fn demo_at_midday() -> (tempfile::TempDir, PathBuf, DemoSummary) {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let summary = run_demo_at(&data, Arc::new(FixedClock::midday_today())).await.unwrap();
        (dir, data, summary)
    }

    fn reopen(data: &Path) -> crate::LocalGateway {
        let clock = Arc::new(FixedClock::midday_today());
        let options = crate::GatewayOptions { clock, background_workers: false, ..crate::GatewayOptions::default() };
        crate::LocalGateway::open(&crate::DataDir::open(data).unwrap(), options).unwrap()
    }

    /// Every JSON file under `DIR/texts/`, by name.
    fn text_files(data: &Path) -> BTreeMap<String, serde_json::Value> {
        std::fs::read_dir(data.join("texts"))
            .unwrap()
            .map(|entry| {
                let path = entry.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                (name, serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap())
            })
            .collect()
    }

    #[tokio::test]
    async fn the_demo_reaches_guardians_by_text_without_writing_consent_into_the_table() {
        let (_dir, data, _summary) = demo_at_midday().await;
        let texts = text_files(&data);
        let absent = texts.values().filter(|text| text["body"].as_str().unwrap().contains("will be absent")).count();
        assert!(absent > 0, "the attendance broadcast texted cells with nobody's consent recorded");

        let gateway = reopen(&data);
        let district = DistrictId::parse(DEMO_DISTRICT).unwrap();
        let admin = admin_of(&district);
        let settings = gateway.services.settings().settings(&admin).await.unwrap();
        assert_eq!(settings.text_consent, TextConsentPolicy::NumberProvided);
        let now = gateway.clock().now();
        let everyone = RecipientList {
            id: ListId::parse("everyone").unwrap(),
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
        let guardians = gateway.list_service().resolve(&district, &everyone).await.unwrap().guardians;
        assert!(guardians.len() > 100, "{} guardians", guardians.len());
        let preferences = PreferenceStore::new(gateway.table.clone());
        for guardian in &guardians {
            let record = preferences.get(&district, guardian).await.unwrap();
            assert!(record.text_consent.is_none(), "no consent recorded for {guardian:?}");
            assert!(!record.settings.contains_key(&Channel::Text), "no text preference set for {guardian:?}");
        }
    }

    #[tokio::test]
    async fn each_simulated_text_of_the_demo_is_one_json_file_under_dir_texts() {
        let (_dir, data, _summary) = demo_at_midday().await;
        let texts = text_files(&data);
        let gateway = reopen(&data);
        let district = DistrictId::parse(DEMO_DISTRICT).unwrap();
        let store = BroadcastStore::new(gateway.table.clone());
        let mut sent = BTreeSet::new();
        for id in store.recent(&district, 10).await.unwrap() {
            let deliveries = store.all_deliveries(&district, &id).await.unwrap();
            sent.extend(
                deliveries
                    .into_iter()
                    .filter(|d| d.channel == Some(Channel::Text))
                    .filter_map(|d| d.provider_message_id),
            );
        }
        let in_files: BTreeSet<String> =
            texts.values().map(|text| text["provider_message_id"].as_str().unwrap().to_string()).collect();
        assert!(!sent.is_empty());
        assert_eq!(texts.len(), sent.len(), "one file a text");
        assert_eq!(in_files, sent, "a file for every text the deliveries record, and no other");
        for (name, text) in &texts {
            assert!(name.ends_with(&format!("-{}.json", text["provider_message_id"].as_str().unwrap())), "{name}");
            assert!(text["to"].as_str().unwrap().starts_with('+'), "E.164: {text}");
            for key in ["body", "status", "at"] {
                assert!(text[key].is_string(), "{key}: {text}");
            }
        }
    }

    #[tokio::test]
    async fn the_demo_s_last_line_counts_what_its_calls_came_to() {
        let (_dir, _data, summary) = demo_at_midday().await;
        let last: serde_json::Value = serde_json::from_str(&serde_json::to_string(&summary).unwrap()).unwrap();
        for key in ["answered", "machine", "busy", "no_answer", "failed", "skipped"] {
            assert!(last["calls"][key].is_u64(), "{key}: {last}");
        }
        assert!(summary.calls.answered > 0, "the emergency broadcast called families: {last}");
        for key in ["broadcasts", "deliveries", "deferred_broadcasts", "sms_status_changes"] {
            assert!(last.get(key).is_some(), "{key} is kept: {last}");
        }
    }

    #[test]
    fn call_counts_are_read_from_the_report_s_voice_group_and_absent_ones_count_zero() {
        let report = serde_json::json!({"counts": {
            "text": {"sent": 9, "delivered": 9, "failed": {"blocked": 9}, "skipped": {}},
            "voice": {"sent": 1, "delivered": 3, "answered": 2, "machine": 1, "busy": 5,
                      "failed": {"inactive": 2, "failed": 1}, "skipped": {"no_number": 4}}}});
        let calls = DemoCalls { answered: 2, machine: 1, busy: 5, no_answer: 0, failed: 3, skipped: 4 };
        assert_eq!(DemoCalls::from_report_json(&report), calls);
        let no_calls = serde_json::json!({"counts": {"text": {"sent": 1, "delivered": 0}}});
        assert_eq!(DemoCalls::from_report_json(&no_calls), DemoCalls::default());
    }
}
