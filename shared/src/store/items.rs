//! Turning records into items and back, and reading every page of a query:
//! the three things every access pattern of the store does. A record is
//! read straight from the item's stored text (`get_record`,
//! `query_records`), never through an `Item` map.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::StoreError;
use std::future::Future;

use crate::ports::table::{Cursor, Item, ItemText, Key, Query, StoredItem, Table, TableError};

/// A record's item: its serialized fields plus the keys.
pub fn record_item<T: Serialize>(pk: String, sk: String, record: &T) -> Result<Item, StoreError> {
    match serde_json::to_value(record).map_err(StoreError::corrupt)? {
        Value::Object(mut map) => {
            map.insert("pk".into(), Value::String(pk));
            map.insert("sk".into(), Value::String(sk));
            Ok(map)
        }
        _ => Err(StoreError::Corrupt("record is not an object".into())),
    }
}

/// A record's item as the text that is stored: its fields behind its key,
/// written out in one pass (the write path of the store's hot records).
pub fn record_text<T: Serialize + ?Sized>(key: Key, record: &T) -> Result<ItemText, StoreError> {
    Ok(ItemText::of(key, record)?)
}

/// A record read back from its item (key attributes are ignored).
pub fn record_from<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_json::from_value(Value::Object(item)).map_err(StoreError::corrupt)
}

/// Every item of a query, page after page.
pub async fn query_all(table: &dyn Table, query: Query) -> Result<Vec<Item>, StoreError> {
    every_page(query, |query| async move { table.query(&query).await.map(|page| (page.items, page.cursor)) }).await
}

/// Every page of a query as `read` reads one (its items and the cursor
/// after them), joined.
async fn every_page<T, Read, Reading>(query: Query, read: Read) -> Result<Vec<T>, StoreError>
where
    Read: Fn(Query) -> Reading,
    Reading: Future<Output = Result<(Vec<T>, Option<Cursor>), TableError>>,
{
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        let (page, next) = read(query.clone().after(cursor)).await?;
        items.extend(page);
        cursor = next;
        if cursor.is_none() {
            return Ok(items);
        }
    }
}

/// A record read from its stored text (key attributes and any others the
/// record does not name are skipped).
pub fn record_of<T: DeserializeOwned>(stored: &StoredItem) -> Result<T, StoreError> {
    serde_json::from_slice(&stored.json).map_err(StoreError::corrupt)
}

/// The record stored at `key`, if any.
pub async fn get_record<T: DeserializeOwned>(table: &dyn Table, key: &Key) -> Result<Option<T>, StoreError> {
    match table.get_json(key).await? {
        Some(text) => serde_json::from_slice(&text).map(Some).map_err(StoreError::corrupt),
        None => Ok(None),
    }
}

/// Every item of a query as its text, page after page.
pub async fn query_stored(table: &dyn Table, query: Query) -> Result<Vec<StoredItem>, StoreError> {
    every_page(query, |query| async move { table.query_json(&query).await.map(|page| (page.items, page.cursor)) }).await
}

/// Every record of a query, page after page.
pub async fn query_records<T: DeserializeOwned>(table: &dyn Table, query: Query) -> Result<Vec<T>, StoreError> {
    query_stored(table, query).await?.iter().map(record_of).collect()
}
