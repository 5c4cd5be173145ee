//! Reads served from bytes prepared once: a results document or a session's status is
//! serialised when it changes, not for every request, and carries an entity tag so a
//! client that holds the current copy gets `304 Not Modified` and no body.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;

/// Whether an `If-None-Match` header names `etag` (or is `*`). Weak tags compare by their
/// value, as RFC 9110 asks of `If-None-Match`.
pub fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    let bare = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
    let wanted = bare(etag);
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| tag.trim() == "*" || bare(tag) == wanted)
}

/// A JSON body prepared beforehand (`body` is called only when it is sent), or `304` when
/// the client's copy is current. Clients must check again every time (`no-cache`), and
/// shared caches keep nothing (`private`).
pub fn prepared_json(headers: &HeaderMap, etag: &str, body: impl FnOnce() -> Bytes) -> Response {
    let fresh = not_modified(headers, etag);
    let mut response = if fresh {
        Response::new(Body::empty())
    } else {
        Response::new(Body::from(body()))
    };
    let head = response.headers_mut();
    if let Ok(tag) = HeaderValue::from_str(etag) {
        head.insert(header::ETAG, tag);
    }
    head.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    if fresh {
        *response.status_mut() = StatusCode::NOT_MODIFIED;
    } else {
        head.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asking(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn a_held_tag_in_any_form_means_not_modified() {
        let tag = "\"p1-7-0-active\"";
        for held in [tag, "W/\"p1-7-0-active\"", "\"x\", \"p1-7-0-active\"", "*"] {
            assert!(not_modified(&asking(held), tag), "{held}");
        }
        for other in ["\"p1-8-0-active\"", "\"\"", "p1-7-0-active-x"] {
            assert!(!not_modified(&asking(other), tag), "{other}");
        }
        assert!(!not_modified(&HeaderMap::new(), tag));
    }

    #[test]
    fn a_current_copy_gets_304_with_no_body_and_the_tag() {
        let tag = "\"a\"";
        let response = prepared_json(&asking(tag), tag, || Bytes::from_static(b"{}"));
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(response.headers()[header::ETAG], tag);
        let response = prepared_json(&HeaderMap::new(), tag, || Bytes::from_static(b"{}"));
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
    }
}
