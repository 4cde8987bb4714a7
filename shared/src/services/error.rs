//! The error every service returns; the HTTP layer maps it to a status once.

use crate::domain::{DomainError, FileRejected};
use crate::store::StoreError;

/// Why a use case did not complete.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The input breaks a domain rule (422).
    #[error(transparent)]
    Invalid(#[from] DomainError),
    /// The caller is not who they claim, or named no one: a missing, wrong,
    /// revoked or stale credential (401).
    #[error("{0}")]
    Unauthorized(String),
    /// The caller's role or scope does not allow it (403).
    #[error("{0}")]
    Forbidden(String),
    /// Nothing with that id in the caller's district (404).
    #[error("{0}")]
    NotFound(String),
    /// It exists already or changed meanwhile (409).
    #[error("{0}")]
    Conflict(String),
    /// An import file that cannot be imported at all (422), every problem listed.
    #[error(transparent)]
    FileRejected(FileRejected),
    /// A backend failed; the message is for operators, not callers.
    #[error(transparent)]
    Store(StoreError),
    /// The work queue failed; the message is for operators.
    #[error(transparent)]
    Queue(#[from] crate::ports::QueueError),
    /// The file store failed (unavailable: retryable); for operators.
    #[error(transparent)]
    Files(#[from] crate::ports::FileError),
    /// A page cursor this page did not hand out (400).
    #[error(transparent)]
    Cursor(#[from] crate::services::cursors::CursorError),
    /// An output could not be produced (a CSV writer failed); a bug, not the caller's.
    #[error("{0}")]
    Internal(String),
}

impl ServiceError {
    /// A request that breaks a rule (422), with the message the caller reads.
    pub fn invalid(message: impl Into<String>) -> Self {
        ServiceError::Invalid(DomainError::invalid(message))
    }

    /// An output that could not be produced (CSV writing into memory).
    pub fn internal(error: impl std::fmt::Display) -> Self {
        ServiceError::Internal(error.to_string())
    }

    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            ServiceError::Store(e) => e.is_retryable(),
            ServiceError::Queue(e) => e.is_retryable(),
            ServiceError::Files(e) => e.is_retryable(),
            _ => false,
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Table(crate::ports::TableError::Validation(message)) => {
                ServiceError::Invalid(DomainError::Invalid(message))
            }
            other => ServiceError::Store(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::FileError;

    #[test]
    fn a_file_store_outage_and_a_lost_race_are_retryable_and_a_bad_key_or_corrupt_data_are_not() {
        assert!(ServiceError::from(FileError::Unavailable("s3 down".into())).is_retryable());
        assert!(!ServiceError::from(FileError::InvalidKey("../x".into())).is_retryable());
        assert!(ServiceError::from(StoreError::Conflict).is_retryable(), "read again and retry");
        assert!(!ServiceError::from(StoreError::corrupt("bad item")).is_retryable());
        assert!(!ServiceError::from(StoreError::AlreadyExists).is_retryable());
    }
}
