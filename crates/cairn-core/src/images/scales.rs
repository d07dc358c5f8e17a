//! Computing a named scale: at most once per (image, scale), even when many
//! requests ask at the same moment, and a failure is remembered so a broken
//! or oversized image answers fast the next time instead of being decoded again.
//!
//! The blob store keeps computed scales for good; the in-memory [`Scaler`]
//! only covers the moments in between: the computation in flight (other
//! callers wait for it, moka's `try_get_with`) and failed outcomes.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::codec::{self, ImageError, ImageKind};
use crate::error::{CoreError, CoreResult};
use crate::site::Site;

/// Outcomes kept at most this long: a blob never changes (its key is its
/// hash), but a raised pixel limit should be noticed without a restart.
const REMEMBER: Duration = Duration::from_secs(3600);

/// Single-flight and failure memory for scale computations, one per site.
pub struct Scaler {
    /// Derived-blob name → how computing it ended (a success is in the blob store).
    outcomes: moka::sync::Cache<String, Result<(), ImageError>>,
    computed: AtomicU64,
    failed: AtomicU64,
}

impl Default for Scaler {
    fn default() -> Self {
        Self {
            outcomes: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(REMEMBER)
                .build(),
            computed: AtomicU64::new(0),
            failed: AtomicU64::new(0),
        }
    }
}

impl Scaler {
    /// How many scales this process computed and how many computations failed.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.computed.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
        )
    }
}

/// A scale's bytes and their (sniffed) content type.
#[derive(Debug)]
pub struct Scale {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
}

impl Scale {
    fn of(bytes: Vec<u8>) -> Self {
        let kind = ImageKind::sniff(&bytes).unwrap_or(ImageKind::Png);
        Self {
            bytes,
            content_type: kind.content_type(),
        }
    }
}

/// The named scale of `blob`, generated on first use and kept. An image that
/// cannot be scaled is a `BadRequest` saying why.
pub fn scale_bytes(site: &Site, blob: &str, scale: &str) -> CoreResult<Scale> {
    let (_, bw, bh) = site
        .settings
        .scales
        .iter()
        .find(|(n, _, _)| n == scale)
        .cloned()
        .ok_or(CoreError::NotFound)?;
    let name = format!("{blob}-{bw}x{bh}");
    if let Some(bytes) = site.blobs.get_derived(&name)? {
        return Ok(Scale::of(bytes));
    }
    let outcome = site
        .scaler
        .outcomes
        .try_get_with(name.clone(), || compute(site, blob, &name, bw, bh))
        .map_err(|e: Arc<CoreError>| match &*e {
            CoreError::NotFound => CoreError::NotFound,
            other => CoreError::Internal(format!("scaling {name}: {other}")),
        })?;
    match outcome {
        Ok(()) => site
            .blobs
            .get_derived(&name)?
            .map(Scale::of)
            .ok_or_else(|| CoreError::Internal(format!("scale {name} vanished"))),
        Err(e) => Err(CoreError::BadRequest(format!("Image cannot be scaled: {e}"))),
    }
}

/// Runs once per name at a time. A storage error is returned (and not
/// remembered: it may pass); what the image itself is to blame for is the
/// remembered outcome.
fn compute(site: &Site, blob: &str, name: &str, bw: u32, bh: u32) -> CoreResult<Result<(), ImageError>> {
    // A caller that missed the blob store just before it was written.
    if site.blobs.get_derived(name)?.is_some() {
        return Ok(Ok(()));
    }
    let original = site.blobs.get(blob)?.ok_or(CoreError::NotFound)?;
    let max_pixels = site.settings.max_image_pixels;
    let (probe, img) = match codec::decode(&original, max_pixels) {
        Ok(decoded) => decoded,
        Err(e) => {
            site.scaler.failed.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(blob, error = %e, "image cannot be scaled");
            return Ok(Err(e));
        }
    };
    let (w, h) = super::fit(probe.width, probe.height, bw, bh);
    let out = codec::encode(&codec::resize(img, w, h), probe.kind.derived())
        .map_err(|e| CoreError::Internal(format!("encoding scale: {e}")))?;
    site.blobs.put_derived(name, &out)?;
    site.scaler.computed.fetch_add(1, Ordering::Relaxed);
    Ok(Ok(()))
}
