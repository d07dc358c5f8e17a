//! Reading an export folder into a database (see the module above): the
//! folder is checked whole first (every record parses, every count and
//! blob key holds), then written.

use std::io::BufRead;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{GroupWithMembers, Installation, Manifest, SiteCounts, blob_file, io, json};
use crate::content::Content;
use crate::ports::{ChangeEvent, Link, Redirect, Relation, TrashEntry, UserRecord, VersionRecord, WriteBatch, WriteOp};
use crate::{CoreError, CoreResult};

/// Operations per transaction.
const BATCH: usize = 500;

/// Reads `dir` into `into`; `progress` hears (what, records so far). Every
/// site of the export must be empty in the target (no objects yet); users
/// and groups of the same id are replaced. Gives back what was read.
pub fn import(into: &Installation<'_>, dir: &Path, mut progress: impl FnMut(&str, usize)) -> CoreResult<Manifest> {
    let manifest: Manifest =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).map_err(io)?).map_err(json)?;
    if manifest.format != super::FORMAT {
        return Err(CoreError::BadRequest(format!(
            "this export has format {}, this cairn reads {}",
            manifest.format,
            super::FORMAT
        )));
    }
    for counts in &manifest.sites {
        let objects = into.store.facts(&counts.site)?.objects;
        if objects > 0 {
            return Err(CoreError::Conflict(format!(
                "site '{}' already has {objects} objects here: import into an empty database",
                counts.site
            )));
        }
    }
    // The whole folder is read once before anything is written: a damaged
    // or cut-off export is refused as a whole, not half imported.
    let blobs = blob_names(dir)?;
    if blobs.len() != manifest.blobs {
        return Err(CoreError::BadRequest(format!(
            "the manifest counts {} blobs, the folder holds {}",
            manifest.blobs,
            blobs.len()
        )));
    }
    for name in &blobs {
        let bytes = std::fs::read(blob_file(dir, name)?).map_err(io)?;
        let key = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
        if key != *name {
            return Err(CoreError::BadRequest(format!(
                "blob {name} does not hold the bytes its name says (they hash to {key})"
            )));
        }
    }
    for counts in &manifest.sites {
        let read = read_site(&dir.join("sites").join(&counts.site), &counts.site, None)?;
        if read != *counts {
            return Err(CoreError::BadRequest(format!(
                "site '{}': the manifest counts {counts:?}, the files hold {read:?}",
                counts.site
            )));
        }
    }
    // Blobs first: an object never points at bytes that are not there.
    for (n, name) in blobs.iter().enumerate() {
        into.blobs.put(&std::fs::read(blob_file(dir, name)?).map_err(io)?)?;
        progress("blobs", n + 1);
    }
    for counts in &manifest.sites {
        let folder = dir.join("sites").join(&counts.site);
        read_site(&folder, &counts.site, Some((into, &mut progress)))?;
    }
    Ok(manifest)
}

/// The file names under `blobs/`, each a valid content key.
fn blob_names(dir: &Path) -> CoreResult<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir.join("blobs")).map_err(io)? {
        let name = entry.map_err(io)?.file_name().to_string_lossy().into_owned();
        blob_file(dir, &name)?;
        names.push(name);
    }
    names.sort();
    Ok(names)
}

/// Calls `each` with every record of a JSON Lines file, in order.
fn each<T: DeserializeOwned>(file: &Path, mut each: impl FnMut(T) -> CoreResult<()>) -> CoreResult<usize> {
    let reader = std::io::BufReader::new(std::fs::File::open(file).map_err(io)?);
    let mut n = 0;
    for line in reader.lines() {
        let line = line.map_err(io)?;
        if line.trim().is_empty() {
            continue;
        }
        let record = serde_json::from_str(&line)
            .map_err(|e| CoreError::BadRequest(format!("{} line {}: {e}", file.display(), n + 1)))?;
        each(record)?;
        n += 1;
    }
    Ok(n)
}

