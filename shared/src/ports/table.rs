//! The `Table` port: a small, typed mirror of DynamoDB's data model.
//!
//! Items are JSON maps. Every item has a string partition key `pk` and sort
//! key `sk`; an item that also carries `gsi1pk`/`gsi1sk` (or `gsi2pk`/`gsi2sk`)
//! appears in that global secondary index (sparse, as in DynamoDB). An item
//! whose numeric `expires_at` (epoch seconds) has passed is invisible to
//! every read and counts as absent for conditions, whether or not the backend
//! has physically removed it yet (DynamoDB's TTL sweeper lags by hours).

use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use serde_json::Value;

pub use super::item_text::ItemText;
pub use super::table_query::{Cursor, Page, Query, SortKey, StoredItem, StoredPage, checked_cursor};

/// One stored item: attribute name to value.
pub type Item = serde_json::Map<String, Value>;

/// Partition key attribute of the base table.
pub const PK: &str = "pk";
/// Sort key attribute of the base table.
pub const SK: &str = "sk";
/// Time-to-live attribute: epoch seconds after which the item is gone.
pub const EXPIRES_AT: &str = "expires_at";
/// Most operations DynamoDB accepts in one `TransactWriteItems`.
pub const MAX_TRANSACTION_OPS: usize = 100;
/// Most operations DynamoDB accepts in one `BatchWriteItem`.
pub const BATCH_CHUNK: usize = 25;

/// Which key structure a query reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Index {
    /// The base table: `pk` / `sk`.
    Primary,
    /// First global secondary index: `gsi1pk` / `gsi1sk`.
    Gsi1,
    /// Second global secondary index: `gsi2pk` / `gsi2sk`.
    Gsi2,
}

impl Index {
    /// Every index, base table first.
    pub const ALL: [Index; 3] = [Index::Primary, Index::Gsi1, Index::Gsi2];

    /// Name of the index as DynamoDB knows it (`None` for the base table).
    pub fn name(self) -> Option<&'static str> {
        match self {
            Index::Primary => None,
            Index::Gsi1 => Some("gsi1"),
            Index::Gsi2 => Some("gsi2"),
        }
    }

    /// Partition and sort key attribute names of this index.
    pub fn key_attributes(self) -> (&'static str, &'static str) {
        match self {
            Index::Primary => (PK, SK),
            Index::Gsi1 => ("gsi1pk", "gsi1sk"),
            Index::Gsi2 => ("gsi2pk", "gsi2sk"),
        }
    }
}

/// The primary key of one item.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    /// Partition key.
    pub pk: String,
    /// Sort key.
    pub sk: String,
}

impl Key {
    /// A key from its two parts.
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self { pk: pk.into(), sk: sk.into() }
    }

    /// The key of a stored item, or a validation error naming what is missing.
    pub fn of(item: &Item) -> Result<Self, TableError> {
        let pk = string_attribute(item, PK)?;
        let sk = string_attribute(item, SK)?;
        Ok(Self::new(pk, sk))
    }
}

/// Reads a string attribute that must be present (a key attribute).
pub fn string_attribute<'a>(item: &'a Item, name: &str) -> Result<&'a str, TableError> {
    match item.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(_) => Err(TableError::Validation(format!("key attribute `{name}` must be a non-empty string"))),
        None => Err(TableError::Validation(format!("key attribute `{name}` is missing"))),
    }
}

/// When an item counts as expired: it has a numeric `expires_at` at or before `now`.
pub fn is_expired(item: &Item, now_epoch_seconds: i64) -> bool {
    item.get(EXPIRES_AT).and_then(Value::as_i64).is_some_and(|at| at <= now_epoch_seconds)
}

/// A condition a write must meet, evaluated atomically with it.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Condition {
    /// No condition.
    #[default]
    None,
    /// No live item with this key exists (idempotency, create-once).
    NotExists,
    /// A live item with this key exists.
    Exists,
    /// A live item exists and its attribute equals the value (optimistic versions).
    AttributeEquals(String, Value),
}

