//! `schoolbell-import-ingest`: the S3 trigger of imports. Each
//! `ObjectCreated` record under `imports/{district}/{import}/...` sets that
//! import's file date and, for imports that run on upload, runs it.
//!
//! [`handle`] is the whole function; `main.rs` wires it to Lambda. A key
//! outside the layout or of an unknown import is logged and skipped (a retry
//! would not help); a store failure fails the invocation so S3's async
//! invocation retries it.

use aws_lambda_events::event::s3::S3Event;
use percent_encoding::percent_decode_str;
use schoolbell::services::{ImportService, ServiceError, parse_upload_key};
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

/// Handles every record of the event.
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
    fn the_recorded_event_parses() -> Result<(), serde_json::Error> {
        let event: S3Event = serde_json::from_str(include_str!("../events/object-created.json"))?;
        assert_eq!(event.records[0].s3.object.key.as_deref(), Some("imports/district-a/sis/20261122-roster.zip"));
        Ok(())
    }
}
