//! Extractors: [`AppJson`], [`AppPath`] and [`AppQuery`] turn axum's rejections into the one
//! error envelope; [`HostAuth`] and [`ParticipantAuth`] say who is asking; [`ClientIp`] says
//! from where, for rate limits.

use std::net::IpAddr;

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use serde::de::DeserializeOwned;

use super::error::{ApiError, ErrorCode};
use crate::http::state::AppState;
use crate::ids::{ParticipantId, SessionId};
use crate::model::participant::ParticipantStatus;

/// A JSON body whose rejection is an [`ApiError`].
#[derive(Debug, Clone, Copy, Default)]
pub struct AppJson<T>(pub T);

impl<S, T> FromRequest<S> for AppJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !json_content_type(req.headers()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
                "send the body as JSON with `Content-Type: application/json`",
            ));
        }
        let bytes = match axum::body::Bytes::from_request(req, state).await {
            Ok(bytes) => bytes,
            Err(rejection) => return Err(json_rejection(&rejection.into())),
        };
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(value)) => Ok(AppJson(value)),
            Err(JsonRejection::JsonDataError(error)) => {
                // JSON Schema counts 35.0 as the integer 35, and so do we (model::json).
                serde_json::from_slice::<serde_json::Value>(&bytes)
                    .ok()
                    .and_then(|value| crate::model::json::deserialize::<T>(&value).ok())
                    .map(AppJson)
                    .ok_or_else(|| json_rejection(&JsonRejection::JsonDataError(error)))
            }
            Err(rejection) => Err(json_rejection(&rejection)),
        }
    }
}

/// Whether the request says its body is JSON (`application/json`, or a `+json` type).
fn json_content_type(headers: &axum::http::HeaderMap) -> bool {
    let Some(value) = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || essence
            .strip_prefix("application/")
            .is_some_and(|subtype| subtype.ends_with("+json"))
}

fn json_rejection(rejection: &JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::JsonSyntaxError(e) => ApiError::bad_request(
            ErrorCode::MalformedJson,
            format!("the body is not valid JSON: {}", e.body_text()),
        ),
        JsonRejection::JsonDataError(e) => ApiError::invalid(ErrorCode::InvalidBody, e.body_text()),
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            "send the body as JSON with `Content-Type: application/json`",
        ),
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::PayloadTooLarge,
                "the body is too large",
            )
        }
        other => ApiError::new(other.status(), ErrorCode::BadRequest, other.body_text()),
    }
}

/// A path parameter whose rejection is an [`ApiError`] (400, naming the parameter).
#[derive(Debug, Clone, Copy)]
pub struct AppPath<T>(pub T);

impl<S, T> FromRequestParts<S> for AppPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(AppPath(value)),
            Err(rejection) => Err(path_rejection(&rejection)),
        }
    }
}

fn path_rejection(rejection: &PathRejection) -> ApiError {
    ApiError::bad_request(ErrorCode::InvalidPath, rejection.body_text())
}

/// The cookie that carries an organizer's login token for the web pages.
pub const SESSION_COOKIE: &str = "conflicto_session";
/// The header pages send the CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

fn bearer(parts: &Parts) -> Option<&str> {
    bearer_token(&parts.headers)
}

/// The token of an `Authorization: Bearer <token>` header: the scheme is matched without
/// regard to case and the spaces after it are skipped (RFC 7235), wherever a token is read.
pub fn bearer_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.trim_start().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The value of the login cookie, if sent.
pub fn session_cookie(headers: &axum::http::HeaderMap) -> Option<&str> {
    cookie(headers, SESSION_COOKIE)
}

/// The value of the cookie `name`, if sent.
pub fn cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(name)?.strip_prefix('='))
}

/// An authenticated organizer. A bearer token works for anything; the cookie works too, but
/// requests that change state must then carry the CSRF token.
#[derive(Debug, Clone)]
pub struct HostAuth(pub crate::organizers::Authenticated);

