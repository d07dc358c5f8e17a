//! Counts of store round trips (calls that reached the database, cache hits
//! not), per site and by what caused them: a request handler or background
//! work (indexer, blob sweep, metrics, startup). `/metrics` shows them; tests
//! read them to prove that a page costs a fixed number of queries.
//!
//! Attribution is per thread: a request runs its store calls on one blocking
//! thread, which [`RequestScope`] marks for as long as it lives.

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

thread_local! {
    static IN_REQUEST: Cell<bool> = const { Cell::new(false) };
}

/// Marks the current thread as serving a request until dropped.
pub struct RequestScope {
    was: bool,
}

impl RequestScope {
    /// Store calls on this thread count as `request` from now on.
    pub fn enter() -> Self {
        Self {
            was: IN_REQUEST.with(|c| c.replace(true)),
        }
    }
}

impl Drop for RequestScope {
    fn drop(&mut self) {
        IN_REQUEST.with(|c| c.set(self.was));
    }
}

/// Round trips of one site: `[request, background]`.
type Counters = [AtomicU64; 2];

/// Round trips per site, split by source.
#[derive(Default)]
pub struct StoreStats {
    sites: RwLock<HashMap<String, Arc<Counters>>>,
}

/// One site's counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueryCounts {
    /// Made while serving a request.
    pub request: u64,
    /// Made by background work.
    pub background: u64,
}

impl StoreStats {
    /// Counts one round trip for `site` on behalf of the current thread.
    pub fn count(&self, site: &str) {
        let slot = usize::from(!IN_REQUEST.with(Cell::get));
        if let Some(c) = self.sites.read().unwrap_or_else(|e| e.into_inner()).get(site) {
            c[slot].fetch_add(1, Ordering::Relaxed);
            return;
        }
        let mut sites = self.sites.write().unwrap_or_else(|e| e.into_inner());
        sites.entry(site.to_string()).or_default()[slot].fetch_add(1, Ordering::Relaxed);
    }

    /// The counts of `site` so far.
    pub fn counts(&self, site: &str) -> QueryCounts {
        let sites = self.sites.read().unwrap_or_else(|e| e.into_inner());
        sites.get(site).map_or_else(QueryCounts::default, |c| QueryCounts {
            request: c[0].load(Ordering::Relaxed),
            background: c[1].load(Ordering::Relaxed),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_split_by_scope_and_site() {
        let stats = StoreStats::default();
        stats.count("a");
        {
            let _scope = RequestScope::enter();
            stats.count("a");
            stats.count("b");
        }
        stats.count("a");
        assert_eq!(
            stats.counts("a"),
            QueryCounts {
                request: 1,
                background: 2
            }
        );
        assert_eq!(
            stats.counts("b"),
            QueryCounts {
                request: 1,
                background: 0
            }
        );
        assert_eq!(stats.counts("c"), QueryCounts::default());
    }
}
