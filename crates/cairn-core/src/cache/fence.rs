//! Keeps a reader from caching what a concurrent write made stale.
//!
//! Each site counts writes started and writes finished. A writer starts,
//! commits, invalidates what it touched, then finishes. A reader may cache
//! what it loaded only if no write was under way when it began (so its rows
//! are at least as new as every finished write) and, once its entry is in,
//! no write has started since (else the write's invalidation may have run
//! before the insert, and the reader removes its entry again).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

#[derive(Default)]
struct Counters {
    started: AtomicU64,
    finished: AtomicU64,
}

/// The write counters of every site.
#[derive(Default)]
pub struct Fences {
    sites: RwLock<HashMap<String, Arc<Counters>>>,
}

/// A reader's view of a site's writes when it began loading.
pub struct Ticket {
    counters: Arc<Counters>,
    started: u64,
}

impl Ticket {
    /// No write has started since the ticket was taken: the entry stays.
    pub fn still_valid(&self) -> bool {
        self.counters.started.load(Ordering::SeqCst) == self.started
    }
}

/// A write under way; finishing it lets readers cache again.
pub struct Writing {
    counters: Arc<Counters>,
}

impl Drop for Writing {
    fn drop(&mut self) {
        self.counters.finished.fetch_add(1, Ordering::SeqCst);
    }
}

impl Fences {
    fn counters(&self, site: &str) -> Arc<Counters> {
        if let Some(c) = self.sites.read().unwrap_or_else(|e| e.into_inner()).get(site) {
            return c.clone();
        }
        let mut sites = self.sites.write().unwrap_or_else(|e| e.into_inner());
        sites.entry(site.to_string()).or_default().clone()
    }

    /// Before loading: `None` while a write to `site` is under way (load,
    /// but do not cache).
    pub fn ticket(&self, site: &str) -> Option<Ticket> {
        let counters = self.counters(site);
        // `finished` first: equal counts then mean every write begun before
        // the second read had finished before the first.
        let finished = counters.finished.load(Ordering::SeqCst);
        let started = counters.started.load(Ordering::SeqCst);
        (started == finished).then_some(Ticket { counters, started })
    }

    /// Before a write to `site` commits; drop the result after invalidating.
    pub fn write(&self, site: &str) -> Writing {
        let counters = self.counters(site);
        counters.started.fetch_add(1, Ordering::SeqCst);
        Writing { counters }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reader_caches_only_when_no_write_overlapped_its_load() {
        let f = Fences::default();
        let t = f.ticket("a").expect("no write under way");
        assert!(t.still_valid());
        let w = f.write("a");
        assert!(!t.still_valid(), "a write began during the load");
        assert!(f.ticket("a").is_none(), "a write is under way");
        assert!(f.ticket("b").is_some(), "other sites are not held up");
        drop(w);
        assert!(f.ticket("a").is_some_and(|t| t.still_valid()));
    }
}
