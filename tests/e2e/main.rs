//! schoolbell's end-to-end tests: one binary, one module per area.
mod table_contract;
mod gateways;
mod api;
