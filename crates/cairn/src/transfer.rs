//! `cairn export` and `cairn import` on the configured database and blob
//! store (the format and the work are `cairn_core::transfer`'s).

use std::path::Path;

use anyhow::Context;
use cairn_core::transfer::{Installation, Manifest};

use crate::Settings;

/// Exports every configured site into the new folder `dir`.
pub fn export(settings: &Settings, dir: &Path, progress: impl FnMut(&str, usize)) -> anyhow::Result<Manifest> {
    let db = settings.database()?;
    let blobs = settings.blob_store()?;
    let from = Installation {
        store: &*db.content,
        principals: &*db.principals,
        blobs: &*blobs,
    };
    let sites: Vec<String> = settings.sites.iter().map(|s| s.id.clone()).collect();
    cairn_core::transfer::export(&from, &sites, dir, progress)
        .with_context(|| format!("while exporting {} into {}", db.name, dir.display()))
}

/// Imports the folder `dir` into the configured database and blob store.
pub fn import(settings: &Settings, dir: &Path, progress: impl FnMut(&str, usize)) -> anyhow::Result<Manifest> {
    let db = settings.database()?;
    let blobs = settings.blob_store()?;
    let into = Installation {
        store: &*db.content,
        principals: &*db.principals,
        blobs: &*blobs,
    };
    let manifest = cairn_core::transfer::import(&into, dir, progress)
        .with_context(|| format!("while importing {} into {}", dir.display(), db.name))?;
    for s in &manifest.sites {
        if !settings.sites.iter().any(|c| c.id == s.site) {
            tracing::warn!(
                site = s.site,
                "imported a site the configuration does not list: add it to serve it"
            );
        }
    }
    Ok(manifest)
}
