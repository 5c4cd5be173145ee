//! Organizer sign-in: `POST /auth/login` returns a bearer token and sets it as an HttpOnly
//! cookie; `/auth/me` tells pages the CSRF token; API tokens serve scripts. The account:
//! the password, the logins and tokens the organizer can see and end, one-time links an
//! admin makes to invite an organizer or reset a password, and the admin's list.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiError, ErrorCode, ErrorEnvelope};
use crate::http::extract::{AppJson, AppPath, ClientIp, HostAuth, SESSION_COOKIE};
use crate::http::state::AppState;
use crate::ids::{OrganizerId, TokenId};
use crate::model::invalid::{Invalid, Rule, check_length, check_range};
use crate::organizers::{
    self, Email, LOGIN_LIFETIME, LinkPurpose, Login, Organizer, TokenKind, TokenRecord,
};

/// The auth routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(create_token, list_tokens))
        .routes(routes!(delete_token))
        .routes(routes!(change_password))
        .routes(routes!(list_logins))
        .routes(routes!(end_login))
        .routes(routes!(redeem_link))
        .routes(routes!(list_organizers))
        .routes(routes!(invite_organizer))
        .routes(routes!(reset_organizer))
}

/// Email and password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The organizer's email.
    #[schema(max_length = 254)]
    pub email: String,
    /// The password.
    #[schema(max_length = 256)]
    pub password: String,
}

/// An organizer as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganizerResponse {
    /// Its id.
    pub id: OrganizerId,
    /// Its email.
    pub email: String,
    /// Admins see every session.
    pub is_admin: bool,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// When an admin disabled it (then it cannot sign in).
    pub disabled_at: Option<DateTime<Utc>>,
}

impl From<Organizer> for OrganizerResponse {
    fn from(o: Organizer) -> Self {
        Self {
            id: o.id,
            email: o.email,
            is_admin: o.is_admin,
            created_at: o.created_at,
            disabled_at: o.disabled_at,
        }
    }
}

/// A successful sign-in.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`; also set as the session cookie.
    pub token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// When the token stops working.
    pub expires_at: DateTime<Utc>,
    /// Send as `X-CSRF-Token` with state-changing requests made with the cookie.
    pub csrf_token: String,
    /// Who signed in.
    pub organizer: OrganizerResponse,
}

/// A cookie for `name`, HttpOnly, and Secure when the site is served over HTTPS.
pub(crate) fn set_cookie(
    state: &AppState,
    name: &str,
    value: &str,
    attributes: &str,
) -> HeaderValue {
    let secure = if state.public_base_url.scheme() == "https" {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!("{name}={value}; HttpOnly; {attributes}{secure}"))
        .unwrap_or_else(|_| HeaderValue::from_static("conflicto_session=; Max-Age=0"))
}

/// The login cookie, sent with every request to the site.
pub(crate) fn cookie(state: &AppState, value: &str, max_age: i64) -> HeaderValue {
    set_cookie(
        state,
        SESSION_COOKIE,
        value,
        &format!("SameSite=Lax; Path=/; Max-Age={max_age}"),
    )
}

/// The cookie that marks a browser that signed in to an account (see
/// [`crate::http::limits::RateLimits::login`]); only the sign-in endpoint reads it.
pub const DEVICE_COOKIE: &str = "conflicto_device";

/// A year, then the browser counts as new again.
const DEVICE_LIFETIME_SECONDS: i64 = 365 * 24 * 3600;

fn device_cookie(state: &AppState, value: &str) -> HeaderValue {
    set_cookie(
        state,
        DEVICE_COOKIE,
        value,
        &format!("SameSite=Strict; Path=/api/v1/auth/login; Max-Age={DEVICE_LIFETIME_SECONDS}"),
    )
}

/// Signs in with email and password.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in; the token is also set as an HttpOnly cookie", body = LoginResponse),
        (status = 401, description = "Wrong email or password", body = ErrorEnvelope),
        (status = 429, description = "Too many attempts", body = ErrorEnvelope),
    ))]
