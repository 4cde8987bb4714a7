//! Local adapters: everything schoolbell needs, in one process.
//!
//! - `EmbeddedTable`: the `Table` port on redb (file or memory).

mod embedded_table;
mod key_encoding;

pub use embedded_table::EmbeddedTable;
