//! Image scales: Plone's named sizes, stable scale ids, generated once and kept
//! in the blob store.

use std::io::Cursor;

use image::{ImageFormat, ImageReader};
use sha2::{Digest, Sha256};

use crate::error::{CoreError, CoreResult};
use crate::site::Site;

/// Width and height of an encoded image, read from its header only.
pub fn dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .ok()?
        .into_dimensions()
        .ok()
}

/// Size of `(w, h)` scaled into the box `(bw, bh)`, keeping the aspect ratio
/// and never upscaling; fractions are cut off, as Plone's scaling does.
pub fn fit(w: u32, h: u32, bw: u32, bh: u32) -> (u32, u32) {
    if w == 0 || h == 0 {
        return (w, h);
    }
    let ratio = (bw as f64 / w as f64).min(bh as f64 / h as f64).min(1.0);
    (((w as f64 * ratio) as u32).max(1), ((h as f64 * ratio) as u32).max(1))
}

/// The stable id part of a scale URL: changes whenever the image changes.
pub fn scale_hash(blob: &str, scale: &str) -> String {
    let mut h = Sha256::new();
    h.update(blob.as_bytes());
    h.update(b":");
    h.update(scale.as_bytes());
    hex::encode(&h.finalize()[..16])
}

/// The named scales of an image of size `(w, h)`: `(name, width, height)`.
pub fn scales_for(site: &Site, w: u32, h: u32) -> Vec<(String, u32, u32)> {
    site.settings
        .scales
        .iter()
        .map(|(name, bw, bh)| {
            let (sw, sh) = fit(w, h, *bw, *bh);
            (name.clone(), sw, sh)
        })
        .collect()
}

/// The bytes of the named scale of `blob`, generated on first use and kept.
pub fn scale_bytes(site: &Site, blob: &str, content_type: &str, scale: &str) -> CoreResult<(Vec<u8>, String)> {
    let (_, bw, bh) = site
        .settings
        .scales
        .iter()
        .find(|(n, _, _)| n == scale)
        .cloned()
        .ok_or(CoreError::NotFound)?;
    let format = match content_type {
        "image/jpeg" => ImageFormat::Jpeg,
        "image/gif" => ImageFormat::Gif,
        "image/webp" => ImageFormat::WebP,
        _ => ImageFormat::Png,
    };
    // GIF and WebP scales are stored as PNG: the encoders are lossy or slow.
    let (out_format, out_type) = match format {
        ImageFormat::Jpeg => (ImageFormat::Jpeg, "image/jpeg"),
        _ => (ImageFormat::Png, "image/png"),
    };
    let name = format!("{blob}-{bw}x{bh}");
    if let Some(bytes) = site.blobs.get_derived(&name)? {
        return Ok((bytes, out_type.to_string()));
    }
    let original = site.blobs.get(blob)?.ok_or(CoreError::NotFound)?;
    let img = image::load_from_memory(&original)
        .map_err(|e| CoreError::BadRequest(format!("Image cannot be scaled: {e}")))?;
    let (w, h) = fit(img.width(), img.height(), bw, bh);
    let scaled = if (w, h) == (img.width(), img.height()) {
        img
    } else {
        img.resize_exact(w, h, image::imageops::FilterType::Lanczos3)
    };
    let scaled = if out_format == ImageFormat::Jpeg {
        image::DynamicImage::ImageRgb8(scaled.to_rgb8())
    } else {
        scaled
    };
    let mut out = Vec::new();
    scaled
        .write_to(&mut Cursor::new(&mut out), out_format)
        .map_err(|e| CoreError::Internal(format!("encoding scale: {e}")))?;
    site.blobs.put_derived(&name, &out)?;
    Ok((out, out_type.to_string()))
}

#[cfg(test)]
mod tests {
    use super::fit;

    #[test]
    fn scales_keep_aspect_and_never_upscale() {
        assert_eq!(fit(1600, 800, 400, 65536), (400, 200));
        assert_eq!(fit(1600, 800, 128, 128), (128, 64));
        assert_eq!(fit(100, 50, 400, 65536), (100, 50));
    }
}
