//! `schoolbell-local`: the `schoolbell` binary's library. It runs every
//! function of schoolbell in one process on a laptop: the HTTP routes in one
//! axum server over the embedded store, with local adapters for the rest.
//!
//! - [`DataDir`]: the data directory (store, signing secret, outbox, files).
//! - [`LocalGateway`]: builds the world and serves it.
//! - [`bench`], [`bench_fanout`], [`bench_receipts`]: `schoolbell bench ...` measurements.
//! - [`demo`]: `schoolbell demo`, the whole flow on a fresh data directory.
//! - [`import_cmd`]: `schoolbell import` from a file or folder.
//! - [`receipts_cmd`]: `schoolbell receipts parse|verify`, and the local receipt webhooks.
//! - [`token`]: development tokens the gateway accepts.
//! - [`workers`]: queue loops, receipts and the broadcast scheduler of `serve`.

pub mod bench;
pub mod bench_fanout;
mod bench_lists;
pub mod bench_receipts;
pub mod bench_sis_events;
mod data_dir;
pub mod demo;
mod gateway;
pub mod gen_district;
pub mod import_cmd;
pub mod receipts_cmd;
pub mod sis_event_cmd;
pub mod token;
pub mod workers;

pub use data_dir::{DataDir, DataDirError};
pub use gateway::{GatewayOptions, LocalGateway};
