//! [`ApiError`]: the only type that knows HTTP status codes. Every error leaves the server
//! as one envelope, `{"error": {"code": "snake_case", "message": "…", "details": {…}?}}`.
//! 5xx causes are logged here, once; the client gets a generic message.

use std::borrow::Cow;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An error answered to an API client.
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    code: Cow<'static, str>,
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
    pub fn new(
        status: StatusCode,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code: code.into(),
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
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 401: credentials are missing or wrong.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 404: nothing here.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 403: authenticated, but not allowed.
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    /// 409: the request conflicts with the current state.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    /// 429: too many requests; says how long to wait.
    pub fn rate_limited(what: &str, wait: std::time::Duration) -> Self {
        let seconds = wait.as_secs().max(1);
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many {what}; try again in {seconds} s"),
        )
        .with_details(serde_json::json!({ "retry_after_seconds": seconds }))
    }

    /// 422: well-formed but invalid content.
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
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
            "internal_error",
            "something went wrong on the server; it has been logged",
        )
    }

    /// The status this error is answered with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stable code.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The envelope, for handlers that embed it in a larger body.
    pub fn envelope(&self) -> ErrorEnvelope {
        ErrorEnvelope {
            error: ErrorBody {
                code: self.code.clone(),
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
                "database_unavailable",
                "the database is not answering; try again shortly",
            ),
            crate::storage::StoreError::NotFound => Self::not_found("no such resource"),
            other => Self::internal(&other),
        }
    }
}

/// The code used when a response with this status carries no envelope of its own.
pub fn code_for_status(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::NOT_ACCEPTABLE => "not_acceptable",
        StatusCode::REQUEST_TIMEOUT => "request_timeout",
        StatusCode::CONFLICT => "conflict",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::URI_TOO_LONG => "uri_too_long",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid_content",
        StatusCode::TOO_MANY_REQUESTS => "rate_limited",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        s if s.is_server_error() => "internal_error",
        _ => "error",
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
        "invalid_transition",
        format!("a {from} {what} cannot become {to}; allowed: {listed}"),
    )
    .with_details(serde_json::json!({ "from": from, "to": to, "allowed": allowed }))
}

/// 422 naming the field at fault.
fn invalid_field(field: &str, message: String) -> ApiError {
    ApiError::invalid("invalid_field", message).with_details(serde_json::json!({ "field": field }))
}

impl From<crate::sessions::SessionError> for ApiError {
    fn from(error: crate::sessions::SessionError) -> Self {
        use crate::sessions::SessionError as E;
        match error {
            E::NotFound => Self::new(
                StatusCode::NOT_FOUND,
                "session_not_found",
                "no such session",
            ),
            E::Invalid { field, message } => invalid_field(field, message),
            E::InvalidTransition { from, to, allowed } => invalid_transition(
                "session",
                from.as_str(),
                to.as_str(),
                allowed.iter().map(|s| s.as_str()).collect(),
            ),
            E::Completed => Self::conflict(
                "session_completed",
                "the session is completed and can no longer change",
            ),
            E::NotCompleted => Self::conflict("session_not_completed", error.to_string()),
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
                "template_not_found",
                "no such template",
            ),
            E::VersionNotFound(version) => Self::new(
                StatusCode::NOT_FOUND,
                "version_not_found",
                format!("this template has no version {version}"),
            ),
            E::VariantNotFound { name, known } => Self::new(
                StatusCode::NOT_FOUND,
                "variant_not_found",
                format!("this version has no variant `{name}`"),
            )
            .with_details(serde_json::json!({ "variants": known })),
            E::Invalid { field, message } => invalid_field(field, message),
            E::Definition(e) => ApiError::invalid("invalid_definition", e.to_string())
                .with_details(serde_json::json!({ "field": e.field })),
            E::NameTaken(_) => Self::conflict("template_name_taken", error.to_string()),
            E::MadeFromVariant(_) => Self::conflict("made_from_variant", error.to_string()),
            E::Session(e) => e.into(),
            E::Store(e) => e.into(),
        }
    }
}

