//! `schoolbell bench table`: how fast the embedded table does what the
//! store asks of it, and how many DynamoDB requests the same work would
//! cost (the adapters count requests the same way).

use std::path::Path;
use std::time::Instant;

use schoolbell::adapters::local::EmbeddedTable;
use schoolbell::ports::table::{BatchOp, Condition, Index, Item, Key, Query, SortKey, Table, WriteOp};
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
    /// Single-item conditional puts per second (each its own commit).
    pub conditional_puts_per_s: f64,
    /// Transactions of 10 operations per second.
    pub transactions_per_s: f64,
    /// Requests and items the run made, as DynamoDB would bill them.
    pub stats: schoolbell::ports::TableStats,
}

fn person(i: usize) -> Item {
    let value = json!({
        "pk": format!("D#bench#P#{i:07}"), "sk": "#PERSON",
        "gsi2pk": format!("D#bench#S#{}", i % 20), "gsi2sk": format!("ROLE#student#P#{i:07}"),
        "given_name": "Given", "family_name": "Family", "grade": format!("{:02}", i % 13), "version": 1
    });
    match value {
        Value::Object(map) => map,
        _ => Item::new(),
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
        table.batch_write(chunk.iter().map(|i| BatchOp::Put(person(*i))).collect()).await?;
    }
    let batch_put_items_per_s = rate(items, started);

    let started = Instant::now();
    for i in 0..items {
        table.get(&Key::new(format!("D#bench#P#{i:07}"), "#PERSON")).await?;
    }
    let gets_per_s = rate(items, started);

    let started = Instant::now();
    let mut read = 0;
    for school in 0..20 {
        let mut cursor = None;
        loop {
            let query = Query::on(Index::Gsi2, format!("D#bench#S#{school}"))
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

    let singles = items.min(2_000);
    let started = Instant::now();
    for i in 0..singles {
        let mut item = person(i);
        item.insert("version".into(), json!(2));
        table.put(item, Condition::AttributeEquals("version".into(), json!(1))).await?;
    }
    let conditional_puts_per_s = rate(singles, started);

    let transactions = (items / 10).min(500);
    let started = Instant::now();
    for t in 0..transactions {
        let ops = (0..10)
            .map(|k| WriteOp::Put { item: person(items + t * 10 + k), condition: Condition::NotExists })
            .collect();
        table.transact_write(ops).await?;
    }
    let transactions_per_s = rate(transactions, started);

    Ok(TableBenchReport {
        items,
        batch_put_items_per_s,
        gets_per_s,
        index_query_items_per_s,
        conditional_puts_per_s,
        transactions_per_s,
        stats: table.stats(),
    })
}
