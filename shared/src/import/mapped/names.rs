//! The small rules of flat files: splitting a whole name, reading a
//! relationship word, and making a stable contact id when the file has none.

use crate::domain::{MAX_ID_LEN, RelationshipKind};

/// Words that belong to the family name that follows them (`de la Cruz`, `van der Berg`).
const PARTICLES: &[&str] = &[
    "de", "del", "della", "der", "den", "da", "das", "do", "dos", "di", "du", "la", "las", "le", "los", "van", "von",
    "st", "st.", "bin", "ibn", "al", "el", "y",
];

/// Suffixes that stay with the family name (`Smith Jr.`).
const SUFFIXES: &[&str] = &["jr", "jr.", "sr", "sr.", "ii", "iii", "iv", "v"];

/// Splits a whole name written in one field into (given, family).
///
/// - `Family, Given` (a comma) is read as such.
/// - Otherwise the last word is the family name, together with the
///   particles before it (`Maria de la Cruz` → `Maria` / `de la Cruz`) and a
///   suffix after it (`John Smith Jr.` → `John` / `Smith Jr.`); the words
///   before are the given name (`Mary Ann Smith` → `Mary Ann` / `Smith`).
/// - One word is a family name with an empty given name (Clever's own API
///   keeps a whole contact name in the last name the same way).
///
/// Whitespace runs become one space.
pub fn split_full_name(full: &str) -> (String, String) {
    if let Some((family, given)) = full.split_once(',') {
        let family = squash(family);
        let given = squash(given);
        if !family.is_empty() && !given.is_empty() {
            return (given, family);
        }
    }
    let words: Vec<&str> = full.split([' ', '\t', '\u{a0}', ',']).filter(|w| !w.is_empty()).collect();
    if words.len() <= 1 {
        return (String::new(), words.join(""));
    }
    let mut start = words.len() - 1;
    if start >= 2 && SUFFIXES.iter().any(|s| s.eq_ignore_ascii_case(words[start])) {
        start -= 1;
    }
    while start >= 2 && PARTICLES.iter().any(|p| p.eq_ignore_ascii_case(words[start - 1])) {
        start -= 1;
    }
    (words[..start].join(" "), words[start..].join(" "))
}

fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Reads a relationship word (any case): parents (`mother`, `stepfather`
/// ...), guardians (`legal guardian`, `foster parent`, `parent/guardian`),
/// relatives (`grandparent`, `aunt/uncle`, `sibling` ...); anything else is
/// `other`.
pub fn relationship_kind(word: &str) -> RelationshipKind {
    const PARENT: &[&str] = &[
        "parent",
        "mother",
        "father",
        "mom",
        "dad",
        "stepmother",
        "stepfather",
        "step-mother",
        "step-father",
        "stepparent",
        "step-parent",
        "step parent",
        "step mother",
        "step father",
    ];
    const GUARDIAN: &[&str] = &[
        "guardian",
        "legal guardian",
        "parent/guardian",
        "foster parent",
        "foster mother",
        "foster father",
        "custodian",
    ];
    const RELATIVE: &[&str] = &[
        "relative",
        "grandparent",
        "grandmother",
        "grandfather",
        "grandma",
        "grandpa",
        "aunt/uncle",
        "aunt",
        "uncle",
        "sibling",
        "brother",
        "sister",
        "cousin",
        "stepbrother",
        "stepsister",
        "family",
    ];
    let word = word.trim();
    let is = |list: &[&str]| list.iter().any(|w| w.eq_ignore_ascii_case(word));
    if is(PARENT) {
        RelationshipKind::Parent
    } else if is(GUARDIAN) {
        RelationshipKind::Guardian
    } else if is(RELATIVE) {
        RelationshipKind::Relative
    } else {
        RelationshipKind::Other
    }
}

/// A contact id made from the student's id and the contact's name, stable
/// from one file to the next: `<student>.c<16 hex digits>` (only the hash
/// when that would be too long). The name is hashed, never shown.
pub(super) fn derived_contact_id(student: &str, given: &str, family: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for &b in bytes {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    feed(student.as_bytes());
    for part in [given, family] {
        feed(&[0x1f]);
        for word in part.split_whitespace() {
            feed(word.to_lowercase().as_bytes());
            feed(b" ");
        }
    }
    let id = format!("{student}.c{hash:016x}");
    if id.len() <= MAX_ID_LEN { id } else { format!("c{hash:016x}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(full: &str) -> (String, String) {
        split_full_name(full)
    }

    #[test]
    fn whole_names_split_on_the_last_word_with_particles_and_suffixes() {
        assert_eq!(split("Thomas Jones"), ("Thomas".into(), "Jones".into()));
        assert_eq!(split("Mary Ann  Smith"), ("Mary Ann".into(), "Smith".into()));
        assert_eq!(split("Maria de la Cruz"), ("Maria".into(), "de la Cruz".into()));
        assert_eq!(split("John Smith Jr."), ("John".into(), "Smith Jr.".into()));
        assert_eq!(split("Jones, Thomas Paul"), ("Thomas Paul".into(), "Jones".into()));
        assert_eq!(split("Cher"), (String::new(), "Cher".into()));
        assert_eq!(split("  "), (String::new(), String::new()));
    }

    #[test]
    fn relationship_words_map_to_kinds_in_any_case() {
        assert_eq!(relationship_kind("Mother"), RelationshipKind::Parent);
        assert_eq!(relationship_kind("PARENT"), RelationshipKind::Parent);
        assert_eq!(relationship_kind("Parent/Guardian"), RelationshipKind::Guardian);
        assert_eq!(relationship_kind("Grandparent"), RelationshipKind::Relative);
        assert_eq!(relationship_kind("Aunt/Uncle"), RelationshipKind::Relative);
        assert_eq!(relationship_kind("Self"), RelationshipKind::Other);
    }

    #[test]
    fn derived_contact_ids_are_stable_valid_and_ignore_case_and_spacing() {
        let id = derived_contact_id("S-1", "Ana", "Diaz");
        assert_eq!(id, derived_contact_id("S-1", " ana ", "DIAZ"));
        assert_ne!(id, derived_contact_id("S-2", "Ana", "Diaz"));
        assert_ne!(id, derived_contact_id("S-1", "An", "aDiaz"));
        assert!(id.starts_with("S-1.c") && !id.contains("Ana"));
        assert!(crate::domain::validate_id("person", &id).is_ok());
        assert!(derived_contact_id(&"x".repeat(128), "a", "b").len() <= MAX_ID_LEN);
    }
}
