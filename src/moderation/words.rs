//! Words as the filter sees them, and the word lists. A text is cut into segments at spaces
//! and punctuation; a segment keeps its in-word separators (`f.u.c.k`, `Anna-Lena`) and is
//! judged whole with them removed and part by part, never across a space. Each word is
//! folded: lower case, umlauts spelled out, accents and look-alike letters dropped, and the
//! common stand-ins read as letters (`$h1t`). Runs of single letters (`f u c k`) count as
//! one word, and a letter stretched three times or more (`fuuuck`) is read shortened.

use std::collections::HashSet;
use std::sync::LazyLock;

use unicode_normalization::UnicodeNormalization;

/// Joins inside a word that an evasion puts between its letters.
fn is_soft_separator(c: char) -> bool {
    matches!(c, '.' | '-' | '_' | '*' | '\'' | '’' | '~' | '!' | '|')
}

/// Stand-ins read as letters; also the soft separators `!` and `|` inside a word.
fn leet(c: char) -> Option<char> {
    Some(match c {
        '0' => 'o',
        '1' | '!' | '|' => 'i',
        '3' => 'e',
        '4' | '@' => 'a',
        '5' | '$' => 's',
        '7' | '+' => 't',
        _ => return None,
    })
}

/// Cyrillic and Greek letters that look like Latin ones.
fn look_alike(c: char) -> char {
    match c {
        'а' | 'α' => 'a',
        'в' | 'β' => 'b',
        'с' => 'c',
        'е' | 'ε' | 'ё' => 'e',
        'н' | 'η' => 'h',
        'і' | 'ι' | 'ї' => 'i',
        'к' | 'κ' => 'k',
        'м' | 'μ' => 'm',
        'о' | 'ο' => 'o',
        'р' | 'ρ' => 'p',
        'т' | 'τ' => 't',
        'у' | 'υ' => 'y',
        'х' | 'χ' => 'x',
        'ν' => 'v',
        other => other,
    }
}

/// One word folded: lower case, umlauts and ß spelled out, other accents dropped, look-alike
/// letters and stand-ins read as letters; separators and anything else that is not a letter
/// or digit dropped. `*` stays when `keep_wildcards`, for masked words (`f*ck`).
fn fold_word(raw: &str, keep_wildcards: bool) -> String {
    // A number is a number ("Team 455"), not letters in disguise.
    if raw
        .chars()
        .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
        && raw.chars().any(|c| c.is_ascii_digit())
    {
        return raw.chars().filter(char::is_ascii_digit).collect();
    }
    let mut spelled = String::with_capacity(raw.len());
    for c in raw.chars().flat_map(char::to_lowercase) {
        match c {
            'ä' => spelled.push_str("ae"),
            'ö' => spelled.push_str("oe"),
            'ü' => spelled.push_str("ue"),
            'ß' => spelled.push_str("ss"),
            c => spelled.push(look_alike(c)),
        }
    }
    let mut out = String::with_capacity(spelled.len());
    for c in spelled.nfd() {
        if let Some(letter) = leet(c) {
            out.push(letter);
        } else if c.is_alphanumeric() {
            out.push(c);
        } else if keep_wildcards && c == '*' {
            out.push('*');
        }
    }
    // Combining marks are not alphanumeric, so the NFD pass dropped accents.
    out
}

