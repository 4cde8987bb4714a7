//! Import readers: SIS files → a validated [`Roster`](crate::domain::Roster)
//! plus the rows they could not use ([`ReadOutcome`](crate::domain::ReadOutcome)).
//!
//! - [`CsvFiles`]: the CSV files of one import, from a folder, a zip (with
//!   zip-bomb limits) or a single upload.
//! - [`oneroster`]: OneRoster CSV 1.1 / 1.2, bulk and delta.
//! - [`mapped`]: one flat CSV (one row per student–contact pair) read
//!   through a column [`Mapping`], with SchoolMessenger and Clever presets.
//!
//! Readers are pure (bytes in, roster out) and never panic on any input.
//! A file that cannot be imported at all is a
//! [`FileRejected`](crate::domain::FileRejected) listing every problem;
//! anything less rejects a row or a cell and the rest is read. Messages
//! never repeat a phone number, an email address or a name: they name the
//! column and the kind of problem.

mod contacts;
mod files;
pub mod mapped;
pub mod oneroster;
mod sheet;

pub use files::{CsvFiles, MAX_UNZIPPED_BYTES, MAX_ZIP_ENTRIES};
pub use mapped::{Mapping, MappingError, read_mapped};
pub use oneroster::read_oneroster;
