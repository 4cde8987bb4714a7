//! The traits services need from the outside world. Each has an AWS adapter
//! and a local adapter (`crate::adapters`), and both pass one contract suite.

mod clock;
mod email;
mod files;
mod gateway_error;
mod item_text;
mod queue;
mod sms;
pub mod table;
mod table_query;
mod voice;

pub use clock::{Clock, FixedClock, Ids, SequentialIds, SystemClock, TimeOrderedIds};
pub use email::{EmailGateway, OutboundEmail, SentEmail};
pub use files::{FileChunks, FileError, FileStore, chunks_of, validate_file_key};
pub use gateway_error::GatewayError;
pub use item_text::ItemText;
pub use queue::{QUEUE_BATCH, QueueError, ReceivedMessage, WorkQueue};
pub use sms::{OutboundSms, SentSms, SmsGateway};
pub use table::{
    BatchOp, Condition, Cursor, Index, Item, Key, Page, Query, SortKey, StoredItem, StoredPage, Table, TableError,
    TableStats, WriteOp,
};
pub use voice::{OutboundCall, PlacedCall, VoiceGateway, VoiceScript};
