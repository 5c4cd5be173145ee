//! Cross-cutting request handling: request ids, the one log line and the metrics per
//! request, and the error envelope for responses that left a layer without one (404, 405,
//! 408, 413, panics). Query strings, tokens and bodies are never logged.

use std::time::Instant;

use axum::body::{Body, to_bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::{ApiError, code_for_status};
use super::extract::ClientIp;
use crate::http::state::AppState;

/// The header that carries the request id, in and out.
pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// An incoming id is kept only when it is short and plain, so logs cannot be forged.
fn acceptable_request_id(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    (1..=64).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Assigns the request id, then writes one log line and the request metrics.
pub async fn observe(mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = match request.headers().get(&REQUEST_ID) {
        Some(value) if acceptable_request_id(value) => value.clone(),
        _ => HeaderValue::from_str(&uuid::Uuid::new_v4().to_string())
            .expect("a UUID is a valid header value"),
    };
    request.headers_mut().insert(REQUEST_ID.clone(), id.clone());
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());

    let mut response = next.run(request).await;

    let status = response.status().as_u16();
    let latency = started.elapsed();
    response
        .headers_mut()
        .insert(REQUEST_ID.clone(), id.clone());
    let labels = [
        ("method", method.to_string()),
        ("route", route.clone()),
        ("status", status.to_string()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!(
        "http_request_duration_seconds",
        "method" => method.to_string(),
        "route" => route.clone()
    )
    .record(latency.as_secs_f64());
    tracing::info!(
        target: "conflicto::http",
        method = %method,
        route = %route,
        status = status,
        latency_ms = latency.as_secs_f64() * 1000.0,
        request_id = id.to_str().unwrap_or_default(),
        "{method} {route} {status}"
    );
    response
}

/// Largest plain-text error body reused as the envelope's message.
const MAX_REUSED_MESSAGE: usize = 512;

/// Gives every error response the JSON envelope, reusing a short plain-text body as the
/// message (axum's rejection texts are informative) except for 5xx, whose details stay in
/// the logs.
pub async fn envelope_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = to_bytes(body, MAX_REUSED_MESSAGE)
        .await
        .ok()
        .and_then(|b| String::from_utf8(b.to_vec()).ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty());
    let message = match (status, text) {
        (s, _) if s.is_server_error() && s != StatusCode::SERVICE_UNAVAILABLE => {
            "something went wrong on the server; it has been logged".to_owned()
        }
        (_, Some(text)) => text,
        (StatusCode::NOT_FOUND, None) => "no such resource".to_owned(),
        (StatusCode::METHOD_NOT_ALLOWED, None) => "this method is not allowed here".to_owned(),
        (StatusCode::REQUEST_TIMEOUT, None) => "the request took too long".to_owned(),
        (StatusCode::PAYLOAD_TOO_LARGE, None) => "the body is too large".to_owned(),
        (s, None) => s.canonical_reason().unwrap_or("error").to_owned(),
    };
    let mut enveloped = ApiError::new(status, code_for_status(status), message).into_response();
    // Keep headers such as Allow (405) and Retry-After (429, 503).
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            enveloped.headers_mut().insert(name.clone(), value.clone());
        }
    }
    enveloped
}

/// Turns a panic into a logged 500 (the envelope layer then adds the JSON body).
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response<Body> {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("non-string panic");
    tracing::error!(panic = detail, "a handler panicked");
    StatusCode::INTERNAL_SERVER_ERROR.into_response()
}

/// The fallback for unknown paths.
/// The flood guard: refuses an address that sends far more than a whole room would.
pub async fn flood_guard(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    request: Request,
    next: Next,
) -> Response {
    match state.limits.request(ip) {
        Ok(()) => next.run(request).await,
        Err(error) => error.into_response(),
    }
}

pub async fn not_found() -> ApiError {
    ApiError::not_found("no such resource")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_plain_request_ids_are_kept() {
        let ok = ["abc", "0b8c-11ef_x.1", &"a".repeat(64)];
        for id in ok {
            assert!(
                acceptable_request_id(&HeaderValue::from_str(id).unwrap()),
                "{id}"
            );
        }
        let bad = ["", "a b", "x\"y", &"a".repeat(65), "é"];
        for id in bad {
            if let Ok(value) = HeaderValue::from_str(id) {
                assert!(!acceptable_request_id(&value), "{id}");
            }
        }
    }
}
