//! Languages as families' records give them: a SIS writes `es`, `es-MX`,
//! `spa`, `Spanish` or `Español` for the same thing. One code (ISO 639-1,
//! lower case) is what content variants are keyed by and what picks a
//! message's variant and a call's voice.

/// The language code a SIS's value stands for, if it names one we know or
/// is itself a two-letter code (`None` for blank or unknown words).
pub fn language_code(raw: &str) -> Option<String> {
    let value = raw.trim().to_lowercase();
    let primary = value.split(['-', '_', ' ', '(']).next().unwrap_or_default();
    let named = match primary {
        "english" | "eng" | "inglés" | "ingles" => "en",
        "spanish" | "spa" | "español" | "espanol" | "castellano" => "es",
        "vietnamese" | "vie" | "tiếng" => "vi",
        "chinese" | "zho" | "chi" | "mandarin" | "cantonese" | "中文" => "zh",
        "arabic" | "ara" | "العربية" => "ar",
        "french" | "fra" | "fre" | "français" | "francais" => "fr",
        "portuguese" | "por" | "português" | "portugues" => "pt",
        "haitian" | "hat" | "kreyòl" | "kreyol" | "creole" => "ht",
        "somali" | "som" => "so",
        "russian" | "rus" => "ru",
        "korean" | "kor" => "ko",
        "tagalog" | "tgl" | "filipino" => "tl",
        other if other.len() == 2 && other.chars().all(|c| c.is_ascii_lowercase()) => other,
        _ => return None,
    };
    Some(named.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_many_ways_a_sis_writes_a_language_come_to_one_code() {
        for raw in ["es", "es-MX", "ES", "spa", "Spanish", "Español", " spanish (Mexico) "] {
            assert_eq!(language_code(raw).as_deref(), Some("es"), "{raw}");
        }
        assert_eq!(language_code("English").as_deref(), Some("en"));
        assert_eq!(language_code("vi-VN").as_deref(), Some("vi"));
        for raw in ["", "  ", "Klingon", "123"] {
            assert_eq!(language_code(raw), None, "{raw}");
        }
    }
}
