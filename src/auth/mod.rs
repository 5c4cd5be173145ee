//! Credentials: organizer tokens (random, stored hashed), participant tokens (HMAC-signed,
//! checked without a database round trip), CSRF tokens for cookie sessions, and the
//! password hashing rules. Pure functions and small types; no HTTP, no SQL.

pub mod password;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::ids::{ParticipantId, SessionId};

type HmacSha256 = Hmac<Sha256>;

/// Prefix of organizer tokens, so a leaked one is recognisable in logs and scanners.
pub const ORGANIZER_TOKEN_PREFIX: &str = "cfo_";
/// Prefix of participant tokens.
pub const PARTICIPANT_TOKEN_PREFIX: &str = "cfp_";
/// Prefix of viewer (big screen) tokens.
pub const VIEWER_TOKEN_PREFIX: &str = "cfv_";
/// Prefix of one-time invitation and reset links' secrets.
pub const LINK_TOKEN_PREFIX: &str = "cfl_";
/// Prefix of the browser cookie a ban can cover.
pub const BROWSER_TOKEN_PREFIX: &str = "cfb_";

/// The server's signing secret (from the `signing_keys` table), shared by all instances.
#[derive(Clone)]
pub struct SigningKey([u8; 32]);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey([redacted])")
    }
}

impl SigningKey {
    /// Wraps 32 secret bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// 32 fresh random bytes.
    pub fn generate() -> Self {
        Self(rand::random())
    }

    /// The raw secret, for storing it.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    fn mac(&self, purpose: &[u8], message: &[u8]) -> [u8; 32] {
        let mut mac =
            <HmacSha256 as KeyInit>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(purpose);
        mac.update(message);
        mac.finalize().into_bytes().into()
    }

    /// A participant's bearer token: their ids, signed.
    pub fn participant_token(&self, session: SessionId, participant: ParticipantId) -> String {
        let mut payload = [0u8; 32];
        payload[..16].copy_from_slice(session.0.as_bytes());
        payload[16..].copy_from_slice(participant.0.as_bytes());
        let signature = self.mac(b"participant:", &payload);
        let mut token = [0u8; 64];
        token[..32].copy_from_slice(&payload);
        token[32..].copy_from_slice(&signature);
        format!(
            "{PARTICIPANT_TOKEN_PREFIX}{}",
            URL_SAFE_NO_PAD.encode(token)
        )
    }

    /// Checks a participant token's signature and returns the ids it carries.
    pub fn verify_participant_token(&self, token: &str) -> Option<(SessionId, ParticipantId)> {
        let encoded = token.strip_prefix(PARTICIPANT_TOKEN_PREFIX)?;
        if encoded.len() != 86 {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(encoded).ok()?;
        let (payload, signature) = bytes.split_at(32);
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(&self.0).ok()?;
        mac.update(b"participant:");
        mac.update(payload);
        mac.verify_slice(signature).ok()?;
        let session = uuid::Uuid::from_slice(&payload[..16]).ok()?;
        let participant = uuid::Uuid::from_slice(&payload[16..]).ok()?;
        Some((SessionId(session), ParticipantId(participant)))
    }

    /// The secret part of a session's viewer link: lets a big screen follow the session
    /// with what the room may see, and nothing else.
    pub fn viewer_token(&self, session: SessionId) -> String {
        let signature = self.mac(b"viewer:", session.0.as_bytes());
        let mut token = [0u8; 48];
        token[..16].copy_from_slice(session.0.as_bytes());
        token[16..].copy_from_slice(&signature);
        format!("{VIEWER_TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(token))
    }

    /// Checks a viewer token and returns its session.
    pub fn verify_viewer_token(&self, token: &str) -> Option<SessionId> {
        let bytes = URL_SAFE_NO_PAD
            .decode(token.strip_prefix(VIEWER_TOKEN_PREFIX)?)
            .ok()?;
        if bytes.len() != 48 {
            return None;
        }
        let (session, signature) = bytes.split_at(16);
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(&self.0).ok()?;
        mac.update(b"viewer:");
        mac.update(session);
        mac.verify_slice(signature).ok()?;
        Some(SessionId(uuid::Uuid::from_slice(session).ok()?))
    }

    /// The proof a browser keeps after signing in to the account `email`: sign-ins that
    /// bring it are not slowed down by other people's wrong guesses at that account.
    pub fn device_token(&self, email: &str) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(b"device:", email.trim().to_lowercase().as_bytes()))
    }

    /// Checks a device token for `email` in constant time.
    pub fn verify_device_token(&self, email: &str, given: &str) -> bool {
        self.verify_mac(b"device:", email.trim().to_lowercase().as_bytes(), given)
    }

    /// The CSRF token bound to one organizer login token (by its hash): a page must echo it
    /// in `X-CSRF-Token` on every state-changing request made with the cookie.
    pub fn csrf_token(&self, token_hash: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(b"csrf:", token_hash))
    }

    /// Checks a CSRF token in constant time.
    pub fn verify_csrf_token(&self, token_hash: &[u8], given: &str) -> bool {
        self.verify_mac(b"csrf:", token_hash, given)
    }

    /// Whether `given` (URL-safe base64) is [`Self::mac`] of `purpose` and `message`,
    /// compared in constant time.
    fn verify_mac(&self, purpose: &[u8], message: &[u8], given: &str) -> bool {
        let Ok(given) = URL_SAFE_NO_PAD.decode(given) else {
            return false;
        };
        let mut mac =
            <HmacSha256 as KeyInit>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(purpose);
        mac.update(message);
        mac.verify_slice(&given).is_ok()
    }
}

