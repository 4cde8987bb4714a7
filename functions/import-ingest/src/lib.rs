//! `schoolbell-import-ingest`: the triggers of imports. Each S3
//! `ObjectCreated` record under `imports/{district}/{import}/...` sets that
//! import's file date and, for imports that run on upload, runs it; an
//! EventBridge scheduled event runs every scheduled import whose slot came.
//! [`handle_event`] tells the two apart.
//!
//! [`handle`] is the whole function; `main.rs` wires it to Lambda. A key
//! outside the layout or of an unknown import is logged and skipped (a retry
//! would not help); a store failure fails the invocation so S3's async
//! invocation retries it. The event of a file the API upload already ran
//! (or is running) is handled without running it again; a file that arrives
//! while another file of its import is being run is refused by the import's
//! lease, which fails the invocation, so Lambda retries it after that run.

#[cfg(feature = "lambda")]
use aws_lambda_events::event::s3::S3Event;
use percent_encoding::percent_decode_str;
use schoolbell::services::ServiceError;
#[cfg(feature = "lambda")]
use schoolbell::services::{ImportService, parse_upload_key};
use serde::Serialize;

/// What one invocation did, per record.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct IngestReport {
    /// Keys whose import ran (or recorded the file).
    pub handled: Vec<String>,
    /// Keys skipped, with why.
    pub skipped: Vec<(String, String)>,
}

/// S3 event keys are URL-encoded with `+` for spaces.
pub fn decode_key(raw: &str) -> String {
    percent_decode_str(&raw.replace('+', " ")).decode_utf8_lossy().into_owned()
}

/// Handles a raw Lambda event: S3 notifications (`Records`) or an
/// EventBridge `Scheduled Event`. Anything else is refused.
#[cfg(feature = "lambda")]
pub async fn handle_event(service: &ImportService, event: serde_json::Value) -> Result<serde_json::Value, IngestError> {
    if event.get("Records").is_some() {
        let event: S3Event = serde_json::from_value(event).map_err(|e| IngestError::UnknownEvent(e.to_string()))?;
        let report = handle(service, event).await?;
        return Ok(serde_json::to_value(report).unwrap_or_default());
    }
    if event.get("detail-type").and_then(serde_json::Value::as_str) == Some("Scheduled Event") {
        let runs = service.run_due().await?;
        let ids: Vec<String> = runs.iter().map(|run| format!("{}/{}", run.import, run.id)).collect();
        return Ok(serde_json::json!({"scheduled_runs": ids}));
    }
    Err(IngestError::UnknownEvent("neither S3 records nor a scheduled event".into()))
}

/// Why an invocation failed.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The event is not one this function takes.
    #[error("unexpected event: {0}")]
    UnknownEvent(String),
    /// The import service failed (retryable ones are retried by Lambda).
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// Handles every record of the event.
#[cfg(feature = "lambda")]
pub async fn handle(service: &ImportService, event: S3Event) -> Result<IngestReport, ServiceError> {
    let mut report = IngestReport::default();
    for record in event.records {
        let Some(raw) = record.s3.object.key.as_deref() else { continue };
        let key = decode_key(raw);
        if !record.event_name.as_deref().unwrap_or_default().starts_with("ObjectCreated") {
            report.skipped.push((key, "not an ObjectCreated event".into()));
            continue;
        }
        if parse_upload_key(&key).is_none() {
            tracing::warn!(key = %key, "object outside imports/{{district}}/{{import}}/: skipped");
            report.skipped.push((key, "not under imports/{district}/{import}/".into()));
            continue;
        }
        match service.file_arrived(&key).await {
            Ok((definition, run)) => {
                tracing::info!(import = %definition.id, ran = run.is_some(), "import file handled");
                report.handled.push(key);
            }
            Err(ServiceError::NotFound(reason)) => {
                tracing::warn!(key = %key, %reason, "upload for an unknown import: skipped");
                report.skipped.push((key, reason));
            }
            Err(other) => return Err(other),
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_keys_are_url_decoded() {
        assert_eq!(decode_key("imports/d-1/sis/2026+roster%281%29.zip"), "imports/d-1/sis/2026 roster(1).zip");
    }

    #[test]
    #[cfg(feature = "lambda")]
    fn the_recorded_event_parses() -> Result<(), serde_json::Error> {
        let event: S3Event = serde_json::from_str(include_str!("../events/object-created.json"))?;
        assert_eq!(event.records[0].s3.object.key.as_deref(), Some("imports/district-a/sis/20261122-roster.zip"));
        Ok(())
    }
}
