//! How many SMS segments a text costs, and in which encoding it is sent.
//!
//! Carriers bill (and providers throttle) per segment, so a broadcast's cost
//! estimate and the per-message rate limits count segments, not characters.
//! The rules, from 3GPP TS 23.038 (GSM 03.38) and TS 23.040 (concatenated SMS):
//!
//! - A text whose every character is in the GSM 7-bit default alphabet, or
//!   in its basic extension table, is sent as GSM-7. Default-alphabet
//!   characters cost one septet; extension characters (form feed and
//!   `^ { } \ [ ~ ] | €`) cost two, an escape (0x1B) and the character.
//!   One message carries 160 septets; a longer text is split into segments
//!   of 153 (the user data header takes the other 7), and an escape is never
//!   separated from its character, so a segment may carry only 152.
//! - Any other text is sent as UCS-2: its units are UTF-16 code units. One
//!   message carries 70; a longer text is split into segments of 67, and a
//!   surrogate pair (an emoji, say) is never split across segments.
//! - The empty text is one segment: a provider still sends a message.
//!
//! National language shift tables (Turkish, Spanish, Portuguese, Indic) are
//! not used: US carriers do not support them, so text that needs them is
//! UCS-2 here, as it is on the wire.

use serde::{Deserialize, Serialize};

/// Septets (GSM-7) in a single-message SMS.
const GSM7_SINGLE: u32 = 160;
/// Septets (GSM-7) in one segment of a concatenated SMS.
const GSM7_SEGMENT: u32 = 153;
/// UTF-16 code units (UCS-2) in a single-message SMS.
const UCS2_SINGLE: u32 = 70;
/// UTF-16 code units (UCS-2) in one segment of a concatenated SMS.
const UCS2_SEGMENT: u32 = 67;

/// The character encoding an SMS is sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmsEncoding {
    /// The GSM 03.38 7-bit default alphabet with its basic extension table.
    Gsm7,
    /// UCS-2 (UTF-16 code units), for any text outside the GSM alphabet.
    Ucs2,
}

/// The cost of one text as an SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsSegments {
    /// The encoding the whole text is sent in.
    pub encoding: SmsEncoding,
    /// Messages the carrier delivers (and bills); at least 1.
    pub segments: u32,
    /// Encoded length: septets for GSM-7 (extension characters count 2),
    /// UTF-16 code units for UCS-2.
    pub units: u32,
}

/// Counts the segments of `text` and says which encoding it is sent in.
///
/// Runs in one pass over the text (two when it is not GSM-7) and does not
/// allocate.
pub fn count_segments(text: &str) -> SmsSegments {
    let gsm7 = text.chars().map(gsm7_septets).try_fold(Packer::new(GSM7_SINGLE, GSM7_SEGMENT), |mut packer, cost| {
        packer.push(cost?);
        Some(packer)
    });
    match gsm7 {
        Some(packer) => packer.finish(SmsEncoding::Gsm7),
        None => {
            let mut packer = Packer::new(UCS2_SINGLE, UCS2_SEGMENT);
            for c in text.chars() {
                // len_utf16 is 1 or 2, so the cast cannot truncate.
                packer.push(c.len_utf16() as u32);
            }
            packer.finish(SmsEncoding::Ucs2)
        }
    }
}

/// Packs indivisible characters into segments: the total decides whether
/// the text fits one message, and the greedy packing (a character that does
/// not fit starts the next segment) gives the count when it does not.
struct Packer {
    single: u32,
    segment: u32,
    units: u32,
    segments: u32,
    used: u32,
}

impl Packer {
    fn new(single: u32, segment: u32) -> Self {
        Self { single, segment, units: 0, segments: 1, used: 0 }
    }

    fn push(&mut self, cost: u32) {
        self.units = self.units.saturating_add(cost);
        if self.used + cost > self.segment {
            self.segments = self.segments.saturating_add(1);
            self.used = 0;
        }
        self.used += cost;
    }

    fn finish(self, encoding: SmsEncoding) -> SmsSegments {
        let segments = if self.units <= self.single { 1 } else { self.segments };
        SmsSegments { encoding, segments, units: self.units }
    }
}

