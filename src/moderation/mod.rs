//! Content moderation: a profanity filter with word lists for English (the `rustrict`
//! crate, which also catches common evasions) and German (our own list, `de.txt`), plus the
//! words an organizer bans in one session. It applies to nicknames, word-cloud words, open
//! text and questions when the session's `profanity_filter` is on; banned words always apply.
//!
//! The filter only judges. What happens to flagged content is each caller's rule: a nickname
//! is refused at join, a flagged word or text is held in the activity's moderation queue and
//! never reaches the big screen until the organizer approves it.

use std::collections::HashSet;
use std::sync::LazyLock;

use rustrict::{CensorStr, Type};

use crate::sessions::session::SessionSettings;

/// Most banned words per session.
pub const BANNED_MAX: usize = 200;
/// Longest banned word or phrase.
pub const BANNED_LENGTH_MAX: usize = 50;

/// Why a text was flagged.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    /// The profanity filter matched.
    Profanity,
    /// A word the organizer banned in this session.
    BannedWord,
}

struct GermanList {
    stems: Vec<String>,
    words: HashSet<String>,
}

static GERMAN: LazyLock<GermanList> = LazyLock::new(|| {
    let mut stems = Vec::new();
    let mut words = HashSet::new();
    for line in include_str!("de.txt").lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.strip_prefix('*') {
            Some(stem) => stems.push(stem.to_owned()),
            None => {
                words.insert(line.to_owned());
            }
        }
    }
    GermanList { stems, words }
});

/// A session's filter: built from its settings, cheap to keep per session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Moderator {
    profanity: bool,
    /// Banned entries, folded; each a list of words (a phrase has several).
    banned: Vec<Vec<String>>,
}

impl Moderator {
    /// A filter that lets everything through.
    pub const OFF: Moderator = Moderator {
        profanity: false,
        banned: Vec::new(),
    };

    /// The filter a session's settings ask for.
    pub fn for_settings(settings: &SessionSettings) -> Self {
        Self {
            profanity: settings.profanity_filter,
            banned: settings
                .banned_words
                .iter()
                .map(|entry| words(&fold(entry)))
                .filter(|w| !w.is_empty())
                .collect(),
        }
    }

    /// True when this filter can flag anything.
    pub fn is_active(&self) -> bool {
        self.profanity || !self.banned.is_empty()
    }

    /// Judges one text: None when it may be shown.
    pub fn check(&self, text: &str) -> Option<Flag> {
        if !self.is_active() {
            return None;
        }
        let folded = fold(text);
        let tokens = words(&folded);
        if self.banned.iter().any(|entry| {
            tokens
                .windows(entry.len())
                .any(|window| window == entry.as_slice())
        }) {
            return Some(Flag::BannedWord);
        }
        if self.profanity && (is_english_profanity(text) || is_german_profanity(&tokens)) {
            return Some(Flag::Profanity);
        }
        None
    }
}

fn is_english_profanity(text: &str) -> bool {
    text.is(Type::INAPPROPRIATE)
}

fn is_german_profanity(tokens: &[String]) -> bool {
    let list = &*GERMAN;
    tokens.iter().any(|token| {
        list.words.contains(token) || list.stems.iter().any(|stem| token.contains(stem.as_str()))
    })
}

/// Lower case, umlauts and ß spelled out, common look-alike digits and signs read as
/// letters, everything else that is not a letter or digit turned into a space.
fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        match c {
            'ä' => out.push_str("ae"),
            'ö' => out.push_str("oe"),
            'ü' => out.push_str("ue"),
            'ß' => out.push_str("ss"),
            '0' => out.push('o'),
            '1' => out.push('i'),
            '3' => out.push('e'),
            '4' | '@' => out.push('a'),
            '5' | '$' => out.push('s'),
            '7' => out.push('t'),
            c if c.is_alphanumeric() => out.push(c),
            // Separators inside a word ("a.r.s.c.h", "f-i-c-k") are dropped, not split on.
            '.' | '-' | '_' | '*' | '\'' => {}
            _ => out.push(' '),
        }
    }
    out
}

fn words(folded: &str) -> Vec<String> {
    folded.split_whitespace().map(str::to_owned).collect()
}

/// Checks and normalises an organizer's banned-word list: trimmed, without empties or
/// duplicates, each entry bounded.
pub fn parse_banned_words(raw: &[String]) -> Result<Vec<String>, String> {
    if raw.len() > BANNED_MAX {
        return Err(format!("at most {BANNED_MAX} banned words"));
    }
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (index, entry) in raw.iter().enumerate() {
        let entry = entry.split_whitespace().collect::<Vec<_>>().join(" ");
        if entry.chars().count() > BANNED_LENGTH_MAX {
            return Err(format!(
                "banned_words[{index}] must have at most {BANNED_LENGTH_MAX} characters"
            ));
        }
        let folded = fold(&entry);
        if words(&folded).is_empty() {
            continue;
        }
        if seen.insert(folded) {
            out.push(entry);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moderator(profanity: bool, banned: &[&str]) -> Moderator {
        Moderator::for_settings(&SessionSettings {
            profanity_filter: profanity,
            banned_words: banned.iter().map(|w| (*w).to_owned()).collect(),
            ..SessionSettings::default()
        })
    }

    #[test]
    fn english_profanity_and_evasions_are_flagged() {
        let m = moderator(true, &[]);
        for text in [
            "what the fuck",
            "sh1t happens",
            "f u c k",
            "you are an asshole",
        ] {
            assert_eq!(m.check(text), Some(Flag::Profanity), "{text}");
        }
    }

    #[test]
    fn german_profanity_is_flagged_including_compounds_and_spellings() {
        let m = moderator(true, &[]);
        for text in [
            "Du Arschloch",
            "so ein Scheißtag",
            "SCHEISSE",
            "Hurensohn!",
            "a.r.s.c.h",
        ] {
            assert_eq!(m.check(text), Some(Flag::Profanity), "{text}");
        }
    }

    #[test]
    fn harmless_words_pass() {
        let m = moderator(true, &[]);
        for text in [
            "Marsch",
            "Scunthorpe",
            "assessment",
            "classic",
            "Schwanzflosse? no: Flosse",
            "Kaffee und Kuchen",
            "Rust is great",
            "Glückwunsch zum Geburtstag",
            "Hello",
        ] {
            assert_eq!(m.check(text), None, "{text}");
        }
    }

    #[test]
    fn banned_words_apply_even_with_the_filter_off_and_match_whole_words_and_phrases() {
        let m = moderator(false, &["Projekt X", "kale"]);
        assert_eq!(m.check("what about projekt x?"), Some(Flag::BannedWord));
        assert_eq!(m.check("KALE!"), Some(Flag::BannedWord));
        assert_eq!(m.check("kaleidoscope"), None);
        assert_eq!(m.check("projekt"), None);
        assert_eq!(m.check("what the fuck"), None, "profanity filter is off");
    }

    #[test]
    fn banned_word_lists_are_normalised_and_bounded() {
        let raw = vec![
            "  Kale ".to_owned(),
            "kale".into(),
            "".into(),
            "a  b".into(),
        ];
        assert_eq!(parse_banned_words(&raw).unwrap(), ["Kale", "a b"]);
        assert!(parse_banned_words(&["x".repeat(51)]).is_err());
        assert!(parse_banned_words(&vec!["w".to_owned(); 201]).is_err());
    }
}