/// A new organizer token: 32 random bytes, URL-safe, prefixed.
pub fn new_organizer_token() -> String {
    let bytes: [u8; 32] = rand::random();
    format!("{ORGANIZER_TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// A new one-time link secret: 256 random bits, base64url.
pub fn new_link_token() -> String {
    let bytes: [u8; 32] = rand::random();
    format!("{LINK_TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// A new browser cookie value: 128 random bits, base64url. Only its hash is stored.
pub fn new_browser_token() -> String {
    let bytes: [u8; 16] = rand::random();
    format!("{BROWSER_TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// What the database stores of an organizer token: its SHA-256.
pub fn hash_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_participant_token_round_trips_and_names_its_ids() {
        let key = SigningKey::generate();
        let (session, participant) = (SessionId::new(), ParticipantId::new());
        let token = key.participant_token(session, participant);
        assert!(token.starts_with("cfp_"));
        assert_eq!(
            key.verify_participant_token(&token),
            Some((session, participant))
        );
    }

    #[test]
    fn a_tampered_or_foreign_participant_token_is_refused() {
        let key = SigningKey::generate();
        let token = key.participant_token(SessionId::new(), ParticipantId::new());
        let mut chars: Vec<char> = token.chars().collect();
        let last = chars.len() - 10;
        chars[last] = if chars[last] == 'A' { 'B' } else { 'A' };
        let tampered: String = chars.into_iter().collect();
        assert_eq!(key.verify_participant_token(&tampered), None);
        assert_eq!(
            SigningKey::generate().verify_participant_token(&token),
            None
        );
        for junk in ["", "cfp_", "cfp_!!!", "cfo_abc", &"cfp_".repeat(40)] {
            assert_eq!(key.verify_participant_token(junk), None, "{junk}");
        }
    }

    #[test]
    fn a_viewer_token_names_its_session_only() {
        let key = SigningKey::generate();
        let session = SessionId::new();
        let token = key.viewer_token(session);
        assert!(token.starts_with("cfv_"));
        assert_eq!(key.verify_viewer_token(&token), Some(session));
        assert_eq!(SigningKey::generate().verify_viewer_token(&token), None);
        assert_eq!(
            key.verify_viewer_token(&token.replace("cfv_", "cfp_")),
            None
        );
        assert_eq!(key.verify_viewer_token("cfv_AAAA"), None);
    }

    #[test]
    fn csrf_tokens_are_bound_to_one_login() {
        let key = SigningKey::generate();
        let login = hash_token(&new_organizer_token());
        let other = hash_token(&new_organizer_token());
        let csrf = key.csrf_token(&login);
        assert!(key.verify_csrf_token(&login, &csrf));
        assert!(!key.verify_csrf_token(&other, &csrf));
        assert!(!key.verify_csrf_token(&login, "nonsense"));
    }

    #[test]
    fn organizer_tokens_are_unique_and_hash_to_32_bytes() {
        let (a, b) = (new_organizer_token(), new_organizer_token());
        assert_ne!(a, b);
        assert!(a.starts_with("cfo_") && a.len() > 40);
        assert_eq!(hash_token(&a).len(), 32);
    }
}
