//! Company sign-in through an OpenID Connect provider: the authorization code flow with
//! PKCE, a state bound to the browser and used once, and a nonce in the ID token. The
//! `openidconnect` crate checks the provider's discovery document (its issuer must be the
//! configured one), the ID token's signature against the provider's published keys, its
//! issuer, audience, expiry and nonce. What is ours: who may sign in (an allowed email
//! domain or group), and finding or creating the organizer.

use chrono::{Duration, Utc};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};

use super::{CreateOrganizerError, Login, LoginError, start_login};
use crate::auth::{self, SigningKey};
use crate::config::OidcConfig;
use crate::model::organizer::Organizer;
use crate::storage::{OidcLogin, Store, StoreError};

/// How long a person may take at the provider before the sign-in is abandoned.
pub const PENDING_LIFETIME: Duration = Duration::minutes(10);

/// Why a company sign-in failed. Pages say it in the visitor's language by its code.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The provider could not be reached, or its discovery document is wrong (an issuer
    /// other than the configured one, say).
    #[error("the sign-in provider could not be used: {0}")]
    Provider(String),
    /// The state is unknown, used already, expired, or not this browser's.
    #[error("this sign-in was used already, has expired, or was started in another browser")]
    State,
    /// The provider refused, or its ID token did not pass the checks (signature, issuer,
    /// audience, expiry, nonce).
    #[error("the provider's answer was refused: {0}")]
    Token(String),
    /// The person is not in an allowed domain or group, or their email is unverified.
    #[error("this account may not sign in here")]
    NotAllowed,
    /// No organizer has this email, and accounts are not created at sign-in.
    #[error("no organizer has this email; ask an admin for an invitation")]
    NoAccount,
    /// The organizer is disabled.
    #[error("this account is disabled; ask an admin")]
    Disabled,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl OidcError {
    /// The code pages show a message for (`login.oidc_<code>`).
    pub fn code(&self) -> &'static str {
        match self {
            OidcError::Provider(_) | OidcError::Store(_) => "unavailable",
            OidcError::State => "state",
            OidcError::Token(_) => "refused",
            OidcError::NotAllowed => "not_allowed",
            OidcError::NoAccount => "no_account",
            OidcError::Disabled => "disabled",
        }
    }
}

/// Sends the provider's HTTP requests through reqwest, without following redirects (a
/// provider's endpoint must answer itself; a redirect could lead the server elsewhere).
fn http_client() -> impl Fn(
    openidconnect::HttpRequest,
) -> std::pin::Pin<
    Box<dyn Future<Output = Result<openidconnect::HttpResponse, reqwest::Error>> + Send>,
> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap_or_default();
    move |request: openidconnect::HttpRequest| {
        let client = client.clone();
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let response = client
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body)
                .send()
                .await?;
            let mut builder = openidconnect::http::Response::builder().status(response.status());
            for (name, value) in response.headers() {
                builder = builder.header(name, value);
            }
            let body = response.bytes().await?.to_vec();
            Ok(builder
                .body(body)
                .unwrap_or_else(|_| openidconnect::http::Response::new(Vec::new())))
        })
    }
}

/// Discovers the provider and makes the client for it. Each sign-in discovers afresh, so a
/// rotated signing key is picked up at once; organizers sign in rarely.
async fn client(
    config: &OidcConfig,
    redirect_uri: &str,
) -> Result<
    CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    >,
    OidcError,
> {
    let issuer = IssuerUrl::new(config.issuer.as_str().trim_end_matches('/').to_owned())
        .map_err(|e| OidcError::Provider(e.to_string()))?;
    let metadata = CoreProviderMetadata::discover_async(issuer, &http_client())
        .await
        .map_err(|e| OidcError::Provider(error_chain(&e)))?;
    let redirect = RedirectUrl::new(redirect_uri.to_owned())
        .map_err(|e| OidcError::Provider(e.to_string()))?;
    Ok(CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(config.client_id.clone()),
        Some(ClientSecret::new(config.client_secret.expose().to_owned())),
    )
    .set_redirect_uri(redirect))
}

/// An error with its causes, for the log and the error's message.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A sign-in on its way to the provider.
#[derive(Debug, Clone)]
pub struct Started {
    /// Where to send the browser.
    pub authorize_url: String,
    /// The state, for the browser's cookie.
    pub state: String,
}

/// Starts a sign-in: the provider's authorization URL with a new state, nonce and PKCE
/// challenge, whose verifier and nonce wait in storage under the state's hash.
pub async fn start(
    store: &dyn Store,
    config: &OidcConfig,
    redirect_uri: &str,
    next: &str,
) -> Result<Started, OidcError> {
    let client = client(config, redirect_uri).await?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    let now = Utc::now();
    store
        .insert_oidc_login(
            &OidcLogin {
                state_hash: auth::hash_token(state.secret()),
                nonce: nonce.secret().clone(),
                pkce_verifier: verifier.secret().clone(),
                next_path: next.to_owned(),
                created_at: now,
                expires_at: now + PENDING_LIFETIME,
            },
            now,
        )
        .await?;
    Ok(Started {
        authorize_url: url.to_string(),
        state: state.secret().clone(),
    })
}

