//! `PhoneNumber`: an E.164 number, parsed once, masked when shown.

use std::fmt;
use std::str::FromStr;

use phonenumber::Mode;
use phonenumber::country::Id as CountryId;
use serde::{Deserialize, Serialize};

use super::DomainError;

/// The region that resolves national numbers (`(617) 555-0199`) for a
/// district. The US unless the district says otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region(CountryId);

impl Region {
    /// The United States (+1).
    pub const US: Region = Region(CountryId::US);

    /// A region from its ISO 3166 alpha-2 code (`US`, `CA`, `MX` ...).
    pub fn parse(code: &str) -> Result<Self, DomainError> {
        CountryId::from_str(&code.trim().to_ascii_uppercase())
            .map(Region)
            .map_err(|_| DomainError::Invalid(format!("`{code}` is not an ISO 3166 region code")))
    }
}

impl Default for Region {
    fn default() -> Self {
        Region::US
    }
}

/// A valid phone number in E.164 form (`+16175550199`).
///
/// `Display` and `Debug` mask all but the country code and the last two
/// digits, so a number can never reach a log line in full. The full number is
/// available only through [`PhoneNumber::as_e164`] and serialization.
///
/// Deserializing reads numbers this system wrote (records, tasks), which
/// `parse` checked against the numbering plan when they came in: it checks
/// the E.164 shape only. Running the plan's patterns again on every read
/// was a tenth of the send path's time. What comes from outside goes
/// through [`PhoneNumber::parse`] or [`PhoneNumber::parse_e164`].
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Parses what a person or an SIS wrote: E.164 or international forms
    /// (`+1 617 555 0199`), or a national form resolved in `region`.
    pub fn parse(input: &str, region: Region) -> Result<Self, DomainError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(DomainError::InvalidPhone("it is empty".into()));
        }
        if trimmed.len() > 40 {
            return Err(DomainError::InvalidPhone("it is too long".into()));
        }
        let parsed = phonenumber::parse(Some(region.0), trimmed)
            .map_err(|e| DomainError::InvalidPhone(format!("it does not parse ({e})")))?;
        if !phonenumber::is_valid(&parsed) {
            return Err(DomainError::InvalidPhone("it is not a valid number for its region".into()));
        }
        Ok(Self(parsed.format().mode(Mode::E164).to_string()))
    }

    /// Parses a number that must already be in E.164 form (stored values,
    /// provider payloads).
    pub fn parse_e164(input: &str) -> Result<Self, DomainError> {
        if !input.starts_with('+') {
            return Err(DomainError::InvalidPhone("E.164 numbers start with +".into()));
        }
        let number = Self::parse(input, Region::US)?;
        if number.0 != input {
            return Err(DomainError::InvalidPhone("it is not in E.164 form".into()));
        }
        Ok(number)
    }

    /// The full number, `+` and digits. Never log it.
    pub fn as_e164(&self) -> &str {
        &self.0
    }

    /// The national significant digits' last four, for simulators and
    /// display hints (`•••0199`).
    pub fn last_four(&self) -> &str {
        &self.0[self.0.len().saturating_sub(4)..]
    }

    fn masked(&self) -> String {
        let digits = &self.0[1..];
        let keep_tail = 2.min(digits.len());
        let head = if digits.starts_with('1') || digits.starts_with('7') { 1 } else { 2.min(digits.len()) };
        let hidden = digits.len().saturating_sub(head + keep_tail);
        format!("+{}{}{}", &digits[..head], "•".repeat(hidden), &digits[digits.len() - keep_tail..])
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = DomainError;
    /// The E.164 shape: `+`, then 8 to 15 digits, the first not 0.
    fn try_from(value: String) -> Result<Self, Self::Error> {
        let digits = value.strip_prefix('+').unwrap_or_default();
        let shaped =
            (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0');
        if shaped { Ok(Self(value)) } else { Err(DomainError::InvalidPhone("it is not in E.164 form".into())) }
    }
}

impl From<PhoneNumber> for String {
    fn from(number: PhoneNumber) -> String {
        number.0
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNumber({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_stored_number_reads_back_when_e164_shaped_and_is_refused_otherwise() {
        let read = |text: &str| serde_json::from_value::<PhoneNumber>(serde_json::json!(text));
        assert_eq!(read("+16175550199").map(|n| n.as_e164().to_string()).ok(), Some("+16175550199".into()));
        for bad in ["16175550199", "+1617555019x", "+0617555019", "+1234567", "+1234567890123456", "+", ""] {
            assert!(read(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn national_us_numbers_resolve_to_e164() -> Result<(), DomainError> {
        for written in ["(617) 555-0199", "617-555-0199", "6175550199", "+1 617 555 0199", "1 (617) 555.0199"] {
            assert_eq!(PhoneNumber::parse(written, Region::US)?.as_e164(), "+16175550199", "{written}");
        }
        Ok(())
    }

    #[test]
    fn a_district_region_resolves_its_own_national_numbers() -> Result<(), DomainError> {
        let mexico = Region::parse("mx")?;
        assert_eq!(PhoneNumber::parse("55 1234 5678", mexico)?.as_e164(), "+525512345678");
        Ok(())
    }

    #[test]
    fn garbage_and_impossible_numbers_are_refused() {
        for bad in ["", "   ", "hello", "555", "+1 000 000 0000", "(617) 555-019"] {
            assert!(PhoneNumber::parse(bad, Region::US).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn display_and_debug_never_show_the_whole_number() -> Result<(), DomainError> {
        let number = PhoneNumber::parse("(617) 555-0199", Region::US)?;
        assert_eq!(number.to_string(), "+1••••••••99");
        assert!(!format!("{number:?}").contains("5550199"));
        Ok(())
    }

    #[test]
    fn stored_numbers_must_be_exact_e164() {
        assert!(PhoneNumber::parse_e164("+16175550199").is_ok());
        assert!(PhoneNumber::parse_e164("6175550199").is_err());
        assert!(PhoneNumber::parse_e164("+1 617 555 0199").is_err());
    }

    proptest! {
        #[test]
        fn parsing_never_panics_and_output_is_e164(input in "\\PC{0,30}") {
            if let Ok(number) = PhoneNumber::parse(&input, Region::US) {
                prop_assert!(number.as_e164().starts_with('+'));
                prop_assert!(number.as_e164()[1..].chars().all(|c| c.is_ascii_digit()));
                prop_assert_eq!(PhoneNumber::parse_e164(number.as_e164()), Ok(number.clone()));
            }
        }
    }
}
