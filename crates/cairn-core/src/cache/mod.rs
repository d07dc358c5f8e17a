//! A read-through cache in front of any [`ContentStore`]: decoded objects
//! (by path and by UID) and navigation trees, kept per site.
//!
//! A write forgets what it touched and nothing else: the objects its batch
//! inserts, updates or reorders (by UID, so a copy cached at an old path
//! goes too), the paths it fills, and whole subtrees it deletes or renames
//! (see [`touched`]). Navigation trees depend on every object below their
//! root, so any write to a site drops that site's trees. [`fence`] keeps a
//! reader that loaded before a write from caching what it loaded.
//!
//! In scale-out mode other nodes write too: when the store reports one
//! ([`ContentStore::remote_writes`], PostgreSQL's change feed), everything
//! cached goes at the next call, since which objects it touched is not
//! known here; a load that overlapped such a write keeps nothing.

mod fence;
mod objects;
mod settings;
mod touched;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use cairn_model::{ContentPath, Uid};
use moka::sync::Cache;
use serde_json::Value;

use self::fence::Fences;
use self::objects::Objects;
pub use self::touched::Touched;
use crate::content::Content;
use crate::error::CoreResult;
use crate::ports::{ContentStore, OutboxEntry, ViewFilter, WriteBatch};
use crate::stats::StoreStats;

/// Site, root, depth, types, principals, whether the publication window applies.
type TreeKey = (String, String, usize, Vec<String>, Option<Vec<String>>, bool);

/// The caching decorator.
pub struct CachedStore<S> {
    inner: S,
    /// Every committed write, all sites: what rendered responses and the
    /// indexer compare (see [`ContentStore::generation`]).
    generation: AtomicU64,
    /// The inner store's count of other nodes' writes last acted on.
    remote_seen: AtomicU64,
    fences: Fences,
    /// `None` when configured with no room: every read reaches the store.
    objects: Option<Objects>,
    trees: Cache<TreeKey, Arc<Vec<Content>>>,
    settings: settings::Settings,
    stats: StoreStats,
}

impl<S: ContentStore> CachedStore<S> {
    /// Wraps `inner`; `capacity` bounds the number of cached objects (0: none).
    pub fn new(inner: S, capacity: u64) -> Self {
        Self {
            generation: AtomicU64::new(0),
            remote_seen: AtomicU64::new(inner.remote_writes()),
            fences: Fences::default(),
            objects: (capacity > 0).then(|| Objects::new(capacity)),
            // Trees are big; a handful (one per role set and depth) is what a site uses.
            trees: Cache::builder()
                .max_capacity(64)
                .time_to_idle(Duration::from_secs(600))
                .support_invalidation_closures()
                .build(),
            settings: Default::default(),
            stats: StoreStats::default(),
            inner,
        }
    }

    /// Drops everything cached once another node wrote since the last call;
    /// gives back the count of remote writes seen.
    fn catch_up(&self) -> u64 {
        let now = self.inner.remote_writes();
        if self.remote_seen.swap(now, Ordering::SeqCst) != now {
            if let Some(objects) = &self.objects {
                objects.clear();
            }
            self.trees.invalidate_all();
            self.settings.clear();
            self.generation.fetch_add(1, Ordering::SeqCst);
        }
        now
    }

    /// Forgets what a write to `site` touched.
    fn forget(&self, site: &str, touched: &Touched) {
        if let Some(objects) = &self.objects {
            objects.forget(site, touched);
        }
        let site = site.to_string();
        if self.trees.invalidate_entries_if(move |k, _| k.0 == site).is_err() {
            self.trees.invalidate_all();
        }
    }

