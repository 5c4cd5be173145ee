//! [`ApiError`]: the only type that knows HTTP status codes. Every error leaves the server
//! as one envelope, `{"error": {"code": "snake_case", "message": "…", "details": {…}?}}`.
//! 5xx causes are logged here, once; the client gets a generic message.

use std::borrow::Cow;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::model::invalid::Invalid;

/// Declares [`ErrorCode`] from `Variant => "code"` pairs.
macro_rules! error_codes {
    ($($variant:ident => $code:literal,)*) => {
        /// Every code an error envelope can carry, in one place. Clients match on the
        /// strings ([`ErrorCode::as_str`]); they never change meaning.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($variant,)*
        }

        impl ErrorCode {
            /// Every code.
            pub const ALL: &[ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The code as clients see it.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                }
            }
        }
    };
}

error_codes! {
    ActivityBusy => "activity_busy",
    AccountDisabled => "account_disabled",
    ActivityNotActive => "activity_not_active",
    ActivityNotEditable => "activity_not_editable",
    ActivityNotFound => "activity_not_found",
    AlreadyAnswered => "already_answered",
    AnotherActivityActive => "another_activity_active",
    BadRequest => "bad_request",
    Banned => "banned",
    Conflict => "conflict",
    CsrfFailed => "csrf_failed",
    DatabaseUnavailable => "database_unavailable",
    EmailTaken => "email_taken",
    Error => "error",
    Forbidden => "forbidden",
    InternalError => "internal_error",
    InvalidAnswer => "invalid_answer",
    InvalidBody => "invalid_body",
    InvalidClientRequestId => "invalid_client_request_id",
    InvalidCommand => "invalid_command",
    InvalidContent => "invalid_content",
    InvalidCredentials => "invalid_credentials",
    InvalidCsv => "invalid_csv",
    InvalidDefinition => "invalid_definition",
    InvalidEmoji => "invalid_emoji",
    InvalidField => "invalid_field",
    InvalidImage => "invalid_image",
    InvalidNickname => "invalid_nickname",
    InvalidPaging => "invalid_paging",
    InvalidPath => "invalid_path",
    InvalidQuery => "invalid_query",
    InvalidTransition => "invalid_transition",
    KindNotFound => "kind_not_found",
    LateJoinClosed => "late_join_closed",
    LinkInvalid => "link_invalid",
    ListNotFound => "list_not_found",
    MadeFromVariant => "made_from_variant",
    MalformedCsv => "malformed_csv",
    MalformedJson => "malformed_json",
    MethodNotAllowed => "method_not_allowed",
    NicknameTaken => "nickname_taken",
    NotAcceptable => "not_acceptable",
    NotFound => "not_found",
    NotReady => "not_ready",
    NotYourself => "not_yourself",
    OrganizerNotFound => "organizer_not_found",
    OrganizerOnly => "organizer_only",
    ParticipantNotFound => "participant_not_found",
    ParticipantRemoved => "participant_removed",
    PayloadTooLarge => "payload_too_large",
    RateLimited => "rate_limited",
    RequestTimeout => "request_timeout",
    ResultsHidden => "results_hidden",
    SchemaIncompatible => "schema_incompatible",
    SessionCompleted => "session_completed",
    SessionFull => "session_full",
    SessionNotActive => "session_not_active",
    SessionNotCompleted => "session_not_completed",
    SessionNotFound => "session_not_found",
    SessionNotOpen => "session_not_open",
    SessionEnded => "session_ended",
    SessionClosed => "session_closed",
    TemplateNameTaken => "template_name_taken",
    TemplateNotFound => "template_not_found",
    TokenNotFound => "token_not_found",
    Unauthorized => "unauthorized",
    Unavailable => "unavailable",
    UnknownKind => "unknown_kind",
    UnsupportedMediaType => "unsupported_media_type",
    UriTooLong => "uri_too_long",
    VariantNotFound => "variant_not_found",
    VersionNotFound => "version_not_found",
    WrongPassword => "wrong_password",
}

