//! Moving sites between databases and installations (`cairn export` and
//! `cairn import`): SQLite to PostgreSQL and back, or one installation to
//! another. An export is a folder of JSON Lines, one file per kind of
//! record and site, and the blobs the data refers to:
//!
//! ```text
//! manifest.json                 format, cairn version, sites and counts
//! sites/<site>/content.jsonl    every object, parents first (fields, state, roles, position)
//! sites/<site>/versions.jsonl   kept versions (history), whole
//! sites/<site>/redirects.jsonl  old and alias paths
//! sites/<site>/trash.jsonl      trash entries with their subtrees
//! sites/<site>/links.jsonl      relations, in their order
//! sites/<site>/settings.jsonl   the registry, saved types, secrets (not the
//!                               change feed's bookkeeping)
//! sites/<site>/users.jsonl      accounts (password hashes included)
//! sites/<site>/groups.jsonl     groups with their members
//! blobs/<key>                   file and image bytes, by content key
//! ```
//!
//! It holds password hashes and secrets: the folder is made readable by
//! its owner only. Import writes into a database where the sites have no
//! content yet, through the ports (so any backend), in batches of one
//! transaction each; the change feed records every object it adds, so the
//! full-text indexes and caches follow.

mod export;
mod import;

use serde::{Deserialize, Serialize};

pub use export::export;
pub use import::import;

/// Version of the folder's layout; an export of another version is refused.
pub const FORMAT: u32 = 1;

/// What an export holds (`manifest.json`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub format: u32,
    /// The cairn that wrote it.
    pub cairn: String,
    pub sites: Vec<SiteCounts>,
    /// Blob files under `blobs/`.
    pub blobs: usize,
}

/// How many records of each kind a site has in an export.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SiteCounts {
    pub site: String,
    pub objects: usize,
    pub versions: usize,
    pub redirects: usize,
    pub trash: usize,
    pub links: usize,
    pub settings: usize,
    pub users: usize,
    pub groups: usize,
}

/// A group as exported: the record and who is in it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GroupWithMembers {
    #[serde(flatten)]
    pub group: crate::ports::GroupRecord,
    pub members: Vec<String>,
}

/// The ports of one installation a transfer reads or writes.
pub struct Installation<'a> {
    pub store: &'a dyn crate::ports::ContentStore,
    pub principals: &'a dyn crate::ports::PrincipalStore,
    pub blobs: &'a dyn crate::ports::BlobStore,
}

/// Settings that belong to a database, not to a site: the change feed's
/// positions and marks and the nodes' alive stamps.
fn bookkeeping(key: &str) -> bool {
    key.starts_with("outbox.") || key.starts_with(crate::ports::FULL_TEXT_ALIVE_PREFIX)
}

/// The files of a site in an export.
const FILES: [&str; 8] = [
    "content",
    "versions",
    "redirects",
    "trash",
    "links",
    "settings",
    "users",
    "groups",
];

/// A blob key as a file name: content keys are letters, digits and `-`.
fn blob_file(dir: &std::path::Path, key: &str) -> crate::CoreResult<std::path::PathBuf> {
    if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(crate::CoreError::BadRequest(format!("not a blob key: {key:?}")));
    }
    Ok(dir.join("blobs").join(key))
}

fn io(e: std::io::Error) -> crate::CoreError {
    crate::CoreError::Internal(format!("export folder: {e}"))
}

fn json(e: serde_json::Error) -> crate::CoreError {
    crate::CoreError::BadRequest(format!("export folder: {e}"))
}
