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
}

/// Checks the rules for a new password.
pub fn check_new(password: &str) -> Result<(), WeakPassword> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return Err(WeakPassword::TooShort);
    }
    if length > MAX_LENGTH {
        return Err(WeakPassword::TooLong);
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
}
