//! What an HTTP cache in front of cairn (a CDN, Varnish) needs from the
//! core: the cache tags a response depends on ([`Deps`], filled while it is
//! rendered) and, for a change from the outbox, exactly the tags and URLs it
//! made stale ([`stale`]). The two share one vocabulary:
//!
//! - an object's UID: its own data (its page, its summary in a listing or
//!   as a page's parent or neighbour, its files and scales);
//! - `l-<UID>`: which items a folder holds and in what order (its page lists
//!   them, each item's page names its neighbours);
//! - `p-<hash>` of a path: every response whose URL lies at or below that
//!   path, so moving or deleting a folder reaches its whole subtree;
//! - `r-<hash>` of a UID: every response that links to that object;
//! - [`NAV`]: navigation and breadcrumbs (titles, order, visibility);
//! - [`SEARCH`]: search and listing-block answers, stale after any change.

use std::collections::BTreeSet;

use cairn_model::ContentPath;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::content::Content;
use crate::error::CoreResult;
use crate::ports::{ContentStore, OutboxEntry};

/// Navigation and breadcrumbs.
pub const NAV: &str = "nav";
/// Answers of `@search` and `@querystring-search`.
pub const SEARCH: &str = "search";

/// The change kind of an edit that touched what navigation shows (title,
/// exclusion from navigation, the order of a folder's items).
pub const MODIFIED_IN_NAV: &str = "modified_in_nav";

/// Change kinds after which a folder holds other items for some reader.
const MEMBERSHIP_KINDS: [&str; 6] = [
    "added",
    "removed",
    "moved",
    "state_changed",
    "sharing_changed",
    "window",
];

/// The tag of the list of a folder's items.
pub fn listing_tag(folder: &cairn_model::Uid) -> String {
    format!("l-{}", folder.as_str())
}

/// The tag of every response that links to `uid` (a teaser shows what the
/// target lets its reader see). Hashed: a page may link to an object its
/// reader may not see, whose UID its headers must not name.
pub fn reference_tag(uid: &cairn_model::Uid) -> String {
    let digest = Sha256::digest(uid.as_str().as_bytes());
    format!("r-{}", hex::encode(&digest[..8]))
}

/// The tag of every response at or below `path`.
pub fn path_tag(path: &ContentPath) -> String {
    let digest = Sha256::digest(path.as_str().as_bytes());
    format!("p-{}", hex::encode(&digest[..8]))
}

/// What one response depends on, collected while it is rendered.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Deps {
    tags: BTreeSet<String>,
    /// The earliest future moment (Unix ms) at which an object in the
    /// response leaves or enters its publication window.
    edge: Option<i64>,
    /// The latest modification of an object it shows.
    latest: Option<jiff::Timestamp>,
}

impl Deps {
    /// The response shows `c` (its page, summary or file).
    pub fn object(&mut self, c: &Content, now_ms: i64) {
        self.tags.insert(c.uid.as_str().to_owned());
        self.latest = Some(self.latest.map_or(c.modified, |l| l.max(c.modified)));
        for name in ["effective", "expires"] {
            if let Some(at) = c.fields.get(name).and_then(date_ms).filter(|at| *at > now_ms) {
                self.edge = Some(self.edge.map_or(at, |e| e.min(at)));
            }
        }
    }

    pub fn tag(&mut self, tag: &str) {
        self.tags.insert(tag.to_owned());
    }

    /// The response is served at `path`: it goes stale when `path` or one of
    /// its ancestors moves or is deleted.
    pub fn served_at(&mut self, path: &ContentPath) {
        if path.is_root() {
            return;
        }
        for p in path.ancestors().iter().skip(1).chain([path]) {
            self.tags.insert(path_tag(p));
        }
    }

    /// When what the response shows last changed, if that alone says it:
    /// not for a list (an item leaving it changes no date), navigation or
    /// search. Such answers are revalidated by their `ETag` only.
    pub fn last_modified(&self) -> Option<jiff::Timestamp> {
        let listed = self.tags.iter().any(|t| t.starts_with("l-") || t == NAV || t == SEARCH);
        self.latest.filter(|_| !listed)
    }

    pub fn tags(&self) -> impl Iterator<Item = &str> {
        self.tags.iter().map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.tags.is_empty()
    }

    /// When the response stops being right by the clock alone.
    pub fn edge(&self) -> Option<i64> {
        self.edge
    }
}

/// A stored date (`effective`, `expires`) in Unix milliseconds.
pub fn date_ms(v: &Value) -> Option<i64> {
    let s = v.as_str()?;
    s.parse::<jiff::Timestamp>()
        .ok()
        .map(|t| t.as_millisecond())
        .or_else(|| {
            // A date without an offset is UTC, as cairn stores them.
            s.parse::<jiff::civil::DateTime>()
                .ok()
                .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).ok())
                .map(|z| z.timestamp().as_millisecond())
        })
}

/// The job type that purges HTTP caches.
pub const PURGE_JOB: &str = "cdn.purge";

/// What a purge job drops.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PurgeArgs {
    #[serde(default)]
    pub tags: BTreeSet<String>,
    /// Site-relative paths; the job makes the public URLs.
    #[serde(default)]
    pub paths: BTreeSet<String>,
    /// Everything the site's caches hold.
    #[serde(default)]
    pub all: bool,
}

impl PurgeArgs {
    pub fn merge(&mut self, other: PurgeArgs) {
        self.tags.extend(other.tags);
        self.paths.extend(other.paths);
        self.all |= other.all;
    }
}

