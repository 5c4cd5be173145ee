//! Password rules and argon2id hashing. Hashing is slow on purpose, so callers run it on a
//! blocking thread.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

/// Shortest accepted password.
pub const MIN_LENGTH: usize = 10;
/// Longest accepted password (argon2 takes any length; this bounds the work per request).
pub const MAX_LENGTH: usize = 256;

/// Why a new password is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeakPassword {
    /// Too short.
    #[error("the password must have at least {MIN_LENGTH} characters")]
    TooShort,
    /// Too long.
    #[error("the password must have at most {MAX_LENGTH} characters")]
    TooLong,
    /// Easy to guess: a common password, a repeat, a keyboard run, a word with digits.
    #[error(
        "the password is too easy to guess; use a few unusual words, or a longer mix of characters"
    )]
    Guessable,
}

/// The least zxcvbn score a new password needs: 3, "safely unguessable" (about 10^8
/// guesses and more), what zxcvbn advises against offline attacks on a slow hash.
const MIN_SCORE: zxcvbn::Score = zxcvbn::Score::Three;

/// Checks the rules for a new password: a sensible length, and strength as the maintained
/// estimator zxcvbn judges it (its dictionaries hold the common passwords, names and words,
/// and it sees repeats, sequences, keyboard runs and dates).
pub fn check_new(password: &str) -> Result<(), WeakPassword> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return Err(WeakPassword::TooShort);
    }
    if length > MAX_LENGTH {
        return Err(WeakPassword::TooLong);
    }
    // The product's own name is the first thing an attacker of this server tries.
    if zxcvbn::zxcvbn(password, &["conflicto"]).score() < MIN_SCORE {
        return Err(WeakPassword::Guessable);
    }
    Ok(())
}

/// Hashes a password into a PHC string (argon2id, random salt).
pub fn hash(password: &str) -> Result<String, String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| e.to_string())
}

/// True when `password` matches the stored PHC string.
pub fn verify(password: &str, stored: &str) -> bool {
    if password.chars().count() > MAX_LENGTH {
        return false;
    }
    PasswordHash::new(stored).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    })
}

/// A PHC string that matches no password, verified against when the email is unknown so
/// that unknown and known emails take the same time.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash("decoy password that nobody has").expect("hashing works"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let stored = hash("correct horse battery").unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", &stored));
        assert!(!verify("wrong horse battery", &stored));
        assert!(!verify("anything", "not a phc string"));
    }

    #[test]
    fn new_passwords_need_a_sensible_length() {
        assert_eq!(check_new("short"), Err(WeakPassword::TooShort));
        assert_eq!(check_new(&"x".repeat(300)), Err(WeakPassword::TooLong));
        assert!(check_new("long enough pass").is_ok());
    }

    /// Length alone is not strength: repeats, keyboard runs, common passwords and words with
    /// digits are refused however long; long unusual phrases pass.
    #[test]
    fn weak_passwords_are_refused_whatever_their_length() {
        for weak in [
            "aaaaaaaaaa",
            "password12",
            "Password123!",
            "qwertyuiop",
            "1234567890",
            "iloveyou2024",
            "conflicto2026",
        ] {
            assert_eq!(check_new(weak), Err(WeakPassword::Guessable), "{weak}");
        }
        for strong in [
            "correct horse battery staple",
            "Tulpen im Regen 1987!",
            "k7#Vq9!mZ2pL",
        ] {
            assert_eq!(check_new(strong), Ok(()), "{strong}");
        }
    }
}
