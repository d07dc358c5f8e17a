//! Writing an export folder (see the module above).

use std::collections::BTreeSet;
use std::io::{BufWriter, Write};
use std::path::Path;

use cairn_model::Uid;
use serde::Serialize;

use super::{FILES, GroupWithMembers, Installation, Manifest, SiteCounts, blob_file, bookkeeping, io};
use crate::CoreResult;
use crate::catalog::{CatalogQuery, SortOn};
use crate::ports::{PrincipalQuery, RedirectFilter, RelationQuery, ViewFilter};

/// Records read per round trip.
const PAGE: usize = 500;

/// One JSON Lines file being written.
struct Lines {
    out: BufWriter<std::fs::File>,
    n: usize,
}

impl Lines {
    fn create(path: &Path) -> CoreResult<Self> {
        Ok(Self {
            out: BufWriter::new(std::fs::File::create(path).map_err(io)?),
            n: 0,
        })
    }

    fn put(&mut self, record: &impl Serialize) -> CoreResult<()> {
        serde_json::to_writer(&mut self.out, record).map_err(|e| crate::CoreError::Internal(e.to_string()))?;
        self.out.write_all(b"\n").map_err(io)?;
        self.n += 1;
        Ok(())
    }

    fn finish(mut self) -> CoreResult<usize> {
        self.out.flush().map_err(io)?;
        Ok(self.n)
    }
}

/// Writes `sites` of `from` into the empty (or new) folder `dir`;
/// `progress` hears (what, records so far). Gives back the manifest.
pub fn export(
    from: &Installation<'_>,
    sites: &[String],
    dir: &Path,
    mut progress: impl FnMut(&str, usize),
) -> CoreResult<Manifest> {
    if dir.exists() && std::fs::read_dir(dir).map_err(io)?.next().is_some() {
        return Err(crate::CoreError::BadRequest(format!(
            "{} is not empty: export into a new folder",
            dir.display()
        )));
    }
    std::fs::create_dir_all(dir.join("blobs")).map_err(io)?;
    restrict(dir)?;
    let mut manifest = Manifest {
        format: super::FORMAT,
        cairn: env!("CARGO_PKG_VERSION").to_string(),
        sites: Vec::new(),
        blobs: 0,
    };
    for site in sites {
        manifest.sites.push(export_site(from, site, dir, &mut progress)?);
    }
    // Every blob the database refers to (all sites share the store).
    for key in from.store.referenced_blobs()?.into_iter().collect::<BTreeSet<_>>() {
        let Some(bytes) = from.blobs.get(&key)? else {
            tracing::warn!(key, "a referenced blob is missing from the blob store; not exported");
            continue;
        };
        std::fs::write(blob_file(dir, &key)?, bytes).map_err(io)?;
        manifest.blobs += 1;
        progress("blobs", manifest.blobs);
    }
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| crate::CoreError::Internal(e.to_string()))?;
    std::fs::write(dir.join("manifest.json"), text).map_err(io)?;
    Ok(manifest)
}

/// The folder holds password hashes and secrets: its owner only.
fn restrict(dir: &Path) -> CoreResult<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
    }
    Ok(())
}

fn export_site(
    from: &Installation<'_>,
    site: &str,
    dir: &Path,
    progress: &mut impl FnMut(&str, usize),
) -> CoreResult<SiteCounts> {
    let folder = dir.join("sites").join(site);
    std::fs::create_dir_all(&folder).map_err(io)?;
    let mut files: Vec<Lines> = FILES
        .iter()
        .map(|f| Lines::create(&folder.join(format!("{f}.jsonl"))))
        .collect::<CoreResult<_>>()?;
    let [content, versions, redirects, trash, links, settings, users, groups] = &mut files[..] else {
        unreachable!("one file per kind")
    };
    let store = from.store;
    // Objects in path order: a parent comes before its children.
    let mut uids: Vec<Uid> = Vec::new();
    let mut query = CatalogQuery {
        sort: vec![(SortOn::Path, false)],
        limit: PAGE,
        uncounted: true,
        ..Default::default()
    };
    loop {
        let (page, _) = store.search(site, &query, &ViewFilter::unrestricted())?;
        for c in &page {
            content.put(c)?;
            uids.push(c.uid.clone());
        }
        progress("objects", content.n);
        match page.last() {
            Some(last) if page.len() == PAGE => query.after_path = Some(last.path.clone()),
            _ => break,
        }
    }
    let mut start = 0;
    loop {
        let (page, total) = store.trash(site, None, start, 100)?;
        for listed in &page {
            if let Some(entry) = store.trash_entry(site, listed.id)? {
                uids.extend(entry.objects.iter().map(|c| c.uid.clone()));
                trash.put(&entry)?;
            }
        }
        start += page.len();
        if page.is_empty() || start >= total {
            break;
        }
    }
    // The history of every object, in the site or in the trash.
    for uid in &uids {
        for v in store.versions(site, uid)? {
            versions.put(&v)?;
        }
        progress("versions", versions.n);
    }
    let mut start = 0;
    loop {
        let (page, total) = store.redirects(site, None, &RedirectFilter::default(), start, PAGE)?;
        for r in &page {
            redirects.put(r)?;
        }
        start += page.len();
        if page.is_empty() || start >= total {
            break;
        }
    }
    let all = RelationQuery {
        limit: usize::MAX,
        ..Default::default()
    };
    for r in store.relations(site, &all)? {
        links.put(&r)?;
    }
    for (key, value) in store.settings(site)? {
        if !bookkeeping(&key) {
            settings.put(&(key, value))?;
        }
    }
    let mut q = PrincipalQuery {
        limit: PAGE,
        ..Default::default()
    };
    loop {
        let page = from.principals.find_users(site, &q)?;
        for u in &page {
            users.put(u)?;
        }
        q.start += page.len();
        if page.len() < PAGE {
            break;
        }
    }
    let mut q = PrincipalQuery {
        limit: PAGE,
        ..Default::default()
    };
    loop {
        let page = from.principals.find_groups(site, &q)?;
        for g in &page {
            let members = from.principals.members(site, &g.id)?;
            groups.put(&GroupWithMembers {
                group: g.clone(),
                members,
            })?;
        }
        q.start += page.len();
        if page.len() < PAGE {
            break;
        }
    }
    let mut n = files.into_iter().map(Lines::finish);
    let mut next = || n.next().unwrap_or(Ok(0));
    Ok(SiteCounts {
        site: site.to_string(),
        objects: next()?,
        versions: next()?,
        redirects: next()?,
        trash: next()?,
        links: next()?,
        settings: next()?,
        users: next()?,
        groups: next()?,
    })
}