/// One operation of a transaction.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteOp {
    /// Put (create or replace) an item.
    Put {
        /// The whole item, keys included.
        item: Item,
        /// Checked against the current item with the same key.
        condition: Condition,
    },
    /// Put an item the store wrote out as text (what typed records do).
    PutText {
        /// The whole item, keys included.
        item: ItemText,
        /// Checked against the current item with the same key.
        condition: Condition,
    },
    /// Delete an item (absent is fine unless the condition says otherwise).
    Delete {
        /// Key of the item.
        key: Key,
        /// Checked against the current item.
        condition: Condition,
    },
    /// Write nothing; only require the condition.
    Check {
        /// Key of the item.
        key: Key,
        /// Must hold for the transaction to commit.
        condition: Condition,
    },
}

impl WriteOp {
    /// The key this operation touches.
    pub fn key(&self) -> Result<Key, TableError> {
        match self {
            WriteOp::Put { item, .. } => Key::of(item),
            WriteOp::PutText { item, .. } => Ok(item.key().clone()),
            WriteOp::Delete { key, .. } | WriteOp::Check { key, .. } => Ok(key.clone()),
        }
    }
}

/// One unconditional operation of a batch write.
#[derive(Debug, Clone, PartialEq)]
pub enum BatchOp {
    /// Put an item.
    Put(Item),
    /// Put an item the store wrote out as text.
    PutText(ItemText),
    /// Delete an item.
    Delete(Key),
}

impl BatchOp {
    /// The key this operation touches.
    pub fn key(&self) -> Result<Key, TableError> {
        match self {
            BatchOp::Put(item) => Key::of(item),
            BatchOp::PutText(item) => Ok(item.key().clone()),
            BatchOp::Delete(key) => Ok(key.clone()),
        }
    }
}

/// What went wrong in a table operation.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TableError {
    /// A condition did not hold. In a transaction, `operation` is the index of
    /// the operation whose condition failed; nothing was written.
    #[error("condition failed{}", .operation.map(|i| format!(" on operation {i}")).unwrap_or_default())]
    ConditionFailed {
        /// Index of the failing operation within the transaction.
        operation: Option<usize>,
    },
    /// The request itself is wrong (bad key, too many operations, bad cursor).
    #[error("invalid table request: {0}")]
    Validation(String),
    /// The backend asked us to slow down, or a transaction collided with another.
    #[error("table throttled: {0}")]
    Throttled(String),
    /// The backend could not be reached or failed on its side.
    #[error("table unavailable: {0}")]
    Unavailable(String),
    /// A stored item could not be read back.
    #[error("stored item is corrupt: {0}")]
    Corrupt(String),
}

impl TableError {
    /// Whether trying the same request later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, TableError::Throttled(_) | TableError::Unavailable(_))
    }
}

/// Requests and items a table adapter has read and written since it was made.
///
/// Benchmarks turn these into cost: DynamoDB bills per request unit.
#[derive(Debug, Default)]
pub struct TableCounters {
    read_requests: AtomicU64,
    items_read: AtomicU64,
    write_requests: AtomicU64,
    items_written: AtomicU64,
}

/// A snapshot of [`TableCounters`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct TableStats {
    /// Get and query requests.
    pub read_requests: u64,
    /// Items returned by them.
    pub items_read: u64,
    /// Put, delete, transaction and batch requests (each chunk counts once).
    pub write_requests: u64,
    /// Items written or deleted by them.
    pub items_written: u64,
}

impl TableCounters {
    /// Counts one read request that returned `items` items.
    pub fn read(&self, items: usize) {
        self.read_requests.fetch_add(1, Ordering::Relaxed);
        self.items_read.fetch_add(items as u64, Ordering::Relaxed);
    }

    /// Counts one write request that touched `items` items.
    pub fn write(&self, items: usize) {
        self.write_requests.fetch_add(1, Ordering::Relaxed);
        self.items_written.fetch_add(items as u64, Ordering::Relaxed);
    }

    /// The figures so far.
    pub fn snapshot(&self) -> TableStats {
        TableStats {
            read_requests: self.read_requests.load(Ordering::Relaxed),
            items_read: self.items_read.load(Ordering::Relaxed),
            write_requests: self.write_requests.load(Ordering::Relaxed),
            items_written: self.items_written.load(Ordering::Relaxed),
        }
    }
}

/// Items in a key/value table with DynamoDB's semantics.
///
/// Every method is safe to retry when its error `is_retryable()`: puts and
/// deletes are idempotent, and conditional writes fail cleanly.
#[async_trait]
pub trait Table: Send + Sync {
    /// The live item with this key, if any. Strongly consistent.
    async fn get(&self, key: &Key) -> Result<Option<Item>, TableError>;