async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: axum::http::HeaderMap,
    AppJson(request): AppJson<LoginRequest>,
) -> Result<Response, ApiError> {
    check_length("email", &request.email, 0, 254)?;
    check_length("password", &request.password, 0, 1024)?;
    let known = crate::http::extract::cookie(&headers, DEVICE_COOKIE)
        .is_some_and(|given| state.key.verify_device_token(&request.email, given));
    state.limits.login(ip, &request.email, known)?;
    let login = organizers::login(
        state.store.as_ref(),
        &state.key,
        &request.email,
        &request.password,
    )
    .await?;
    Ok(signed_in(&state, login))
}

/// The answer to a sign-in: the token in the body and as the login cookie, and the device
/// cookie that keeps this browser trusted for the account while it is under attack.
fn signed_in(state: &AppState, login: Login) -> Response {
    let set_cookie = cookie(state, &login.token, LOGIN_LIFETIME.num_seconds());
    let device = device_cookie(state, &state.key.device_token(&login.organizer.email));
    let body = LoginResponse {
        token: login.token,
        token_type: "Bearer",
        expires_at: login.expires_at,
        csrf_token: login.csrf_token,
        organizer: login.organizer.into(),
    };
    let mut response = ([(header::SET_COOKIE, set_cookie)], Json(body)).into_response();
    response.headers_mut().append(header::SET_COOKIE, device);
    response
}

/// Ends the token this request was made with and clears the cookie.
#[utoipa::path(post, path = "/auth/logout", tag = "auth",
    responses((status = 204, description = "Signed out"), (status = 401, body = ErrorEnvelope)))]
async fn logout(
    State(state): State<AppState>,
    HostAuth(auth): HostAuth,
) -> Result<Response, ApiError> {
    organizers::revoke_token(
        state.store.as_ref(),
        auth.organizer.id,
        auth.token.kind,
        auth.token.id,
    )
    .await?;
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, cookie(&state, "", 0))],
    )
        .into_response())
}

/// The signed-in organizer.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    /// Who.
    pub organizer: OrganizerResponse,
    /// With which kind of token.
    pub token_kind: TokenKind,
    /// For pages using the cookie: send as `X-CSRF-Token`.
    pub csrf_token: String,
}

/// Who is signed in, and the CSRF token for cookie requests.
#[utoipa::path(get, path = "/auth/me", tag = "auth",
    responses((status = 200, body = MeResponse), (status = 401, body = ErrorEnvelope)))]
async fn me(State(state): State<AppState>, HostAuth(auth): HostAuth) -> Json<MeResponse> {
    Json(MeResponse {
        csrf_token: state.key.csrf_token(&auth.token.token_hash),
        token_kind: auth.token.kind,
        organizer: auth.organizer.into(),
    })
}

/// A request for an API token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    /// A label, 1–100 characters.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// Days until it expires (1–3650); 90 when absent. A token made with another API
    /// token never outlives that one.
    #[schema(minimum = 1, maximum = 3650)]
    pub expires_in_days: Option<u32>,
}

/// An API token or a login as listed (without its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// Its id.
    pub id: TokenId,
    /// Its label (`login` for logins).
    pub name: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Expires.
    pub expires_at: Option<DateTime<Utc>>,
    /// When a request last used it, to the minute.
    pub last_used_at: Option<DateTime<Utc>>,
    /// The client address of that request.
    pub last_used_from: Option<String>,
    /// The API token it was made with: revoking that one revokes this one.
    pub parent_id: Option<TokenId>,
    /// True for the token this request was made with.
    pub current: bool,
}

impl TokenResponse {
    fn of(t: TokenRecord, current: TokenId) -> Self {
        Self {
            current: t.id == current,
            id: t.id,
            name: t.name,
            created_at: t.created_at,
            expires_at: t.expires_at,
            last_used_at: t.last_used_at,
            last_used_from: t.last_used_from,
            parent_id: t.parent_id,
        }
    }
}

