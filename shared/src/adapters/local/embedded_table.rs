//! `EmbeddedTable`: the `Table` port on redb, file-backed or in memory.
//!
//! redb gives serializable write transactions (one writer at a time) and
//! ordered byte keys, so conditions, transactions and range queries map onto
//! it directly. Three redb tables: `items` (base key → item JSON) and one per
//! global secondary index (index key → nothing; the item is read from
//! `items`). See `key_encoding` for the key layout. Reads run on the
//! caller's thread (`embedded_reads`); writes go through one writer thread
//! that commits concurrent requests together (`group_commit`).

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use redb::{Database, TableDefinition, WriteTransaction};

use super::embedded_reads::{read_live, read_live_text, run_item_query, run_json_query};
use super::group_commit::{Writer, Writes};
use super::key_encoding::encode;
use super::prepared_write::{EncodedItem, PreparedOp, stored_entries};
use super::snapshot::{Snapshot, Snapshots};
use crate::ports::table::{
    BATCH_CHUNK, BatchOp, Condition, Index, Item, ItemText, Key, Page, Query, StoredPage, Table, TableCounters,
    TableError, TableStats, WriteOp, condition_holds, validate_transaction,
};

/// Page cache of a file-backed table. redb's default (1 GiB) would let a
/// large import grow the process far past what a laptop gateway needs.
/// 64 MiB against 128 MiB (measured with the benches): a 50,000-student
/// import peaks at 473 MB, not 551 MB, and fan-out and SIS events run as
/// fast within the machine's noise: pages past the cache are read back
/// from the operating system's own cache.
const CACHE_BYTES: usize = 64 * 1024 * 1024;

pub(super) const ITEMS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("items");
pub(super) const GSI1: TableDefinition<&[u8], &[u8]> = TableDefinition::new("gsi1");
pub(super) const GSI2: TableDefinition<&[u8], &[u8]> = TableDefinition::new("gsi2");

pub(super) fn index_table(index: Index) -> TableDefinition<'static, &'static [u8], &'static [u8]> {
    match index {
        Index::Primary => ITEMS,
        Index::Gsi1 => GSI1,
        Index::Gsi2 => GSI2,
    }
}

pub(super) fn backend<E: std::fmt::Display>(error: E) -> TableError {
    TableError::Unavailable(format!("embedded store: {error}"))
}

pub(super) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The `Table` port over an embedded redb database.
#[derive(Clone)]
pub struct EmbeddedTable {
    snapshots: Arc<Snapshots>,
    writer: Arc<Writer>,
    counters: Arc<TableCounters>,
}

impl std::fmt::Debug for EmbeddedTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedTable").finish_non_exhaustive()
    }
}

impl EmbeddedTable {
    /// Opens (or creates) the database file at `path`. Data survives restarts.
    pub fn open(path: &Path) -> Result<Self, TableError> {
        let db = Database::builder().set_cache_size(CACHE_BYTES).create(path).map_err(backend)?;
        Self::prepared(db)
    }

    /// A fresh database in memory, for unit tests and benchmarks.
    pub fn in_memory() -> Result<Self, TableError> {
        let db = Database::builder().create_with_backend(redb::backends::InMemoryBackend::new()).map_err(backend)?;
        Self::prepared(db)
    }

    fn prepared(db: Database) -> Result<Self, TableError> {
        let txn = db.begin_write().map_err(backend)?;
        for index in Index::ALL {
            txn.open_table(index_table(index)).map_err(backend)?;
        }
        txn.commit().map_err(backend)?;
        let db = Arc::new(db);
        let snapshots = Arc::new(Snapshots::new(Arc::clone(&db)));
        let writer = Arc::new(Writer::start(db, Arc::clone(&snapshots))?);
        Ok(Self { snapshots, writer, counters: Arc::new(TableCounters::default()) })
    }

    /// Runs a read on the caller's thread, in the shared snapshot. A redb
    /// read never waits for the writer and reads cached pages in
    /// microseconds; handing it to the blocking pool cost more in thread
    /// wake-ups than the read itself (a quarter of the SIS-event bench's
    /// time went to them).
    fn read<T>(&self, work: impl FnOnce(&Snapshot) -> Result<T, TableError>) -> Result<T, TableError> {
        work(self.snapshots.current()?.as_ref())
    }

