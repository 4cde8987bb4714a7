//! What an SMS reply asks for: opt out, opt back in, help, or nothing.
//!
//! Keywords match case-insensitively, trimmed, with punctuation and accents
//! ignored: opt-out STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE,
//! OPTOUT, OPT OUT, ARRET, REMOVE, TD; opt-in START, UNSTOP, YES; help HELP,
//! INFO. Since the FCC's 2025 rule, an opt-out may come in any reasonable
//! wording, so plain requests ("stop texting me", "please unsubscribe",
//! "take me off this list") opt out too; a negated one ("don't stop sending
//! these") does not.

use super::named_enum::named_enum;

named_enum!(
    /// The intent of an inbound SMS.
    ReplyIntent, "reply intent" {
        /// Stop all messages to this number.
        OptOut => "opt_out",
        /// Resume messages.
        OptIn => "opt_in",
        /// Who is this and how do I stop it.
        Help => "help",
        /// Anything else: stored for staff, not answered.
        None => "none",
    }
);

const OPT_OUT_WORDS: &[&str] = &[
    "stop",
    "stopall",
    "unsubscribe",
    "cancel",
    "end",
    "quit",
    "revoke",
    "optout",
    "opt out",
    "arret",
    "remove",
    "td",
];
const OPT_IN_WORDS: &[&str] = &["start", "unstop", "yes"];
const HELP_WORDS: &[&str] = &["help", "info"];

/// Words that, after "stop", make a plain-language opt-out.
const MESSAGING_WORDS: &[&str] = &[
    "texting",
    "text",
    "texts",
    "sending",
    "send",
    "messaging",
    "message",
    "messages",
    "msgs",
    "contacting",
    "calling",
    "it",
    "this",
    "these",
    "them",
    "me",
    "all",
    "now",
    "please",
    "pls",
];

/// Lower-cases, folds common accents, turns punctuation into spaces and
/// collapses whitespace: `"  STOP!! "` → `"stop"`, `"Arrêt."` → `"arret"`.
fn normalize(text: &str) -> String {
    let folded: String = text
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'à' | 'á' | 'â' | 'ä' | 'ã' => 'a',
            'è' | 'é' | 'ê' | 'ë' => 'e',
            'ì' | 'í' | 'î' | 'ï' => 'i',
            'ò' | 'ó' | 'ô' | 'ö' | 'õ' => 'o',
            'ù' | 'ú' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            'ñ' => 'n',
            '\'' | '’' => '\0',
            c if c.is_alphanumeric() => c,
            _ => ' ',
        })
        .filter(|c| *c != '\0')
        .collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn negated(words: &[&str], at: usize) -> bool {
    let before = &words[..at];
    matches!(before, [.., "dont"] | [.., "do", "not"] | [.., "never"] | [.., "not"])
}

fn plain_opt_out(words: &[&str]) -> bool {
    let phrase = words.join(" ");
    for (i, word) in words.iter().enumerate() {
        let next = words.get(i + 1).copied().unwrap_or_default();
        let hit = match *word {
            "unsubscribe" | "optout" => true,
            "opt" => next == "out" || (next == "me" && words.get(i + 2) == Some(&"out")),
            "stop" => MESSAGING_WORDS.contains(&next),
            "remove" => next == "me" || next == "my",
            "take" => phrase.contains("take me off") || phrase.contains("take my number off"),
            "no" => next == "more" && words.get(i + 2).is_some_and(|w| MESSAGING_WORDS.contains(w)),
            _ => false,
        };
        if hit && !negated(words, i) {
            return true;
        }
    }
    let do_not = ["dont text", "do not text", "dont message", "do not message", "dont contact", "do not contact"];
    do_not.iter().any(|p| phrase.contains(p))
}

/// Classifies a reply. Whole-message keywords first (opt-out wins over
/// opt-in and help), then plain-language opt-outs.
pub fn classify_reply(text: &str) -> ReplyIntent {
    let normalized = normalize(text);
    if OPT_OUT_WORDS.contains(&normalized.as_str()) {
        return ReplyIntent::OptOut;
    }
    if OPT_IN_WORDS.contains(&normalized.as_str()) {
        return ReplyIntent::OptIn;
    }
    if HELP_WORDS.contains(&normalized.as_str()) {
        return ReplyIntent::Help;
    }
    let words: Vec<&str> = normalized.split(' ').filter(|w| !w.is_empty()).collect();
    if plain_opt_out(&words) {
        return ReplyIntent::OptOut;
    }
    ReplyIntent::None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_keyword_classifies() {
        for word in [
            "STOP",
            "stopall",
            "Unsubscribe",
            "CANCEL",
            "end",
            "QUIT",
            "revoke",
            "OPTOUT",
            "opt out",
            "ARRET",
            "Arrêt",
            "remove",
            "TD",
        ] {
            assert_eq!(classify_reply(word), ReplyIntent::OptOut, "{word}");
        }
        for word in ["START", "unstop", "Yes"] {
            assert_eq!(classify_reply(word), ReplyIntent::OptIn, "{word}");
        }
        for word in ["HELP", "info"] {
            assert_eq!(classify_reply(word), ReplyIntent::Help, "{word}");
        }
    }

    #[test]
    fn plain_wording_opts_out_but_negations_and_chatter_do_not() {
        for text in [
            "Stop texting me",
            "please unsubscribe",
            "STOP SENDING THESE!!",
            "take me off this list",
            "Opt me out",
            "no more texts please",
            "Don't text me again",
            "remove me",
        ] {
            assert_eq!(classify_reply(text), ReplyIntent::OptOut, "{text}");
        }
        for text in [
            "Don't stop sending these, they help",
            "The bus didn't stop at our stop",
            "Leo will be late",
            "yes he will be there",
            "help with homework?",
            "",
        ] {
            assert_eq!(classify_reply(text), ReplyIntent::None, "{text}");
        }
    }

    proptest! {
        #[test]
        fn case_spacing_and_punctuation_do_not_change_a_keyword(
            word in prop::sample::select(vec!["stop", "start", "help", "unsubscribe", "info", "unstop"]),
            upper in any::<bool>(),
            before in "[ .!?\t]{0,3}",
            after in "[ .!?\t]{0,3}",
        ) {
            let written = if upper { word.to_uppercase() } else { word.to_string() };
            prop_assert_eq!(classify_reply(&format!("{before}{written}{after}")), classify_reply(word));
        }

        #[test]
        fn any_text_classifies_without_panicking(text in "\\PC{0,200}") {
            let _ = classify_reply(&text);
        }
    }
}
