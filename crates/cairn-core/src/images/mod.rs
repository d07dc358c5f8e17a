//! Images: what bytes must be to count as one (`codec`: sniffed format,
//! pixel limit, bounded decoding) and Plone's named scales with stable ids,
//! each generated once and kept in the blob store (`scales`).

mod codec;
mod scales;

use sha2::{Digest, Sha256};

pub use codec::{ImageError, ImageKind, Probe, decode, probe, reencode_within};
pub use scales::{Scale, Scaler, scale_bytes};

use crate::site::Site;

/// Pillow refuses 179 megapixels; cairn stops at 64, which still takes a
/// 61-megapixel camera's photo and bounds one decode to about 512 MiB.
pub const DEFAULT_MAX_PIXELS: u64 = 64_000_000;

/// Portraits are shown as small avatars; Plone scales them on upload too.
pub const PORTRAIT_BOX: (u32, u32) = (300, 300);

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
