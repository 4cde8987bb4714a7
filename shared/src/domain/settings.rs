//! A district's messaging settings: its name (messages and HELP answers
//! say who is writing), its time zone and its quiet hours.

use serde::{Deserialize, Serialize};

use super::DomainError;
use super::quiet_hours::{QuietHours, parse_time_zone};

/// The time zone of a district that set none.
pub const DEFAULT_TIME_ZONE: &str = "America/New_York";
/// Longest district display name.
pub const MAX_DISTRICT_NAME: usize = 100;

/// A district's settings as stored and served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistrictSettings {
    /// The name messages are signed with.
    #[serde(default)]
    pub name: Option<String>,
    /// IANA time zone (`America/Chicago`).
    #[serde(default = "default_zone")]
    pub time_zone: String,
    /// No non-emergency message goes out inside this window.
    #[serde(default)]
    pub quiet_hours: QuietHours,
}

fn default_zone() -> String {
    DEFAULT_TIME_ZONE.into()
}

impl Default for DistrictSettings {
    fn default() -> Self {
        Self { name: None, time_zone: default_zone(), quiet_hours: QuietHours::default() }
    }
}

impl DistrictSettings {
    /// Checks the time zone and the name; quiet hours were checked when read.
    pub fn validate(self) -> Result<Self, DomainError> {
        parse_time_zone(&self.time_zone)?;
        let name = match self.name {
            Some(name) if name.trim().is_empty() => None,
            Some(name) if name.chars().count() > MAX_DISTRICT_NAME || name.chars().any(char::is_control) => {
                return Err(DomainError::Invalid(format!(
                    "name: at most {MAX_DISTRICT_NAME} characters, no control characters"
                )));
            }
            other => other.map(|n| n.trim().to_string()),
        };
        Ok(Self { name, ..self })
    }

    /// The district's time zone (the default when the stored one no longer parses).
    pub fn zone(&self) -> chrono_tz::Tz {
        parse_time_zone(&self.time_zone).unwrap_or(chrono_tz::America::New_York)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_time_zone_is_refused_and_a_blank_name_is_none() {
        let bad = DistrictSettings { time_zone: "Mars/Olympus".into(), ..DistrictSettings::default() };
        assert!(bad.validate().is_err());
        let blank = DistrictSettings { name: Some("  ".into()), ..DistrictSettings::default() };
        assert_eq!(blank.validate().map(|s| s.name), Ok(None));
    }
}
