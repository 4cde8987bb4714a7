//! The store: schoolbell's single-table key design and its access patterns,
//! written once over the `Table` port, so the embedded table and DynamoDB
//! run the very same keys, queries and conditions.
//!
//! - `keys`: every key and index key, and the layout table.
//! - `people`: people, contact points, school memberships.

mod error;
pub mod keys;
mod people;

pub use error::StoreError;
pub use people::{MAX_SCHOOLS_PER_PERSON, PeopleStore};