/// Septets a character costs in GSM-7: 1 in the default alphabet, 2 in the
/// basic extension table, `None` when GSM-7 cannot carry it.
fn gsm7_septets(c: char) -> Option<u32> {
    match c {
        // Default alphabet (GSM 03.38 table 6.2.1), by code point range.
        'A'..='Z' | 'a'..='z' | '0'..='9' => Some(1),
        ' ' | '!' | '"' | '#' | '%' | '&' | '\'' | '(' | ')' | '*' | '+' | ',' | '-' | '.' | '/' => Some(1),
        ':' | ';' | '<' | '=' | '>' | '?' | '@' | '_' | '$' | '\n' | '\r' => Some(1),
        '£' | '¥' | 'è' | 'é' | 'ù' | 'ì' | 'ò' | 'Ç' | 'Ø' | 'ø' | 'Å' | 'å' => Some(1),
        'Δ' | 'Φ' | 'Γ' | 'Λ' | 'Ω' | 'Π' | 'Ψ' | 'Σ' | 'Θ' | 'Ξ' => Some(1),
        'Æ' | 'æ' | 'ß' | 'É' | '¤' | '¡' | 'Ä' | 'Ö' | 'Ñ' | 'Ü' | '§' | '¿' | 'ä' | 'ö' | 'ñ' | 'ü' | 'à' => {
            Some(1)
        }
        // Basic extension table (table 6.2.1.1): escape + character.
        '\u{000C}' | '^' | '{' | '}' | '\\' | '[' | '~' | ']' | '|' | '€' => Some(2),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The GSM 03.38 default alphabet, written out independently of the
    /// `match` above (the escape, 0x1B, is not a character of its own).
    const DEFAULT_ALPHABET: &str = concat!(
        "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?",
        "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà",
    );
    const EXTENSION: &str = "\u{000C}^{}\\[~]|€";

    fn gsm(encoding: SmsEncoding, segments: u32, units: u32) -> SmsSegments {
        SmsSegments { encoding, segments, units }
    }

    #[test]
    fn the_alphabet_has_its_128_characters_less_the_escape() {
        assert_eq!(DEFAULT_ALPHABET.chars().count(), 127);
        assert!(DEFAULT_ALPHABET.chars().all(|c| gsm7_septets(c) == Some(1)));
        assert!(EXTENSION.chars().all(|c| gsm7_septets(c) == Some(2)));
    }

    #[test]
    fn empty_text_is_one_segment() {
        assert_eq!(count_segments(""), gsm(SmsEncoding::Gsm7, 1, 0));
    }

    #[test]
    fn gsm_text_of_160_septets_is_one_segment_and_161_is_two() {
        assert_eq!(count_segments(&"a".repeat(160)), gsm(SmsEncoding::Gsm7, 1, 160));
        assert_eq!(count_segments(&"a".repeat(161)), gsm(SmsEncoding::Gsm7, 2, 161));
    }

    #[test]
    fn gsm_text_of_two_full_segments_is_two_and_one_more_is_three() {
        assert_eq!(count_segments(&"a".repeat(306)), gsm(SmsEncoding::Gsm7, 2, 306));
        assert_eq!(count_segments(&"a".repeat(307)), gsm(SmsEncoding::Gsm7, 3, 307));
    }

    #[test]
    fn extension_characters_count_two_septets() {
        assert_eq!(count_segments("€5 [late]"), gsm(SmsEncoding::Gsm7, 1, 12));
        assert_eq!(count_segments(&"{".repeat(80)), gsm(SmsEncoding::Gsm7, 1, 160));
        assert_eq!(count_segments(&format!("{}a", "{".repeat(80))), gsm(SmsEncoding::Gsm7, 2, 161));
    }

    #[test]
    fn an_escape_at_a_segment_boundary_moves_to_the_next_segment() {
        // 152 septets then a 2-septet `€` would straddle 153: it moves on,
        // so 2 * 153 = 306 septets no longer fit two segments.
        let text = format!("{}€{}", "a".repeat(152), "a".repeat(152));
        assert_eq!(count_segments(&text), gsm(SmsEncoding::Gsm7, 3, 306));
        // Where the escape ends a segment exactly, nothing moves.
        let text = format!("{}€{}", "a".repeat(151), "a".repeat(153));
        assert_eq!(count_segments(&text), gsm(SmsEncoding::Gsm7, 2, 306));
    }

    #[test]
    fn a_single_character_outside_the_alphabet_makes_the_whole_text_ucs2() {
        let text = format!("{}ç", "a".repeat(69));
        assert_eq!(count_segments(&text), gsm(SmsEncoding::Ucs2, 1, 70));
        assert_eq!(count_segments("Café ç"), gsm(SmsEncoding::Ucs2, 1, 6));
    }

    #[test]
    fn ucs2_text_of_70_units_is_one_segment_and_71_is_two() {
        assert_eq!(count_segments(&"ç".repeat(70)), gsm(SmsEncoding::Ucs2, 1, 70));
        assert_eq!(count_segments(&"ç".repeat(71)), gsm(SmsEncoding::Ucs2, 2, 71));
        assert_eq!(count_segments(&"ç".repeat(134)), gsm(SmsEncoding::Ucs2, 2, 134));
        assert_eq!(count_segments(&"ç".repeat(135)), gsm(SmsEncoding::Ucs2, 3, 135));
    }

    #[test]
    fn an_emoji_counts_two_units() {
        assert_eq!(count_segments("Snow day 🎉"), gsm(SmsEncoding::Ucs2, 1, 11));
        assert_eq!(count_segments(&"🎉".repeat(35)), gsm(SmsEncoding::Ucs2, 1, 70));
        assert_eq!(count_segments(&"🎉".repeat(36)), gsm(SmsEncoding::Ucs2, 2, 72));
    }

    #[test]
    fn a_surrogate_pair_at_a_segment_boundary_moves_to_the_next_segment() {
        // 66 units then an emoji would straddle 67: it moves on, so 134
        // units no longer fit two segments.
        let text = format!("{}🎉{}", "ç".repeat(66), "ç".repeat(66));
        assert_eq!(count_segments(&text), gsm(SmsEncoding::Ucs2, 3, 134));
        let text = format!("{}🎉{}", "ç".repeat(65), "ç".repeat(67));
        assert_eq!(count_segments(&text), gsm(SmsEncoding::Ucs2, 2, 134));
    }

    #[test]
    fn encodings_serialize_in_snake_case() {
        let json = serde_json::to_string(&count_segments("hi")).unwrap();
        assert_eq!(json, r#"{"encoding":"gsm7","segments":1,"units":2}"#);
    }

    fn gsm_char() -> impl Strategy<Value = char> {
        let all: Vec<char> = DEFAULT_ALPHABET.chars().chain(EXTENSION.chars()).collect();
        proptest::sample::select(all)
    }

    fn any_mixed_char() -> impl Strategy<Value = char> {
        prop_oneof![gsm_char(), proptest::char::any()]
    }

    proptest! {
        #[test]
        fn gsm_segments_never_decrease_as_text_grows(chars in proptest::collection::vec(gsm_char(), 0..700)) {
            let mut text = String::new();
            let mut last = count_segments(&text);
            for c in chars {
                text.push(c);
                let next = count_segments(&text);
                prop_assert_eq!(next.encoding, SmsEncoding::Gsm7);
                prop_assert!(next.segments >= last.segments);
                prop_assert!(next.units > last.units);
                last = next;
            }
        }

        #[test]
        fn the_encoding_is_gsm7_exactly_when_every_character_is_in_the_tables(
            chars in proptest::collection::vec(any_mixed_char(), 0..40),
        ) {
            let text: String = chars.into_iter().collect();
            let all_gsm = text.chars().all(|c| DEFAULT_ALPHABET.contains(c) || EXTENSION.contains(c));
            let expected = if all_gsm { SmsEncoding::Gsm7 } else { SmsEncoding::Ucs2 };
            prop_assert_eq!(count_segments(&text).encoding, expected);
        }

        #[test]
        fn segments_hold_every_unit_and_are_never_more_than_needed(text in ".{0,500}") {
            let counted = count_segments(&text);
            let (single, segment, widest) = match counted.encoding {
                SmsEncoding::Gsm7 => (GSM7_SINGLE, GSM7_SEGMENT, 2),
                SmsEncoding::Ucs2 => (UCS2_SINGLE, UCS2_SEGMENT, 2),
            };
            if counted.units <= single {
                prop_assert_eq!(counted.segments, 1);
            } else {
                // Each segment loses at most one unit to an unsplit character.
                prop_assert!(counted.segments * segment >= counted.units);
                prop_assert!(counted.units > (counted.segments - 1) * (segment - (widest - 1)));
            }
        }
    }
}