    /// One page of each query as `run` reads it, counting every page's items.
    fn read_pages<P>(
        &self,
        queries: &[Query],
        run: impl Fn(&Snapshot, &Query) -> Result<P, TableError>,
        items: impl Fn(&P) -> usize,
    ) -> Result<Vec<P>, TableError> {
        let pages: Vec<P> = self.read(|snapshot| queries.iter().map(|query| run(snapshot, query)).collect())?;
        for page in &pages {
            self.counters.read(items(page));
        }
        Ok(pages)
    }
}

pub(super) fn base_key(key: &Key) -> Result<Vec<u8>, TableError> {
    super::key_encoding::check_key_part("pk", &key.pk)?;
    super::key_encoding::check_key_part("sk", &key.sk)?;
    Ok(encode(&[&key.pk, &key.sk]))
}

type RedbTable<'t> = redb::Table<'t, &'static [u8], &'static [u8]>;

/// The three redb tables of one write transaction, opened once.
pub(super) struct Tables<'t> {
    items: RedbTable<'t>,
    gsi1: RedbTable<'t>,
    gsi2: RedbTable<'t>,
}

impl<'t> Tables<'t> {
    pub(super) fn open(txn: &'t WriteTransaction) -> Result<Self, TableError> {
        Ok(Self {
            items: txn.open_table(ITEMS).map_err(backend)?,
            gsi1: txn.open_table(GSI1).map_err(backend)?,
            gsi2: txn.open_table(GSI2).map_err(backend)?,
        })
    }

    fn index(&mut self, index: Index) -> &mut RedbTable<'t> {
        match index {
            Index::Primary => &mut self.items,
            Index::Gsi1 => &mut self.gsi1,
            Index::Gsi2 => &mut self.gsi2,
        }
    }

    /// Removes an item and its index entries.
    pub(super) fn remove(&mut self, key: &[u8]) -> Result<(), TableError> {
        let entries = match self.items.remove(key).map_err(backend)? {
            Some(guard) => stored_entries(guard.value())?,
            None => return Ok(()),
        };
        for (index, entry) in [Index::Gsi1, Index::Gsi2].into_iter().zip(entries) {
            if let Some(entry) = entry {
                self.index(index).remove(entry.as_slice()).map_err(backend)?;
            }
        }
        Ok(())
    }

    /// Replaces an item and its index entries: one insert that hands back
    /// the item it replaced, whose index entries are moved only where they
    /// changed.
    pub(super) fn store(&mut self, item: &EncodedItem) -> Result<(), TableError> {
        let replaced = match self.items.insert(item.key.as_slice(), item.bytes.as_slice()).map_err(backend)? {
            Some(guard) => stored_entries(guard.value())?,
            None => [None, None],
        };
        for ((index, entry), old) in [Index::Gsi1, Index::Gsi2].into_iter().zip(&item.entries).zip(replaced) {
            if old.as_ref() == entry.as_ref() {
                continue;
            }
            if let Some(old) = old {
                self.index(index).remove(old.as_slice()).map_err(backend)?;
            }
            if let Some(entry) = entry {
                self.index(index).insert(entry.as_slice(), &[][..]).map_err(backend)?;
            }
        }
        Ok(())
    }

    /// Whether the condition holds for what is stored at `key` now. A
    /// write without one reads nothing.
    pub(super) fn holds(&self, condition: &Condition, key: &[u8], now: i64) -> Result<bool, TableError> {
        if *condition == Condition::None {
            return Ok(true);
        }
        Ok(condition_holds(condition, read_live(&self.items, key, now)?.as_ref()))
    }

    pub(super) fn apply(&mut self, op: &PreparedOp) -> Result<(), TableError> {
        match op {
            PreparedOp::Put(item) => self.store(item),
            PreparedOp::Delete(key) => self.remove(key),
            PreparedOp::Check(_) => Ok(()),
        }
    }
}

