//! A read-through cache in front of any [`ContentStore`]: decoded objects by
//! path and navigation trees, dropped on every write this process commits.
//!
//! A generation counter closes the race between a reader that loaded old rows
//! and a writer that committed meanwhile: results are only cached when no write
//! happened during the load. Other nodes (scale-out) will bump the generation
//! from the outbox; the embedded default has a single writer, this process.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use cairn_model::{ContentPath, Uid};
use moka::sync::Cache;
use serde_json::Value;

use crate::content::Content;
use crate::error::CoreResult;
use crate::ports::{ContentStore, OutboxEntry, ViewFilter, WriteBatch};
use crate::stats::StoreStats;

/// Site, root, depth, types, principals, whether the publication window applies.
type TreeKey = (String, String, usize, Vec<String>, Option<Vec<String>>, bool);

/// The caching decorator.
pub struct CachedStore<S> {
    inner: S,
    generation: AtomicU64,
    objects: Cache<(String, String), Option<Content>>,
    trees: Cache<TreeKey, std::sync::Arc<Vec<Content>>>,
    stats: StoreStats,
}

impl<S: ContentStore> CachedStore<S> {
    /// Wraps `inner`; `capacity` bounds the number of cached objects.
    pub fn new(inner: S, capacity: u64) -> Self {
        Self {
            inner,
            generation: AtomicU64::new(0),
            objects: Cache::builder()
                .max_capacity(capacity)
                .time_to_idle(Duration::from_secs(600))
                .build(),
            // Trees are big; a handful (one per role set and depth) is what a site uses.
            trees: Cache::builder()
                .max_capacity(64)
                .time_to_idle(Duration::from_secs(600))
                .build(),
            stats: StoreStats::default(),
        }
    }

    /// Forgets everything; called after each committed write.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.objects.invalidate_all();
        self.trees.invalidate_all();
    }

    fn load<K, V>(&self, cache: &Cache<K, V>, key: K, f: impl FnOnce() -> CoreResult<V>) -> CoreResult<V>
    where
        K: std::hash::Hash + Eq + Send + Sync + 'static,
        V: Clone + Send + Sync + 'static,
    {
        if let Some(v) = cache.get(&key) {
            return Ok(v);
        }
        let before = self.generation.load(Ordering::SeqCst);
        let v = f()?;
        if self.generation.load(Ordering::SeqCst) == before {
            cache.insert(key, v.clone());
        }
        Ok(v)
    }
}

impl<S: ContentStore> ContentStore for CachedStore<S> {
    fn migrate(&self) -> CoreResult<()> {
        self.inner.migrate()
    }

    fn by_path(&self, site: &str, path: &ContentPath) -> CoreResult<Option<Content>> {
        let key = (site.to_string(), path.as_str().to_string());
        self.load(&self.objects, key, || {
            self.stats.count(site);
            self.inner.by_path(site, path)
        })
    }

    fn by_paths(&self, site: &str, paths: &[ContentPath]) -> CoreResult<Vec<Content>> {
        let mut out = Vec::with_capacity(paths.len());
        let mut missing = Vec::new();
        for p in paths {
            match self.objects.get(&(site.to_string(), p.as_str().to_string())) {
                Some(Some(c)) => out.push(c),
                Some(None) => {}
                None => missing.push(p.clone()),
            }
        }
        if !missing.is_empty() {
            let before = self.generation.load(Ordering::SeqCst);
            self.stats.count(site);
            let loaded = self.inner.by_paths(site, &missing)?;
            if self.generation.load(Ordering::SeqCst) == before {
                for c in &loaded {
                    self.objects
                        .insert((site.to_string(), c.path.as_str().to_string()), Some(c.clone()));
                }
            }
            out.extend(loaded);
        }
        Ok(out)
    }

    fn by_uids(&self, site: &str, uids: &[Uid]) -> CoreResult<Vec<Content>> {
        self.stats.count(site);
        self.inner.by_uids(site, uids)
    }

    fn children(
        &self,
        site: &str,
        parent: &ContentPath,
        filter: &ViewFilter,
        start: usize,
        limit: usize,
    ) -> CoreResult<(Vec<Content>, usize)> {
        self.stats.count(site);
        self.inner.children(site, parent, filter, start, limit)
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
    ) -> CoreResult<std::sync::Arc<Vec<Content>>> {
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
        let tree = self.load(&self.trees, key, || {
            self.stats.count(site);
            self.inner.nav_tree(site, root, depth, types, filter)
        })?;
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
        query: Option<&str>,
        start: usize,
        limit: usize,
    ) -> CoreResult<(Vec<crate::ports::Redirect>, usize)> {
        self.stats.count(site);
        self.inner.redirects(site, target, query, start, limit)
    }

    fn versions(&self, site: &str, uid: &Uid) -> CoreResult<Vec<crate::ports::VersionRecord>> {
        self.stats.count(site);
        self.inner.versions(site, uid)
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
        self.stats.count(site);
        let result = self.inner.write(site, batch);
        // Invalidate even on failure: a failed batch rolled back, but being
        // conservative costs one cache refill, being wrong costs stale pages.
        self.invalidate();
        result
    }

    fn setting(&self, site: &str, key: &str) -> CoreResult<Option<Value>> {
        self.stats.count(site);
        self.inner.setting(site, key)
    }

    fn put_setting(&self, site: &str, key: &str, value: &Value) -> CoreResult<()> {
        self.stats.count(site);
        self.inner.put_setting(site, key, value)
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

    fn stats(&self) -> Option<&StoreStats> {
        Some(&self.stats)
    }

    fn generation(&self) -> u64 {
        // Starts at 1 so that 0 can mean "this store cannot tell".
        self.generation.load(Ordering::SeqCst) + 1
    }
}
