//! What the indexing loop asks of a full-text engine, whichever it is: the
//! embedded index of one node, or a shared engine (PostgreSQL, a search
//! cluster) that every node of a scale-out installation feeds and asks.

use cairn_core::ports::{ContentStore, FullText};

use crate::{Freshness, IndexerError, SearchIndex};

/// A full-text engine a follower keeps up to date with the change outbox.
pub trait Engine: FullText {
    /// One pass: takes in the changes since the saved position, or the
    /// whole site when the engine holds nothing yet or missed changes the
    /// outbox no longer has. Returns how many changes or objects it took in.
    fn step(&self, store: &dyn ContentStore, site: &str) -> Result<usize, IndexerError>;

    /// Drops everything and indexes the site anew (`cairn reindex`);
    /// `progress` hears (done, total).
    fn rebuild(
        &self,
        store: &dyn ContentStore,
        site: &str,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<usize, IndexerError>;

    /// Where the engine stands in the outbox; a reader waiting for a write
    /// wakes the follower through it.
    fn freshness(&self) -> &Freshness;

    /// The settings key under which the follower stamps, now and then, that
    /// this node's engine is alive: only for an index kept per node in a
    /// shared database (see [`cairn_core::ports::FULL_TEXT_NODE_PREFIX`]).
    fn alive_key(&self) -> Option<String> {
        None
    }
}

impl Engine for SearchIndex {
    fn step(&self, store: &dyn ContentStore, site: &str) -> Result<usize, IndexerError> {
        if self.is_empty() || crate::behind_pruning(store, site, self)? {
            let started = std::time::Instant::now();
            let n = crate::rebuild(store, site, self, |_, _| {})?;
            tracing::info!(
                site,
                objects = n,
                seconds = started.elapsed().as_secs_f64(),
                "full-text index built"
            );
            Ok(n)
        } else {
            crate::catch_up(store, site, self)
        }
    }

    fn rebuild(
        &self,
        store: &dyn ContentStore,
        site: &str,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<usize, IndexerError> {
        crate::rebuild(store, site, self, progress)
    }

    fn freshness(&self) -> &Freshness {
        SearchIndex::freshness(self)
    }

    fn alive_key(&self) -> Option<String> {
        SearchIndex::alive_key(self)
    }
}