#[async_trait]
impl Table for EmbeddedTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, TableError> {
        let encoded = base_key(key)?;
        let item = self.read(|snapshot| read_live(snapshot.items(), &encoded, now()))?;
        self.counters.read(usize::from(item.is_some()));
        Ok(item)
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, TableError> {
        let encoded = keys.iter().map(base_key).collect::<Result<Vec<_>, _>>()?;
        let items: Vec<Option<Item>> = self.read(|snapshot| {
            let now = now();
            encoded.iter().map(|key| read_live(snapshot.items(), key, now)).collect()
        })?;
        self.counters.read(items.iter().flatten().count());
        Ok(items)
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<(), TableError> {
        Key::of(&item)?;
        let ops = vec![PreparedOp::of_write(WriteOp::Put { item, condition })?];
        self.counters.write(1);
        self.writer.write(Writes::Ops(ops, false)).await
    }

    async fn put_text(&self, item: ItemText, condition: Condition) -> Result<(), TableError> {
        let ops = vec![PreparedOp::of_write(WriteOp::PutText { item, condition })?];
        self.counters.write(1);
        self.writer.write(Writes::Ops(ops, false)).await
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), TableError> {
        let ops = vec![PreparedOp::of_write(WriteOp::Delete { key: key.clone(), condition })?];
        self.counters.write(1);
        self.writer.write(Writes::Ops(ops, false)).await
    }

    async fn query(&self, query: &Query) -> Result<Page, TableError> {
        let mut pages = self.read_pages(std::slice::from_ref(query), run_item_query, |page| page.items.len())?;
        Ok(pages.pop().unwrap_or_default())
    }

    async fn query_many(&self, queries: &[Query]) -> Result<Vec<Page>, TableError> {
        self.read_pages(queries, run_item_query, |page| page.items.len())
    }

    async fn get_json(&self, key: &Key) -> Result<Option<Vec<u8>>, TableError> {
        let encoded = base_key(key)?;
        let text = self.read(|snapshot| read_live_text(snapshot.items(), &encoded, now(), |text| Ok(text.to_vec())))?;
        self.counters.read(usize::from(text.is_some()));
        Ok(text)
    }

    async fn query_json(&self, query: &Query) -> Result<StoredPage, TableError> {
        let mut pages = self.read_pages(std::slice::from_ref(query), run_json_query, |page| page.items.len())?;
        Ok(pages.pop().unwrap_or_default())
    }

    async fn query_many_json(&self, queries: &[Query]) -> Result<Vec<StoredPage>, TableError> {
        self.read_pages(queries, run_json_query, |page| page.items.len())
    }

    async fn transact_write(&self, ops: Vec<WriteOp>) -> Result<(), TableError> {
        validate_transaction(&ops)?;
        self.counters.write(ops.len());
        let ops = ops.into_iter().map(PreparedOp::of_write).collect::<Result<_, _>>()?;
        self.writer.write(Writes::Ops(ops, true)).await
    }

    async fn batch_write(&self, ops: Vec<BatchOp>) -> Result<(), TableError> {
        crate::ports::table::validate_batch(&ops)?;
        for chunk in ops.chunks(BATCH_CHUNK) {
            self.counters.write(chunk.len());
        }
        let ops = ops.into_iter().map(PreparedOp::of_batch).collect::<Result<_, _>>()?;
        self.writer.write(Writes::Batch(ops)).await
    }

    async fn write_then(&self, batch: Vec<BatchOp>, last: WriteOp) -> Result<(), TableError> {
        crate::ports::table::validate_write_then(&batch, &last)?;
        for chunk in batch.chunks(BATCH_CHUNK) {
            self.counters.write(chunk.len());
        }
        self.counters.write(1);
        // One request: its conditions (only `last` has one) are checked
        // before anything is written, and `last`'s item is in no batch op,
        // so this is the order of the default, in one commit.
        let mut ops = batch
            .into_iter()
            .map(|op| PreparedOp::of_batch(op).map(|op| (op, Condition::None)))
            .collect::<Result<Vec<_>, _>>()?;
        ops.push(PreparedOp::of_write(last)?);
        self.writer.write(Writes::Ops(ops, false)).await
    }

    fn stats(&self) -> TableStats {
        self.counters.snapshot()
    }
}
