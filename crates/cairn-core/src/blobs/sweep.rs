//! The sweep of unreferenced blobs: the uploads of writes that crashed,
//! files and images that edits replaced or deletions removed (once no kept
//! version refers to them either), their scales, and half-written files.
//!
//! A blob younger than the grace period is always kept, so an upload whose
//! write has not committed yet survives even a sweep in another process
//! (a put of bytes already stored makes them young again); in the server,
//! blobs pinned by in-flight writes are kept whatever their age.

use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use super::Uploads;
use crate::error::CoreResult;
use crate::ports::{BlobKind, ContentStore};

/// Blobs younger than this are kept: far longer than any write takes.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(3600);

/// What one sweep did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SweepReport {
    /// Entries kept (referenced, young or pinned).
    pub kept: usize,
    /// Entries removed (originals, scales and partial files).
    pub removed: usize,
}

/// Removes every blob no object, version or user refers to that is older than
/// `grace`, with the scales of such blobs. Referenced blobs and the scales of
/// referenced images stay.
pub fn sweep(store: &dyn ContentStore, uploads: &Uploads, grace: Duration) -> CoreResult<SweepReport> {
    // References first: a blob stored after this read is younger than the grace.
    let referenced: HashSet<String> = store.referenced_blobs()?;
    let cutoff = SystemTime::now().checked_sub(grace).unwrap_or(SystemTime::UNIX_EPOCH);
    let blobs = uploads.blobs();
    let mut report = SweepReport::default();
    for entry in blobs.entries()? {
        let unreferenced = match entry.kind {
            BlobKind::Original => !referenced.contains(&entry.name),
            // `<key>-<w>x<h>`: a scale lives as long as its image.
            BlobKind::Derived => entry
                .name
                .split_once('-')
                .is_none_or(|(source, _)| !referenced.contains(source)),
            BlobKind::Partial => true,
        };
        if !unreferenced || entry.modified > cutoff {
            report.kept += 1;
            continue;
        }
        let removed = match entry.kind {
            BlobKind::Original => uploads.remove_unless_pinned(&entry.name)?,
            _ => blobs.remove(&entry.kind, &entry.name).map(|()| true)?,
        };
        if removed {
            tracing::info!(blob = %entry.name, kind = ?entry.kind, "removed an unreferenced blob");
            report.removed += 1;
        } else {
            report.kept += 1;
        }
    }
    Ok(report)
}