/// A text folded the way the filter reads it, words separated by single spaces.
#[cfg(test)]
fn fold(text: &str) -> String {
    segments(text)
        .iter()
        .map(|s| fold_word(s, false))
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Cuts a text at spaces and at punctuation that is not a soft separator, and trims soft
/// separators from each segment's ends (a trailing "!" is punctuation, not an "i").
fn segments(text: &str) -> Vec<&str> {
    text.split(|c: char| {
        !(c.is_alphanumeric() || is_soft_separator(c) || leet(c).is_some()) || c.is_whitespace()
    })
    .map(|s| s.trim_matches(is_soft_separator))
    .filter(|s| !s.is_empty())
    .collect()
}

/// The words of a banned-word entry or a list phrase, as the filter compares them.
pub fn plain_words(text: &str) -> Vec<String> {
    segments(text)
        .iter()
        .flat_map(|s| s.split(is_soft_separator))
        .map(|p| fold_word(p, false))
        .filter(|w| !w.is_empty())
        .collect()
}

/// Everything the filter looks at in one text.
pub struct Tokens {
    /// Each segment's parts, in order: the words phrases are matched against.
    parts: Vec<String>,
    /// Whole-word candidates: each segment joined, each part, runs of single letters.
    words: Vec<String>,
    /// Words with a letter three times or more in a row (`fuuuck`), each run cut to one.
    stretched: Vec<String>,
    /// Masked words, with `*` for each hidden letter.
    masked: Vec<String>,
}

impl Tokens {
    /// Reads a text.
    pub fn of(text: &str) -> Tokens {
        let segments = segments(text);
        let mut parts = Vec::new();
        let mut words = Vec::new();
        let mut masked = Vec::new();
        let mut letters = String::new();
        let mut run = 0;
        for segment in &segments {
            let joined = fold_word(segment, false);
            let segment_parts: Vec<String> = segment
                .split(is_soft_separator)
                .map(|p| fold_word(p, false))
                .filter(|w| !w.is_empty())
                .collect();
            if segment.contains('*') {
                let pattern = fold_word(segment, true);
                if pattern.chars().filter(|c| *c != '*').count() >= 2 {
                    masked.push(pattern);
                }
            }
            // "f u c k": single letters in a row are read as one word.
            if segment.chars().count() == 1 {
                letters.push_str(&joined);
                run += 1;
            } else {
                if run >= 3 {
                    words.push(std::mem::take(&mut letters));
                }
                letters.clear();
                run = 0;
            }
            if !joined.is_empty() {
                words.push(joined);
            }
            // A segment without separators is its one part, already pushed whole.
            if segment_parts.len() > 1 {
                words.extend(segment_parts.iter().cloned());
            }
            parts.extend(segment_parts);
        }
        if run >= 3 {
            words.push(letters);
        }
        let stretched = words
            .iter()
            .filter(|w| is_stretched(w))
            .map(|w| squeezed(w))
            .collect();
        Tokens {
            parts,
            words,
            stretched,
            masked,
        }
    }

    /// Whether the words of `phrase` appear in a row.
    pub fn has_phrase(&self, phrase: &[String]) -> bool {
        match phrase {
            [] => false,
            [word] => self.words.iter().any(|w| w == word),
            _ => self.parts.windows(phrase.len()).any(|w| w == phrase),
        }
    }
}

/// Whether a letter repeats three times or more in a row, as in `fuuuck` or `scheiiisse`.
fn is_stretched(word: &str) -> bool {
    let chars: Vec<char> = word.chars().collect();
    chars.windows(3).any(|w| w[0] == w[1] && w[1] == w[2])
}

/// A word with every run of one letter cut to one: `assbang` and `aaaassbang` both read
/// `asbang`. Stretched words are compared with listed words squeezed the same way.
fn squeezed(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    let mut last = None;
    for c in word.chars() {
        if Some(c) != last {
            out.push(c);
        }
        last = Some(c);
    }
    out
}

/// Words and stems that match one word.
#[derive(Default)]
struct Stems {
    /// Whole words.
    exact: HashSet<String>,
    /// Stems a word may start with (`fuck*`: fucking, fuckface).
    prefixes: Vec<String>,
    /// Stems a word may end with (`*wichser`: Flachwichser).
    suffixes: Vec<String>,
    /// Stems anywhere inside one word (`*arschloch*`: Drecksarschlochs).
    infixes: Vec<String>,
}

impl Stems {
    fn matches(&self, word: &str) -> bool {
        self.exact.contains(word)
            || self.prefixes.iter().any(|p| word.starts_with(p.as_str()))
            || self.suffixes.iter().any(|s| word.ends_with(s.as_str()))
            || self.infixes.iter().any(|i| word.contains(i.as_str()))
    }

    fn squeezed(&self) -> Stems {
        let all = |v: &Vec<String>| v.iter().map(|w| squeezed(w)).collect();
        Stems {
            exact: self.exact.iter().map(|w| squeezed(w)).collect(),
            prefixes: all(&self.prefixes),
            suffixes: all(&self.suffixes),
            infixes: all(&self.infixes),
        }
    }
}

/// The profanity lists of every language, folded.
pub struct Lists {
    stems: Stems,
    /// The same, each run of a letter cut to one, for stretched words.
    squeezed: Stems,
    /// Phrases of several words.
    phrases: Vec<Vec<String>>,
}

/// Every list, read once.
pub static LISTS: LazyLock<Lists> = LazyLock::new(|| {
    Lists::parse(&[
        include_str!("lists/en.txt"),
        include_str!("lists/de.txt"),
        include_str!("lists/fr.txt"),
        include_str!("lists/es.txt"),
        include_str!("lists/it.txt"),
        include_str!("lists/nl.txt"),
        include_str!("lists/pt.txt"),
        include_str!("lists/pl.txt"),
    ])
});

impl Lists {
    /// Reads lists: one entry a line, `#` comments; `stem*`, `*stem` and `*stem*` match part
    /// of one word, anything else whole words.
    pub fn parse(lists: &[&str]) -> Lists {
        let mut stems = Stems::default();
        let mut phrases = Vec::new();
        for line in lists.iter().flat_map(|l| l.lines()).map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let starts = line.starts_with('*');
            let ends = line.ends_with('*');
            let stem = fold_word(line.trim_matches('*'), false);
            if stem.is_empty() {
                continue;
            }
            match (starts, ends) {
                (true, true) => stems.infixes.push(stem),
                (true, false) => stems.suffixes.push(stem),
                (false, true) => stems.prefixes.push(stem),
                (false, false) => {
                    let words = plain_words(line);
                    if words.len() > 1 {
                        phrases.push(words);
                    }
                    // A phrase also counts written as one word ("fickdich").
                    stems.exact.insert(stem);
                }
            }
        }
        Lists {
            squeezed: stems.squeezed(),
            stems,
            phrases,
        }
    }

    /// Whether any word or phrase of the text is on a list.
    pub fn flags(&self, tokens: &Tokens) -> bool {
        tokens.words.iter().any(|w| self.stems.matches(w))
            || tokens.stretched.iter().any(|w| self.squeezed.matches(w))
            || tokens.masked.iter().any(|m| self.flags_masked(m))
            || self.phrases.iter().any(|p| tokens.has_phrase(p))
    }

    /// A masked word matches a listed word of its length whose letters agree where shown.
    fn flags_masked(&self, pattern: &str) -> bool {
        let pattern: Vec<char> = pattern.chars().collect();
        let fits = |word: &str| {
            let word: Vec<char> = word.chars().collect();
            word.len() == pattern.len()
                && word.iter().zip(&pattern).all(|(w, p)| *p == '*' || w == p)
        };
        self.stems.exact.iter().any(|w| fits(w))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_fold_their_spellings_and_stand_ins() {
        assert_eq!(fold("Scheiß-Tag!"), "scheisstag");
        assert_eq!(fold("$h1t happens"), "shit happens");
        assert_eq!(fold("Café Zoë"), "cafe zoe");
        assert_eq!(fold("fuсk"), "fuck", "Cyrillic с");
        assert_eq!(fold("Team 455"), "team 455", "numbers stay numbers");
    }

    #[test]
    fn a_hyphenated_name_is_two_words_and_one() {
        let tokens = Tokens::of("Anna-Lena");
        assert!(tokens.words.contains(&"anna".to_owned()));
        assert!(tokens.words.contains(&"lena".to_owned()));
        assert!(tokens.words.contains(&"annalena".to_owned()));
        assert_eq!(tokens.parts, ["anna", "lena"]);
    }

    #[test]
    fn single_letters_in_a_row_make_a_word_and_stretched_letters_squeeze() {
        assert!(Tokens::of("f u c k you").words.contains(&"fuck".to_owned()));
        assert!(!Tokens::of("a b").words.contains(&"ab".to_owned()));
        assert!(is_stretched("fuuuck") && !is_stretched("assess"));
        assert_eq!(squeezed("aaaassbang"), squeezed("assbang"));
    }
}
