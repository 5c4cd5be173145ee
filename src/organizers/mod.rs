//! Organizers: the only accounts. Creating one, signing in (a login token, also set as a
//! cookie), API tokens for scripts, resolving a bearer token to its organizer, and keeping
//! the account: changing the password, one-time invitation and reset links an admin makes,
//! and disabling or deleting an organizer.
//! Passwords are hashed with argon2id on a blocking thread; tokens are stored as SHA-256.

pub mod oidc;

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};

use crate::auth::{self, SigningKey, password};
use crate::ids::{LinkId, OrganizerId, TokenId};
pub use crate::model::organizer::{AccountLink, LinkPurpose, Organizer, TokenKind, TokenRecord};
use crate::storage::{EndTokens, Redeemed, Store, StoreError};

/// How long a login (cookie) token lasts.
pub const LOGIN_LIFETIME: Duration = Duration::days(7);

/// How long an API token lasts when its maker names no expiry.
pub const API_TOKEN_DEFAULT_DAYS: u32 = 90;

/// How long an invitation or reset link works.
pub const LINK_LIFETIME: Duration = Duration::hours(72);

/// A token's last use is written at most this often, so a busy script does not turn every
/// request into a write.
const TOUCH_EVERY: Duration = Duration::seconds(60);

/// Hashes a password on a blocking thread (argon2id takes tens of milliseconds).
async fn hash_password(text: &str) -> Result<String, StoreError> {
    let owned = text.to_owned();
    tokio::task::spawn_blocking(move || password::hash(&owned))
        .await
        .map_err(|e| StoreError::Internal(e.to_string()))?
        .map_err(StoreError::Internal)
}

/// Checks a password against a stored hash on a blocking thread.
async fn verify_password(text: &str, stored: String) -> Result<bool, StoreError> {
    let given = text.to_owned();
    tokio::task::spawn_blocking(move || password::verify(&given, &stored))
        .await
        .map_err(|e| StoreError::Internal(e.to_string()))
}

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
    let hash = hash_password(password_text).await?;
    let organizer = Organizer {
        id: OrganizerId::new(),
        email: email.as_str().to_owned(),
        is_admin,
        created_at: Utc::now(),
        disabled_at: None,
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
    /// The password is right but an admin disabled the account.
    #[error("this account is disabled; ask an admin")]
    Disabled,
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
    let matches = verify_password(password_text, stored).await?;
    let Some((organizer, _)) = found.filter(|_| matches) else {
        return Err(LoginError::InvalidCredentials);
    };
    if organizer.disabled_at.is_some() {
        return Err(LoginError::Disabled);
    }
    start_login(store, key, organizer).await
}

