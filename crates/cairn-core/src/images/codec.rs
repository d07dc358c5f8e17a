//! Trusting image bytes, never the client's word about them: the format is
//! sniffed from the bytes, the size read from the header and checked against
//! the pixel limit before a single pixel is decoded, and every decode runs
//! under `image::Limits`, so an image stored before these checks existed
//! cannot exhaust memory either.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, ImageFormat, ImageReader};

/// Plone's image scales go up to 4k; a portrait or scale never needs more.
const JPEG_QUALITY: u8 = 85;

/// Bytes a decoder may hold per pixel: 16-bit RGBA, the widest the four
/// accepted formats decode to.
const BYTES_PER_PIXEL: u64 = 8;

/// The image formats cairn accepts, decodes and scales.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    Png,
    Jpeg,
    Gif,
    WebP,
}

impl ImageKind {
    /// The kind of these bytes, judged by their magic number only.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        match image::guess_format(bytes).ok()? {
            ImageFormat::Png => Some(Self::Png),
            ImageFormat::Jpeg => Some(Self::Jpeg),
            ImageFormat::Gif => Some(Self::Gif),
            ImageFormat::WebP => Some(Self::WebP),
            _ => None,
        }
    }

    /// The MIME type stored and served for this kind.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Gif => "image/gif",
            Self::WebP => "image/webp",
        }
    }

    fn format(self) -> ImageFormat {
        match self {
            Self::Png => ImageFormat::Png,
            Self::Jpeg => ImageFormat::Jpeg,
            Self::Gif => ImageFormat::Gif,
            Self::WebP => ImageFormat::WebP,
        }
    }

    /// What derived images (scales, portraits) of this kind are encoded as:
    /// JPEG stays JPEG; GIF and WebP become PNG (their encoders are lossy or slow).
    pub fn derived(self) -> Self {
        match self {
            Self::Jpeg => Self::Jpeg,
            _ => Self::Png,
        }
    }
}

/// Why bytes are not accepted as an image; the message is shown to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    /// SVG can carry scripts and cairn cannot rasterize it to scales.
    #[error("SVG is not accepted as an image (upload it as a File); images must be PNG, JPEG, GIF or WebP")]
    Svg,
    #[error("The image could not be read: images must be PNG, JPEG, GIF or WebP")]
    Unsupported,
    #[error("The image is {width}x{height} pixels, more than the {limit} pixels allowed")]
    TooLarge { width: u32, height: u32, limit: u64 },
    #[error("The image could not be decoded (corrupt or truncated file)")]
    Corrupt,
}

/// Format and size of an image, read from its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    pub kind: ImageKind,
    pub width: u32,
    pub height: u32,
}

/// Sniffs the format and reads the size from the header, refusing anything
/// but the four accepted formats and anything over `max_pixels`. Decodes nothing.
pub fn probe(bytes: &[u8], max_pixels: u64) -> Result<Probe, ImageError> {
    let Some(kind) = ImageKind::sniff(bytes) else {
        return Err(if looks_like_svg(bytes) {
            ImageError::Svg
        } else {
            ImageError::Unsupported
        });
    };
    let (width, height) = ImageReader::with_format(Cursor::new(bytes), kind.format())
        .into_dimensions()
        .map_err(|_| ImageError::Corrupt)?;
    if width == 0 || height == 0 {
        return Err(ImageError::Corrupt);
    }
    if u64::from(width) * u64::from(height) > max_pixels {
        return Err(ImageError::TooLarge {
            width,
            height,
            limit: max_pixels,
        });
    }
    Ok(Probe { kind, width, height })
}

