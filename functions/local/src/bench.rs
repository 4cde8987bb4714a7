//! `schoolbell bench table`: how fast the embedded table does what the
//! store asks of it, and how many DynamoDB requests the same work would
//! cost (the adapters count requests the same way).

use std::path::Path;
use std::time::Instant;

use schoolbell::adapters::local::EmbeddedTable;
use schoolbell::domain::{DistrictId, PersonId, SchoolId};
use schoolbell::ports::table::{BatchOp, Condition, Index, Item, Key, Query, SortKey, Table, WriteOp};
use schoolbell::store::keys::{PERSON_SK, person_pk, school_people_pk};
use schoolbell::store::{get_record, query_all, query_records, record_from};
use serde_json::{Value, json};

/// Figures of one run.
#[derive(Debug, serde::Serialize)]
pub struct TableBenchReport {
    /// Items written.
    pub items: usize,
    /// Batch-write throughput, items per second.
    pub batch_put_items_per_s: f64,
    /// Point reads per second.
    pub gets_per_s: f64,
    /// Items per second read back by paged index queries (pages of 100).
    pub index_query_items_per_s: f64,
    /// Point reads of a typed record per second, read straight from the
    /// stored text (how the store reads records).
    pub record_gets_per_s: f64,
    /// The same reads through an `Item` map first: the baseline.
    pub record_gets_via_item_per_s: f64,
    /// Typed records per second from the paged index queries, from text.
    pub index_query_records_per_s: f64,
    /// The same queries' records through `Item` maps: the baseline.
    pub index_query_records_via_item_per_s: f64,
    /// Single-item conditional puts per second (each its own commit).
    pub conditional_puts_per_s: f64,
    /// Transactions of 10 operations per second.
    pub transactions_per_s: f64,
    /// Requests and items the run made, as DynamoDB would bill them.
    pub stats: schoolbell::ports::TableStats,
}

/// The bench district's keys, built by the store's own key functions.
fn person_key(i: usize) -> anyhow::Result<String> {
    Ok(person_pk(&DistrictId::parse("bench")?, &PersonId::parse(format!("p{i:07}"))?))
}

fn school_key(school: usize) -> anyhow::Result<String> {
    Ok(school_people_pk(&DistrictId::parse("bench")?, &SchoolId::parse(format!("s{school}"))?))
}

fn person(i: usize) -> anyhow::Result<Item> {
    let value = json!({
        "pk": person_key(i)?, "sk": PERSON_SK,
        "gsi2pk": school_key(i % 20)?, "gsi2sk": format!("ROLE#student#P#p{i:07}"),
        "given_name": "Given", "family_name": "Family", "grade": format!("{:02}", i % 13), "version": 1
    });
    match value {
        Value::Object(map) => Ok(map),
        _ => Ok(Item::new()),
    }
}

fn rate(count: usize, started: Instant) -> f64 {
    let seconds = started.elapsed().as_secs_f64().max(1e-9);
    (count as f64 / seconds * 10.0).round() / 10.0
}

/// Runs the benchmark on a file-backed table in `dir` (or in memory).
pub async fn table(items: usize, dir: Option<&Path>) -> anyhow::Result<TableBenchReport> {
    let table = match dir {
        Some(dir) => EmbeddedTable::open(&dir.join("bench.redb"))?,
        None => EmbeddedTable::in_memory()?,
    };

    let started = Instant::now();
    for chunk in (0..items).collect::<Vec<_>>().chunks(1000) {
        let ops = chunk.iter().map(|i| person(*i).map(BatchOp::Put)).collect::<anyhow::Result<Vec<_>>>()?;
        table.batch_write(ops).await?;
    }
    let batch_put_items_per_s = rate(items, started);

    let started = Instant::now();
    for i in 0..items {
        table.get(&Key::new(person_key(i)?, PERSON_SK)).await?;
    }
    let gets_per_s = rate(items, started);

    let started = Instant::now();
    let mut read = 0;
    for school in 0..20 {
        let mut cursor = None;
        loop {
            let query = Query::on(Index::Gsi2, school_key(school)?)
                .sort(SortKey::BeginsWith("ROLE#student#".into()))
                .limit(100)
                .after(cursor);
            let page = table.query(&query).await?;
            read += page.items.len();
            cursor = page.cursor;
            if cursor.is_none() {
                break;
            }
        }
    }
    anyhow::ensure!(read == items, "index queries read {read} of {items} items");
    let index_query_items_per_s = rate(read, started);

    let (record_gets_per_s, record_gets_via_item_per_s) = record_gets(&table, items).await?;
    let index_query_records_per_s = index_records(&table, items, true).await?;
    let index_query_records_via_item_per_s = index_records(&table, items, false).await?;

    let singles = items.min(2_000);
    let started = Instant::now();
    for i in 0..singles {
        let mut item = person(i)?;
        item.insert("version".into(), json!(2));
        table.put(item, Condition::AttributeEquals("version".into(), json!(1))).await?;
    }
    let conditional_puts_per_s = rate(singles, started);

    let transactions = (items / 10).min(500);
    let started = Instant::now();
    for t in 0..transactions {
        let ops = (0..10)
            .map(|k| Ok(WriteOp::Put { item: person(items + t * 10 + k)?, condition: Condition::NotExists }))
            .collect::<anyhow::Result<Vec<_>>>()?;
        table.transact_write(ops).await?;
    }
    let transactions_per_s = rate(transactions, started);

    Ok(TableBenchReport {
        items,
        batch_put_items_per_s,
        gets_per_s,
        index_query_items_per_s,
        record_gets_per_s,
        record_gets_via_item_per_s,
        index_query_records_per_s,
        index_query_records_via_item_per_s,
        conditional_puts_per_s,
        transactions_per_s,
        stats: table.stats(),
    })
}

