//! The embedded table's read snapshot: one redb read transaction, its
//! three tables open, shared by every read until the next commit. Opening a
//! read transaction and its tables cost more than many point reads
//! themselves (a twentieth of the SIS-event bench's services thread), and a
//! send step reads a dozen times between two commits.
//!
//! Reads stay as fresh as before: the writer drops the snapshot after each
//! commit and before it answers the commit's writers, so a read that starts
//! after a write was answered always sees it. A snapshot opened while a
//! commit lands is kept only if no commit landed since its reader looked,
//! so a stale one is never shared. Dropping it at each commit also lets
//! redb reuse the pages later commits free.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use redb::{Database, ReadOnlyTable, ReadableDatabase};

use super::embedded_table::{GSI1, GSI2, ITEMS, backend};
use crate::ports::table::{Index, TableError};

/// One of the snapshot's tables.
pub(super) type ReadTable = ReadOnlyTable<&'static [u8], &'static [u8]>;

/// The tables as one read transaction sees them.
pub(super) struct Snapshot {
    items: ReadTable,
    gsi1: ReadTable,
    gsi2: ReadTable,
}

impl Snapshot {
    /// The items themselves.
    pub(super) fn items(&self) -> &ReadTable {
        &self.items
    }

    /// The entries of `index` (the items themselves for the base table).
    pub(super) fn entries(&self, index: Index) -> &ReadTable {
        match index {
            Index::Primary => &self.items,
            Index::Gsi1 => &self.gsi1,
            Index::Gsi2 => &self.gsi2,
        }
    }
}

/// The snapshot reads share, and the commits that end it.
pub(super) struct Snapshots {
    db: Arc<Database>,
    /// Commits so far.
    commits: AtomicU64,
    shared: Mutex<Option<Arc<Snapshot>>>,
}

impl Snapshots {
    pub(super) fn new(db: Arc<Database>) -> Self {
        Self { db, commits: AtomicU64::new(0), shared: Mutex::new(None) }
    }

    fn shared(&self) -> MutexGuard<'_, Option<Arc<Snapshot>>> {
        self.shared.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The snapshot every commit answered so far is in.
    pub(super) fn current(&self) -> Result<Arc<Snapshot>, TableError> {
        if let Some(snapshot) = self.shared().as_ref() {
            return Ok(Arc::clone(snapshot));
        }
        let (commits, snapshot) = self.open()?;
        Ok(self.share(commits, snapshot))
    }

    /// A new snapshot, with the commits counted before it was opened.
    fn open(&self) -> Result<(u64, Arc<Snapshot>), TableError> {
        let commits = self.commits.load(Ordering::Acquire);
        let txn = self.db.begin_read().map_err(backend)?;
        let snapshot = Snapshot {
            items: txn.open_table(ITEMS).map_err(backend)?,
            gsi1: txn.open_table(GSI1).map_err(backend)?,
            gsi2: txn.open_table(GSI2).map_err(backend)?,
        };
        Ok((commits, Arc::new(snapshot)))
    }

    /// Shares the snapshot with later reads, unless a commit landed since
    /// it was opened (it may predate that commit).
    fn share(&self, commits: u64, snapshot: Arc<Snapshot>) -> Arc<Snapshot> {
        let mut shared = self.shared();
        if self.commits.load(Ordering::Acquire) == commits {
            *shared = Some(Arc::clone(&snapshot));
        }
        snapshot
    }

    /// Ends the shared snapshot: called after each commit, before its
    /// writers are answered.
    pub(super) fn committed(&self) {
        self.commits.fetch_add(1, Ordering::AcqRel);
        *self.shared() = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use redb::ReadableTableMetadata;

    fn database() -> Arc<Database> {
        let db = Database::builder().create_with_backend(redb::backends::InMemoryBackend::new());
        let db = Arc::new(db.unwrap_or_else(|e| panic!("{e}")));
        let txn = db.begin_write().unwrap_or_else(|e| panic!("{e}"));
        for table in [ITEMS, GSI1, GSI2] {
            txn.open_table(table).unwrap_or_else(|e| panic!("{e}"));
        }
        txn.commit().unwrap_or_else(|e| panic!("{e}"));
        db
    }

    fn write(db: &Database, key: &'static [u8]) {
        let txn = db.begin_write().unwrap_or_else(|e| panic!("{e}"));
        {
            let mut items = txn.open_table(ITEMS).unwrap_or_else(|e| panic!("{e}"));
            items.insert(key, &b"{}"[..]).unwrap_or_else(|e| panic!("{e}"));
        }
        txn.commit().unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn reads_share_a_snapshot_until_a_commit_ends_it() -> Result<(), TableError> {
        let db = database();
        let snapshots = Snapshots::new(Arc::clone(&db));
        let first = snapshots.current()?;
        assert!(Arc::ptr_eq(&first, &snapshots.current()?), "shared between commits");
        write(&db, b"a");
        snapshots.committed();
        let after = snapshots.current()?;
        assert!(!Arc::ptr_eq(&first, &after));
        assert_eq!(after.items().len().map_err(backend)?, 1, "a read after the commit sees it");
        assert_eq!(first.items().len().map_err(backend)?, 0, "a read that began before still sees its own state");
        assert!(after.items().get(&b"a"[..]).map_err(backend)?.is_some());
        Ok(())
    }

    #[test]
    fn a_snapshot_opened_while_a_commit_lands_is_not_shared() -> Result<(), TableError> {
        let db = database();
        let snapshots = Snapshots::new(Arc::clone(&db));
        let (commits, opened) = snapshots.open()?;
        write(&db, b"a");
        snapshots.committed();
        let used = snapshots.share(commits, opened);
        assert_eq!(used.items().len().map_err(backend)?, 0, "its reader reads what it opened");
        assert_eq!(snapshots.current()?.items().len().map_err(backend)?, 1, "the next read sees the commit");
        Ok(())
    }
}
