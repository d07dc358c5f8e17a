//! Decoded objects by (site, path), and where each UID was last cached.
//!
//! A cached object is served only while the UID index still names its path
//! and version: a write forgets the UIDs it changed, which makes every copy
//! of those objects stale wherever they are cached (an object pasted
//! elsewhere is written with its new path only). Paths are forgotten for
//! what was absent before (a cached "nothing here"), and subtrees by a
//! predicate, since a delete or rename does not list the descendants.

use std::time::Duration;

use cairn_model::Uid;
use moka::sync::Cache;

use super::touched::Touched;
use crate::content::Content;

type PathKey = (String, String);
type UidKey = (String, Uid);

/// The object cache of a [`CachedStore`](super::CachedStore).
pub struct Objects {
    by_path: Cache<PathKey, Option<Content>>,
    /// Path and version of the copy of each UID that may be served.
    by_uid: Cache<UidKey, (String, i64)>,
}

impl Objects {
    /// A cache of at most `capacity` objects.
    pub fn new(capacity: u64) -> Self {
        Self {
            by_path: Cache::builder()
                .max_capacity(capacity)
                .time_to_idle(Duration::from_secs(600))
                .support_invalidation_closures()
                .build(),
            by_uid: Cache::builder()
                .max_capacity(capacity)
                .time_to_idle(Duration::from_secs(600))
                .build(),
        }
    }

    /// `None` on a miss, `Some(None)` when `path` is known to hold nothing.
    pub fn by_path(&self, site: &str, path: &str) -> Option<Option<Content>> {
        match self.by_path.get(&(site.to_string(), path.to_string()))? {
            None => Some(None),
            Some(c) => match self.by_uid.get(&(site.to_string(), c.uid.clone())) {
                Some((p, v)) if p == path && v == c.version => Some(Some(c)),
                _ => None,
            },
        }
    }

    pub fn by_uid(&self, site: &str, uid: &Uid) -> Option<Content> {
        let (path, version) = self.by_uid.get(&(site.to_string(), uid.clone()))?;
        match self.by_path.get(&(site.to_string(), path))? {
            Some(c) if c.uid == *uid && c.version == version => Some(c),
            _ => None,
        }
    }

    /// Caches what was loaded at `path` (an object, or its absence).
    pub fn put(&self, site: &str, path: &str, found: Option<&Content>) {
        self.by_path
            .insert((site.to_string(), path.to_string()), found.cloned());
        if let Some(c) = found {
            self.by_uid
                .insert((site.to_string(), c.uid.clone()), (path.to_string(), c.version));
        }
    }

    /// Takes back a [`put`](Self::put) that raced with a write.
    pub fn unput(&self, site: &str, path: &str, found: Option<&Content>) {
        self.by_path.invalidate(&(site.to_string(), path.to_string()));
        if let Some(c) = found {
            self.by_uid.invalidate(&(site.to_string(), c.uid.clone()));
        }
    }

    /// Forgets everything a write to `site` touched.
    /// Forgets everything (another node wrote, and what is not known).
    pub fn clear(&self) {
        self.by_path.invalidate_all();
        self.by_uid.invalidate_all();
    }

    pub fn forget(&self, site: &str, touched: &Touched) {
        for uid in &touched.uids {
            self.by_uid.invalidate(&(site.to_string(), uid.clone()));
        }
        for path in &touched.paths {
            self.by_path.invalidate(&(site.to_string(), path.clone()));
        }
        if touched.subtrees.is_empty() {
            return;
        }
        let (site, subtrees) = (site.to_string(), touched.subtrees.clone());
        let forgotten = self
            .by_path
            .invalidate_entries_if(move |(s, p), _| *s == site && Touched::in_subtree(&subtrees, p));
        if forgotten.is_err() {
            // Cannot happen (the cache is built for it); forgetting all is safe.
            self.by_path.invalidate_all();
        }
    }
}
