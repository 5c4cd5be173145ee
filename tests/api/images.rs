//! Images: uploaded by an organizer, judged by their content, encoded again without their
//! metadata, stored in the database and served with caching headers to anyone.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat};
use reqwest::StatusCode;

use crate::both_backends;
use crate::common::TestDb;
use crate::helpers::{TestApp, assert_envelope, json};

both_backends!(
    png_jpeg_and_webp_are_stored_without_metadata_and_served_cached,
    uploads_are_judged_by_content_and_size
);

fn picture(format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    let pixels = image::RgbImage::from_fn(64, 48, |x, y| {
        image::Rgb([
            u8::try_from(x * 3).unwrap(),
            u8::try_from(y * 5).unwrap(),
            90,
        ])
    });
    DynamicImage::ImageRgb8(pixels)
        .write_to(&mut out, format)
        .unwrap();
    out.into_inner()
}

/// A JPEG with an EXIF block holding a GPS-like note, as a phone camera writes.
fn jpeg_with_exif() -> Vec<u8> {
    let jpeg = picture(ImageFormat::Jpeg);
    let note = b"Exif\0\0GPS 47.3769N 8.5417E secret";
    let mut app1 = vec![0xFF, 0xE1];
    app1.extend_from_slice(&u16::try_from(note.len() + 2).unwrap().to_be_bytes());
    app1.extend_from_slice(note);
    [&jpeg[..2], &app1, &jpeg[2..]].concat()
}

async fn upload(app: &TestApp, token: &str, bytes: Vec<u8>, declared: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/images"))
        .bearer_auth(token)
        .header("content-type", declared)
        .body(bytes)
        .send()
        .await
        .unwrap()
}

async fn png_jpeg_and_webp_are_stored_without_metadata_and_served_cached(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let exif = jpeg_with_exif();
    assert!(exif.windows(6).any(|w| w == b"secret"));
    for (bytes, declared, expected) in [
        (picture(ImageFormat::Png), "image/png", "image/png"),
        (exif, "image/jpeg", "image/jpeg"),
        (picture(ImageFormat::WebP), "image/webp", "image/webp"),
        // The declared type counts for nothing: a PNG sent as a JPEG is a PNG.
        (picture(ImageFormat::Png), "image/jpeg", "image/png"),
    ] {
        let response = upload(&app, &host.token, bytes, declared).await;
        assert_eq!(response.status(), StatusCode::CREATED, "{declared}");
        let info = json(response).await;
        assert_eq!(info["content_type"], expected);
        assert_eq!(
            (info["width"].as_u64(), info["height"].as_u64()),
            (Some(64), Some(48))
        );
        let url = info["url"].as_str().unwrap().to_owned();

        // Anyone may read it: phones and screens have no organizer token.
        let served = app.get(&url).await;
        assert_eq!(served.status(), StatusCode::OK);
        assert_eq!(served.headers()["content-type"], expected);
        assert_eq!(
            served.headers()["cache-control"],
            "public, max-age=31536000, immutable"
        );
        let etag = served.headers()["etag"].to_str().unwrap().to_owned();
        let body = served.bytes().await.unwrap();
        assert_eq!(body.len(), info["bytes"].as_u64().unwrap() as usize);
        assert!(
            !body.windows(6).any(|w| w == b"secret"),
            "{expected}: metadata kept"
        );
        let decoded = image::load_from_memory(&body).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (64, 48));
        let again = app
            .client
            .get(app.url(&url))
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);

        // Another instance on the same database serves it too.
        let other = app.peer().await;
        assert_eq!(other.get(&url).await.status(), StatusCode::OK);
    }
}

async fn uploads_are_judged_by_content_and_size(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let anonymous = app
        .client
        .post(app.url("/api/v1/images"))
        .header("content-type", "image/png")
        .body(picture(ImageFormat::Png))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    for (bytes, declared) in [
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec(), "image/png"),
        (
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>".to_vec(),
            "image/png",
        ),
        (b"just text".to_vec(), "image/webp"),
    ] {
        let refused = upload(&app, &host.token, bytes, declared).await;
        assert_eq!(refused.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_envelope(&json(refused).await, "unsupported_media_type");
    }
    let mut broken = picture(ImageFormat::Png);
    broken.truncate(60);
    let refused = upload(&app, &host.token, broken, "image/png").await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_envelope(&json(refused).await, "invalid_image");
    // More than 2 MB is refused on its declared length, before any of it is read; the
    // request is written by hand so that no body races the early answer.
    let head = format!(
        "POST /api/v1/images HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer {}\r\n\
         content-type: image/png\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        host.token,
        2 * 1024 * 1024 + 1
    );
    let answer = raw_exchange(&app, head.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("payload_too_large"), "{answer}");
    // Other routes keep their own, smaller limit.
    let big_json = serde_json::json!({"title": "x".repeat(300 * 1024)});
    let refused = app
        .call(
            reqwest::Method::POST,
            "/api/v1/sessions/",
            Some(&host.token),
            Some(big_json),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let missing = app
        .get(&format!("/api/v1/images/{}", uuid::Uuid::now_v7()))
        .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

/// Writes `request` to the app's port as it is and reads the whole answer.
async fn raw_exchange(app: &TestApp, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = app
        .url("/")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut answer),
    )
    .await
    .expect("an answer within 10 s")
    .unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}