/// A finished company sign-in, and where to go next.
#[derive(Debug)]
pub struct Finished {
    /// The login, as a password sign-in makes it.
    pub login: Login,
    /// The same-site path the sign-in started from.
    pub next: String,
}

/// Finishes a sign-in: the state must be this browser's (`cookie_state`) and unused; the
/// code is exchanged with the PKCE verifier; the ID token is checked; then the person must
/// be allowed, and is signed in to their organizer account, made now if allowed.
pub async fn finish(
    store: &dyn Store,
    key: &SigningKey,
    config: &OidcConfig,
    redirect_uri: &str,
    code: &str,
    state: &str,
    cookie_state: Option<&str>,
) -> Result<Finished, OidcError> {
    let same_browser = cookie_state
        .is_some_and(|c| auth::hash_token(c).as_slice() == auth::hash_token(state).as_slice());
    // The stored sign-in is taken even when the cookie differs, so a leaked callback URL
    // cannot be tried again from the right browser later.
    let pending = store
        .take_oidc_login(&auth::hash_token(state), Utc::now())
        .await?;
    let Some(pending) = pending.filter(|_| same_browser) else {
        return Err(OidcError::State);
    };
    let client = client(config, redirect_uri).await?;
    let http = http_client();
    let tokens = client
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .map_err(|e| OidcError::Provider(e.to_string()))?
        .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier))
        .request_async(&http)
        .await
        .map_err(|e| OidcError::Token(error_chain(&e)))?;
    let id_token = tokens
        .id_token()
        .ok_or_else(|| OidcError::Token("the provider sent no ID token".into()))?;
    let claims = id_token
        .claims(&client.id_token_verifier(), &Nonce::new(pending.nonce))
        .map_err(|e| OidcError::Token(error_chain(&e)))?;
    let email = claims
        .email()
        .map(|e| e.as_str().trim().to_lowercase())
        .ok_or(OidcError::NotAllowed)?;
    // An address the provider says it has not verified proves nothing.
    if claims.email_verified() == Some(false) {
        return Err(OidcError::NotAllowed);
    }
    let groups = groups_of(&id_token.to_string(), &config.groups_claim);
    if !config.allows(&email, &groups) {
        return Err(OidcError::NotAllowed);
    }
    let organizer = organizer_for(store, config, &email).await?;
    let login = start_login(store, key, organizer)
        .await
        .map_err(|error| match error {
            LoginError::Store(error) => OidcError::Store(error),
            LoginError::InvalidCredentials | LoginError::Disabled => OidcError::Disabled,
        })?;
    Ok(Finished {
        login,
        next: pending.next_path,
    })
}

/// The groups the (already verified) ID token lists under `claim`.
fn groups_of(jwt: &str, claim: &str) -> Vec<String> {
    use base64::Engine;
    let payload = jwt.split('.').nth(1).unwrap_or_default();
    let Ok(bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload) else {
        return Vec::new();
    };
    let Ok(claims) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Vec::new();
    };
    match &claims[claim] {
        serde_json::Value::Array(items) => items
            .iter()
            .filter_map(|g| g.as_str().map(str::to_owned))
            .collect(),
        serde_json::Value::String(one) => vec![one.clone()],
        _ => Vec::new(),
    }
}

/// The organizer with this email, made now when the configuration allows; a disabled one
/// is refused.
async fn organizer_for(
    store: &dyn Store,
    config: &OidcConfig,
    email: &str,
) -> Result<Organizer, OidcError> {
    if let Some((organizer, _)) = store.organizer_by_email(email).await? {
        return if organizer.disabled_at.is_some() {
            Err(OidcError::Disabled)
        } else {
            Ok(organizer)
        };
    }
    if !config.create_accounts {
        return Err(OidcError::NoAccount);
    }
    // The account has a random password nobody knows: it signs in through the provider,
    // and an admin's reset link can give it a password later.
    match super::create(store, email, &auth::new_link_token(), false).await {
        Ok(organizer) => Ok(organizer),
        // Two first sign-ins at once: the other made it.
        Err(CreateOrganizerError::EmailTaken) => store
            .organizer_by_email(email)
            .await?
            .map(|(organizer, _)| organizer)
            .ok_or(OidcError::NoAccount),
        Err(CreateOrganizerError::Store(error)) => Err(error.into()),
        Err(error) => Err(OidcError::Token(error.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_read_from_the_token_payload() {
        use base64::Engine;
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"groups":["staff","ops"],"team":"blue"}"#);
        let jwt = format!("x.{payload}.y");
        assert_eq!(groups_of(&jwt, "groups"), ["staff", "ops"]);
        assert_eq!(groups_of(&jwt, "team"), ["blue"]);
        assert!(groups_of(&jwt, "missing").is_empty());
        assert!(groups_of("garbage", "groups").is_empty());
    }
}
