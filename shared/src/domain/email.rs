//! `EmailAddress`: a well-formed address, lower-cased, masked when shown.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::DomainError;

/// A well-formed email address, stored lower-cased so that one mailbox is
/// one contact point. `Display` and `Debug` mask the local part.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Trims, lower-cases and checks the address (RFC 5322 addr-spec with a
    /// dotted domain, at most 254 characters).
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let normalized = input.trim().to_lowercase();
        if normalized.is_empty() {
            return Err(DomainError::InvalidEmail("it is empty".into()));
        }
        if normalized.len() > 254 {
            return Err(DomainError::InvalidEmail("it is longer than 254 characters".into()));
        }
        if !email_address::EmailAddress::is_valid(&normalized) {
            return Err(DomainError::InvalidEmail("it is not a well-formed address".into()));
        }
        let domain = normalized.rsplit_once('@').map(|(_, domain)| domain).unwrap_or_default();
        if !domain.contains('.') || domain.starts_with('[') {
            return Err(DomainError::InvalidEmail("its domain must be a dotted host name".into()));
        }
        Ok(Self(normalized))
    }

    /// The full address. Never log it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part after `@`.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, domain)| domain).unwrap_or_default()
    }

    fn masked(&self) -> String {
        let first = self.0.chars().next().unwrap_or('?');
        format!("{first}•••@{}", self.domain())
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<EmailAddress> for String {
    fn from(address: EmailAddress) -> String {
        address.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EmailAddress({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_trimmed_and_lower_cased() -> Result<(), DomainError> {
        assert_eq!(EmailAddress::parse("  Ana@Example.org ")?.as_str(), "ana@example.org");
        Ok(())
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for bad in ["", "ana", "ana@", "@example.org", "ana@localhost", "a b@example.org", "ana@@example.org"] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn display_masks_the_mailbox() -> Result<(), DomainError> {
        let address = EmailAddress::parse("ana.diaz@example.org")?;
        assert_eq!(address.to_string(), "a•••@example.org");
        assert!(!format!("{address:?}").contains("ana.diaz"));
        Ok(())
    }
}