/// Issues a login token for an organizer whose identity was just proven.
pub(crate) async fn start_login(
    store: &dyn Store,
    key: &SigningKey,
    organizer: Organizer,
) -> Result<Login, LoginError> {
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
        parent_id: None,
        last_used_at: None,
        last_used_from: None,
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

/// Records that a request from `from` used the token, unless that was written less than
/// a minute ago. A failed write is logged, not returned: the request itself is fine.
pub async fn record_use(store: &dyn Store, token: &TokenRecord, from: IpAddr) {
    let now = Utc::now();
    if token
        .last_used_at
        .is_some_and(|last| now - last < TOUCH_EVERY)
    {
        return;
    }
    if let Err(error) = store.touch_token(token.id, now, &from.to_string()).await {
        tracing::warn!(%error, "could not record a token's use");
    }
}

/// Ends one of the organizer's logins, or revokes one of its API tokens and every token
/// made with it; false when the organizer has no such token of that kind.
pub async fn revoke_token(
    store: &dyn Store,
    organizer: OrganizerId,
    kind: TokenKind,
    token: TokenId,
) -> Result<bool, StoreError> {
    store.delete_token(organizer, kind, token).await
}

/// Creates a named API token; the secret is returned once and never stored. It expires
/// after `expires_in_days` ([`API_TOKEN_DEFAULT_DAYS`] when `None`). Made with another API
/// token (`by`), it is that token's child: it never outlives it, and revoking that token
/// revokes this one.
pub async fn create_api_token(
    store: &dyn Store,
    by: &TokenRecord,
    name: &str,
    expires_in_days: Option<u32>,
) -> Result<(TokenRecord, String), StoreError> {
    let token = auth::new_organizer_token();
    let now = Utc::now();
    let days = expires_in_days.unwrap_or(API_TOKEN_DEFAULT_DAYS);
    let mut expires_at = now + Duration::days(i64::from(days));
    let parent_id = (by.kind == TokenKind::Api).then_some(by.id);
    if let Some(parent_expiry) = by.expires_at.filter(|_| parent_id.is_some()) {
        expires_at = expires_at.min(parent_expiry);
    }
    let record = TokenRecord {
        id: TokenId::new(),
        organizer_id: by.organizer_id,
        kind: TokenKind::Api,
        name: name.trim().to_owned(),
        token_hash: auth::hash_token(&token),
        created_at: now,
        expires_at: Some(expires_at),
        parent_id,
        last_used_at: None,
        last_used_from: None,
    };
    store.insert_token(&record).await?;
    Ok((record, token))
}

/// The organizer's tokens of one kind, oldest first.
pub async fn tokens(
    store: &dyn Store,
    organizer: OrganizerId,
    kind: TokenKind,
) -> Result<Vec<TokenRecord>, StoreError> {
    store.tokens_of(organizer, kind).await
}

/// Why a password could not be changed.
#[derive(Debug, thiserror::Error)]
pub enum ChangePasswordError {
    /// The current password given is wrong.
    #[error("the current password is wrong")]
    WrongPassword,
    /// The new password breaks the rules.
    #[error(transparent)]
    WeakPassword(#[from] password::WeakPassword),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Changes the signed-in organizer's password after checking the current one, and ends
/// every other login (API tokens stay: they are listed and ended one by one).
pub async fn change_password(
    store: &dyn Store,
    auth: &Authenticated,
    current: &str,
    new: &str,
) -> Result<(), ChangePasswordError> {
    let stored = store
        .organizer_by_email(&auth.organizer.email)
        .await?
        .map_or_else(|| password::decoy_hash().to_owned(), |(_, hash)| hash);
    if !verify_password(current, stored).await? {
        return Err(ChangePasswordError::WrongPassword);
    }
    password::check_new(new)?;
    let hash = hash_password(new).await?;
    store
        .set_password(
            auth.organizer.id,
            &hash,
            EndTokens::OtherLogins(auth.token.id),
        )
        .await?;
    Ok(())
}

/// Sets an organizer's password without the current one (the operator's command line),
/// ending every login and API token; false when there is no such organizer.
pub async fn set_password(
    store: &dyn Store,
    organizer: OrganizerId,
    new: &str,
) -> Result<bool, ChangePasswordError> {
    password::check_new(new)?;
    let hash = hash_password(new).await?;
    Ok(store.set_password(organizer, &hash, EndTokens::All).await?)
}

/// A one-time link just made; the secret is in `token` only, never stored.
#[derive(Debug, Clone)]
pub struct NewLink {
    /// The record.
    pub link: AccountLink,
    /// The secret to put in the link.
    pub token: String,
}

/// Makes a one-time link: an invitation for `email`, or a password reset for the organizer
/// `reset`. It works once, for [`LINK_LIFETIME`].
pub async fn create_link(
    store: &dyn Store,
    admin: OrganizerId,
    purpose: LinkPurpose,
    email: &str,
    reset: Option<OrganizerId>,
    is_admin: bool,
) -> Result<NewLink, StoreError> {
    let token = auth::new_link_token();
    let now = Utc::now();
    let link = AccountLink {
        id: LinkId::new(),
        token_hash: auth::hash_token(&token),
        purpose,
        email: email.to_owned(),
        organizer_id: reset,
        is_admin,
        created_by: Some(admin),
        created_at: now,
        expires_at: now + LINK_LIFETIME,
    };
    store.insert_account_link(&link).await?;
    Ok(NewLink { link, token })
}

/// Why a one-time link could not be used.
#[derive(Debug, thiserror::Error)]
pub enum RedeemError {
    /// Unknown, used or expired.
    #[error("this link is not valid: it was used already, has expired, or was mistyped")]
    InvalidLink,
    /// The invited email has an account already.
    #[error("an organizer with this email exists already")]
    EmailTaken,
    /// The new password breaks the rules.
    #[error(transparent)]
    WeakPassword(#[from] password::WeakPassword),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Uses a one-time link with the new password, and signs the organizer in.
pub async fn redeem_link(
    store: &dyn Store,
    key: &SigningKey,
    token: &str,
    new_password: &str,
) -> Result<Login, RedeemError> {
    if !token.starts_with(auth::LINK_TOKEN_PREFIX) || token.len() > 100 {
        return Err(RedeemError::InvalidLink);
    }
    password::check_new(new_password)?;
    let hash = hash_password(new_password).await?;
    let redeemed = store
        .redeem_account_link(
            &auth::hash_token(token),
            Utc::now(),
            &hash,
            OrganizerId::new(),
        )
        .await?;
    match redeemed {
        Redeemed::Invalid => Err(RedeemError::InvalidLink),
        Redeemed::EmailTaken => Err(RedeemError::EmailTaken),
        Redeemed::Done(organizer) => {
            start_login(store, key, organizer)
                .await
                .map_err(|error| match error {
                    LoginError::Store(error) => RedeemError::Store(error),
                    LoginError::InvalidCredentials | LoginError::Disabled => {
                        RedeemError::InvalidLink
                    }
                })
        }
    }
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