/// Decodes an image after [`probe`] accepted its header; the decoder may not
/// exceed the header's size nor allocate more than the pixel limit implies.
pub fn decode(bytes: &[u8], max_pixels: u64) -> Result<(Probe, DynamicImage), ImageError> {
    let p = probe(bytes, max_pixels)?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(p.width);
    limits.max_image_height = Some(p.height);
    limits.max_alloc = Some(max_pixels.saturating_mul(BYTES_PER_PIXEL));
    let mut reader = ImageReader::with_format(Cursor::new(bytes), p.kind.format());
    reader.limits(limits);
    match reader.decode() {
        Ok(img) => Ok((p, img)),
        Err(image::ImageError::Limits(_)) => Err(ImageError::TooLarge {
            width: p.width,
            height: p.height,
            limit: max_pixels,
        }),
        Err(_) => Err(ImageError::Corrupt),
    }
}

/// `img` scaled to exactly `(w, h)`. A big reduction first averages down to
/// twice the target (cheap, in 8 bits) and only then applies Lanczos3, whose
/// float buffers would otherwise be as large as the source.
pub fn resize(img: DynamicImage, w: u32, h: u32) -> DynamicImage {
    if (w, h) == (img.width(), img.height()) {
        return img;
    }
    let img = if img.width() > 4 * w && img.height() > 4 * h {
        img.thumbnail_exact(2 * w, 2 * h)
    } else {
        img
    };
    img.resize_exact(w, h, FilterType::Lanczos3)
}

/// Encodes `img` as `kind` (PNG or JPEG; see [`ImageKind::derived`]).
pub fn encode(img: &DynamicImage, kind: ImageKind) -> Result<Vec<u8>, image::ImageError> {
    let mut out = Vec::new();
    match kind {
        ImageKind::Jpeg => DynamicImage::ImageRgb8(img.to_rgb8())
            .write_with_encoder(JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY))?,
        _ => img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)?,
    }
    Ok(out)
}

/// Decodes, shrinks into the box `(bw, bh)` if larger, and encodes anew: what
/// is stored is then an image cairn wrote, whatever else the upload carried.
pub fn reencode_within(bytes: &[u8], max_pixels: u64, bw: u32, bh: u32) -> Result<(Vec<u8>, ImageKind), ImageError> {
    let (p, img) = decode(bytes, max_pixels)?;
    let (w, h) = super::fit(p.width, p.height, bw, bh);
    let kind = p.kind.derived();
    let out = encode(&resize(img, w, h), kind).map_err(|_| ImageError::Corrupt)?;
    Ok((out, kind))
}

/// SVG is XML: an optional BOM, prolog or comments, then an `<svg` element.
fn looks_like_svg(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(4096)];
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    text.trim_start_matches('\u{feff}').trim_start().starts_with('<') && text.contains("<svg")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        encode(&DynamicImage::new_rgb8(w, h), ImageKind::Png).unwrap()
    }

    #[test]
    fn the_format_comes_from_the_bytes() {
        assert_eq!(probe(&png(3, 2), 100).unwrap().kind, ImageKind::Png);
        assert_eq!(
            probe(b"<html><script>alert(1)</script>", 100),
            Err(ImageError::Unsupported)
        );
        assert_eq!(
            probe(b"<?xml version=\"1.0\"?><svg onload=\"x()\"/>", 100),
            Err(ImageError::Svg)
        );
    }

    #[test]
    fn the_pixel_limit_is_checked_before_decoding() {
        assert!(matches!(probe(&png(10, 10), 99), Err(ImageError::TooLarge { .. })));
        assert!(decode(&png(10, 10), 100).is_ok());
        let mut truncated = png(64, 64);
        truncated.truncate(truncated.len() - 20);
        assert_eq!(decode(&truncated, 10_000).err(), Some(ImageError::Corrupt));
    }

    #[test]
    fn reencoding_shrinks_into_the_box() {
        let (bytes, kind) = reencode_within(&png(600, 300), 1_000_000, 300, 300).unwrap();
        assert_eq!(kind, ImageKind::Png);
        let p = probe(&bytes, 1_000_000).unwrap();
        assert_eq!((p.width, p.height), (300, 150));
    }
}