impl From<crate::activities::ActivityError> for ApiError {
    fn from(error: crate::activities::ActivityError) -> Self {
        use crate::activities::ActivityError as E;
        match error {
            E::NotFound => Self::new(
                StatusCode::NOT_FOUND,
                "activity_not_found",
                "no such activity",
            ),
            E::UnknownKind { kind, known } => Self::invalid(
                "unknown_kind",
                format!("there is no activity kind `{kind}`"),
            )
            .with_details(serde_json::json!({ "field": "kind", "known": known })),
            E::Invalid { field, message } => invalid_field(field, message),
            E::InvalidTransition { from, to, allowed } => invalid_transition(
                "activity",
                from.as_str(),
                to.as_str(),
                allowed.iter().map(|s| s.as_str()).collect(),
            ),
            E::AnotherActive { active } => Self::conflict(
                "another_activity_active",
                "another activity of this session is active; close it first",
            )
            .with_details(serde_json::json!({ "active_activity_id": active })),
            E::SessionNotActive(status) => Self::conflict(
                "session_not_active",
                format!(
                    "the session is {}; open it before starting activities",
                    status.as_str()
                ),
            ),
            E::SessionCompleted => Self::conflict(
                "session_completed",
                "the session is completed and can no longer change",
            ),
            E::NotEditable(state) => Self::conflict(
                "activity_not_editable",
                format!(
                    "a {} activity cannot be changed that way; only draft or published ones can",
                    state.as_str()
                ),
            ),
            E::Command(message) => Self::invalid("invalid_command", message),
            E::Contended => Self::conflict(
                "activity_busy",
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
                "session_not_open",
                match status {
                    crate::sessions::session::SessionStatus::Completed => {
                        "the session has ended".to_owned()
                    }
                    _ => "the session has not started yet".to_owned(),
                },
            )
            .with_details(serde_json::json!({ "status": status })),
            E::LateJoinClosed => Self::conflict(
                "late_join_closed",
                "the session has started and does not take late joiners",
            ),
            E::SessionFull => Self::conflict("session_full", "the session is full"),
            E::InvalidNickname(problem) => Self::invalid("invalid_nickname", problem.to_string())
                .with_details(serde_json::json!({ "field": "nickname" })),
            E::NicknameTaken { suggestion } => Self::conflict(
                "nickname_taken",
                format!("that nickname is taken; how about \"{suggestion}\"?"),
            )
            .with_details(serde_json::json!({ "field": "nickname", "suggestion": suggestion })),
            E::Banned => Self::forbidden("banned", "you cannot join this session"),
            E::Store(store) => store.into(),
        }
    }
}

impl From<crate::responses::SubmitError> for ApiError {
    fn from(error: crate::responses::SubmitError) -> Self {
        use crate::responses::SubmitError as E;
        match error {
            E::NotActive(state) => Self::conflict(
                "activity_not_active",
                format!("the activity is {}, not taking answers", state.as_str()),
            )
            .with_details(serde_json::json!({ "state": state })),
            E::TimeUp => Self::conflict("activity_not_active", "time is up for this activity"),
            E::AlreadyAnswered => Self::conflict(
                "already_answered",
                "you have already answered this; answers here cannot be changed",
            ),
            E::InvalidAnswer(message) => Self::invalid("invalid_answer", message)
                .with_details(serde_json::json!({ "field": "answer" })),
            E::InvalidRequestId => Self::invalid("invalid_client_request_id", error.to_string())
                .with_details(serde_json::json!({ "field": "client_request_id" })),
            E::ParticipantRemoved => {
                Self::forbidden("participant_removed", "you were removed from this session")
            }
            E::Activity(activity) => activity.into(),
            E::Store(store) => store.into(),
        }
    }
}

impl From<crate::organizers::LoginError> for ApiError {
    fn from(error: crate::organizers::LoginError) -> Self {
        match error {
            crate::organizers::LoginError::InvalidCredentials => Self::new(
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "the email or password is wrong",
            ),
            crate::organizers::LoginError::Store(store) => store.into(),
        }
    }
}
