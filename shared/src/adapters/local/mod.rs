//! Local adapters: everything schoolbell needs, in one process.
//!
//! - `EmbeddedTable`: the `Table` port on redb (file or memory).
//! - `SimulatedCarrier`: the `SmsGateway` port; magic numbers give each
//!   SMS status and receipts come back on a channel.
//! - `Outbox`: the `EmailGateway` port; `.eml` files or memory, with the
//!   SES mailbox simulator's bounces and complaints.
//! - `LocalQueue`: the `WorkQueue` port in process, at-least-once, with
//!   visibility timeout and dead letters; in memory, or durable in a
//!   `QueueFile` so queued work outlives a restart.
//! - `DirFileStore`: the `FileStore` port over a directory.
//! - `HookedTable`: any table with a hook before each multi-item write
//!   (fault tests).
//! - `SimulatedCalls`: the `VoiceGateway` port; every call is taken and kept.
//! - `SentFiles`: one JSON file per text or call sent, in the data directory.

mod embedded_reads;
mod embedded_table;
mod group_commit;
mod hooked_table;
mod key_encoding;
mod prepared_write;
mod snapshot;

pub use embedded_table::EmbeddedTable;
pub use hooked_table::{HookedTable, Write, WriteHook};

mod calls;
mod carrier;
mod files;
mod outbox;
mod queue;
mod queue_file;
mod recent;
mod sent_files;

pub use calls::{
    CALL_MAGIC_NUMBERS, CallEvent, CallMagicNumber, KEPT_CALLS, SimulatedCall, SimulatedCallOutcome, SimulatedCalls,
    simulated_call_outcome,
};
pub use carrier::{
    CarrierReceipt, KEPT_TEXTS, MAGIC_NUMBERS, MagicNumber, SimulatedCarrier, SimulatedSms, simulated_outcome,
};
pub use files::DirFileStore;
pub use outbox::{
    EmailEvent, KEPT_EMAILS, MAGIC_ADDRESSES, MagicAddress, Outbox, OutboxEmail, Stored, simulated_email_outcome,
};
pub use queue::{LocalQueue, MAX_LOCAL_BODY_BYTES};
pub use queue_file::{QueueFile, QueueFileError};
pub use sent_files::{SentFiles, SentFilesError};
