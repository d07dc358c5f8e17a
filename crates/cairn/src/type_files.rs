//! `cairn types export`: the types saved through the web (`@types`, the
//! dexterity-types panel), written out as the type files a configuration
//! folder holds, so they can be reviewed, versioned and shipped with it.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::Value;

use crate::settings::Settings;

/// Writes every type site `site` saved through the web to `dir/types/<id>.toml`;
/// gives back the files written.
pub fn export(settings: &Settings, site: &str, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut settings = settings.clone();
    // Reading must not fill a site that does not exist yet.
    settings.sample_content = false;
    let opened = crate::open_sites(&settings, &settings.listen)?;
    let site = opened
        .sites
        .iter()
        .find(|s| s.id == site)
        .with_context(|| format!("no site '{site}' in the settings"))?;
    let saved = match site.store.setting(&site.id, cairn_core::types::KEY)? {
        Some(Value::Object(m)) => m,
        _ => Default::default(),
    };
    let out = dir.join("types");
    std::fs::create_dir_all(&out).with_context(|| format!("while creating {}", out.display()))?;
    let mut written = Vec::new();
    for (id, text) in saved {
        // Type ids may hold spaces ("News Item"); file names do not need to.
        let file = out.join(format!("{}.toml", id.replace(' ', "")));
        let text = text.as_str().unwrap_or_default();
        std::fs::write(&file, format!("# Saved through the web as type '{id}'.\n{text}"))
            .with_context(|| format!("while writing {}", file.display()))?;
        written.push(file);
    }
    Ok(written)
}