/// A new API token, with its secret shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedTokenResponse {
    /// The record.
    #[serde(flatten)]
    pub record: TokenResponse,
    /// The secret: send as `Authorization: Bearer <token>`. It is not shown again.
    pub token: String,
}

/// Creates an API token for scripts.
#[utoipa::path(post, path = "/auth/tokens", tag = "auth", request_body = CreateTokenRequest,
    responses((status = 201, body = CreatedTokenResponse), (status = 401, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
async fn create_token(
    State(state): State<AppState>,
    HostAuth(auth): HostAuth,
    AppJson(request): AppJson<CreateTokenRequest>,
) -> Result<(StatusCode, Json<CreatedTokenResponse>), ApiError> {
    let name = request.name.trim();
    check_length("name", name, 1, 100)?;
    if let Some(days) = request.expires_in_days {
        check_range("expires_in_days", i64::from(days), 1, 3650)?;
    }
    let (record, token) = organizers::create_api_token(
        state.store.as_ref(),
        &auth.token,
        name,
        request.expires_in_days,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedTokenResponse {
            record: TokenResponse::of(record, auth.token.id),
            token,
        }),
    ))
}

/// A list of API tokens.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    /// The tokens, oldest first.
    pub items: Vec<TokenResponse>,
}

/// The organizer's tokens of one kind, as listed.
async fn token_list(
    state: &AppState,
    auth: &organizers::Authenticated,
    kind: TokenKind,
) -> Result<Json<TokenList>, ApiError> {
    let items = organizers::tokens(state.store.as_ref(), auth.organizer.id, kind).await?;
    Ok(Json(TokenList {
        items: items
            .into_iter()
            .map(|t| TokenResponse::of(t, auth.token.id))
            .collect(),
    }))
}

/// Ends one of the organizer's tokens of one kind (and the API tokens made with it).
async fn end_token(
    state: &AppState,
    auth: &organizers::Authenticated,
    kind: TokenKind,
    id: TokenId,
) -> Result<StatusCode, ApiError> {
    if organizers::revoke_token(state.store.as_ref(), auth.organizer.id, kind, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::TokenNotFound,
            "no such token",
        ))
    }
}

/// Lists the organizer's API tokens.
#[utoipa::path(get, path = "/auth/tokens", tag = "auth",
    responses((status = 200, body = TokenList), (status = 401, body = ErrorEnvelope)))]
async fn list_tokens(
    State(state): State<AppState>,
    HostAuth(auth): HostAuth,
) -> Result<Json<TokenList>, ApiError> {
    token_list(&state, &auth, TokenKind::Api).await
}

/// Revokes an API token and every token made with it.
#[utoipa::path(delete, path = "/auth/tokens/{id}", tag = "auth", params(("id" = TokenId, Path, description = "Token id")),
    responses((status = 204, description = "Revoked"), (status = 404, body = ErrorEnvelope)))]
async fn delete_token(
    State(state): State<AppState>,
    HostAuth(auth): HostAuth,
    AppPath(id): AppPath<TokenId>,
) -> Result<StatusCode, ApiError> {
    end_token(&state, &auth, TokenKind::Api, id).await
}

/// Lists the organizer's logins (browsers and clients signed in with the password), with
/// when and from where each was last used.
#[utoipa::path(get, path = "/auth/logins", tag = "auth",
    responses((status = 200, body = TokenList), (status = 401, body = ErrorEnvelope)))]
async fn list_logins(
    State(state): State<AppState>,
    HostAuth(auth): HostAuth,
) -> Result<Json<TokenList>, ApiError> {
    token_list(&state, &auth, TokenKind::Login).await
}

