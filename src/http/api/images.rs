//! Image endpoints: an organizer uploads a PNG, JPEG or WebP file for questions and choices;
//! anyone with its address reads it, as phones and big screens do. See `crate::images`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiError, ErrorCode, ErrorEnvelope};
use crate::http::extract::{AppPath, HostAuth};
use crate::http::state::AppState;
use crate::ids::ImageId;
use crate::images::{self, ImageError};

/// Uploads being decoded at once.
static DECODES: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// The image routes; uploads may be as large as [`images::MAX_UPLOAD_BYTES`].
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload_image))
        .layer(DefaultBodyLimit::max(images::MAX_UPLOAD_BYTES))
        .routes(routes!(image))
}

/// An image as stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImageInfo {
    /// Its id.
    pub id: ImageId,
    /// Where it is served; in a question or choice write `![description](url)`.
    pub url: String,
    /// `image/png`, `image/jpeg` or `image/webp`, from its content.
    pub content_type: String,
    /// Width in pixels.
    pub width: i32,
    /// Height in pixels.
    pub height: i32,
    /// Size of the stored file, after it was encoded again.
    pub bytes: usize,
}

/// Uploads an image (at most 2 MB). Its type is judged by its content; it is decoded and
/// encoded again from its pixels, so no metadata of the file is kept.
#[utoipa::path(post, path = "/images", tag = "images",
    request_body(content = Vec<u8>, description = "The file's bytes", content_type = "application/octet-stream"),
    responses((status = 201, body = ImageInfo),
        (status = 413, body = ErrorEnvelope),
        (status = 415, description = "not a PNG, JPEG or WebP image, judged by its content", body = ErrorEnvelope),
        (status = 422, description = "`invalid_image`: it cannot be read, or is larger than 8192 pixels a side", body = ErrorEnvelope)))]
async fn upload_image(
    State(state): State<AppState>,
    HostAuth(auth): HostAuth,
    body: Bytes,
) -> Result<(StatusCode, Json<ImageInfo>), ApiError> {
    let organizer = auth.organizer.id;
    // Decoding and encoding take CPU for a while and up to the decoder's memory limit: off
    // the async workers, and two at a time, so parallel uploads cannot exhaust the memory.
    // The turn goes with the work: it ends when decoding does, even if the client left.
    let turn = DECODES
        .acquire()
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let prepared = tokio::task::spawn_blocking(move || {
        let _turn = turn;
        images::prepare(&body, organizer, chrono::Utc::now())
    })
    .await
    .map_err(|e| ApiError::internal(&e))?;
    let stored = prepared.map_err(|error| match error {
        ImageError::Unsupported => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            error.to_string(),
        ),
        ImageError::Unreadable(_) => ApiError::invalid(ErrorCode::InvalidImage, error.to_string()),
    })?;
    state.store.insert_image(&stored).await?;
    Ok((
        StatusCode::CREATED,
        Json(ImageInfo {
            id: stored.id,
            url: format!("/api/v1/images/{}", stored.id),
            content_type: stored.content_type,
            width: stored.width,
            height: stored.height,
            bytes: stored.bytes.len(),
        }),
    ))
}

/// An image. Its content never changes, so it may be cached for a year.
#[utoipa::path(get, path = "/images/{id}", tag = "images",
    params(("id" = ImageId, Path)),
    responses((status = 200, description = "The image", content_type = "image/png"),
        (status = 304, description = "The copy the client has (`If-None-Match`) is current"),
        (status = 404, body = ErrorEnvelope)))]
async fn image(
    State(state): State<AppState>,
    AppPath(id): AppPath<ImageId>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(image) = state.store.image(id).await? else {
        return Err(ApiError::not_found("no such image"));
    };
    let etag = format!("\"{}\"", image.sha256);
    let mut response = if crate::http::prepared::not_modified(&headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, image.content_type)], image.bytes).into_response()
    };
    let headers = response.headers_mut();
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, etag);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    Ok(response)
}
