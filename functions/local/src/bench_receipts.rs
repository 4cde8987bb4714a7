//! `schoolbell bench receipts`: delivery receipts over real HTTP. A fresh
//! data directory gets one broadcast with N sent texts (each to its own
//! number, written straight to the store as the send worker would leave
//! them); the local gateway serves on 127.0.0.1:0 with the data directory's
//! development Twilio token ([`crate::receipts_cmd::local_webhook_config`]);
//! a load generator in this process posts one signed Twilio status callback
//! per text (7 in 10 delivered, the rest landline, turned off or inactive)
//! with a bounded number in flight, timing each; then the store is read
//! back to count the deliveries left in a final state.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures::StreamExt as _;
use schoolbell::domain::{BroadcastId, Channel, Delivery, DeliveryPoint, DeliveryState, DistrictId, PhoneNumber};
use schoolbell::ports::Table;
use schoolbell::ports::table::BATCH_CHUNK;
use schoolbell::store::BroadcastStore;
use schoolbell::webhook_auth::sign_twilio;
use serde::Serialize;
use tokio::sync::oneshot;

use crate::{DataDir, LocalGateway};

/// What `bench receipts` prints.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReceiptsBenchReport {
    /// Receipts posted.
    pub receipts: usize,
    /// Seconds from the first post to the last answer.
    pub seconds: f64,
    /// Receipts answered per second.
    pub per_sec: f64,
    /// Median latency of one post, milliseconds.
    pub p50_ms: f64,
    /// 99th percentile latency, milliseconds.
    pub p99_ms: f64,
    /// Slowest post, milliseconds.
    pub max_ms: f64,
    /// Deliveries in a final state (delivered or failed) afterwards.
    pub applied: usize,
    /// Posts answered with anything but 200.
    pub errors: usize,
    /// Posts in flight at once.
    pub concurrency: usize,
    /// Whether the table was in memory (`--in-memory`) rather than the data
    /// directory's file.
    pub in_memory: bool,
    /// Table write requests per receipt (as DynamoDB would bill them).
    pub write_requests_per_receipt: f64,
    /// Table read requests per receipt.
    pub read_requests_per_receipt: f64,
    /// Peak resident memory of the process (server and load generator).
    pub peak_rss_mb: f64,
}

const DISTRICT: &str = "bench";
const BROADCAST: &str = "b-receipts";
const PATH: &str = "/webhooks/twilio/status";

/// `count` distinct valid US numbers.
fn numbers(count: usize) -> anyhow::Result<Vec<String>> {
    let numbers: Vec<String> = (0..count * 2)
        .map(|i| format!("+1617{:07}", 2_000_000 + i))
        .filter(|n| PhoneNumber::parse_e164(n).is_ok())
        .take(count)
        .collect();
    anyhow::ensure!(numbers.len() == count, "could not make {count} distinct numbers");
    Ok(numbers)
}

/// The Twilio callback for message `i` to `to`: its status and error code.
fn callback(i: usize, to: &str) -> Vec<(&'static str, String)> {
    let (status, code) = match i % 10 {
        7 => ("undelivered", Some("30006")),
        8 => ("undelivered", Some("30003")),
        9 => ("failed", Some("30005")),
        _ => ("delivered", None),
    };
    let mut params = vec![
        ("AccountSid", "ACbench".to_string()),
        ("ApiVersion", "2010-04-01".to_string()),
        ("From", "+16175550000".to_string()),
        ("MessageSid", message_id(i)),
        ("MessageStatus", status.to_string()),
        ("SmsSid", message_id(i)),
        ("SmsStatus", status.to_string()),
        ("To", to.to_string()),
    ];
    if let Some(code) = code {
        params.push(("ErrorCode", code.to_string()));
    }
    params
}

fn message_id(i: usize) -> String {
    format!("SMbench{i:08}")
}