/// Ends one of the organizer's logins: that browser is signed out at its next request.
#[utoipa::path(delete, path = "/auth/logins/{id}", tag = "auth", params(("id" = TokenId, Path, description = "Login id")),
    responses((status = 204, description = "Ended"), (status = 404, body = ErrorEnvelope)))]
async fn end_login(
    State(state): State<AppState>,
    HostAuth(auth): HostAuth,
    AppPath(id): AppPath<TokenId>,
) -> Result<StatusCode, ApiError> {
    end_token(&state, &auth, TokenKind::Login, id).await
}

/// A new password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    /// The password now.
    #[schema(max_length = 1024)]
    pub current_password: String,
    /// The new one: 10–256 characters, and not easy to guess.
    #[schema(min_length = 10, max_length = 256)]
    pub new_password: String,
}

/// Changes the password and ends every other login (this one stays signed in).
#[utoipa::path(post, path = "/auth/password", tag = "auth", request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Changed; every other login ended"),
        (status = 401, body = ErrorEnvelope),
        (status = 403, description = "The current password is wrong (`wrong_password`)", body = ErrorEnvelope),
        (status = 422, description = "The new password is too short, too long or easy to guess", body = ErrorEnvelope),
        (status = 429, body = ErrorEnvelope),
    ))]
async fn change_password(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    HostAuth(auth): HostAuth,
    AppJson(request): AppJson<ChangePasswordRequest>,
) -> Result<StatusCode, ApiError> {
    check_length("current_password", &request.current_password, 0, 1024)?;
    // Guessing the current password here is limited like guessing it at sign-in.
    state.limits.login(ip, &auth.organizer.email, true)?;
    organizers::change_password(
        state.store.as_ref(),
        &auth,
        &request.current_password,
        &request.new_password,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A one-time link and the password it sets.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedeemRequest {
    /// The secret from the link (`cfl_…`).
    #[schema(max_length = 100)]
    pub token: String,
    /// The new password: 10–256 characters, and not easy to guess.
    #[schema(min_length = 10, max_length = 256)]
    pub password: String,
}

/// Uses an invitation or reset link: sets the password and signs in. A link works once,
/// for 72 hours.
#[utoipa::path(post, path = "/auth/redeem", tag = "auth", request_body = RedeemRequest,
    responses(
        (status = 200, description = "Signed in; the token is also set as an HttpOnly cookie", body = LoginResponse),
        (status = 404, description = "Used, expired or unknown (`link_invalid`)", body = ErrorEnvelope),
        (status = 409, description = "The invited email has an account (`email_taken`)", body = ErrorEnvelope),
        (status = 422, description = "The password is too short, too long or easy to guess", body = ErrorEnvelope),
        (status = 429, body = ErrorEnvelope),
    ))]
async fn redeem_link(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    AppJson(request): AppJson<RedeemRequest>,
) -> Result<Response, ApiError> {
    check_length("token", &request.token, 0, 100)?;
    state.limits.login(ip, &request.token, false)?;
    let login = organizers::redeem_link(
        state.store.as_ref(),
        &state.key,
        &request.token,
        &request.password,
    )
    .await?;
    Ok(signed_in(&state, login))
}

/// Refuses anyone but an admin.
fn admin_only(auth: &organizers::Authenticated) -> Result<(), ApiError> {
    if auth.organizer.is_admin {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            ErrorCode::Forbidden,
            "only an admin may do this",
        ))
    }
}

/// Every organizer.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganizerList {
    /// Oldest first.
    pub items: Vec<OrganizerResponse>,
}

