//! `QueueFile`: where durable [`super::LocalQueue`]s keep their messages, so
//! queued work outlives the process. One redb file holds every queue of a
//! data directory, one redb table per queue (`queue:<name>`, message id →
//! record). redb lets a process open a file once, so the gateway opens it
//! once and hands it to each queue; it is its own file, not the store's, so
//! queue writes never wait behind the table's writer.
//!
//! Durability: a send is on disk before it is answered. Acknowledgements,
//! receive counts and dead-lettering are committed without waiting for the
//! disk (redb makes them durable with the next send, or when the file is
//! closed): one lost in a crash only hands a message out once more, which
//! at-least-once delivery allows (the send step never sends twice).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use crate::ports::QueueError;

/// Page cache of the queue file: queues hold tasks, not data, so a little
/// is plenty (redb's default is 1 GiB).
const CACHE_BYTES: usize = 16 * 1024 * 1024;

/// Why the queue file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum QueueFileError {
    /// The file could not be opened or created (another process may hold it).
    #[error("queue file {path}: {message}")]
    Open {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A read or write of the file failed.
    #[error("queue file: {0}")]
    Storage(String),
    /// A stored message could not be read back.
    #[error("queue file holds an unreadable message: {0}")]
    Corrupt(String),
}

impl From<QueueFileError> for QueueError {
    fn from(error: QueueFileError) -> Self {
        QueueError::Unavailable(error.to_string())
    }
}

fn storage<E: std::fmt::Display>(error: E) -> QueueFileError {
    QueueFileError::Storage(error.to_string())
}

/// The file durable local queues live in. Cheap to clone.
#[derive(Clone)]
pub struct QueueFile {
    db: Arc<Database>,
}

impl std::fmt::Debug for QueueFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueueFile").finish_non_exhaustive()
    }
}

impl QueueFile {
    /// Opens (or creates, readable by its owner only) the queue file at `path`.
    pub fn open(path: &Path) -> Result<Self, QueueFileError> {
        let failed = |message: String| QueueFileError::Open { path: path.to_path_buf(), message };
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(path).map_err(|e| failed(e.to_string()))?;
        let backend = redb::backends::FileBackend::new(file).map_err(|e| failed(e.to_string()))?;
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create_with_backend(backend)
            .map_err(|e| failed(e.to_string()))?;
        Ok(Self { db: Arc::new(db) })
    }

    /// The journal of the queue `name`, its table created if new.
    pub(super) fn journal(&self, name: &str) -> Result<Journal, QueueFileError> {
        let journal = Journal { db: Arc::clone(&self.db), table: format!("queue:{name}") };
        let txn = journal.db.begin_write().map_err(storage)?;
        txn.open_table(journal.definition()).map_err(storage)?;
        txn.commit().map_err(storage)?;
        Ok(journal)
    }
}

/// A message as kept on disk.
#[derive(Debug, Serialize, Deserialize)]
struct Record {
    body: String,
    receive_count: u32,
    #[serde(default)]
    dead: bool,
}

/// A message read back at open.
#[derive(Debug)]
pub(super) struct Kept {
    pub(super) id: u64,
    pub(super) body: String,
    pub(super) receive_count: u32,
}

/// What a queue held when it was opened.
#[derive(Debug, Default)]
pub(super) struct Loaded {
    /// Messages not yet acknowledged, oldest first.
    pub(super) waiting: Vec<Kept>,
    /// Bodies of the dead letters, oldest first.
    pub(super) dead: Vec<String>,
    /// The id the next message sent takes.
    pub(super) next_id: u64,
}

/// What happened to a stored message.
#[derive(Debug, Clone, Copy)]
pub(super) enum Change {
    /// Handed out; its receive count is now this.
    Received { id: u64, receive_count: u32 },
    /// Moved to the dead letters.
    Dead { id: u64 },
    /// Acknowledged: gone.
    Acked { id: u64 },
}

/// One queue's table in the queue file.
pub(super) struct Journal {
    db: Arc<Database>,
    table: String,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal").field("table", &self.table).finish_non_exhaustive()
    }
}

impl Journal {
    fn definition(&self) -> TableDefinition<'_, u64, &'static [u8]> {
        TableDefinition::new(&self.table)
    }

    /// Every message kept, in the order sent.
    pub(super) fn load(&self) -> Result<Loaded, QueueFileError> {
        let txn = self.db.begin_read().map_err(storage)?;
        let table = txn.open_table(self.definition()).map_err(storage)?;
        let mut loaded = Loaded::default();
        for entry in table.iter().map_err(storage)? {
            let (id, record) = entry.map_err(storage)?;
            let (id, record) = (id.value(), parse(record.value())?);
            loaded.next_id = id + 1;
            if record.dead {
                loaded.dead.push(record.body);
            } else {
                loaded.waiting.push(Kept { id, body: record.body, receive_count: record.receive_count });
            }
        }
        Ok(loaded)
    }

    /// Keeps new messages, ids `first_id..`, on disk before answering.
    pub(super) fn append(&self, first_id: u64, bodies: &[String]) -> Result<(), QueueFileError> {
        let txn = self.db.begin_write().map_err(storage)?;
        {
            let mut table = txn.open_table(self.definition()).map_err(storage)?;
            for (id, body) in (first_id..).zip(bodies) {
                let record = Record { body: body.clone(), receive_count: 0, dead: false };
                table.insert(id, serialize(&record)?.as_slice()).map_err(storage)?;
            }
        }
        txn.commit().map_err(storage)
    }

    /// Records changes without waiting for the disk (see the module docs).
    /// A change to a message already acknowledged does nothing.
    pub(super) fn apply(&self, changes: &[Change]) -> Result<(), QueueFileError> {
        if changes.is_empty() {
            return Ok(());
        }
        let mut txn = self.db.begin_write().map_err(storage)?;
        txn.set_durability(Durability::None).map_err(storage)?;
        {
            let mut table = txn.open_table(self.definition()).map_err(storage)?;
            for change in changes {
                match *change {
                    Change::Received { id, receive_count } => {
                        update(&mut table, id, |record| record.receive_count = receive_count)?;
                    }
                    Change::Dead { id } => update(&mut table, id, |record| record.dead = true)?,
                    Change::Acked { id } => {
                        table.remove(id).map_err(storage)?;
                    }
                }
            }
        }
        txn.commit().map_err(storage)
    }
}

/// Changes a kept message, if it is still kept.
fn update(
    table: &mut redb::Table<'_, u64, &'static [u8]>,
    id: u64,
    change: impl FnOnce(&mut Record),
) -> Result<(), QueueFileError> {
    let Some(mut record) = table.get(id).map_err(storage)?.map(|kept| parse(kept.value())).transpose()? else {
        return Ok(());
    };
    change(&mut record);
    table.insert(id, serialize(&record)?.as_slice()).map_err(storage)?;
    Ok(())
}

fn parse(bytes: &[u8]) -> Result<Record, QueueFileError> {
    serde_json::from_slice(bytes).map_err(|e| QueueFileError::Corrupt(e.to_string()))
}

fn serialize(record: &Record) -> Result<Vec<u8>, QueueFileError> {
    serde_json::to_vec(record).map_err(storage)
}
