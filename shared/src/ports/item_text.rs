//! `ItemText`: an item the store wrote out as its JSON text itself, keys
//! included, for a put. A typed record becomes the text that is stored in
//! one pass: no `Item` map is built, filled, written out and dropped on the
//! way. The embedded table stores the text as it is, its keys already
//! named; DynamoDB reads it into attributes as it would an `Item`.

use serde::Serialize;

use super::table::{EXPIRES_AT, Index, Item, Key, TableError};

/// An item as JSON text, with its key and index keys named apart so a
/// backend need not parse the text to place it.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemText {
    key: Key,
    /// GSI1's and GSI2's keys, where the item is in those indexes.
    indexes: [Option<Key>; 2],
    json: Vec<u8>,
}

fn invalid(error: serde_json::Error) -> TableError {
    TableError::Validation(format!("item: {error}"))
}

fn slot(index: Index) -> Result<usize, TableError> {
    match index {
        Index::Primary => Err(TableError::Validation("an item's base key is set when it is made".into())),
        Index::Gsi1 => Ok(0),
        Index::Gsi2 => Ok(1),
    }
}

impl ItemText {
    /// `record`'s fields behind the key attributes. The record must write
    /// out as a JSON object, and must not itself name the key, index or
    /// expiry attributes (each attribute is written once: the store's
    /// records are plain data that never do).
    pub fn of<T: Serialize + ?Sized>(key: Key, record: &T) -> Result<Self, TableError> {
        let mut json = Vec::with_capacity(256);
        json.extend_from_slice(b"{\"pk\":");
        serde_json::to_writer(&mut json, &key.pk).map_err(invalid)?;
        json.extend_from_slice(b",\"sk\":");
        serde_json::to_writer(&mut json, &key.sk).map_err(invalid)?;
        let fields = json.len();
        serde_json::to_writer(&mut json, record).map_err(invalid)?;
        match &json[fields..] {
            // No fields: the keys alone.
            b"{}" => {
                json.truncate(fields);
                json.push(b'}');
            }
            [b'{', ..] => json[fields] = b',',
            _ => return Err(TableError::Validation("an item's record must write out as a JSON object".into())),
        }
        Ok(Self { key, indexes: [None, None], json })
    }

    /// The item with one more attribute, written last.
    fn with_attribute<V: Serialize + ?Sized>(mut self, name: &str, value: &V) -> Result<Self, TableError> {
        // The text always ends with the object's closing brace, after at least the keys.
        self.json.pop();
        self.json.push(b',');
        serde_json::to_writer(&mut self.json, name).map_err(invalid)?;
        self.json.push(b':');
        serde_json::to_writer(&mut self.json, value).map_err(invalid)?;
        self.json.push(b'}');
        Ok(self)
    }

    /// The item also in `index` (GSI1 or GSI2) under `key`.
    pub fn indexed(self, index: Index, key: Key) -> Result<Self, TableError> {
        let slot = slot(index)?;
        let (pk_name, sk_name) = index.key_attributes();
        let mut item = self.with_attribute(pk_name, &key.pk)?.with_attribute(sk_name, &key.sk)?;
        item.indexes[slot] = Some(key);
        Ok(item)
    }

    /// The item gone (to every read and condition) from `epoch_seconds` on.
    pub fn expiring(self, epoch_seconds: i64) -> Result<Self, TableError> {
        self.with_attribute(EXPIRES_AT, &epoch_seconds)
    }

    /// The item's base-table key.
    pub fn key(&self) -> &Key {
        &self.key
    }

    /// The item's key in `index`, if it is in it.
    pub fn index_key(&self, index: Index) -> Option<&Key> {
        match index {
            Index::Primary => Some(&self.key),
            other => slot(other).ok().and_then(|slot| self.indexes[slot].as_ref()),
        }
    }

    /// The whole item's JSON text.
    pub fn json(&self) -> &[u8] {
        &self.json
    }

    /// The text, for a backend that stores it.
    pub fn into_json(self) -> Vec<u8> {
        self.json
    }

    /// The item as an attribute map, for a backend that takes those.
    pub fn to_item(&self) -> Result<Item, TableError> {
        serde_json::from_slice(&self.json).map_err(invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(value: serde_json::Value) -> Item {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn a_record_s_text_is_its_fields_behind_its_keys() -> Result<(), TableError> {
        let text = ItemText::of(Key::new("D#a#B#1", "#B"), &json!({"state": "sent", "note": "\"é\""}))?;
        assert_eq!(text.to_item()?, map(json!({"pk": "D#a#B#1", "sk": "#B", "state": "sent", "note": "\"é\""})));
        assert_eq!(text.key(), &Key::new("D#a#B#1", "#B"));
        Ok(())
    }

    #[test]
    fn a_record_with_no_fields_is_its_keys_alone() -> Result<(), TableError> {
        #[derive(Serialize)]
        struct Nothing {}
        let text = ItemText::of(Key::new("p", "s"), &Nothing {})?;
        assert_eq!(text.json(), br#"{"pk":"p","sk":"s"}"#);
        let text = text.expiring(7)?;
        assert_eq!(text.to_item()?, map(json!({"pk": "p", "sk": "s", "expires_at": 7})));
        Ok(())
    }

    #[test]
    fn index_keys_and_expiry_are_attributes_of_the_text_and_named_apart() -> Result<(), TableError> {
        let text = ItemText::of(Key::new("p", "s"), &json!({"a": 1}))?
            .indexed(Index::Gsi1, Key::new("MSG#x", "p"))?
            .expiring(99)?;
        let expected = json!({"pk": "p", "sk": "s", "a": 1, "gsi1pk": "MSG#x", "gsi1sk": "p", "expires_at": 99});
        assert_eq!(text.to_item()?, map(expected));
        assert_eq!(text.index_key(Index::Gsi1), Some(&Key::new("MSG#x", "p")));
        assert_eq!(text.index_key(Index::Gsi2), None);
        assert_eq!(text.index_key(Index::Primary), Some(&Key::new("p", "s")));
        Ok(())
    }

    #[test]
    fn a_record_that_is_not_an_object_is_refused() {
        assert!(matches!(ItemText::of(Key::new("p", "s"), &json!([1, 2])), Err(TableError::Validation(_))));
        assert!(matches!(ItemText::of(Key::new("p", "s"), "text"), Err(TableError::Validation(_))));
        let text = ItemText::of(Key::new("p", "s"), &json!({}));
        assert!(matches!(text.map(|t| t.indexed(Index::Primary, Key::new("x", "y"))), Ok(Err(_))));
    }
}
