//! Errors of the store's access patterns.

use crate::ports::TableError;

/// What went wrong reading or writing the district's data.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The item to create exists already.
    #[error("it already exists")]
    AlreadyExists,
    /// The item changed since it was read (a version or timestamp
    /// condition): someone else wrote first. Read again and retry.
    #[error("it changed meanwhile")]
    Conflict,
    /// A stored item does not read back as the type it should hold.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The table failed.
    #[error(transparent)]
    Table(#[from] TableError),
}

impl StoreError {
    /// Stored data that does not read back as what it should hold.
    pub fn corrupt(error: impl std::fmt::Display) -> Self {
        StoreError::Corrupt(error.to_string())
    }

    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            StoreError::Table(e) => e.is_retryable(),
            StoreError::Conflict => true,
            StoreError::AlreadyExists | StoreError::Corrupt(_) => false,
        }
    }
}