/// Writes one sent text per number, as the send worker records them.
async fn sent_deliveries(table: Arc<dyn Table>, numbers: &[String]) -> anyhow::Result<()> {
    let district = DistrictId::parse(DISTRICT)?;
    let broadcast = BroadcastId::parse(BROADCAST)?;
    let store = BroadcastStore::new(table);
    let now = chrono::Utc::now();
    let deliveries: Vec<Delivery> = numbers
        .iter()
        .enumerate()
        .map(|(i, number)| -> anyhow::Result<Delivery> {
            let point = DeliveryPoint::Sms(PhoneNumber::parse_e164(number)?);
            Ok(Delivery { segments: Some(1), ..Delivery::sent(point, Channel::Text, Some(message_id(i)), now) })
        })
        .collect::<anyhow::Result<_>>()?;
    let writes = deliveries.chunks(BATCH_CHUNK).map(|chunk| store.put_deliveries(&district, &broadcast, chunk));
    let results: Vec<_> = futures::stream::iter(writes).buffer_unordered(64).collect().await;
    results.into_iter().collect::<Result<Vec<()>, _>>()?;
    Ok(())
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    let at = sorted[rank.clamp(1, sorted.len()) - 1];
    (at.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0
}

/// Runs the benchmark with `count` receipts, `concurrency` in flight, in
/// `work` (a data directory is made there). `in_memory` swaps the
/// gateway's file-backed table for an in-memory one, to tell the HTTP and
/// service cost from the embedded store's.
pub async fn receipts(
    count: usize,
    concurrency: usize,
    in_memory: bool,
    work: &Path,
) -> anyhow::Result<ReceiptsBenchReport> {
    let concurrency = concurrency.max(1);
    let data = DataDir::open(work.join("data"))?;
    let gateway = LocalGateway::open(&data, crate::GatewayOptions { in_memory, ..crate::GatewayOptions::default() })?;
    let config = crate::receipts_cmd::local_webhook_config(&data)?;
    let token = config.twilio_auth_token.clone().context("no Twilio token")?;
    let table: Arc<dyn Table> = gateway.table.clone();
    let numbers = numbers(count)?;
    sent_deliveries(table.clone(), &numbers).await?;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let base = config.public_url.clone().unwrap_or_else(|| format!("http://{address}"));
    let url = format!("{base}{PATH}");
    let requests: Vec<(String, String)> = numbers
        .iter()
        .enumerate()
        .map(|(i, number)| {
            let params = callback(i, number);
            let signature = sign_twilio(&token, &url, &params)?;
            Ok((schoolbell::webhook_auth::form_encode(&params), signature))
        })
        .collect::<anyhow::Result<_>>()?;
    let requests = Arc::new(requests);

    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(gateway.serve(listener, async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build()?;
    let target = format!("http://{address}{PATH}");
    let next = Arc::new(AtomicUsize::new(0));
    let before = table.stats();
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, target, requests, next) = (client.clone(), target.clone(), requests.clone(), next.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0_usize;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((body, signature)) = requests.get(i) else { break };
                    let sent = Instant::now();
                    let answer = client
                        .post(&target)
                        .header("content-type", "application/x-www-form-urlencoded")
                        .header("x-twilio-signature", signature)
                        .body(body.clone())
                        .send()
                        .await;
                    let ok = match answer {
                        Ok(response) => response.status() == reqwest::StatusCode::OK && response.bytes().await.is_ok(),
                        Err(_) => false,
                    };
                    latencies.push(sent.elapsed());
                    errors += usize::from(!ok);
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(count);
    let mut errors = 0;
    for worker in workers {
        let (mut some, failed) = worker.await?;
        latencies.append(&mut some);
        errors += failed;
    }
    let seconds = started.elapsed().as_secs_f64();
    let after = table.stats();
    let _ = stop.send(());
    server.await??;

    let deliveries = BroadcastStore::new(table)
        .all_deliveries(&DistrictId::parse(DISTRICT)?, &BroadcastId::parse(BROADCAST)?)
        .await?;
    let applied =
        deliveries.iter().filter(|d| matches!(d.state, DeliveryState::Delivered | DeliveryState::Failed)).count();
    latencies.sort_unstable();
    let per = |n: u64| if count == 0 { 0.0 } else { (n as f64 / count as f64 * 100.0).round() / 100.0 };
    Ok(ReceiptsBenchReport {
        receipts: count,
        seconds: (seconds * 1000.0).round() / 1000.0,
        per_sec: if seconds > 0.0 { (count as f64 / seconds).round() } else { 0.0 },
        p50_ms: percentile(&latencies, 50.0),
        p99_ms: percentile(&latencies, 99.0),
        max_ms: percentile(&latencies, 100.0),
        applied,
        errors,
        concurrency,
        in_memory,
        write_requests_per_receipt: per(after.write_requests - before.write_requests),
        read_requests_per_receipt: per(after.read_requests - before.read_requests),
        peak_rss_mb: crate::bench::peak_rss_mb(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_small_run_applies_every_receipt_it_posts() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let report = receipts(40, 4, false, dir.path()).await?;
        assert_eq!((report.receipts, report.applied, report.errors), (40, 40, 0), "{report:?}");
        assert!(report.p50_ms > 0.0 && report.p99_ms >= report.p50_ms && report.per_sec > 0.0, "{report:?}");
        Ok(())
    }

    #[test]
    fn percentiles_pick_the_rank_that_covers_the_share() {
        let sorted: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&sorted, 50.0), 50.0);
        assert_eq!(percentile(&sorted, 99.0), 99.0);
        assert_eq!(percentile(&sorted, 100.0), 100.0);
        assert_eq!(percentile(&[], 99.0), 0.0);
    }
}
