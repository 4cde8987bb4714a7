//! `HookedTable`: a table that runs a hook right before each multi-item
//! write (a transaction or a batch), then hands every call to the table it
//! wraps. Fault tests use it to fail one write as a backend outage would,
//! or to slip another writer in between a reader's read and its write.

use std::sync::Arc;

use async_trait::async_trait;

use crate::ports::{
    BatchOp, Condition, Item, ItemText, Key, Page, Query, StoredPage, Table, TableError, TableStats, WriteOp,
};

/// The multi-item write about to happen.
#[derive(Debug, Clone, Copy)]
pub enum Write<'a> {
    /// A transaction's operations.
    Transaction(&'a [WriteOp]),
    /// A batch's operations.
    Batch(&'a [BatchOp]),
}

/// What runs before each multi-item write: `Err` fails the write instead.
#[async_trait]
pub trait WriteHook: Send + Sync {
    /// Called with the write about to happen.
    async fn before(&self, write: Write<'_>) -> Result<(), TableError>;
}

/// A table with a [`WriteHook`] before each transaction and batch.
pub struct HookedTable<H> {
    inner: Arc<dyn Table>,
    /// The hook (tests reach into it to arm or count).
    pub hook: H,
}

impl<H: WriteHook> HookedTable<H> {
    /// `inner` with `hook` before its multi-item writes.
    pub fn new(inner: Arc<dyn Table>, hook: H) -> Self {
        Self { inner, hook }
    }
}

#[async_trait]
impl<H: WriteHook> Table for HookedTable<H> {
    async fn get(&self, key: &Key) -> Result<Option<Item>, TableError> {
        self.inner.get(key).await
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, TableError> {
        self.inner.get_many(keys).await
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<(), TableError> {
        self.inner.put(item, condition).await
    }

    async fn put_text(&self, item: ItemText, condition: Condition) -> Result<(), TableError> {
        self.inner.put_text(item, condition).await
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), TableError> {
        self.inner.delete(key, condition).await
    }

    async fn query(&self, query: &Query) -> Result<Page, TableError> {
        self.inner.query(query).await
    }

    async fn query_many(&self, queries: &[Query]) -> Result<Vec<Page>, TableError> {
        self.inner.query_many(queries).await
    }

    async fn get_json(&self, key: &Key) -> Result<Option<Vec<u8>>, TableError> {
        self.inner.get_json(key).await
    }

    async fn query_json(&self, query: &Query) -> Result<StoredPage, TableError> {
        self.inner.query_json(query).await
    }

    async fn query_many_json(&self, queries: &[Query]) -> Result<Vec<StoredPage>, TableError> {
        self.inner.query_many_json(queries).await
    }

    async fn transact_write(&self, ops: Vec<WriteOp>) -> Result<(), TableError> {
        self.hook.before(Write::Transaction(&ops)).await?;
        self.inner.transact_write(ops).await
    }

    async fn batch_write(&self, ops: Vec<BatchOp>) -> Result<(), TableError> {
        self.hook.before(Write::Batch(&ops)).await?;
        self.inner.batch_write(ops).await
    }

    async fn write_then(&self, batch: Vec<BatchOp>, last: WriteOp) -> Result<(), TableError> {
        self.hook.before(Write::Batch(&batch)).await?;
        self.inner.write_then(batch, last).await
    }

    fn stats(&self) -> TableStats {
        self.inner.stats()
    }
}