impl FromRequestParts<AppState> for HostAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let (token, via_cookie) = match bearer(parts) {
            Some(token) => (token.to_owned(), false),
            None => match session_cookie(&parts.headers) {
                Some(token) => (token.to_owned(), true),
                None => {
                    return Err(ApiError::unauthorized(
                        "sign in, or send `Authorization: Bearer <token>`",
                    ));
                }
            },
        };
        if token.starts_with(crate::auth::PARTICIPANT_TOKEN_PREFIX) {
            return Err(ApiError::forbidden(
                ErrorCode::OrganizerOnly,
                "only the session's organizer may do this",
            ));
        }
        let Some(authenticated) =
            crate::organizers::authenticate(state.store.as_ref(), &token).await?
        else {
            return Err(ApiError::unauthorized(
                "the token is unknown or expired; sign in again",
            ));
        };
        let changes_state = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if via_cookie && changes_state {
            let given = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if !state
                .key
                .verify_csrf_token(&authenticated.token.token_hash, given)
            {
                return Err(ApiError::forbidden(
                    ErrorCode::CsrfFailed,
                    "send the X-CSRF-Token header from GET /api/v1/auth/me with requests made with the cookie",
                ));
            }
        }
        let ClientIp(ip) = ClientIp::from_request_parts(parts, state).await?;
        crate::organizers::record_use(state.store.as_ref(), &authenticated.token, ip).await;
        Ok(HostAuth(authenticated))
    }
}

/// An authenticated, active participant.
#[derive(Debug, Clone)]
pub struct ParticipantAuth {
    /// Their session.
    pub session_id: SessionId,
    /// Who.
    pub participant_id: ParticipantId,
    /// Their nickname.
    pub nickname: std::sync::Arc<str>,
    /// Their team, if the session has teams.
    pub team: Option<u16>,
}

impl FromRequestParts<AppState> for ParticipantAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(token) = bearer(parts) else {
            return Err(ApiError::unauthorized(
                "send the participant token as `Authorization: Bearer <token>`",
            ));
        };
        let Some((session_id, participant_id)) = state.key.verify_participant_token(token) else {
            return Err(ApiError::unauthorized(
                "the participant token is not valid; join the session again",
            ));
        };
        match state
            .roster
            .member(state.store.as_ref(), session_id, participant_id)
            .await?
        {
            Some(member) if member.status == ParticipantStatus::Active => {
                state.presence.touch(participant_id);
                Ok(ParticipantAuth {
                    session_id,
                    participant_id,
                    nickname: member.nickname,
                    team: member.team,
                })
            }
            Some(_) => Err(ApiError::forbidden(
                ErrorCode::ParticipantRemoved,
                "you were removed from this session",
            )),
            None => Err(ApiError::unauthorized(
                "the participant token is not valid; join the session again",
            )),
        }
    }
}

/// The client's address: the socket peer, or the last `X-Forwarded-For` entry when the
/// server is configured to trust a load balancer in front of it.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if state.config.trust_forwarded_for
            && let Some(ip) = parts
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter_map(|s| s.trim().parse::<IpAddr>().ok())
                .next_back()
        {
            return Ok(ClientIp(ip));
        }
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<crate::http::connections::Peer>>()
            .map_or(IpAddr::from([127, 0, 0, 1]), |info| info.0.0.ip());
        Ok(ClientIp(peer))
    }
}

/// Paging parameters: `page` 1–1,000,000, `per_page` 1–100 (default 20).
#[derive(Debug, Clone, Copy, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    /// Page number, from 1.
    #[serde(default = "first_page")]
    #[param(minimum = 1, maximum = 1_000_000, default = 1)]
    pub page: u32,
    /// Items per page, 1–100.
    #[serde(default = "default_per_page")]
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub per_page: u32,
}

fn first_page() -> u32 {
    1
}

fn default_per_page() -> u32 {
    20
}

impl Paging {
    /// Checks the bounds.
    pub fn checked(self) -> Result<Paging, ApiError> {
        if !(1..=1_000_000).contains(&self.page) || !(1..=100).contains(&self.per_page) {
            return Err(ApiError::bad_request(
                ErrorCode::InvalidPaging,
                "page must be 1 to 1000000 and per_page 1 to 100",
            ));
        }
        Ok(self)
    }
}

/// Query parameters whose rejection is an [`ApiError`].
#[derive(Debug, Clone, Copy, Default)]
pub struct AppQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for AppQuery<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(AppQuery(value)),
            Err(rejection) => Err(ApiError::bad_request(
                ErrorCode::InvalidQuery,
                rejection.body_text(),
            )),
        }
    }
}

/// Either kind of caller, for endpoints both may read (status, results).
#[derive(Debug, Clone)]
pub enum AnyAuth {
    /// An organizer.
    Organizer(crate::organizers::Authenticated),
    /// A participant.
    Participant(ParticipantAuth),
}

impl FromRequestParts<AppState> for AnyAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if bearer(parts).is_some_and(|t| t.starts_with(crate::auth::PARTICIPANT_TOKEN_PREFIX)) {
            return ParticipantAuth::from_request_parts(parts, state)
                .await
                .map(AnyAuth::Participant);
        }
        HostAuth::from_request_parts(parts, state)
            .await
            .map(|HostAuth(a)| AnyAuth::Organizer(a))
    }
}