/// Lists every organizer (admins only).
#[utoipa::path(get, path = "/admin/organizers", tag = "auth",
    responses((status = 200, body = OrganizerList), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
async fn list_organizers(
    State(state): State<AppState>,
    HostAuth(auth): HostAuth,
) -> Result<Json<OrganizerList>, ApiError> {
    admin_only(&auth)?;
    let organizers = state.store.list_organizers().await?;
    Ok(Json(OrganizerList {
        items: organizers.into_iter().map(Into::into).collect(),
    }))
}

/// Whom to invite.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteRequest {
    /// Their email: printable ASCII, `local@domain.tld`.
    #[schema(
        max_length = 254,
        pattern = r"^[!-?A-~]+@[!-\-/-?A-~][!-?A-~]*\.[!-?A-~]*[!-\-/-?A-~]$"
    )]
    pub email: String,
    /// Whether they become an admin.
    #[serde(default)]
    pub is_admin: bool,
}

/// A one-time link to hand over; it is not shown again.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkResponse {
    /// What it does.
    pub purpose: LinkPurpose,
    /// For whom.
    pub email: String,
    /// The page that takes the new password.
    pub url: String,
    /// It stops working then, or after its first use.
    pub expires_at: DateTime<Utc>,
}

fn link_response(state: &AppState, new: organizers::NewLink) -> LinkResponse {
    let mut url = state.public_base_url.clone();
    url.set_path("/welcome");
    url.set_fragment(Some(&new.token));
    LinkResponse {
        purpose: new.link.purpose,
        email: new.link.email,
        url: url.to_string(),
        expires_at: new.link.expires_at,
    }
}

/// Invites a new organizer with a one-time link (admins only).
#[utoipa::path(post, path = "/admin/invitations", tag = "auth", request_body = InviteRequest,
    responses(
        (status = 201, body = LinkResponse),
        (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope),
        (status = 409, description = "An organizer has this email (`email_taken`)", body = ErrorEnvelope),
        (status = 422, body = ErrorEnvelope),
    ))]
async fn invite_organizer(
    State(state): State<AppState>,
    HostAuth(auth): HostAuth,
    AppJson(request): AppJson<InviteRequest>,
) -> Result<(StatusCode, Json<LinkResponse>), ApiError> {
    admin_only(&auth)?;
    check_length("email", &request.email, 0, 254)?;
    // The schema's pattern: printable ASCII without spaces, then the address rules.
    let printable = request.email.bytes().all(|b| (0x21..=0x7e).contains(&b));
    let email = Email::parse(&request.email)
        .ok()
        .filter(|_| printable)
        .ok_or_else(|| {
            Invalid::new(
                "email",
                Rule::Shape {
                    detail: "name@example.org".into(),
                },
            )
        })?;
    if state
        .store
        .organizer_by_email(email.as_str())
        .await?
        .is_some()
    {
        return Err(ApiError::conflict(
            ErrorCode::EmailTaken,
            "an organizer with this email exists already",
        ));
    }
    let new = organizers::create_link(
        state.store.as_ref(),
        auth.organizer.id,
        LinkPurpose::Invite,
        email.as_str(),
        None,
        request.is_admin,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(link_response(&state, new))))
}

/// Makes a one-time link that sets a new password for an organizer (admins only). Using
/// it ends every login and API token of that organizer.
#[utoipa::path(post, path = "/admin/organizers/{id}/reset", tag = "auth",
    params(("id" = OrganizerId, Path, description = "Organizer id")),
    responses(
        (status = 201, body = LinkResponse),
        (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope),
        (status = 404, description = "`organizer_not_found`", body = ErrorEnvelope),
    ))]
async fn reset_organizer(
    State(state): State<AppState>,
    HostAuth(auth): HostAuth,
    AppPath(id): AppPath<OrganizerId>,
) -> Result<(StatusCode, Json<LinkResponse>), ApiError> {
    admin_only(&auth)?;
    let Some(organizer) = state.store.organizer(id).await? else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::OrganizerNotFound,
            "no such organizer",
        ));
    };
    let new = organizers::create_link(
        state.store.as_ref(),
        auth.organizer.id,
        LinkPurpose::Reset,
        &organizer.email,
        Some(organizer.id),
        organizer.is_admin,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(link_response(&state, new))))
}
