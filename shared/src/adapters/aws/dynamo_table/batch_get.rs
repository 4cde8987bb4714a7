//! `Table::get_many` on DynamoDB: `BatchGetItem`, 100 keys a request,
//! strongly consistent, unprocessed keys sent again with backoff.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::KeysAndAttributes;

use super::{BATCH_ATTEMPTS, DynamoTable, backoff, from_attributes, key_attributes, now, sdk_error};
use crate::ports::table::{Item, Key, PK, SK, TableError, is_expired};

/// The most keys one `BatchGetItem` request names.
const BATCH_GET_KEYS: usize = 100;

fn key_of(item: &Item) -> Option<Key> {
    let text = |name: &str| item.get(name).and_then(serde_json::Value::as_str).map(str::to_string);
    Some(Key { pk: text(PK)?, sk: text(SK)? })
}

impl DynamoTable {
    /// The live items with these keys, in order. A key named twice is read
    /// once (the service refuses a request that repeats a key).
    pub(super) async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, TableError> {
        let mut unique: Vec<&Key> = keys.iter().collect();
        unique.sort();
        unique.dedup();
        let mut found: HashMap<Key, Item> = HashMap::with_capacity(unique.len());
        for chunk in unique.chunks(BATCH_GET_KEYS) {
            let mut wanted = KeysAndAttributes::builder()
                .set_keys(Some(chunk.iter().map(|key| key_attributes(key)).collect()))
                .consistent_read(true)
                .build()
                .map_err(|e| TableError::Validation(e.to_string()))?;
            let mut attempt = 0;
            loop {
                let output = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table_name, wanted)
                    .send()
                    .await
                    .map_err(|e| sdk_error(&e))?;
                let items = output.responses.and_then(|mut r| r.remove(&self.table_name)).unwrap_or_default();
                self.counters.read(items.len());
                for attributes in items {
                    let item = from_attributes(attributes)?;
                    if let Some(key) = key_of(&item).filter(|_| !is_expired(&item, now())) {
                        found.insert(key, item);
                    }
                }
                match output.unprocessed_keys.and_then(|mut left| left.remove(&self.table_name)) {
                    Some(left) if !left.keys().is_empty() => wanted = left,
                    _ => break,
                }
                attempt += 1;
                if attempt >= BATCH_ATTEMPTS {
                    return Err(TableError::Throttled(format!("keys still unprocessed after {attempt} attempts")));
                }
                tracing::debug!(attempt, "batch get retrying unprocessed keys");
                tokio::time::sleep(backoff(attempt)).await;
            }
        }
        Ok(keys.iter().map(|key| found.get(key).cloned()).collect())
    }
}
