//! A person (student, guardian, staff member) and their contact points.

use serde::{Deserialize, Serialize};

use super::named_enum::named_enum;
use super::{Channel, DomainError, EmailAddress, PersonId, PhoneNumber, Region, SchoolId};

/// Longest given or family name accepted.
pub const MAX_NAME_LEN: usize = 100;

named_enum!(
    /// What a person is to the district.
    PersonRole, "person role" {
        /// A student.
        Student => "student",
        /// A parent, guardian or other relative of a student.
        Guardian => "guardian",
        /// A teacher or other employee.
        Staff => "staff",
    }
);

/// A validated phone number or email address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ContactValue {
    /// For the phone channels.
    Phone(PhoneNumber),
    /// For the email channels.
    Email(EmailAddress),
}

impl ContactValue {
    /// The raw value (E.164 number or lower-case address). Never log it.
    pub fn as_raw(&self) -> &str {
        match self {
            ContactValue::Phone(number) => number.as_e164(),
            ContactValue::Email(address) => address.as_str(),
        }
    }
}

impl std::fmt::Display for ContactValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ContactValue::Phone(number) => number.fmt(f),
            ContactValue::Email(address) => address.fmt(f),
        }
    }
}

/// One way to reach a person: a channel slot and its value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ContactPoint {
    /// Which slot (cell phone, email ...). Never `text`: a text uses the cell phone.
    pub channel: Channel,
    /// The number or address.
    pub value: ContactValue,
}

impl ContactPoint {
    /// Validates a value written for a channel slot. Phone values are
    /// resolved in the district's region.
    pub fn parse(channel: Channel, value: &str, region: Region) -> Result<Self, DomainError> {
        let value = if channel == Channel::Text {
            return Err(DomainError::Invalid(
                "`text` is not a contact point: give the number as `cell_phone`; texts go to it".into(),
            ));
        } else if channel.is_phone() {
            ContactValue::Phone(PhoneNumber::parse(value, region)?)
        } else {
            ContactValue::Email(EmailAddress::parse(value)?)
        };
        Ok(Self { channel, value })
    }
}

/// A person as the district knows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// The SIS id (sourcedId) or one given by staff.
    pub id: PersonId,
    /// Student, guardian or staff.
    pub role: PersonRole,
    /// Given (first) name.
    pub given_name: String,
    /// Family (last) name.
    pub family_name: String,
    /// Schools the person belongs to; empty for district-level people.
    #[serde(default)]
    pub schools: Vec<SchoolId>,
    /// At most one contact point per channel.
    #[serde(default)]
    pub contacts: Vec<ContactPoint>,
}

/// A person as a caller wrote them, before validation.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonInput {
    /// See [`Person::id`].
    pub id: String,
    /// See [`Person::role`].
    pub role: String,
    /// See [`Person::given_name`].
    pub given_name: String,
    /// See [`Person::family_name`].
    pub family_name: String,
    /// See [`Person::schools`].
    #[serde(default)]
    pub schools: Vec<String>,
    /// See [`Person::contacts`].
    #[serde(default)]
    pub contacts: Vec<ContactInput>,
}

/// A contact point as a caller wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    /// Channel name (`cell_phone`, `email` ...).
    pub channel: String,
    /// The number or address as written.
    pub value: String,
}

fn field<T>(path: &str, result: Result<T, DomainError>) -> Result<T, DomainError> {
    result.map_err(|e| DomainError::Invalid(format!("{path}: {e}")))
}

fn name(path: &str, value: &str) -> Result<String, DomainError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(DomainError::Invalid(format!("{path}: must not be empty")));
    }
    if trimmed.chars().count() > MAX_NAME_LEN {
        return Err(DomainError::Invalid(format!("{path}: must be at most {MAX_NAME_LEN} characters")));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(DomainError::Invalid(format!("{path}: must not hold control characters")));
    }
    Ok(trimmed.to_string())
}

impl Person {
    /// Validates a caller's person; errors name the field (`contacts[1].value`).
    pub fn from_input(input: &PersonInput, region: Region) -> Result<Self, DomainError> {
        let id = field("id", PersonId::parse(input.id.clone()))?;
        let role = field("role", input.role.parse())?;
        let given_name = name("given_name", &input.given_name)?;
        let family_name = name("family_name", &input.family_name)?;
        let mut schools = Vec::with_capacity(input.schools.len());
        for (i, school) in input.schools.iter().enumerate() {
            let school = field(&format!("schools[{i}]"), SchoolId::parse(school.clone()))?;
            if !schools.contains(&school) {
                schools.push(school);
            }
        }
        let mut contacts: Vec<ContactPoint> = Vec::with_capacity(input.contacts.len());
        for (i, contact) in input.contacts.iter().enumerate() {
            let channel: Channel = field(&format!("contacts[{i}].channel"), contact.channel.parse())?;
            let point = field(&format!("contacts[{i}].value"), ContactPoint::parse(channel, &contact.value, region))?;
            if contacts.iter().any(|c| c.channel == channel) {
                return Err(DomainError::Invalid(format!(
                    "contacts[{i}].channel: a person has at most one `{channel}`"
                )));
            }
            contacts.push(point);
        }
        Ok(Self { id, role, given_name, family_name, schools, contacts })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> PersonInput {
        PersonInput {
            id: "g-1".into(),
            role: "guardian".into(),
            given_name: " Ana ".into(),
            family_name: "Diaz".into(),
            schools: vec!["s-1".into(), "s-1".into()],
            contacts: vec![
                ContactInput { channel: "cell_phone".into(), value: "(617) 555-0199".into() },
                ContactInput { channel: "email".into(), value: "Ana@Example.org".into() },
            ],
        }
    }

    #[test]
    fn a_valid_person_is_normalized() -> Result<(), DomainError> {
        let person = Person::from_input(&input(), Region::US)?;
        assert_eq!(person.given_name, "Ana");
        assert_eq!(person.schools.len(), 1);
        assert_eq!(person.contacts[0].value.as_raw(), "+16175550199");
        assert_eq!(person.contacts[1].value.as_raw(), "ana@example.org");
        Ok(())
    }

    #[test]
    fn errors_name_the_field_that_is_wrong() {
        let mut bad = input();
        bad.contacts[1].value = "not-an-address".into();
        let message = Person::from_input(&bad, Region::US).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.starts_with("contacts[1].value: invalid email address"), "{message}");
        assert!(!message.contains("not-an-address"), "errors never echo contact data: {message}");
    }

    #[test]
    fn text_is_not_a_slot_and_slots_are_unique() {
        let mut text = input();
        text.contacts[0].channel = "text".into();
        assert!(Person::from_input(&text, Region::US).is_err());
        let mut twice = input();
        twice.contacts[1] = twice.contacts[0].clone();
        assert!(Person::from_input(&twice, Region::US).is_err());
    }

    #[test]
    fn a_phone_slot_refuses_an_email_and_names_must_not_be_blank() {
        let mut swapped = input();
        swapped.contacts[0].value = "ana@example.org".into();
        assert!(Person::from_input(&swapped, Region::US).is_err());
        let mut blank = input();
        blank.family_name = "  ".into();
        assert!(Person::from_input(&blank, Region::US).is_err());
    }
}