    /// Objects at `paths` from the cache, then the rest in one query.
    /// Absence is cached only when asked (`negative`): probes for free ids
    /// would fill the cache with nothing.
    fn objects_at(&self, site: &str, paths: &[ContentPath], negative: bool) -> CoreResult<Vec<Content>> {
        self.catch_up();
        let Some(objects) = &self.objects else {
            self.stats.count(site);
            return self.inner.by_paths(site, paths);
        };
        let mut out = Vec::with_capacity(paths.len());
        let mut missing = Vec::new();
        for p in paths {
            match objects.by_path(site, p.as_str()) {
                Some(Some(c)) => out.push(c),
                Some(None) => {}
                None => missing.push(p.clone()),
            }
        }
        if missing.is_empty() {
            return Ok(out);
        }
        let loaded = self.load_missing(
            site,
            || self.inner.by_paths(site, &missing),
            |loaded, undo| {
                for p in &missing {
                    let found = loaded.iter().find(|c| c.path == *p);
                    match (found, undo) {
                        (None, _) if !negative => {}
                        (found, false) => objects.put(site, p.as_str(), found),
                        (found, true) => objects.unput(site, p.as_str(), found),
                    }
                }
            },
        )?;
        out.extend(loaded);
        Ok(out)
    }

    /// Loads what the object cache lacks and lets `keep` put it there
    /// (`keep(loaded, true)` takes it back): kept only when no write
    /// overlapped the load, so a reader never caches what a writer replaced.
    fn load_missing(
        &self,
        site: &str,
        load: impl FnOnce() -> CoreResult<Vec<Content>>,
        keep: impl Fn(&[Content], bool),
    ) -> CoreResult<Vec<Content>> {
        let ticket = self.fences.ticket(site);
        let remote = self.catch_up();
        self.stats.count(site);
        let loaded = load()?;
        if let Some(ticket) = ticket {
            keep(&loaded, false);
            if !ticket.still_valid() || self.inner.remote_writes() != remote {
                keep(&loaded, true);
            }
        }
        Ok(loaded)
    }
}

impl<S: ContentStore> ContentStore for CachedStore<S> {
    fn migrate(&self) -> CoreResult<()> {
        self.inner.migrate()
    }

    fn by_path(&self, site: &str, path: &ContentPath) -> CoreResult<Option<Content>> {
        Ok(self.objects_at(site, std::slice::from_ref(path), true)?.pop())
    }

    fn by_paths(&self, site: &str, paths: &[ContentPath]) -> CoreResult<Vec<Content>> {
        self.objects_at(site, paths, false)
    }

    fn by_uids(&self, site: &str, uids: &[Uid]) -> CoreResult<Vec<Content>> {
        self.catch_up();
        let Some(objects) = &self.objects else {
            self.stats.count(site);
            return self.inner.by_uids(site, uids);
        };
        let mut out = Vec::with_capacity(uids.len());
        let mut missing = Vec::new();
        for u in uids {
            match objects.by_uid(site, u) {
                Some(c) => out.push(c),
                None => missing.push(u.clone()),
            }
        }
        if missing.is_empty() {
            return Ok(out);
        }
        let loaded = self.load_missing(
            site,
            || self.inner.by_uids(site, &missing),
            |loaded, undo| {
                for c in loaded {
                    match undo {
                        false => objects.put(site, c.path.as_str(), Some(c)),
                        true => objects.unput(site, c.path.as_str(), Some(c)),
                    }
                }
            },
        )?;
        out.extend(loaded);
        Ok(out)
    }

    fn children(
        &self,
        site: &str,
        parent: &ContentPath,
        filter: &ViewFilter,
        page: (usize, usize),
        light: bool,
    ) -> CoreResult<(Vec<Content>, usize)> {
        self.stats.count(site);
        self.inner.children(site, parent, filter, page, light)
    }

    fn neighbours(
        &self,
        site: &str,
        parent: &ContentPath,
        position: i64,
        filter: &ViewFilter,
    ) -> CoreResult<(Option<Content>, Option<Content>)> {
        self.stats.count(site);
        self.inner.neighbours(site, parent, position, filter)
    }