/// An error answered to an API client.
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    code: ErrorCode,
    message: String,
    /// Boxed, so that `Result<_, ApiError>` stays small on the happy path.
    details: Option<Box<serde_json::Value>>,
}

/// The JSON body of every error response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorEnvelope {
    /// The error itself.
    pub error: ErrorBody,
}

/// The inside of [`ErrorEnvelope`].
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable snake_case code for programs.
    #[schema(value_type = String)]
    pub code: Cow<'static, str>,
    /// Human-readable explanation.
    pub message: String,
    /// Structured extras, such as the allowed transitions or the field at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
}

impl ApiError {
    /// An error with an explicit status and code.
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: None,
        }
    }

    /// Adds structured details.
    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(Box::new(details));
        self
    }

    /// 400: the request could not be understood.
    pub fn bad_request(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 401: credentials are missing or wrong.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, message)
    }

    /// 404: nothing here.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, message)
    }

    /// 403: authenticated, but not allowed.
    pub fn forbidden(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    /// 409: the request conflicts with the current state.
    pub fn conflict(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    /// 429: too many requests; says how long to wait.
    pub fn rate_limited(what: &str, wait: std::time::Duration) -> Self {
        let seconds = wait.as_secs().max(1);
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimited,
            format!("too many {what}; try again in {seconds} s"),
        )
        .with_details(serde_json::json!({ "retry_after_seconds": seconds }))
    }

    /// 422: well-formed but invalid content.
    pub fn invalid(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    /// 500: logs `cause` with its chain and answers a generic message.
    pub fn internal(cause: &(dyn std::error::Error + 'static)) -> Self {
        let mut chain = cause.to_string();
        let mut source = cause.source();
        while let Some(next) = source {
            chain.push_str(": ");
            chain.push_str(&next.to_string());
            source = next.source();
        }
        tracing::error!(error.chain = %chain, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::InternalError,
            "something went wrong on the server; it has been logged",
        )
    }

    /// The status this error is answered with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The envelope, for handlers that embed it in a larger body.
    pub fn envelope(&self) -> ErrorEnvelope {
        ErrorEnvelope {
            error: ErrorBody {
                code: Cow::Borrowed(self.code.as_str()),
                message: self.message.clone(),
                details: self.details.as_deref().cloned(),
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry = self
            .details
            .as_ref()
            .and_then(|d| d.get("retry_after_seconds"))
            .and_then(serde_json::Value::as_u64);
        let mut response = (self.status, Json(self.envelope())).into_response();
        if let Some(seconds) = retry
            && let Ok(value) = axum::http::HeaderValue::from_str(&seconds.to_string())
        {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, value);
        }
        response
    }
}

impl From<crate::storage::StoreError> for ApiError {
    fn from(error: crate::storage::StoreError) -> Self {
        match error {
            crate::storage::StoreError::Unavailable(_) => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::DatabaseUnavailable,
                "the database is not answering; try again shortly",
            ),
            crate::storage::StoreError::NotFound => Self::not_found("no such resource"),
            other => Self::internal(&other),
        }
    }
}

/// The code used when a response with this status carries no envelope of its own.
pub fn code_for_status(status: StatusCode) -> ErrorCode {
    match status {
        StatusCode::BAD_REQUEST => ErrorCode::BadRequest,
        StatusCode::UNAUTHORIZED => ErrorCode::Unauthorized,
        StatusCode::FORBIDDEN => ErrorCode::Forbidden,
        StatusCode::NOT_FOUND => ErrorCode::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
        StatusCode::NOT_ACCEPTABLE => ErrorCode::NotAcceptable,
        StatusCode::REQUEST_TIMEOUT => ErrorCode::RequestTimeout,
        StatusCode::CONFLICT => ErrorCode::Conflict,
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
        StatusCode::URI_TOO_LONG => ErrorCode::UriTooLong,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
        StatusCode::UNPROCESSABLE_ENTITY => ErrorCode::InvalidContent,
        StatusCode::TOO_MANY_REQUESTS => ErrorCode::RateLimited,
        StatusCode::SERVICE_UNAVAILABLE => ErrorCode::Unavailable,
        s if s.is_server_error() => ErrorCode::InternalError,
        _ => ErrorCode::Error,
    }
}

/// 409 for a state change the state machine does not allow, naming what is allowed.
fn invalid_transition(what: &str, from: &str, to: &str, allowed: Vec<&str>) -> ApiError {
    let listed = if allowed.is_empty() {
        "nothing".to_owned()
    } else {
        allowed.join(", ")
    };
    ApiError::conflict(
        ErrorCode::InvalidTransition,
        format!("a {from} {what} cannot become {to}; allowed: {listed}"),
    )
    .with_details(serde_json::json!({ "from": from, "to": to, "allowed": allowed }))
}

/// 422 naming the field at fault.
fn invalid_field(field: &str, message: String) -> ApiError {
    ApiError::invalid(ErrorCode::InvalidField, message)
        .with_details(serde_json::json!({ "field": field }))
}

/// A rule a field broke: its code, the field's path and the rule's parameters in the
/// details, so that a page can say it in its own language.
fn broken_rule(invalid: &Invalid) -> ApiError {
    ApiError::invalid(ErrorCode::InvalidField, invalid.to_string()).with_details(invalid.details())
}

impl From<Invalid> for ApiError {
    fn from(invalid: Invalid) -> Self {
        broken_rule(&invalid)
    }
}

impl From<crate::sessions::SessionError> for ApiError {
    fn from(error: crate::sessions::SessionError) -> Self {
        use crate::sessions::SessionError as E;
        match error {
            E::NotFound => Self::new(
                StatusCode::NOT_FOUND,
                ErrorCode::SessionNotFound,
                "no such session",
            ),
            E::Invalid(invalid) => broken_rule(&invalid),
            E::InvalidTransition { from, to, allowed } => invalid_transition(
                "session",
                from.as_str(),
                to.as_str(),
                allowed.iter().map(|s| s.as_str()).collect(),
            ),
            E::Completed => Self::conflict(
                ErrorCode::SessionCompleted,
                "the session is completed and can no longer change",
            ),
            E::NotCompleted => Self::conflict(ErrorCode::SessionNotCompleted, error.to_string()),
            E::Store(store) => store.into(),
        }
    }
}

impl From<crate::session_templates::TemplateError> for ApiError {
    fn from(error: crate::session_templates::TemplateError) -> Self {
        use crate::session_templates::TemplateError as E;
        match error {
            E::NotFound => Self::new(
                StatusCode::NOT_FOUND,
                ErrorCode::TemplateNotFound,
                "no such template",
            ),
            E::VersionNotFound(version) => Self::new(
                StatusCode::NOT_FOUND,
                ErrorCode::VersionNotFound,
                format!("this template has no version {version}"),
            ),
            E::VariantNotFound { name, known } => Self::new(
                StatusCode::NOT_FOUND,
                ErrorCode::VariantNotFound,
                format!("this version has no variant `{name}`"),
            )
            .with_details(serde_json::json!({ "variants": known })),
            E::Invalid { field, message } => invalid_field(field, message),
            E::Definition(e) => {
                let details = match &e.rule {
                    Some(rule) => Invalid::new(e.field.clone(), rule.clone()).details(),
                    None => serde_json::json!({ "field": e.field }),
                };
                ApiError::invalid(ErrorCode::InvalidDefinition, e.to_string()).with_details(details)
            }
            E::NameTaken(_) => Self::conflict(ErrorCode::TemplateNameTaken, error.to_string()),
            E::MadeFromVariant(_) => Self::conflict(ErrorCode::MadeFromVariant, error.to_string()),
            E::Session(e) => e.into(),
            E::Store(e) => e.into(),
        }
    }
}

impl From<crate::responses::live::LoadError> for ApiError {
    fn from(error: crate::responses::live::LoadError) -> Self {
        crate::activities::ActivityError::from(error).into()
    }
}

impl From<crate::activities::ActivityError> for ApiError {
    fn from(error: crate::activities::ActivityError) -> Self {
        use crate::activities::ActivityError as E;
        match error {
            E::NotFound => Self::new(
                StatusCode::NOT_FOUND,
                ErrorCode::ActivityNotFound,
                "no such activity",
            ),
            E::UnknownKind { kind, known } => Self::invalid(
                ErrorCode::UnknownKind,
                format!("there is no activity kind `{kind}`"),
            )
            .with_details(serde_json::json!({ "field": "kind", "known": known })),
            E::Invalid(invalid) => broken_rule(&invalid),
            E::InvalidTransition { from, to, allowed } => invalid_transition(
                "activity",
                from.as_str(),
                to.as_str(),
                allowed.iter().map(|s| s.as_str()).collect(),
            ),
            E::AnotherActive { active } => Self::conflict(
                ErrorCode::AnotherActivityActive,
                "another activity of this session is active; close it first",
            )
            .with_details(serde_json::json!({ "active_activity_id": active })),
            E::SessionNotActive(status) => Self::conflict(
                ErrorCode::SessionNotActive,
                format!(
                    "the session is {}; open it before starting activities",
                    status.as_str()
                ),
            ),
            E::SessionCompleted => Self::conflict(
                ErrorCode::SessionCompleted,
                "the session is completed and can no longer change",
            ),
            E::NotEditable(state) => Self::conflict(
                ErrorCode::ActivityNotEditable,
                format!(
                    "a {} activity cannot be changed that way; only draft or published ones can",
                    state.as_str()
                ),
            ),
            E::Command(invalid) => Self::invalid(ErrorCode::InvalidCommand, invalid.to_string())
                .with_details(invalid.details()),
            E::Contended => Self::conflict(
                ErrorCode::ActivityBusy,
                "other commands kept changing the activity; try again",
            ),
            E::Store(store) => store.into(),
        }
    }
}

impl From<crate::participants::JoinError> for ApiError {
    fn from(error: crate::participants::JoinError) -> Self {
        use crate::participants::JoinError as E;
        match error {
            E::SessionNotOpen(status) => Self::conflict(
                ErrorCode::SessionNotOpen,
                match status {
                    crate::model::session::SessionStatus::Completed => {
                        "the session has ended".to_owned()
                    }
                    _ => "the session has not started yet".to_owned(),
                },
            )
            .with_details(serde_json::json!({ "status": status })),
            E::LateJoinClosed => Self::conflict(
                ErrorCode::LateJoinClosed,
                "the session has started and does not take late joiners",
            ),
            E::SessionFull => Self::conflict(ErrorCode::SessionFull, "the session is full"),
            E::InvalidNickname(problem) => {
                Self::invalid(ErrorCode::InvalidNickname, problem.to_string())
                    .with_details(problem.invalid().details())
            }
            E::NicknameTaken { suggestion } => Self::conflict(
                ErrorCode::NicknameTaken,
                format!("that nickname is taken; how about \"{suggestion}\"?"),
            )
            .with_details(serde_json::json!({ "field": "nickname", "suggestion": suggestion })),
            E::Banned => Self::forbidden(ErrorCode::Banned, "you cannot join this session"),
            E::Invalid(invalid) => invalid.into(),
            E::Store(store) => store.into(),
        }
    }
}

impl From<crate::responses::SubmitError> for ApiError {
    fn from(error: crate::responses::SubmitError) -> Self {
        use crate::responses::SubmitError as E;
        match error {
            E::NotActive(state) => Self::conflict(
                ErrorCode::ActivityNotActive,
                format!("the activity is {}, not taking answers", state.as_str()),
            )
            .with_details(serde_json::json!({ "state": state })),
            E::TimeUp => {
                Self::conflict(ErrorCode::ActivityNotActive, "time is up for this activity")
            }
            E::NotYetOpen(opens_at) => Self::conflict(
                ErrorCode::SessionNotOpen,
                format!(
                    "the session opens at {}; come back then",
                    opens_at.to_rfc3339()
                ),
            )
            .with_details(serde_json::json!({ "opens_at": opens_at })),
            E::SessionClosed(closes_at) => Self::conflict(
                ErrorCode::SessionClosed,
                "the session has closed and takes no more answers",
            )
            .with_details(serde_json::json!({ "closes_at": closes_at })),
            E::AlreadyAnswered => Self::conflict(
                ErrorCode::AlreadyAnswered,
                "you have already answered this; answers here cannot be changed",
            ),
            E::InvalidAnswer(invalid) => {
                Self::invalid(ErrorCode::InvalidAnswer, invalid.to_string())
                    .with_details(invalid.within("answer").details())
            }
            E::InvalidRequestId => {
                Self::invalid(ErrorCode::InvalidClientRequestId, error.to_string())
                    .with_details(serde_json::json!({ "field": "client_request_id" }))
            }
            E::ParticipantRemoved => Self::forbidden(
                ErrorCode::ParticipantRemoved,
                "you were removed from this session",
            ),
            E::Prepare(error) => crate::activities::ActivityError::from(error).into(),
            E::Store(store) => store.into(),
        }
    }
}

impl From<crate::organizers::LoginError> for ApiError {
    fn from(error: crate::organizers::LoginError) -> Self {
        match error {
            crate::organizers::LoginError::InvalidCredentials => Self::new(
                StatusCode::UNAUTHORIZED,
                ErrorCode::InvalidCredentials,
                "the email or password is wrong",
            ),
            crate::organizers::LoginError::Disabled => Self::forbidden(
                ErrorCode::AccountDisabled,
                "this account is disabled; ask an admin",
            ),
            crate::organizers::LoginError::Store(store) => store.into(),
        }
    }
}

/// A refused new password as the field error pages show beside the password field.
fn weak_password(field: &str, weak: crate::auth::password::WeakPassword) -> ApiError {
    use crate::auth::password::{MAX_LENGTH, MIN_LENGTH, WeakPassword};
    use crate::model::invalid::{Invalid, Rule};
    let rule = match weak {
        WeakPassword::TooShort | WeakPassword::TooLong => Rule::Length {
            min: MIN_LENGTH,
            max: MAX_LENGTH,
        },
        WeakPassword::Guessable => Rule::Guessable,
    };
    Invalid::new(field, rule).into()
}

impl From<crate::organizers::ChangePasswordError> for ApiError {
    fn from(error: crate::organizers::ChangePasswordError) -> Self {
        use crate::organizers::ChangePasswordError as E;
        match error {
            E::WrongPassword => {
                Self::forbidden(ErrorCode::WrongPassword, "the current password is wrong")
                    .with_details(serde_json::json!({ "field": "current_password" }))
            }
            E::WeakPassword(weak) => weak_password("new_password", weak),
            E::Store(store) => store.into(),
        }
    }
}

impl From<crate::organizers::RedeemError> for ApiError {
    fn from(error: crate::organizers::RedeemError) -> Self {
        use crate::organizers::RedeemError as E;
        match error {
            E::InvalidLink => Self::new(
                StatusCode::NOT_FOUND,
                ErrorCode::LinkInvalid,
                "this link is not valid: it was used already, has expired, or was mistyped",
            ),
            E::EmailTaken => Self::conflict(
                ErrorCode::EmailTaken,
                "an organizer with this email exists already",
            ),
            E::WeakPassword(weak) => weak_password("password", weak),
            E::Store(store) => store.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_distinct_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            let text = code.as_str();
            assert!(seen.insert(text), "{text} twice");
            assert!(
                text.split('_')
                    .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase())),
                "{text}"
            );
        }
    }

    #[test]
    fn the_api_document_lists_every_code() {
        let doc = include_str!("../../docs/api.md");
        let table = &doc[doc.find("## Errors").expect("an Errors section")..];
        for code in ErrorCode::ALL {
            assert!(
                table.contains(&format!("`{}`", code.as_str())),
                "docs/api.md does not list {}",
                code.as_str()
            );
        }
    }

    #[test]
    fn the_envelope_carries_the_codes_string() {
        let error = ApiError::conflict(ErrorCode::SessionFull, "full");
        assert_eq!(error.envelope().error.code, "session_full");
        assert_eq!(code_for_status(StatusCode::IM_A_TEAPOT), ErrorCode::Error);
    }
}
