//! Organizer sign-in: `POST /auth/login` returns a bearer token and sets it as an HttpOnly
//! cookie; `/auth/me` tells pages the CSRF token; API tokens serve scripts.

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
use crate::model::invalid::{check_length, check_range};
use crate::organizers::{self, LOGIN_LIFETIME, Organizer, TokenKind, TokenRecord};

/// The auth routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(create_token, list_tokens))
        .routes(routes!(delete_token))
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
}

impl From<Organizer> for OrganizerResponse {
    fn from(o: Organizer) -> Self {
        Self {
            id: o.id,
            email: o.email,
            is_admin: o.is_admin,
            created_at: o.created_at,
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
fn set_cookie(state: &AppState, name: &str, value: &str, attributes: &str) -> HeaderValue {
    let secure = if state.public_base_url.scheme() == "https" {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!("{name}={value}; HttpOnly; {attributes}{secure}"))
        .unwrap_or_else(|_| HeaderValue::from_static("conflicto_session=; Max-Age=0"))
}

/// The login cookie, sent with every request to the site.
fn cookie(state: &AppState, value: &str, max_age: i64) -> HeaderValue {
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
    let set_cookie = cookie(&state, &login.token, LOGIN_LIFETIME.num_seconds());
    let device = device_cookie(&state, &state.key.device_token(&request.email));
    let body = LoginResponse {
        token: login.token,
        token_type: "Bearer",
        expires_at: login.expires_at,
        csrf_token: login.csrf_token,
        organizer: login.organizer.into(),
    };
    let mut response = ([(header::SET_COOKIE, set_cookie)], Json(body)).into_response();
    response.headers_mut().append(header::SET_COOKIE, device);
    Ok(response)
}

/// Ends the token this request was made with and clears the cookie.
#[utoipa::path(post, path = "/auth/logout", tag = "auth",
    responses((status = 204, description = "Signed out"), (status = 401, body = ErrorEnvelope)))]
async fn logout(
    State(state): State<AppState>,
    HostAuth(auth): HostAuth,
) -> Result<Response, ApiError> {
    organizers::revoke_token(state.store.as_ref(), auth.organizer.id, auth.token.id).await?;
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
    /// Days until it expires (1–3650); never when absent.
    #[schema(minimum = 1, maximum = 3650)]
    pub expires_in_days: Option<u32>,
}

/// An API token as listed (without its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// Its id.
    pub id: TokenId,
    /// Its label.
    pub name: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Expires.
    pub expires_at: Option<DateTime<Utc>>,
}

impl From<TokenRecord> for TokenResponse {
    fn from(t: TokenRecord) -> Self {
        Self {
            id: t.id,
            name: t.name,
            created_at: t.created_at,
            expires_at: t.expires_at,
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
        auth.organizer.id,
        name,
        request.expires_in_days,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedTokenResponse {
            record: record.into(),
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

/// Lists the organizer's API tokens.
#[utoipa::path(get, path = "/auth/tokens", tag = "auth",
    responses((status = 200, body = TokenList), (status = 401, body = ErrorEnvelope)))]
async fn list_tokens(
    State(state): State<AppState>,
    HostAuth(auth): HostAuth,
) -> Result<Json<TokenList>, ApiError> {
    let items = organizers::api_tokens(state.store.as_ref(), auth.organizer.id).await?;
    Ok(Json(TokenList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// Revokes an API token.
#[utoipa::path(delete, path = "/auth/tokens/{id}", tag = "auth", params(("id" = TokenId, Path, description = "Token id")),
    responses((status = 204, description = "Revoked"), (status = 404, body = ErrorEnvelope)))]
async fn delete_token(
    State(state): State<AppState>,
    HostAuth(auth): HostAuth,
    AppPath(id): AppPath<TokenId>,
) -> Result<StatusCode, ApiError> {
    if organizers::revoke_token(state.store.as_ref(), auth.organizer.id, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::TokenNotFound,
            "no such token",
        ))
    }
}
