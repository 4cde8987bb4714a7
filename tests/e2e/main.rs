//! schoolbell's end-to-end tests: one binary, one module per area.
mod api;
mod broadcasts;
mod broadcasts_aws;
mod cleanup;
mod gateways;
mod imports;
mod lists;
mod preferences;
mod receipt_webhooks;
mod roles;
mod sending;
mod table_contract;