    /// The live items with these keys, in order (`None` where there is
    /// none): what the send step reads of a group of recipients right before
    /// their texts go. Backends batch them (DynamoDB: one `BatchGetItem`
    /// request per 100 keys; the embedded table: one read transaction); this
    /// default reads them 16 at a time.
    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, TableError> {
        let mut items = Vec::with_capacity(keys.len());
        for group in keys.chunks(16) {
            items.extend(futures::future::try_join_all(group.iter().map(|key| self.get(key))).await?);
        }
        Ok(items)
    }

    /// Creates or replaces the item if the condition holds.
    async fn put(&self, item: Item, condition: Condition) -> Result<(), TableError>;

    /// [`Table::put`] of an item the store wrote out as text. Backends
    /// that store text take it as it is; this default reads it into a map.
    async fn put_text(&self, item: ItemText, condition: Condition) -> Result<(), TableError> {
        self.put(item.to_item()?, condition).await
    }

    /// Deletes the item if the condition holds; deleting nothing is fine.
    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), TableError>;

    /// One page of a partition, in sort-key order. Index queries may lag
    /// writes briefly on DynamoDB (eventual consistency); the base table does not.
    async fn query(&self, query: &Query) -> Result<Page, TableError>;

    /// The first page of each query, in order: what fan-out reads of many
    /// people at once. Each query is one read request, exactly as
    /// [`Table::query`]; backends may run them together (the embedded table
    /// reads them in one blocking task, DynamoDB runs 16 at a time).
    async fn query_many(&self, queries: &[Query]) -> Result<Vec<Page>, TableError> {
        let mut pages = Vec::with_capacity(queries.len());
        for group in queries.chunks(16) {
            pages.extend(futures::future::try_join_all(group.iter().map(|query| self.query(query))).await?);
        }
        Ok(pages)
    }

    /// [`Table::get`], the item as its text. Backends that keep items as
    /// JSON hand the text over as it is; this default writes the item out.
    async fn get_json(&self, key: &Key) -> Result<Option<Vec<u8>>, TableError> {
        match self.get(key).await? {
            Some(item) => Ok(Some(StoredItem::of(&item)?.json)),
            None => Ok(None),
        }
    }

    /// [`Table::query`], each item as its text (see [`Table::get_json`]).
    async fn query_json(&self, query: &Query) -> Result<StoredPage, TableError> {
        StoredPage::of(self.query(query).await?)
    }

    /// [`Table::query_many`], each item as its text (see [`Table::get_json`]).
    async fn query_many_json(&self, queries: &[Query]) -> Result<Vec<StoredPage>, TableError> {
        self.query_many(queries).await?.into_iter().map(StoredPage::of).collect()
    }

    /// Writes all operations or none (at most [`MAX_TRANSACTION_OPS`], each key
    /// at most once). A failed condition names the operation.
    async fn transact_write(&self, ops: Vec<WriteOp>) -> Result<(), TableError>;

    /// Unconditional puts and deletes in chunks of [`BATCH_CHUNK`], retrying
    /// unprocessed items with backoff. Not atomic across chunks.
    async fn batch_write(&self, ops: Vec<BatchOp>) -> Result<(), TableError>;

    /// Writes `batch` (as [`Table::batch_write`]), then `last`, which is
    /// never written unless every item of `batch` is: a record that sums up
    /// others (a chunk's `done`) never says more than they do. `last` may
    /// not touch an item of `batch`. When `last`'s condition fails it is not
    /// written, and `batch` may or may not be. This default writes one after
    /// the other; a backend that commits many writes at once (the embedded
    /// table) commits both together, all or nothing.
    async fn write_then(&self, batch: Vec<BatchOp>, last: WriteOp) -> Result<(), TableError> {
        validate_write_then(&batch, &last)?;
        if !batch.is_empty() {
            self.batch_write(batch).await?;
        }
        match last {
            WriteOp::Put { item, condition } => self.put(item, condition).await,
            WriteOp::PutText { item, condition } => self.put_text(item, condition).await,
            WriteOp::Delete { key, condition } => self.delete(&key, condition).await,
            check @ WriteOp::Check { .. } => self.transact_write(vec![check]).await,
        }
    }

    /// Requests and items so far.
    fn stats(&self) -> TableStats;
}

