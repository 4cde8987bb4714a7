//! schoolbell's end-to-end tests: one binary, one module per area.
// A test crate through and through: its helpers unwrap as its tests do
// (clippy.toml allows it inside `#[test]` functions only).
#![allow(clippy::unwrap_used)]
mod api;
mod broadcasts;
mod broadcasts_aws;
mod call_outcomes;
mod cleanup;
mod cursors;
mod day_one;
mod gateways;
mod import_runs;
mod imports;
mod languages;
mod lists;
mod preferences;
mod receipt_webhooks;
mod report_scope;
mod restarts;
mod roles;
mod sending;
mod sending_numbers;
mod sis_events;
mod sis_events_aws;
mod sis_keys;
mod sns_origination;
mod table_contract;
mod templates;
mod text_consent;
mod text_consent_sources;
mod voice;
mod voice_aws;
