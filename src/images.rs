//! Images an organizer puts in questions and choices: checked by their bytes, never by name
//! or declared type (PNG, JPEG and WebP only, at most [`MAX_UPLOAD_BYTES`]), decoded within
//! pixel and memory limits, and encoded again from the pixels, so nothing else of the file
//! (EXIF with its location, comments, colour profiles, trailing data) is kept or served.
//! They live in the database, so every instance serves every image.

use std::io::Cursor;

use chrono::{DateTime, Utc};
use image::{DynamicImage, ImageFormat, ImageReader, Limits};
use sha2::{Digest, Sha256};

use crate::ids::{ImageId, OrganizerId};

/// The largest file an organizer may upload.
pub const MAX_UPLOAD_BYTES: usize = 2 * 1024 * 1024;
/// The widest or tallest image: four times a 4K screen's width, far beyond what one shows.
pub const MAX_SIDE: u32 = 8192;

/// An image as stored and served.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredImage {
    /// Its id; served at `/api/v1/images/{id}`.
    pub id: ImageId,
    /// Who uploaded it.
    pub organizer_id: OrganizerId,
    /// `image/png`, `image/jpeg` or `image/webp`.
    pub content_type: String,
    /// The encoded image.
    pub bytes: Vec<u8>,
    /// Hex SHA-256 of `bytes`: the ETag.
    pub sha256: String,
    /// Width in pixels.
    pub width: i32,
    /// Height in pixels.
    pub height: i32,
    /// Uploaded.
    pub created_at: DateTime<Utc>,
}

/// Why an upload was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    /// The bytes are not a PNG, JPEG or WebP file.
    #[error("the file is not a PNG, JPEG or WebP image (judged by its content)")]
    Unsupported,
    /// It says it is one but cannot be read, or is too large in pixels.
    #[error("the image cannot be read: {0}")]
    Unreadable(String),
}

/// Checks `bytes` by their content, decodes them within limits and encodes the pixels again
/// in the same format: PNG and WebP losslessly, JPEG at quality 90.
pub fn prepare(
    bytes: &[u8],
    organizer: OrganizerId,
    now: DateTime<Utc>,
) -> Result<StoredImage, ImageError> {
    let format = image::guess_format(bytes).map_err(|_| ImageError::Unsupported)?;
    let content_type = match format {
        ImageFormat::Png => "image/png",
        ImageFormat::Jpeg => "image/jpeg",
        ImageFormat::WebP => "image/webp",
        _ => return Err(ImageError::Unsupported),
    };
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    let decoded = reader
        .decode()
        .map_err(|e| ImageError::Unreadable(e.to_string()))?;
    let encoded = encode(&decoded, format).map_err(|e| ImageError::Unreadable(e.to_string()))?;
    Ok(StoredImage {
        id: ImageId::new(),
        organizer_id: organizer,
        content_type: content_type.to_owned(),
        sha256: Sha256::digest(&encoded)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
        width: i32::try_from(decoded.width()).unwrap_or(i32::MAX),
        height: i32::try_from(decoded.height()).unwrap_or(i32::MAX),
        bytes: encoded,
        created_at: now,
    })
}

fn encode(image: &DynamicImage, format: ImageFormat) -> image::ImageResult<Vec<u8>> {
    let mut out = Cursor::new(Vec::new());
    match format {
        ImageFormat::Jpeg => {
            // JPEG has no alpha channel; an image with one is flattened to RGB.
            let rgb = DynamicImage::ImageRgb8(image.to_rgb8());
            rgb.write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
                &mut out, 90,
            ))?;
        }
        ImageFormat::WebP => {
            let rgba = DynamicImage::ImageRgba8(image.to_rgba8());
            rgba.write_with_encoder(image::codecs::webp::WebPEncoder::new_lossless(&mut out))?;
        }
        _ => image.write_to(&mut out, ImageFormat::Png)?,
    }
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png_with_text() -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        DynamicImage::ImageRgb8(image::RgbImage::from_pixel(4, 3, image::Rgb([200, 10, 10])))
            .write_to(&mut out, ImageFormat::Png)
            .unwrap();
        let mut png = out.into_inner();
        // A tEXt chunk with a secret, before IEND: metadata the encoder must drop.
        let iend = png.len() - 12;
        let data = b"Comment\0secret location 47.37N 8.54E";
        let mut chunk = Vec::new();
        chunk.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
        chunk.extend_from_slice(b"tEXt");
        chunk.extend_from_slice(data);
        let crc = crc32(&[b"tEXt".as_slice(), data].concat());
        chunk.extend_from_slice(&crc.to_be_bytes());
        png.splice(iend..iend, chunk);
        png
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFF_u32;
        for byte in bytes {
            crc ^= u32::from(*byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn metadata_is_dropped_and_the_pixels_kept() {
        let png = png_with_text();
        assert!(png.windows(6).any(|w| w == b"secret"));
        let stored = prepare(&png, OrganizerId::new(), Utc::now()).unwrap();
        assert_eq!(
            (stored.content_type.as_str(), stored.width, stored.height),
            ("image/png", 4, 3)
        );
        assert!(!stored.bytes.windows(6).any(|w| w == b"secret"));
        let back = image::load_from_memory(&stored.bytes).unwrap().to_rgb8();
        assert_eq!(back.get_pixel(3, 2), &image::Rgb([200, 10, 10]));
    }

    #[test]
    fn only_png_jpeg_and_webp_by_content() {
        let now = Utc::now();
        let owner = OrganizerId::new();
        assert_eq!(
            prepare(b"GIF89a....", owner, now),
            Err(ImageError::Unsupported)
        );
        assert_eq!(
            prepare(b"<svg xmlns='http://www.w3.org/2000/svg'/>", owner, now),
            Err(ImageError::Unsupported)
        );
        // A PNG signature with nothing readable after it.
        let broken = [b"\x89PNG\r\n\x1a\n".as_slice(), b"garbage"].concat();
        assert!(matches!(
            prepare(&broken, owner, now),
            Err(ImageError::Unreadable(_))
        ));
    }
}