/// The bench person as a typed record reads it.
#[derive(serde::Deserialize)]
#[allow(dead_code)] // read to be built, as a store's record is
struct PersonRecord {
    given_name: String,
    family_name: String,
    grade: String,
    version: u32,
}

/// Point reads of every person as a record: from text, then through maps.
async fn record_gets(table: &EmbeddedTable, items: usize) -> anyhow::Result<(f64, f64)> {
    let started = Instant::now();
    for i in 0..items {
        let found: Option<PersonRecord> = get_record(table, &Key::new(person_key(i)?, PERSON_SK)).await?;
        anyhow::ensure!(found.is_some(), "person {i} not read");
    }
    let from_text = rate(items, started);
    let started = Instant::now();
    for i in 0..items {
        let found: Option<PersonRecord> =
            table.get(&Key::new(person_key(i)?, PERSON_SK)).await?.map(record_from).transpose()?;
        anyhow::ensure!(found.is_some(), "person {i} not read");
    }
    Ok((from_text, rate(items, started)))
}

/// Every person as a record by the school index, from text or through maps.
async fn index_records(table: &EmbeddedTable, items: usize, from_text: bool) -> anyhow::Result<f64> {
    let started = Instant::now();
    let mut read = 0;
    for school in 0..20 {
        let query = Query::on(Index::Gsi2, school_key(school)?).sort(SortKey::BeginsWith("ROLE#student#".into()));
        let records: Vec<PersonRecord> = if from_text {
            query_records(table, query).await?
        } else {
            query_all(table, query).await?.into_iter().map(record_from).collect::<Result<_, _>>()?
        };
        read += records.len();
    }
    anyhow::ensure!(read == items, "index queries read {read} of {items} records");
    Ok(rate(read, started))
}

/// Figures of `schoolbell bench import`.
#[derive(Debug, serde::Serialize)]
pub struct ImportBenchReport {
    /// Students generated.
    pub students: usize,
    /// Data rows in every CSV file of the district.
    pub rows: u64,
    /// First import, seconds.
    pub seconds: f64,
    /// First import, rows per second.
    pub rows_per_sec: f64,
    /// Peak resident memory of the process so far, MB.
    pub peak_rss_mb: f64,
    /// Items the first import wrote.
    pub writes: u64,
    /// Write requests of the first import (batches count once per 25).
    pub write_requests: u64,
    /// Reading every row with the csv crate and nothing else, seconds.
    pub raw_baseline_seconds: f64,
    /// `seconds / raw_baseline_seconds`.
    pub ratio_to_raw: f64,
    /// Items an unchanged re-import wrote to roster data (run records excluded).
    pub reimport_unchanged_writes: u64,
    /// Seconds of the unchanged re-import.
    pub reimport_unchanged_seconds: f64,
    /// Items a re-import with 1 % of users changed wrote (run records excluded).
    pub reimport_1pct_writes: u64,
    /// Users changed for it.
    pub reimport_1pct_changed_users: u64,
    /// Seconds of that re-import.
    pub reimport_1pct_seconds: f64,
}

