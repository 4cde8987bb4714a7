//! Reading the embedded table: one item or one page of a query, handed
//! over as an `Item` map or as the JSON text the table stores, with expired
//! items left out and the page's cursor made from the last index key.

use redb::ReadableTable;
use serde_json::Value;

use super::embedded_table::{backend, now};
use super::key_encoding::{bounds_after, decode, encode, entry_key, query_range};
use super::snapshot::Snapshot;
use crate::ports::table::{
    Cursor, Index, Item, Key, PK, Page, Query, SK, StoredItem, StoredPage, TableError, checked_cursor,
};

pub(super) fn parse_item(bytes: &[u8]) -> Result<Item, TableError> {
    serde_json::from_slice(bytes).map_err(|e| TableError::Corrupt(e.to_string()))
}

pub(super) fn read_live(
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    key: &[u8],
    now: i64,
) -> Result<Option<Item>, TableError> {
    read_live_text(table, key, now, parse_item)
}

/// The live item at `key`, read by `read` from its stored text.
pub(super) fn read_live_text<T>(
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    key: &[u8],
    now: i64,
    read: impl FnOnce(&[u8]) -> Result<T, TableError>,
) -> Result<Option<T>, TableError> {
    match table.get(key).map_err(backend)? {
        Some(guard) if text_is_expired(guard.value(), now)? => Ok(None),
        Some(guard) => read(guard.value()).map(Some),
        None => Ok(None),
    }
}

/// Whether a stored item has expired, decided without building it: text
/// that never names `expires_at` (most items) is not parsed at all; other
/// text is parsed for that one attribute.
fn text_is_expired(text: &[u8], now: i64) -> Result<bool, TableError> {
    #[derive(serde::Deserialize)]
    struct Expiry {
        #[serde(default)]
        expires_at: Option<Value>,
    }
    if memchr::memmem::find(text, b"\"expires_at\"").is_none() {
        return Ok(false);
    }
    let expiry: Expiry = serde_json::from_slice(text).map_err(|e| TableError::Corrupt(e.to_string()))?;
    Ok(expiry.expires_at.and_then(|at| at.as_i64()).is_some_and(|at| at <= now))
}

/// Reads one page of a query, handing each live entry's key and stored
/// text to `take`. The cursor is made from the last entry's index key, so
/// it is the same whichever form the items are read in.
fn run_query<T>(
    snapshot: &Snapshot,
    query: &Query,
    mut take: impl FnMut(Key, &[u8]) -> Result<T, TableError>,
) -> Result<(Vec<T>, Option<Cursor>), TableError> {
    super::key_encoding::check_key_part("partition", &query.partition)?;
    let now = now();
    let cursor = checked_cursor(query.index, &query.partition, query.cursor.as_ref())?;
    let cursor_key = match &cursor {
        Some(keys) => entry_key(query.index, keys)?,
        None => None,
    };
    let range = query_range(&query.partition, &query.sort);
    let bounds = bounds_after(&range, cursor_key.as_deref(), query.descending);
    let limit = query.limit.map_or(usize::MAX, |l| l.max(1) as usize);

    let (items, entries) = (snapshot.items(), snapshot.entries(query.index));
    let (lo, hi) = (bounds.0.as_ref().map(Vec::as_slice), bounds.1.as_ref().map(Vec::as_slice));
    let range = entries.range::<&[u8]>((lo, hi)).map_err(backend)?;
    let iter: Box<dyn Iterator<Item = _>> = if query.descending { Box::new(range.rev()) } else { Box::new(range) };

    let mut taken = Vec::new();
    let mut last_entry: Option<Vec<String>> = None;
    for entry in iter {
        let (entry_key, value) = entry.map_err(backend)?;
        let parts = decode(entry_key.value())?;
        let [.., pk, sk] = parts.as_slice() else {
            return Err(TableError::Corrupt("index key has too few parts".into()));
        };
        let key = Key::new(pk.as_str(), sk.as_str());
        let read = if query.index == Index::Primary {
            if text_is_expired(value.value(), now)? {
                continue;
            }
            take(key, value.value())?
        } else {
            let Some(guard) = items.get(encode(&[pk, sk]).as_slice()).map_err(backend)? else {
                return Err(TableError::Corrupt("index entry without its item".into()));
            };
            if text_is_expired(guard.value(), now)? {
                continue;
            }
            take(key, guard.value())?
        };
        if taken.len() == limit {
            let cursor = last_entry.as_deref().map(|parts| cursor_of(query.index, parts)).transpose()?;
            return Ok((taken, cursor));
        }
        taken.push(read);
        last_entry = Some(parts);
    }
    Ok((taken, None))
}

/// The cursor after an entry, from its decoded index key: the key
/// attributes DynamoDB's `LastEvaluatedKey` would name.
fn cursor_of(index: Index, parts: &[String]) -> Result<Cursor, TableError> {
    let names: &[&str] = match index {
        Index::Primary => &[PK, SK],
        _ => {
            let (ipk, isk) = index.key_attributes();
            &[ipk, isk, PK, SK]
        }
    };
    if names.len() != parts.len() {
        return Err(TableError::Corrupt("index key has the wrong number of parts".into()));
    }
    let attributes: Item =
        names.iter().zip(parts).map(|(name, part)| (name.to_string(), Value::String(part.clone()))).collect();
    Ok(Cursor::from_key_attributes(&attributes))
}

pub(super) fn run_item_query(snapshot: &Snapshot, query: &Query) -> Result<Page, TableError> {
    let (items, cursor) = run_query(snapshot, query, |_, text| parse_item(text))?;
    Ok(Page { items, cursor })
}

pub(super) fn run_json_query(snapshot: &Snapshot, query: &Query) -> Result<StoredPage, TableError> {
    let (items, cursor) = run_query(snapshot, query, |key, text| Ok(StoredItem { key, json: text.to_vec() }))?;
    Ok(StoredPage { items, cursor })
}
