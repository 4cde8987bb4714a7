//! Identifiers: validated once, safe to embed in store keys.

use serde::{Deserialize, Serialize};

use super::DomainError;

/// Longest id accepted (SIS sourcedIds are GUIDs or short codes).
pub const MAX_ID_LEN: usize = 128;

/// Checks an id: 1..=128 characters of ASCII letters, digits and `-_.:@`.
/// `#` is excluded because it separates the parts of store keys.
pub fn validate_id(kind: &'static str, value: &str) -> Result<(), DomainError> {
    let reason = if value.is_empty() {
        Some("must not be empty".to_string())
    } else if value.len() > MAX_ID_LEN {
        Some(format!("must be at most {MAX_ID_LEN} characters"))
    } else if !value.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:@".contains(c)) {
        Some("may hold only ASCII letters, digits and - _ . : @".to_string())
    } else {
        None
    };
    reason.map_or(Ok(()), |reason| Err(DomainError::InvalidId { kind, reason }))
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Validates and wraps the id.
            pub fn parse(value: impl Into<String>) -> Result<Self, DomainError> {
                let value = value.into();
                validate_id($kind, &value)?;
                Ok(Self(value))
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = DomainError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(value)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = DomainError;
            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Self::parse(value)
            }
        }
    };
}

id_type!(
    /// A school district: the tenant. Every store key starts with it.
    DistrictId,
    "district"
);
id_type!(
    /// A school (a OneRoster org of type school).
    SchoolId,
    "school"
);
id_type!(
    /// A person: student, guardian or staff member (the SIS sourcedId).
    PersonId,
    "person"
);
id_type!(
    /// A broadcast.
    BroadcastId,
    "broadcast"
);
id_type!(
    /// An import definition.
    ImportId,
    "import"
);
id_type!(
    /// A saved recipient list.
    ListId,
    "list"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_refuse_the_key_separator_and_blank_values() {
        assert!(PersonId::parse("g-1").is_ok());
        assert!(PersonId::parse("2f0c:ab.12@sis").is_ok());
        assert!(PersonId::parse("a#b").is_err());
        assert!(PersonId::parse("").is_err());
        assert!(PersonId::parse("a b").is_err());
        assert!(PersonId::parse("x".repeat(129)).is_err());
    }

    #[test]
    fn ids_deserialize_only_when_valid() {
        assert!(serde_json::from_str::<DistrictId>("\"d-1\"").is_ok());
        assert!(serde_json::from_str::<DistrictId>("\"d#1\"").is_err());
    }
}