/// How much `@invalidate` purges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The object's own answers and URL.
    Item,
    /// Every answer at or below the object.
    Subtree,
    /// Everything of the site.
    Site,
}

/// `@invalidate`: queues a purge of `scope` around `path` (Site
/// Administrators and Managers); it runs as soon as a worker is free.
pub fn invalidate(site: &crate::Site, who: &crate::Principal, path: &ContentPath, scope: Scope) -> CoreResult<()> {
    if !who.is_admin() {
        return Err(crate::CoreError::Unauthorized(
            "You are not allowed to purge the caches".into(),
        ));
    }
    let c = site.store.by_path(&site.id, path)?.ok_or(crate::CoreError::NotFound)?;
    let mut args = PurgeArgs::default();
    match scope {
        Scope::Item => {
            args.tags.insert(c.uid.as_str().to_owned());
            args.paths.insert(path.as_str().to_owned());
        }
        Scope::Subtree if path.is_root() => args.all = true,
        Scope::Subtree => {
            args.tags.insert(c.uid.as_str().to_owned());
            args.tags.insert(path_tag(path));
            args.paths.insert(path.as_str().to_owned());
        }
        Scope::Site => args.all = true,
    }
    let job = crate::jobs::NewJob::new(PURGE_JOB, serde_json::to_value(&args).unwrap_or_default())
        .priority(crate::jobs::Priority::Important);
    site.jobs.enqueue(&site.id, &[job])
}

/// Why a purge failed.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct PurgeError {
    pub message: String,
    /// Another attempt may succeed (a rate limit, a server error, a
    /// timeout); false for a refusal that will repeat (bad credentials).
    pub transient: bool,
}

/// An HTTP cache that can be told to drop answers (Varnish, a CDN).
pub trait Purger: Send + Sync {
    /// For logs and job results.
    fn name(&self) -> &str;
    /// Drops every answer tagged with one of `tags`, and the answers for
    /// `urls` (absolute). Called with bounded lists; batching to the
    /// cache's own limits is the purger's work.
    fn purge(&self, tags: &[String], urls: &[String]) -> Result<(), PurgeError>;
    /// Drops everything this site's cache holds.
    fn purge_all(&self) -> Result<(), PurgeError>;
}

/// What a set of changes made stale in HTTP caches.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Stale {
    pub tags: BTreeSet<String>,
    /// Site-relative paths whose URLs to purge as well (for caches that
    /// purge by URL only): the changed objects' old and new places.
    pub paths: BTreeSet<String>,
    /// Everything of the site (a setting that may show on any page changed).
    pub all: bool,
}

/// The tags and URLs `changes` made stale. `current` has the changed
/// objects as they are now (a removed one is missing).
pub fn stale(store: &dyn ContentStore, site: &str, changes: &[OutboxEntry], current: &[Content]) -> CoreResult<Stale> {
    let mut out = Stale::default();
    let mut parents = BTreeSet::new();
    for e in changes {
        let kind = e.kind.as_str();
        out.tags.insert(e.uid.as_str().to_owned());
        out.tags.insert(reference_tag(&e.uid));
        out.tags.insert(SEARCH.to_owned());
        out.paths.insert(e.path.as_str().to_owned());
        // Navigation shows what lists show, and titles and order.
        if MEMBERSHIP_KINDS.contains(&kind) || kind == MODIFIED_IN_NAV {
            out.tags.insert(NAV.to_owned());
        }
        if kind == MODIFIED_IN_NAV {
            // Its own items may have been reordered.
            out.tags.insert(listing_tag(&e.uid));
        }
        // A setting may show anywhere (the site title, navigation types).
        out.all |= kind == crate::records::CHANGED;
        if matches!(kind, "moved" | "removed") {
            // Every response below the old place.
            out.tags.insert(path_tag(&e.path));
        }
        let now = current.iter().find(|c| c.uid == e.uid);
        if let Some(now) = now {
            out.paths.insert(now.path.as_str().to_owned());
        }
        if MEMBERSHIP_KINDS.contains(&kind) {
            // The folders that list it (before and after a move).
            parents.extend(e.path.parent());
            parents.extend(now.and_then(|c| c.path.parent()));
        }
    }
    let parents: Vec<ContentPath> = parents.into_iter().collect();
    for p in store.by_paths(site, &parents)? {
        out.tags.insert(listing_tag(&p.uid));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_response_below_a_folder_carries_the_tags_of_its_places() {
        let mut d = Deps::default();
        d.served_at(&ContentPath::parse("/a/b/c").unwrap());
        let tags: Vec<&str> = d.tags().collect();
        assert_eq!(tags.len(), 3);
        assert!(tags.contains(&path_tag(&ContentPath::parse("/a").unwrap()).as_str()));
        assert!(tags.contains(&path_tag(&ContentPath::parse("/a/b/c").unwrap()).as_str()));
        let mut root = Deps::default();
        root.served_at(&ContentPath::root());
        assert!(root.is_empty());
    }

    #[test]
    fn dates_read_with_or_without_an_offset() {
        let v = |s: &str| Value::String(s.into());
        assert_eq!(date_ms(&v("1970-01-01T00:00:01+00:00")), Some(1000));
        assert_eq!(date_ms(&v("1970-01-01T00:00:02")), Some(2000));
        assert_eq!(date_ms(&v("soon")), None);
    }
}
