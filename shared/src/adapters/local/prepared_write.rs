//! Writes made ready for the embedded table's one writer thread on the
//! caller's thread: keys encoded, index entries worked out, the item turned
//! into its JSON bytes and checked against DynamoDB's size limit. The
//! writer, which every write of the process waits on, then only checks
//! conditions and moves bytes into redb.

use std::borrow::Cow;

use serde::Deserialize;

use super::embedded_table::base_key;
use super::key_encoding::{check_key_part, encode, entry_key};
use crate::ports::table::{BatchOp, Condition, Index, Item, ItemText, Key, TableError, WriteOp};

/// DynamoDB's largest item, kept here so local writes fail where AWS would.
const MAX_ITEM_BYTES: usize = 400 * 1024;

/// An item ready to store: its base key, its index entries and its JSON.
pub(super) struct EncodedItem {
    pub(super) key: Vec<u8>,
    pub(super) bytes: Vec<u8>,
    /// The GSI1 and GSI2 entries, where the item has those attributes.
    pub(super) entries: [Option<Vec<u8>>; 2],
}

impl EncodedItem {
    pub(super) fn of(item: &Item) -> Result<Self, TableError> {
        let Some(key) = entry_key(Index::Primary, item)? else {
            return Err(TableError::Validation("item has no key".into()));
        };
        let entries = [entry_key(Index::Gsi1, item)?, entry_key(Index::Gsi2, item)?];
        let bytes = serde_json::to_vec(item).map_err(|e| TableError::Validation(e.to_string()))?;
        Self::checked(key, bytes, entries)
    }

    /// An item the store wrote out as text: its keys are named already, and
    /// its text is what is stored.
    pub(super) fn of_text(item: ItemText) -> Result<Self, TableError> {
        let key = base_key(item.key())?;
        let entry = |index: Index| -> Result<Option<Vec<u8>>, TableError> {
            let Some(Key { pk: ipk, sk: isk }) = item.index_key(index) else { return Ok(None) };
            let (ipk_name, isk_name) = index.key_attributes();
            check_key_part(ipk_name, ipk)?;
            check_key_part(isk_name, isk)?;
            Ok(Some(encode(&[ipk, isk, &item.key().pk, &item.key().sk])))
        };
        let entries = [entry(Index::Gsi1)?, entry(Index::Gsi2)?];
        Self::checked(key, item.into_json(), entries)
    }

    fn checked(key: Vec<u8>, bytes: Vec<u8>, entries: [Option<Vec<u8>>; 2]) -> Result<Self, TableError> {
        if bytes.len() > MAX_ITEM_BYTES {
            return Err(TableError::Validation("item exceeds DynamoDB's 400 KB limit".into()));
        }
        Ok(Self { key, bytes, entries })
    }
}

/// What a prepared write does to its key.
pub(super) enum PreparedOp {
    Put(EncodedItem),
    Delete(Vec<u8>),
    /// Only the condition (a transaction's check).
    Check(Vec<u8>),
}

impl PreparedOp {
    pub(super) fn key(&self) -> &[u8] {
        match self {
            PreparedOp::Put(item) => &item.key,
            PreparedOp::Delete(key) | PreparedOp::Check(key) => key,
        }
    }

    /// A transaction's or a single write's operation, ready.
    pub(super) fn of_write(op: WriteOp) -> Result<(Self, Condition), TableError> {
        Ok(match op {
            WriteOp::Put { item, condition } => (PreparedOp::Put(EncodedItem::of(&item)?), condition),
            WriteOp::PutText { item, condition } => (PreparedOp::Put(EncodedItem::of_text(item)?), condition),
            WriteOp::Delete { key, condition } => (PreparedOp::Delete(base_key(&key)?), condition),
            WriteOp::Check { key, condition } => (PreparedOp::Check(base_key(&key)?), condition),
        })
    }

    /// A batch's operation, ready.
    pub(super) fn of_batch(op: BatchOp) -> Result<Self, TableError> {
        Ok(match op {
            BatchOp::Put(item) => PreparedOp::Put(EncodedItem::of(&item)?),
            BatchOp::PutText(item) => PreparedOp::Put(EncodedItem::of_text(item)?),
            BatchOp::Delete(key) => PreparedOp::Delete(base_key(&key)?),
        })
    }
}

/// The key and index attributes of a stored item, read without building
/// the rest of it (unknown fields are skipped, not allocated).
#[derive(Deserialize)]
struct IndexAttributes<'a> {
    #[serde(borrow)]
    pk: Cow<'a, str>,
    #[serde(borrow)]
    sk: Cow<'a, str>,
    #[serde(borrow, default)]
    gsi1pk: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    gsi1sk: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    gsi2pk: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    gsi2sk: Option<Cow<'a, str>>,
}

/// The index entries of a stored item's JSON (to remove them with it).
pub(super) fn stored_entries(bytes: &[u8]) -> Result<[Option<Vec<u8>>; 2], TableError> {
    let stored: IndexAttributes<'_> =
        serde_json::from_slice(bytes).map_err(|e| TableError::Corrupt(format!("stored item: {e}")))?;
    let entry = |ipk: &Option<Cow<'_, str>>, isk: &Option<Cow<'_, str>>| -> Result<Option<Vec<u8>>, TableError> {
        match (ipk, isk) {
            (Some(ipk), Some(isk)) => Ok(Some(encode(&[ipk, isk, &stored.pk, &stored.sk]))),
            _ => Ok(None),
        }
    };
    Ok([entry(&stored.gsi1pk, &stored.gsi1sk)?, entry(&stored.gsi2pk, &stored.gsi2sk)?])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_stored_item_s_index_entries_are_the_ones_its_whole_reading_gives() -> Result<(), TableError> {
        let item = json!({"pk": "D#a#P#1", "sk": "CONTACT#cell", "gsi1pk": "D#a#C#+1617", "gsi1sk": "P#1",
            "note": "quote \" and é", "nested": {"gsi2pk": "not this one"}});
        let item = item.as_object().cloned().unwrap_or_default();
        let encoded = EncodedItem::of(&item)?;
        assert_eq!(stored_entries(&encoded.bytes)?, encoded.entries);
        assert!(encoded.entries[0].is_some() && encoded.entries[1].is_none());
        Ok(())
    }

    #[test]
    fn an_item_as_text_is_encoded_as_the_same_item_as_a_map() -> Result<(), TableError> {
        let text = ItemText::of(Key::new("D#a#B#1", "D#+1617"), &json!({"state": "sent"}))?
            .indexed(Index::Gsi1, Key::new("MSG#m-1", "D#a#B#1"))?;
        let from_map = EncodedItem::of(&text.to_item()?)?;
        let from_text = EncodedItem::of_text(text)?;
        assert_eq!((&from_text.key, &from_text.entries), (&from_map.key, &from_map.entries));
        assert_eq!(stored_entries(&from_text.bytes)?, from_text.entries);
        let bad = ItemText::of(Key::new("p", "s"), &json!({}))?.indexed(Index::Gsi2, Key::new("x\0y", "z"))?;
        assert!(matches!(EncodedItem::of_text(bad), Err(TableError::Validation(_))));
        Ok(())
    }

    #[test]
    fn an_item_over_dynamodb_s_size_limit_is_refused_before_the_writer() {
        let item = json!({"pk": "D#a#X", "sk": "#", "body": "x".repeat(MAX_ITEM_BYTES)});
        let item = item.as_object().cloned().unwrap_or_default();
        assert!(matches!(EncodedItem::of(&item), Err(TableError::Validation(_))));
    }
}
