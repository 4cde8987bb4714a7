//! `schoolbell sis-event --data DIR [--district D] FILE`: SIS events from a
//! JSON file (`{"events": [...]}` or one event, the body of `POST
//! /v1/sis-events`) into the local store as the SIS would post them — the
//! same service, the same exactly-once records — then the queues drained
//! so what they cause is sent (texts under `DIR/texts/`, calls under
//! `DIR/calls/`, email under `DIR/outbox/`). The act of whoever holds the
//! data directory, as `sis-keys create` is: no key is needed.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use schoolbell::domain::DistrictId;
use schoolbell::services::EventsAnswer;

use crate::workers::Drainer;
use crate::{DataDir, GatewayOptions, LocalGateway};

/// What the broadcasts record as their sender for events from this command.
const SENDER: &str = "cli";

/// Posts the file's events for `district`, sends what they cause; answers
/// the service's answer.
pub async fn post(data: PathBuf, district: &str, file: &Path) -> anyhow::Result<EventsAnswer> {
    let district = DistrictId::parse(district).context("--district")?;
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let body: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", file.display()))?;
    let events = schoolbell_sis_events::events_of(&body).map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let gateway = LocalGateway::open(&DataDir::open(data)?, GatewayOptions::default())?;
    let drainer = Drainer::new(&gateway);
    let answer = gateway.services.sis_events()?.receive(&district, SENDER, &events).await?;
    drainer.drain().await;
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn events_from_a_file_are_received_and_sent_and_a_bad_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("events.json");
        std::fs::write(
            &file,
            r#"{"events": [{"id": "e-1", "type": "attendance.absent", "student": "nobody",
            "occurred_at": "2026-12-04T08:05:00-05:00", "excused": false}]}"#,
        )
        .unwrap();
        let answer = post(dir.path().join("data"), "demo", &file).await.unwrap();
        assert_eq!((answer.accepted, answer.rejected.len()), (0, 1));
        assert_eq!(answer.rejected[0].code, "unknown_student");
        std::fs::write(&file, "[1, 2]").unwrap();
        let error = post(dir.path().join("data"), "demo", &file).await.err().map(|e| e.to_string());
        assert!(error.is_some_and(|e| e.contains("event")));
        let missing = post(dir.path().join("data"), "demo", &dir.path().join("none.json")).await;
        assert!(missing.err().is_some_and(|e| e.to_string().contains("reading")));
    }
}
