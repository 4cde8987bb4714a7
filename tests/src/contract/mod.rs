//! Contract suites: one per port, run unchanged against each adapter.
pub mod email;
pub mod files;
pub mod queue;
pub mod sms;
pub mod table;