/// Peak resident set size of this process in MB (Linux `VmHWM`), or 0.
pub fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| (kb / 1024.0 * 10.0).round() / 10.0)
}

/// Reads every CSV row of a folder with the csv crate: the floor any
/// importer stands on. Returns (data rows, seconds).
pub fn raw_baseline(dir: &Path) -> anyhow::Result<(u64, f64)> {
    let started = Instant::now();
    let mut rows = 0;
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "csv") {
            let mut reader = csv::ReaderBuilder::new().flexible(true).from_path(&path)?;
            let mut record = csv::ByteRecord::new();
            while reader.read_byte_record(&mut record)? {
                rows += 1;
            }
        }
    }
    Ok((rows, started.elapsed().as_secs_f64()))
}

/// Copies a generated district, changing the given name of every 100th
/// student or guardian row of users.csv.
fn change_one_percent(from: &Path, to: &Path) -> anyhow::Result<u64> {
    std::fs::create_dir_all(to)?;
    let mut changed = 0;
    for entry in std::fs::read_dir(from)? {
        let path = entry?.path();
        let Some(name) = path.file_name() else { continue };
        if name != "users.csv" {
            std::fs::copy(&path, to.join(name))?;
            continue;
        }
        let mut reader = csv::ReaderBuilder::new().from_path(&path)?;
        let headers = reader.headers()?.clone();
        let given =
            headers.iter().position(|h| h == "givenName").ok_or_else(|| anyhow::anyhow!("no givenName column"))?;
        let mut writer = csv::Writer::from_path(to.join(name))?;
        writer.write_record(&headers)?;
        for (i, record) in reader.records().enumerate() {
            let record = record?;
            if i % 100 == 7 {
                let fields: Vec<String> = record
                    .iter()
                    .enumerate()
                    .map(|(k, v)| if k == given { format!("{v}x") } else { v.to_string() })
                    .collect();
                writer.write_record(&fields)?;
                changed += 1;
            } else {
                writer.write_record(&record)?;
            }
        }
        writer.flush()?;
    }
    Ok(changed)
}

/// `schoolbell bench import`: generates a district, imports it into a fresh
/// file-backed store, re-imports it unchanged and with 1 % of users changed.
pub async fn import(students: usize, work: &Path) -> anyhow::Result<ImportBenchReport> {
    use schoolbell::domain::ImportMethod;

    use crate::import_cmd::{ImportRequest, run};

    let district = work.join("district");
    crate::gen_district::generate(&crate::gen_district::GenOptions { students, seed: 7, reachable: false }, &district)?;
    let (rows, raw_baseline_seconds) = raw_baseline(&district)?;
    let data = crate::DataDir::open(work.join("data"))?;
    let gateway = crate::LocalGateway::open(&data, crate::GatewayOptions::default())?;
    let request =
        ImportRequest { district: "bench".into(), name: "sis".into(), method: ImportMethod::OneRoster, mapping: None };
    // Written by every CLI run, not roster data: the (refused, still billed) create
    // of the existing definition, its file date, its status, the run record, the
    // import's lease (taken and let go) and which run took the file. (A run that
    // changes something also marks itself `running` first: one write more.)
    const BOOKKEEPING_WRITES: u64 = 7;

    let before = gateway.table.stats();
    let started = Instant::now();
    let first = run(&gateway, &request, &district).await?;
    let seconds = started.elapsed().as_secs_f64();
    anyhow::ensure!(first.state == schoolbell::domain::RunState::Applied, "first import ended {}", first.state);
    let after_first = gateway.table.stats();
    let peak = peak_rss_mb();

    let started = Instant::now();
    run(&gateway, &request, &district).await?;
    let reimport_unchanged_seconds = started.elapsed().as_secs_f64();
    let after_unchanged = gateway.table.stats();

    let changed_dir = work.join("district-1pct");
    let changed_users = change_one_percent(&district, &changed_dir)?;
    let started = Instant::now();
    run(&gateway, &request, &changed_dir).await?;
    let reimport_1pct_seconds = started.elapsed().as_secs_f64();
    let after_changed = gateway.table.stats();

    let round = |x: f64| (x * 1000.0).round() / 1000.0;
    Ok(ImportBenchReport {
        students,
        rows,
        seconds: round(seconds),
        rows_per_sec: (rows as f64 / seconds).round(),
        peak_rss_mb: peak,
        writes: after_first.items_written - before.items_written,
        write_requests: after_first.write_requests - before.write_requests,
        raw_baseline_seconds: round(raw_baseline_seconds),
        ratio_to_raw: round(seconds / raw_baseline_seconds.max(1e-9)),
        reimport_unchanged_writes: (after_unchanged.items_written - after_first.items_written)
            .saturating_sub(BOOKKEEPING_WRITES),
        reimport_unchanged_seconds: round(reimport_unchanged_seconds),
        reimport_1pct_writes: (after_changed.items_written - after_unchanged.items_written)
            .saturating_sub(BOOKKEEPING_WRITES),
        reimport_1pct_changed_users: changed_users,
        reimport_1pct_seconds: round(reimport_1pct_seconds),
    })
}