/// Checks a [`Table::write_then`]: a valid batch, and a last write that
/// touches none of its items.
pub fn validate_write_then(batch: &[BatchOp], last: &WriteOp) -> Result<(), TableError> {
    validate_batch(batch)?;
    let key = last.key()?;
    for op in batch {
        if op.key()? == key {
            return Err(TableError::Validation("the last write may not touch an item of the batch".into()));
        }
    }
    Ok(())
}

/// Checks what every backend must refuse before sending a transaction.
pub fn validate_transaction(ops: &[WriteOp]) -> Result<(), TableError> {
    if ops.is_empty() {
        return Err(TableError::Validation("a transaction needs at least one operation".into()));
    }
    if ops.len() > MAX_TRANSACTION_OPS {
        return Err(TableError::Validation(format!(
            "a transaction holds at most {MAX_TRANSACTION_OPS} operations, got {}",
            ops.len()
        )));
    }
    let mut seen = std::collections::HashSet::new();
    for op in ops {
        if matches!(op, WriteOp::Check { condition: Condition::None, .. }) {
            return Err(TableError::Validation("a check operation needs a condition".into()));
        }
        let key = op.key()?;
        if !seen.insert(key) {
            return Err(TableError::Validation("a transaction may touch each item only once".into()));
        }
    }
    Ok(())
}

/// Checks what every backend must refuse before sending a batch: the same
/// key twice (DynamoDB refuses it within one request; we refuse it anywhere
/// in the batch, since chunk borders are not the caller's business).
pub fn validate_batch(ops: &[BatchOp]) -> Result<(), TableError> {
    let mut seen = std::collections::HashSet::new();
    for op in ops {
        if !seen.insert(op.key()?) {
            return Err(TableError::Validation("a batch may touch each item only once".into()));
        }
    }
    Ok(())
}

/// Evaluates a condition against the current live item (pure; used by the
/// embedded backend and by tests).
pub fn condition_holds(condition: &Condition, current: Option<&Item>) -> bool {
    match condition {
        Condition::None => true,
        Condition::NotExists => current.is_none(),
        Condition::Exists => current.is_some(),
        Condition::AttributeEquals(name, value) => current.and_then(|item| item.get(name)) == Some(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item(value: Value) -> Item {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn a_cursor_round_trips_its_key_attributes() {
        let keys = item(json!({"pk": "D#a", "sk": "P#1"}));
        let cursor = Cursor::from_key_attributes(&keys);
        assert_eq!(Cursor::from_token(cursor.as_str()).key_attributes(), Ok(keys));
    }

    #[test]
    fn a_forged_cursor_is_a_validation_error() {
        assert!(matches!(Cursor::from_token("!!").key_attributes(), Err(TableError::Validation(_))));
        let not_keys = Cursor::from_key_attributes(&item(json!({"pk": 1})));
        assert!(matches!(not_keys.key_attributes(), Err(TableError::Validation(_))));
    }

    #[test]
    fn a_transaction_touching_one_key_twice_is_refused() {
        let put = WriteOp::Put { item: item(json!({"pk": "a", "sk": "b"})), condition: Condition::None };
        let check = WriteOp::Check { key: Key::new("a", "b"), condition: Condition::Exists };
        assert!(matches!(validate_transaction(&[put, check]), Err(TableError::Validation(_))));
    }

    #[test]
    fn attribute_equals_needs_the_item_and_the_value() {
        let current = item(json!({"pk": "a", "sk": "b", "version": 3}));
        let cond = Condition::AttributeEquals("version".into(), json!(3));
        assert!(condition_holds(&cond, Some(&current)));
        assert!(!condition_holds(&cond, None));
        assert!(!condition_holds(&Condition::AttributeEquals("version".into(), json!(4)), Some(&current)));
    }

    #[test]
    fn only_numeric_past_expiry_counts_as_expired() {
        assert!(is_expired(&item(json!({"expires_at": 10})), 10));
        assert!(!is_expired(&item(json!({"expires_at": 11})), 10));
        assert!(!is_expired(&item(json!({"expires_at": "10"})), 10));
        assert!(!is_expired(&item(json!({})), 10));
    }
}
