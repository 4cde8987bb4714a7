//! Contract suites: one per port, run unchanged against each adapter.
pub mod table;
