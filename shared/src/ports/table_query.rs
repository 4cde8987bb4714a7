//! The read side of the `Table` port: a query over one partition of one
//! index, its pages and the cursor between them, and an item handed over as
//! its stored JSON text.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use super::table::{Index, Item, Key, PK, SK, TableError, string_attribute};

/// The sort-key part of a query.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum SortKey {
    /// Every item of the partition.
    #[default]
    Any,
    /// Sort key equals the value.
    Equals(String),
    /// Sort key starts with the prefix.
    BeginsWith(String),
    /// Sort key between the two values, both included.
    Between(String, String),
}

/// A query over one partition of one index.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// Which index to read.
    pub index: Index,
    /// The partition key value of that index.
    pub partition: String,
    /// The sort key condition.
    pub sort: SortKey,
    /// Newest (highest sort key) first when true.
    pub descending: bool,
    /// At most this many items in the page (DynamoDB may return fewer).
    pub limit: Option<u32>,
    /// Continue after the page this cursor ended.
    pub cursor: Option<Cursor>,
}

impl Query {
    /// Every item of a base-table partition, ascending.
    pub fn partition(pk: impl Into<String>) -> Self {
        Self::on(Index::Primary, pk)
    }

    /// Every item of a partition of the given index, ascending.
    pub fn on(index: Index, partition: impl Into<String>) -> Self {
        Self { index, partition: partition.into(), sort: SortKey::Any, descending: false, limit: None, cursor: None }
    }

    /// Restricts the sort key.
    #[must_use]
    pub fn sort(mut self, sort: SortKey) -> Self {
        self.sort = sort;
        self
    }

    /// Reads highest sort keys first.
    #[must_use]
    pub fn descending(mut self) -> Self {
        self.descending = true;
        self
    }

    /// Limits the page size.
    #[must_use]
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Continues after a previous page.
    #[must_use]
    pub fn after(mut self, cursor: Option<Cursor>) -> Self {
        self.cursor = cursor;
        self
    }
}

/// A continuation token between the store and a table: where the previous
/// page stopped.
///
/// It encodes the key attributes of the last item read (as DynamoDB's
/// `LastEvaluatedKey` does), so both backends exchange the same format.
/// That is readable (a key may hold a phone number or an address), so it
/// never leaves the process as is: the API hands out only cursors sealed
/// by `services::cursors`, and opens them back into this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(String);

impl Cursor {
    /// Encodes the key attributes of the last item of a page.
    pub fn from_key_attributes(attributes: &Item) -> Self {
        Self(URL_SAFE_NO_PAD.encode(Value::Object(attributes.clone()).to_string()))
    }

    /// Decodes the key attributes this cursor carries.
    pub fn key_attributes(&self) -> Result<Item, TableError> {
        let bytes =
            URL_SAFE_NO_PAD.decode(&self.0).map_err(|_| TableError::Validation("cursor is not valid base64".into()))?;
        match serde_json::from_slice(&bytes) {
            Ok(Value::Object(map)) if map.values().all(Value::is_string) => Ok(map),
            _ => Err(TableError::Validation("cursor does not hold a key".into())),
        }
    }

    /// The token as given to clients.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A token opened from a client's sealed cursor; checked again when used.
    pub fn from_token(token: impl Into<String>) -> Self {
        Self(token.into())
    }
}

/// One page of a query.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Page {
    /// Items in index order.
    pub items: Vec<Item>,
    /// Present when more items may follow.
    pub cursor: Option<Cursor>,
}

/// One stored item as its key and JSON text. A typed record reads straight
/// from the text: parsing it into an [`Item`] map first and the record out
/// of the map cost twice the allocations, the largest share of a local
/// send's time.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredItem {
    /// The item's primary key.
    pub key: Key,
    /// The whole item, keys included, as a JSON object.
    pub json: Vec<u8>,
}

impl StoredItem {
    /// An item's text; a validation error when it has no key.
    pub fn of(item: &Item) -> Result<Self, TableError> {
        let json = serde_json::to_vec(item).map_err(|e| TableError::Validation(e.to_string()))?;
        Ok(Self { key: Key::of(item)?, json })
    }
}

/// One page of a query, each item as its text.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StoredPage {
    /// Items in index order.
    pub items: Vec<StoredItem>,
    /// Present when more items may follow.
    pub cursor: Option<Cursor>,
}

impl StoredPage {
    /// A page's items as text.
    pub fn of(page: Page) -> Result<Self, TableError> {
        let items = page.items.iter().map(StoredItem::of).collect::<Result<_, _>>()?;
        Ok(Self { items, cursor: page.cursor })
    }
}

/// Decodes a query's cursor and checks it belongs to the queried partition,
/// so a client cannot page into another partition (or district) with it.
pub fn checked_cursor(index: Index, partition: &str, cursor: Option<&Cursor>) -> Result<Option<Item>, TableError> {
    let Some(cursor) = cursor else { return Ok(None) };
    let keys = cursor.key_attributes()?;
    let (ipk, isk) = index.key_attributes();
    for name in [PK, SK, ipk, isk] {
        string_attribute(&keys, name).map_err(|_| TableError::Validation("cursor does not fit this query".into()))?;
    }
    if keys.get(ipk).and_then(|v| v.as_str()) != Some(partition) {
        return Err(TableError::Validation("cursor belongs to another partition".into()));
    }
    Ok(Some(keys))
}
