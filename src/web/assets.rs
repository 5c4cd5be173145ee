//! `/assets/...`: the stylesheet, icons and JavaScript modules from `assets/`, embedded in
//! the binary (debug builds read them from disk, so editing a script needs no rebuild).
//! Each answer carries an ETag from the file's SHA-256; browsers revalidate and get 304.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

use crate::http::error::ApiError;
use crate::http::extract::AppPath;

#[derive(RustEmbed)]
#[folder = "assets/"]
struct Assets;

/// The test build's toy kind's module (see `activities::toy`).
#[cfg(feature = "toy-kind")]
#[derive(RustEmbed)]
#[folder = "tests/toy_kind/assets/"]
struct ToyAssets;

fn asset(path: &str) -> Option<rust_embed::EmbeddedFile> {
    let found = Assets::get(path);
    #[cfg(feature = "toy-kind")]
    let found = found.or_else(|| ToyAssets::get(path));
    found
}

pub async fn serve(headers: HeaderMap, AppPath(path): AppPath<String>) -> Response {
    let Some(file) = asset(&path) else {
        return ApiError::not_found("no such asset").into_response();
    };
    let etag = format!(
        "\"{}\"",
        base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            &file.metadata.sha256_hash()[..16]
        )
    );
    let mut response = if crate::http::prepared::not_modified(&headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mime = file.metadata.mimetype();
        let mime = if mime.starts_with("text/") || mime.ends_with("javascript") {
            format!("{mime}; charset=utf-8")
        } else {
            mime.to_owned()
        };
        ([(header::CONTENT_TYPE, mime)], file.data).into_response()
    };
    let headers = response.headers_mut();
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, etag);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
