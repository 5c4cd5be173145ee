//! Organizers: the only accounts. Creating one, signing in (a login token, also set as a
//! cookie), API tokens for scripts, and resolving a bearer token to its organizer.
//! Passwords are hashed with argon2id on a blocking thread; tokens are stored as SHA-256.

use chrono::{DateTime, Duration, Utc};

use crate::auth::{self, SigningKey, password};
use crate::ids::{OrganizerId, TokenId};
pub use crate::model::organizer::{Organizer, TokenKind, TokenRecord};
use crate::storage::{Store, StoreError};

/// How long a login (cookie) token lasts.
pub const LOGIN_LIFETIME: Duration = Duration::days(7);

/// A parsed, lowercased email address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Accepts `local@domain` with no spaces, at most 254 characters; lowercases it.
    pub fn parse(raw: &str) -> Result<Email, String> {
        let email = raw.trim().to_lowercase();
        let valid = email.len() <= 254
            && !email.chars().any(char::is_whitespace)
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@')
            });
        if valid {
            Ok(Email(email))
        } else {
            Err("not a valid email address".into())
        }
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why an organizer could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateOrganizerError {
    /// The email is malformed.
    #[error("invalid email: {0}")]
    InvalidEmail(String),
    /// The password breaks the rules.
    #[error(transparent)]
    WeakPassword(#[from] password::WeakPassword),
    /// Someone has this email already.
    #[error("an organizer with this email exists already")]
    EmailTaken,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Creates an organizer account.
pub async fn create(
    store: &dyn Store,
    email: &str,
    password_text: &str,
    is_admin: bool,
) -> Result<Organizer, CreateOrganizerError> {
    let email = Email::parse(email).map_err(CreateOrganizerError::InvalidEmail)?;
    password::check_new(password_text)?;
    let owned = password_text.to_owned();
    let hash = tokio::task::spawn_blocking(move || password::hash(&owned))
        .await
        .map_err(|e| StoreError::Internal(e.to_string()))?
        .map_err(StoreError::Internal)?;
    let organizer = Organizer {
        id: OrganizerId::new(),
        email: email.as_str().to_owned(),
        is_admin,
        created_at: Utc::now(),
    };
    match store.insert_organizer(&organizer, &hash).await {
        Ok(()) => Ok(organizer),
        Err(StoreError::Conflict(_)) => Err(CreateOrganizerError::EmailTaken),
        Err(other) => Err(other.into()),
    }
}

/// A successful sign-in.
#[derive(Debug, Clone)]
pub struct Login {
    /// The bearer token (also the cookie value).
    pub token: String,
    /// Who signed in.
    pub organizer: Organizer,
    /// The CSRF token pages send back with the cookie.
    pub csrf_token: String,
    /// When the token expires.
    pub expires_at: DateTime<Utc>,
}

/// Why signing in failed.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Unknown email or wrong password (deliberately not told apart).
    #[error("the email or password is wrong")]
    InvalidCredentials,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks email and password and issues a login token.
pub async fn login(
    store: &dyn Store,
    key: &SigningKey,
    email: &str,
    password_text: &str,
) -> Result<Login, LoginError> {
    let found = match Email::parse(email) {
        Ok(email) => store.organizer_by_email(email.as_str()).await?,
        Err(_) => None,
    };
    let stored = found.as_ref().map_or_else(
        || password::decoy_hash().to_owned(),
        |(_, hash)| hash.clone(),
    );
    let given = password_text.to_owned();
    let matches = tokio::task::spawn_blocking(move || password::verify(&given, &stored))
        .await
        .map_err(|e| StoreError::Internal(e.to_string()))?;
    let Some((organizer, _)) = found.filter(|_| matches) else {
        return Err(LoginError::InvalidCredentials);
    };
    let token = auth::new_organizer_token();
    let now = Utc::now();
    let record = TokenRecord {
        id: TokenId::new(),
        organizer_id: organizer.id,
        kind: TokenKind::Login,
        name: "login".into(),
        token_hash: auth::hash_token(&token),
        created_at: now,
        expires_at: Some(now + LOGIN_LIFETIME),
    };
    store.insert_token(&record).await?;
    Ok(Login {
        csrf_token: key.csrf_token(&record.token_hash),
        token,
        organizer,
        expires_at: now + LOGIN_LIFETIME,
    })
}

/// An organizer resolved from a bearer token or cookie.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// Who.
    pub organizer: Organizer,
    /// With which token.
    pub token: TokenRecord,
}

/// Resolves a token to its organizer; None when unknown or expired.
pub async fn authenticate(
    store: &dyn Store,
    token: &str,
) -> Result<Option<Authenticated>, StoreError> {
    if !token.starts_with(auth::ORGANIZER_TOKEN_PREFIX) || token.len() > 100 {
        return Ok(None);
    }
    let found = store
        .organizer_by_token_hash(&auth::hash_token(token), Utc::now())
        .await?;
    Ok(found.map(|(organizer, token)| Authenticated { organizer, token }))
}

/// Ends a login (or revokes an API token) by id.
pub async fn revoke_token(
    store: &dyn Store,
    organizer: OrganizerId,
    token: TokenId,
) -> Result<bool, StoreError> {
    store.delete_token(organizer, token).await
}

/// Creates a named API token; the secret is returned once and never stored.
pub async fn create_api_token(
    store: &dyn Store,
    organizer: OrganizerId,
    name: &str,
    expires_in_days: Option<u32>,
) -> Result<(TokenRecord, String), StoreError> {
    let token = auth::new_organizer_token();
    let now = Utc::now();
    let record = TokenRecord {
        id: TokenId::new(),
        organizer_id: organizer,
        kind: TokenKind::Api,
        name: name.trim().to_owned(),
        token_hash: auth::hash_token(&token),
        created_at: now,
        expires_at: expires_in_days.map(|days| now + Duration::days(i64::from(days))),
    };
    store.insert_token(&record).await?;
    Ok((record, token))
}

/// The organizer's API tokens.
pub async fn api_tokens(
    store: &dyn Store,
    organizer: OrganizerId,
) -> Result<Vec<TokenRecord>, StoreError> {
    store.api_tokens_of(organizer).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_lowercased_and_checked() {
        assert_eq!(
            Email::parse("  Ada@Example.ORG ").unwrap().as_str(),
            "ada@example.org"
        );
        for bad in [
            "",
            "ada",
            "@x.org",
            "ada@",
            "ada@x",
            "a da@x.org",
            "ada@.org",
            "a@b@c.org",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }
}
