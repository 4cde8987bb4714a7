//! The error of a value that does not pass its domain rules.

/// Why a value was refused. Messages are safe to show to the caller and to
/// log: they never repeat a phone number, address or name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// A phone number that does not parse or is not a valid number.
    #[error("invalid phone number: {0}")]
    InvalidPhone(String),
    /// An email address that is not well-formed.
    #[error("invalid email address: {0}")]
    InvalidEmail(String),
    /// An identifier that is empty, too long or uses a reserved character.
    #[error("invalid {kind} id: {reason}")]
    InvalidId {
        /// Which kind of id (district, person ...).
        kind: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A name of an enumeration that is not one of its values.
    #[error("unknown {kind} `{value}`; expected one of: {expected}")]
    UnknownName {
        /// Which enumeration.
        kind: &'static str,
        /// The name given (never contact data).
        value: String,
        /// The names accepted.
        expected: String,
    },
    /// Any other rule a value breaks.
    #[error("{0}")]
    Invalid(String),
}

impl DomainError {
    /// A value that breaks a rule, with the message the caller reads.
    pub fn invalid(message: impl Into<String>) -> Self {
        DomainError::Invalid(message.into())
    }

    /// Domain errors are final: the same input fails the same way.
    pub fn is_retryable(&self) -> bool {
        false
    }
}
