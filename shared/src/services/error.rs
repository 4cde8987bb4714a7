//! The error every service returns; the HTTP layer maps it to a status once.

use crate::domain::{DomainError, FileRejected};
use crate::store::StoreError;

/// Why a use case did not complete.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The input breaks a domain rule (422).
    #[error(transparent)]
    Invalid(#[from] DomainError),
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
}

impl ServiceError {
    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            ServiceError::Store(e) => e.is_retryable(),
            ServiceError::Queue(e) => e.is_retryable(),
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
