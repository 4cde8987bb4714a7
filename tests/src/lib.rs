//! Helpers for schoolbell's end-to-end tests (`e2e/`, one test binary):
//!
//! - [`moto`]: the AWS emulator `tests/run` starts, and skip rules.
//! - [`contract`]: suites every adapter of a port must pass unchanged,
//!   run against the local adapter and the AWS adapter on moto.

pub mod contract;
pub mod moto;
