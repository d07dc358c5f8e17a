//! Running the sweep of unreferenced blobs (`cairn_core::blobs::sweep`):
//! inside `serve` every `blob_sweep_hours`, and once from `cairn blobs gc`.
//! Both are safe while the server writes: blobs younger than the grace
//! period are kept, and in the server so are those of in-flight writes.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use cairn_core::Site;
use cairn_core::blobs::{SweepReport, Uploads, sweep};
use cairn_core::ports::BlobStore;

use crate::Settings;

/// The first sweep waits this long, so it never slows a start.
const FIRST_AFTER: Duration = Duration::from_secs(60);

/// Sweeps the data folder of `settings` once (the `cairn blobs gc` command).
pub fn once(settings: &Settings, grace: Duration) -> anyhow::Result<SweepReport> {
    if settings.database_url.is_none() {
        let file = settings.data.join("cairn.sqlite");
        // Sweeping a folder without its database would remove every blob.
        anyhow::ensure!(file.is_file(), "no cairn database at {}", file.display());
    }
    let store = settings.database()?.content;
    let blobs: Arc<dyn BlobStore> = settings.blob_store()?;
    let uploads = Uploads::new(blobs);
    sweep(&*store, &uploads, grace).context("while sweeping blobs")
}

/// Sweeps every `every`, the first time shortly after start, until the
/// runtime stops. All sites share one store and blob folder: one site is enough.
pub async fn every(site: Arc<Site>, every: Duration, grace: Duration) {
    tokio::time::sleep(FIRST_AFTER).await;
    loop {
        let s = site.clone();
        match tokio::task::spawn_blocking(move || sweep(&*s.store, &s.uploads, grace)).await {
            Ok(Ok(report)) => tracing::info!(removed = report.removed, kept = report.kept, "swept blobs"),
            Ok(Err(e)) => tracing::error!(error = %e, "the blob sweep failed"),
            Err(e) => tracing::error!(error = %e, "the blob sweep panicked"),
        }
        tokio::time::sleep(every).await;
    }
}