/// Figures of `schoolbell bench preferences`.
#[derive(Debug, Default, serde::Serialize)]
pub struct PreferencesBenchReport {
    /// Students generated and imported.
    pub students: usize,
    /// People the batch matched (messenger contacts of every student).
    pub matched_people: u64,
    /// Seconds of the batch (behavior × cell, home and household phone On).
    pub batch_seconds: f64,
    /// Preferences it changed.
    pub changed: u64,
    /// Items it wrote.
    pub writes: u64,
    /// Items it read (requests).
    pub batch_read_requests: u64,
    /// Items the same batch wrote again (0: nothing changes).
    pub rerun_writes: u64,
    /// Seconds of the rerun.
    pub rerun_seconds: f64,
    /// Seconds to resolve a one-grade list.
    pub grade_list_seconds: f64,
    /// Its members.
    pub grade_list_members: u64,
    /// Items read to resolve it.
    pub grade_list_reads: u64,
    /// Seconds to resolve the whole district's students.
    pub district_list_seconds: f64,
    /// Its members.
    pub district_list_members: u64,
    /// Items read to resolve it.
    pub district_list_reads: u64,
}

/// `schoolbell bench preferences`: generates and imports a district, runs
/// the batch tool for every student contact, runs it again, and resolves
/// a one-grade list and a whole-district list.
pub async fn preferences(students: usize, work: &Path) -> anyhow::Result<PreferencesBenchReport> {
    use schoolbell::domain::{DistrictId, ImportMethod, Principal, Role};
    use schoolbell::services::{BatchRequest, GridCell};

    use crate::import_cmd::{ImportRequest, run};

    let district_dir = work.join("district");
    crate::gen_district::generate(
        &crate::gen_district::GenOptions { students, seed: 7, reachable: false },
        &district_dir,
    )?;
    let data = crate::DataDir::open(work.join("data"))?;
    let gateway = crate::LocalGateway::open(&data, crate::GatewayOptions::default())?;
    let request =
        ImportRequest { district: "bench".into(), name: "sis".into(), method: ImportMethod::OneRoster, mapping: None };
    run(&gateway, &request, &district_dir).await?;

    let service = gateway.preference_service();
    let admin = Principal {
        subject: "bench".into(),
        district: DistrictId::parse("bench")?,
        roles: vec![Role::DistrictAdmin],
        schools: vec![],
    };
    let batch: BatchRequest = serde_json::from_value(serde_json::json!({
        "mode": "student_contacts",
        "cells": {"behavior": {"cell_phone": "on", "home_phone": "on", "household_phone": "on"}}
    }))?;
    let before = gateway.table.stats();
    let started = Instant::now();
    let result = service.batch(&admin, &batch).await?;
    let batch_seconds = started.elapsed().as_secs_f64();
    let after = gateway.table.stats();
    let changed = result
        .grid
        .values()
        .flat_map(|row| row.values())
        .map(|cell| if let GridCell::Changed(n) = cell { *n } else { 0 })
        .sum();
    let started = Instant::now();
    service.batch(&admin, &batch).await?;
    let rerun_seconds = started.elapsed().as_secs_f64();
    let rerun = gateway.table.stats();

    let round = |x: f64| (x * 1000.0).round() / 1000.0;
    let mut report = PreferencesBenchReport {
        students,
        matched_people: result.matched_people,
        batch_seconds: round(batch_seconds),
        changed,
        writes: after.items_written - before.items_written,
        batch_read_requests: after.read_requests - before.read_requests,
        rerun_writes: rerun.items_written - after.items_written,
        rerun_seconds: round(rerun_seconds),
        ..PreferencesBenchReport::default()
    };
    crate::bench_lists::measure(&gateway, &admin, &mut report).await?;
    Ok(report)
}