    fn neighbour_uids(
        &self,
        site: &str,
        items: &[(ContentPath, i64)],
        filter: &ViewFilter,
    ) -> CoreResult<Vec<(Option<Uid>, Option<Uid>)>> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        self.stats.count(site);
        self.inner.neighbour_uids(site, items, filter)
    }

    fn tree(
        &self,
        site: &str,
        root: &ContentPath,
        depth: usize,
        types: &[String],
        filter: &ViewFilter,
    ) -> CoreResult<Vec<Content>> {
        self.stats.count(site);
        self.inner.tree(site, root, depth, types, filter)
    }

    fn nav_tree(
        &self,
        site: &str,
        root: &ContentPath,
        depth: usize,
        types: &[String],
        filter: &ViewFilter,
    ) -> CoreResult<Arc<Vec<Content>>> {
        let mut principals = filter.principals.clone();
        if let Some(p) = principals.as_mut() {
            p.sort();
        }
        let windowed = filter.active_at.is_some();
        let key = (
            site.to_string(),
            root.as_str().to_string(),
            depth,
            types.to_vec(),
            principals,
            windowed,
        );
        let remote = self.catch_up();
        if let Some(tree) = self.trees.get(&key) {
            return Ok(tree);
        }
        let ticket = self.fences.ticket(site);
        self.stats.count(site);
        let tree = self.inner.nav_tree(site, root, depth, types, filter)?;
        if let Some(ticket) = ticket {
            self.trees.insert(key.clone(), tree.clone());
            if !ticket.still_valid() || self.inner.remote_writes() != remote {
                self.trees.invalidate(&key);
            }
        }
        Ok(tree)
    }

    fn search(
        &self,
        site: &str,
        query: &crate::catalog::CatalogQuery,
        filter: &ViewFilter,
    ) -> CoreResult<(Vec<Content>, usize)> {
        self.stats.count(site);
        self.inner.search(site, query, filter)
    }

    fn redirects_from(&self, site: &str, paths: &[ContentPath]) -> CoreResult<Vec<crate::ports::Redirect>> {
        self.stats.count(site);
        self.inner.redirects_from(site, paths)
    }

    fn redirects(
        &self,
        site: &str,
        target: Option<&ContentPath>,
        filter: &crate::ports::RedirectFilter,
        start: usize,
        limit: usize,
    ) -> CoreResult<(Vec<crate::ports::Redirect>, usize)> {
        self.stats.count(site);
        self.inner.redirects(site, target, filter, start, limit)
    }

    fn trash(
        &self,
        site: &str,
        owner: Option<&str>,
        start: usize,
        limit: usize,
    ) -> CoreResult<(Vec<crate::ports::TrashEntry>, usize)> {
        self.stats.count(site);
        self.inner.trash(site, owner, start, limit)
    }

    fn trash_entry(&self, site: &str, id: i64) -> CoreResult<Option<crate::ports::TrashEntry>> {
        self.stats.count(site);
        self.inner.trash_entry(site, id)
    }

    fn trash_before(&self, site: &str, before: i64) -> CoreResult<Vec<i64>> {
        self.stats.count(site);
        self.inner.trash_before(site, before)
    }

    fn linking_to(&self, site: &str, targets: &[Uid]) -> CoreResult<Vec<(Uid, Uid)>> {
        self.stats.count(site);
        self.inner.linking_to(site, targets)
    }

    fn relations(&self, site: &str, q: &crate::ports::RelationQuery) -> CoreResult<Vec<crate::ports::Relation>> {
        self.stats.count(site);
        self.inner.relations(site, q)
    }

    fn relation_stats(&self, site: &str) -> CoreResult<Vec<(String, u64, u64)>> {
        self.stats.count(site);
        self.inner.relation_stats(site)
    }

    fn translations(&self, site: &str, group: &str) -> CoreResult<Vec<Content>> {
        self.stats.count(site);
        self.inner.translations(site, group)
    }

    fn facts(&self, site: &str) -> CoreResult<crate::ports::StoreFacts> {
        self.stats.count(site);
        self.inner.facts(site)
    }

    fn type_counts(&self, site: &str) -> CoreResult<Vec<(String, u64)>> {
        self.stats.count(site);
        self.inner.type_counts(site)
    }

    fn versions(&self, site: &str, uid: &Uid) -> CoreResult<Vec<crate::ports::VersionRecord>> {
        self.stats.count(site);
        self.inner.versions(site, uid)
    }

    fn last_version(&self, site: &str, uid: &Uid) -> CoreResult<Option<i64>> {
        self.stats.count(site);
        self.inner.last_version(site, uid)
    }

    fn keywords(&self, site: &str, filter: &ViewFilter) -> CoreResult<Vec<String>> {
        self.stats.count(site);
        self.inner.keywords(site, filter)
    }

    fn next_position(&self, site: &str, parent: &ContentPath) -> CoreResult<i64> {
        self.stats.count(site);
        self.inner.next_position(site, parent)
    }

    fn child_ids(&self, site: &str, parent: &ContentPath) -> CoreResult<Vec<(Uid, String, i64)>> {
        self.stats.count(site);
        self.inner.child_ids(site, parent)
    }

    fn write(&self, site: &str, batch: WriteBatch) -> CoreResult<()> {
        let touched = Touched::of(&batch);
        let keys: Vec<String> = batch
            .ops
            .iter()
            .filter_map(|op| match op {
                crate::ports::WriteOp::PutSetting { key, .. } => Some(key.clone()),
                _ => None,
            })
            .collect();
        let writing = self.fences.write(site);
        self.stats.count(site);
        let result = self.inner.write(site, batch);
        if !keys.is_empty() {
            self.settings.forget(site, keys.iter().map(String::as_str));
        }
        // Forget even on failure: a failed batch rolled back, but being
        // conservative costs a few cache refills, being wrong costs stale pages.
        self.forget(site, &touched);
        self.generation.fetch_add(1, Ordering::SeqCst);
        drop(writing);
        result
    }

    fn setting(&self, site: &str, key: &str) -> CoreResult<Option<Value>> {
        self.catch_up();
        // The outbox's bookkeeping (consumer positions, the pruning mark) is
        // written by the job queue, past this cache: always read it fresh.
        if key.starts_with("outbox.") {
            self.stats.count(site);
            return self.inner.setting(site, key);
        }
        self.settings.get(site, key, || {
            self.stats.count(site);
            self.inner.setting(site, key)
        })
    }

    fn settings(&self, site: &str) -> CoreResult<Vec<(String, Value)>> {
        self.stats.count(site);
        self.inner.settings(site)
    }

    fn put_setting(&self, site: &str, key: &str, value: &Value) -> CoreResult<()> {
        self.stats.count(site);
        let result = self.inner.put_setting(site, key, value);
        self.settings.forget(site, std::iter::once(key));
        result
    }

    fn outbox_len(&self, site: &str) -> CoreResult<u64> {
        self.stats.count(site);
        self.inner.outbox_len(site)
    }

    fn outbox_head(&self, site: &str) -> CoreResult<i64> {
        self.stats.count(site);
        self.inner.outbox_head(site)
    }

    fn outbox_after(&self, site: &str, after: i64, limit: usize) -> CoreResult<Vec<OutboxEntry>> {
        self.stats.count(site);
        self.inner.outbox_after(site, after, limit)
    }

    fn referenced_blobs(&self) -> CoreResult<std::collections::HashSet<String>> {
        self.inner.referenced_blobs()
    }

    fn remote_writes(&self) -> u64 {
        self.inner.remote_writes()
    }

    fn sync(&self, site: &str) -> CoreResult<()> {
        self.inner.sync(site)?;
        self.catch_up();
        Ok(())
    }

    fn stats(&self) -> Option<&StoreStats> {
        Some(&self.stats)
    }

    fn generation(&self) -> u64 {
        // Whatever another node wrote counts (response caches compare this).
        self.catch_up();
        // Starts at 1 so that 0 can mean "this store cannot tell".
        self.generation.load(Ordering::SeqCst) + 1
    }
}
