//! `ReceiptError`: why a provider body could not be read as receipts.
//!
//! Messages name the dialect and the field, never a value from the body, so
//! they are safe to log and to answer with: a body can hold phone numbers and
//! email addresses.

use super::Dialect;

/// Why a body is not a receipt. Every variant is final: the same bytes fail
/// the same way, so a caller must not retry them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    /// The body does not have the dialect's shape (not JSON, not a form,
    /// not an SMPP receipt, a field of the wrong type ...).
    #[error("malformed {dialect} body: {reason}")]
    Malformed {
        /// The dialect the body was read as.
        dialect: Dialect,
        /// What is wrong, in words that never repeat the body.
        reason: String,
    },
    /// A field every receipt of the dialect carries is absent or empty.
    #[error("{dialect} body has no `{field}`")]
    MissingField {
        /// The dialect the body was read as.
        dialect: Dialect,
        /// The field's name as the provider spells it.
        field: &'static str,
    },
    /// A well-formed body that is not a delivery receipt (an inbound
    /// message, a subscription confirmation, an open or click event ...).
    #[error("{dialect} body is not a delivery receipt: {what}")]
    UnsupportedMessageType {
        /// The dialect the body was read as.
        dialect: Dialect,
        /// What it is instead (a provider type name, never contact data).
        what: String,
    },
    /// A dialect name that is not one of [`Dialect::ALL`].
    #[error("unknown receipt dialect `{0}`; expected one of: {expected}", expected = Dialect::names())]
    UnknownDialect(String),
}

impl ReceiptError {
    /// Receipt errors are final: parsing the same body again fails again.
    pub fn is_retryable(&self) -> bool {
        false
    }

    pub(crate) fn malformed(dialect: Dialect, reason: impl Into<String>) -> Self {
        ReceiptError::Malformed { dialect, reason: reason.into() }
    }

    pub(crate) fn missing(dialect: Dialect, field: &'static str) -> Self {
        ReceiptError::MissingField { dialect, field }
    }

    pub(crate) fn unsupported(dialect: Dialect, what: &str) -> Self {
        ReceiptError::UnsupportedMessageType { dialect, what: super::fields::safe_label(what) }
    }
}