/// Collects operations and writes them a batch at a time (or, without a
/// target, only reads: the check before an import).
struct Batches<'a> {
    into: Option<&'a Installation<'a>>,
    site: &'a str,
    batch: WriteBatch,
}

impl Batches<'_> {
    fn push(&mut self, op: WriteOp, event: Option<ChangeEvent>) -> CoreResult<()> {
        if self.into.is_none() {
            return Ok(());
        }
        self.batch.ops.push(op);
        self.batch.events.extend(event);
        if self.batch.ops.len() >= BATCH {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> CoreResult<()> {
        if let Some(into) = self.into
            && !self.batch.ops.is_empty()
        {
            into.store.write(self.site, std::mem::take(&mut self.batch))?;
        }
        Ok(())
    }
}

/// Where a site's records go, and who hears how far it got.
type Target<'a, 'b> = Option<(&'a Installation<'a>, &'b mut dyn FnMut(&str, usize))>;

/// Reads a site's files, writing them into `target` when there is one;
/// gives back how many records each holds.
fn read_site(folder: &Path, site: &str, mut target: Target<'_, '_>) -> CoreResult<SiteCounts> {
    let file = |name: &str| folder.join(format!("{name}.jsonl"));
    let into = target.as_ref().map(|(into, _)| *into);
    let mut report = |what: &str, n: usize| {
        if let Some((_, progress)) = target.as_mut() {
            progress(what, n);
        }
    };
    let mut out = Batches {
        into,
        site,
        batch: WriteBatch::default(),
    };
    let mut counts = SiteCounts {
        site: site.to_string(),
        ..Default::default()
    };
    // Parents come first in the file, so each batch finds its containers.
    counts.objects = each(&file("content"), |c: Content| {
        // Recorded in the change feed: the indexes and caches take it in.
        let event = ChangeEvent {
            kind: "added",
            uid: c.uid.clone(),
            path: c.path.clone(),
        };
        out.push(WriteOp::Insert(Box::new(c)), Some(event))
    })?;
    out.flush()?;
    report("objects", counts.objects);
    counts.versions = each(&file("versions"), |v: VersionRecord| {
        out.push(WriteOp::AddVersion(Box::new(v)), None)
    })?;
    counts.redirects = each(&file("redirects"), |r: Redirect| {
        out.push(WriteOp::AddRedirect(r), None)
    })?;
    counts.trash = each(&file("trash"), |t: TrashEntry| {
        out.push(WriteOp::KeepTrash(Box::new(t)), None)
    })?;
    // A source's links are set at once (setting them replaces what it
    // had), in the order they were read.
    let mut sources: Vec<(cairn_model::Uid, Vec<Link>)> = Vec::new();
    let mut at: std::collections::HashMap<cairn_model::Uid, usize> = std::collections::HashMap::new();
    counts.links = each(&file("links"), |r: Relation| {
        let i = *at.entry(r.source.clone()).or_insert_with(|| {
            sources.push((r.source.clone(), Vec::new()));
            sources.len() - 1
        });
        sources[i].1.push(Link {
            relation: r.relation,
            target: r.target,
        });
        Ok(())
    })?;
    for (source, targets) in sources {
        out.push(WriteOp::SetLinks { source, targets }, None)?;
    }
    counts.settings = each(&file("settings"), |(key, value): (String, Value)| {
        out.push(WriteOp::PutSetting { key, value }, None)
    })?;
    out.flush()?;
    report("history, redirects, trash, links, settings", counts.versions);
    counts.users = each(&file("users"), |u: UserRecord| match into {
        Some(into) => into.principals.put_user(site, &u),
        None => Ok(()),
    })?;
    counts.groups = each(&file("groups"), |g: GroupWithMembers| {
        let Some(into) = into else { return Ok(()) };
        into.principals.put_group(site, &g.group)?;
        for m in &g.members {
            into.principals.set_member(site, &g.group.id, m, true)?;
        }
        Ok(())
    })?;
    report("users and groups", counts.users + counts.groups);
    Ok(counts)
}
