//! Turning records into items and back, and reading every page of a query:
//! the three things every access pattern of the store does.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::StoreError;
use crate::ports::table::{Item, Query, Table};

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

/// A record read back from its item (key attributes are ignored).
pub fn record_from<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_json::from_value(Value::Object(item)).map_err(StoreError::corrupt)
}

/// Every item of a query, page after page.
pub async fn query_all(table: &dyn Table, query: Query) -> Result<Vec<Item>, StoreError> {
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        let page = table.query(&query.clone().after(cursor)).await?;
        items.extend(page.items);
        cursor = page.cursor;
        if cursor.is_none() {
            return Ok(items);
        }
    }
}
