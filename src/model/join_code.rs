//! Join codes: six characters from an alphabet without look-alikes (no 0/O, 1/I/L), drawn
//! from the operating system's CSPRNG, accepted case-insensitively and with spaces or dashes.

use rand::Rng;
use serde::{Deserialize, Serialize};

/// The characters a code is made of: digits and capitals, minus 0, 1, I, L and O.
pub const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/// Characters in a code.
pub const LENGTH: usize = 6;

/// A valid join code, uppercase.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JoinCode(String);

impl JoinCode {
    /// A fresh random code.
    pub fn generate() -> JoinCode {
        // ThreadRng is ChaCha12 seeded from the operating system: a CSPRNG.
        let mut rng = rand::rng();
        let code = (0..LENGTH)
            .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
            .collect();
        JoinCode(code)
    }

    /// The link a phone opens to join with this code (the QR code encodes it); `base` is
    /// the server's public base URL.
    pub fn url(&self, base: &url::Url) -> String {
        let code = self.as_str();
        base.join(&format!("join/{code}"))
            .map_or_else(|_| format!("{base}join/{code}"), |u| u.to_string())
    }

    /// Parses what a person typed: case-insensitive, spaces and dashes ignored.
    pub fn parse(raw: &str) -> Option<JoinCode> {
        let code: String = raw
            .chars()
            .filter(|c| !matches!(c, ' ' | '-'))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        (code.len() == LENGTH && code.bytes().all(|b| ALPHABET.contains(&b)))
            .then_some(JoinCode(code))
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Wraps a code read back from storage.
    pub(crate) fn from_stored(code: String) -> JoinCode {
        JoinCode(code)
    }
}

impl std::fmt::Display for JoinCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_codes_use_only_the_unambiguous_alphabet() {
        for _ in 0..1000 {
            let code = JoinCode::generate();
            assert_eq!(code.as_str().len(), LENGTH);
            assert!(!code.as_str().contains(['0', 'O', '1', 'I', 'L']), "{code}");
            assert_eq!(JoinCode::parse(code.as_str()), Some(code));
        }
    }

    #[test]
    fn typed_codes_are_normalised() {
        assert_eq!(JoinCode::parse("ab c-234").unwrap().as_str(), "ABC234");
        for bad in ["", "ABC23", "ABC2345", "ABC0OO", "ABC!23", "ÄBC234"] {
            assert_eq!(JoinCode::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn codes_are_spread_over_the_alphabet() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..2000 {
            seen.extend(JoinCode::generate().as_str().chars());
        }
        assert_eq!(seen.len(), ALPHABET.len());
    }
}
