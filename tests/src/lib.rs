//! Helpers for schoolbell's end-to-end tests (`e2e/`, one test binary):
//!
//! - [`app`]: `spawn_app()`, the local gateway on port 0, over real HTTP.
//! - [`aws_district`]: the family fixture imported into DynamoDB on moto.
//! - [`moto`]: the AWS emulator `tests/run` starts, and skip rules.
//! - [`family_fixture`]: two households through a mapped CSV.
//! - [`roster_fixture`]: a small OneRoster district built in code.
//! - [`contract`]: suites every adapter of a port must pass unchanged,
//!   run against the local adapter and the AWS adapter on moto.

pub mod app;
pub mod aws_district;
pub mod contract;
pub mod family_fixture;
pub mod moto;
pub mod roster_fixture;
