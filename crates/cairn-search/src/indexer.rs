//! Feeds a full-text engine from the change outbox. The position of the last
//! change indexed is saved only with (or after) the engine's commit, so a
//! crash replays at most one batch (re-indexing is idempotent) and no change
//! is ever skipped.
//!
//! Each object is indexed in its state at the time of indexing, read by UID,
//! so several edits in one batch cost one upsert. A deleted subtree records
//! only its root in the outbox: descendants stay in the index until the next
//! rebuild, which is harmless because every hit is re-checked in SQL against
//! the live catalog and the reader's permissions.
//!
//! [`take_in`] and [`take_all`] are shared by every engine (they only read
//! the store and call a [`Sink`]); [`catch_up`] and [`rebuild`] drive the
//! embedded index with them.

use std::collections::HashMap;

use cairn_core::CoreError;
use cairn_core::catalog::{CatalogQuery, SortOn};
use cairn_core::ports::{ContentStore, OutboxEntry, ViewFilter};
use cairn_model::Uid;
use serde_json::{Value, json};

use crate::{EngineError, SearchIndex, SearchableText, searchable_text};

/// Settings key holding the outbox position the index has reached (the
/// core reads it to report the lag).
pub use cairn_core::ports::FULL_TEXT_POSITION_KEY as POSITION_KEY;
/// Changes read and committed to the index at a time.
pub const BATCH: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum IndexerError {
    #[error(transparent)]
    Store(#[from] CoreError),
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// The write side of a full-text engine: what the indexer feeds it. What
/// it is given becomes searchable when the engine commits.
pub trait Sink {
    /// Replaces what the engine holds for `uid`.
    fn upsert(&mut self, uid: &str, language: &str, text: &SearchableText) -> Result<(), IndexerError>;
    /// Drops `uid`.
    fn delete(&mut self, uid: &str) -> Result<(), IndexerError>;
}

impl Sink for &SearchIndex {
    fn upsert(&mut self, uid: &str, language: &str, text: &SearchableText) -> Result<(), IndexerError> {
        Ok(SearchIndex::upsert(self, uid, language, text)?)
    }

    fn delete(&mut self, uid: &str) -> Result<(), IndexerError> {
        Ok(SearchIndex::delete(self, uid)?)
    }
}

/// Feeds `sink` the current state of every object `changes` name: one
/// upsert per object however often it changed, a delete for one gone.
pub fn take_in(
    store: &dyn ContentStore,
    site: &str,
    changes: &[OutboxEntry],
    sink: &mut dyn Sink,
) -> Result<(), IndexerError> {
    let mut uids: Vec<Uid> = changes.iter().map(|c| c.uid.clone()).collect();
    uids.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    uids.dedup();
    let current: HashMap<String, _> = store
        .by_uids(site, &uids)?
        .into_iter()
        .map(|c| (c.uid.as_str().to_owned(), c))
        .collect();
    for uid in &uids {
        match current.get(uid.as_str()) {
            Some(c) => sink.upsert(uid.as_str(), language_of(&c.fields), &searchable_text(&c.fields))?,
            None => sink.delete(uid.as_str())?,
        }
    }
    Ok(())
}

/// Feeds `sink` every object of the site, [`BATCH`] at a time in path
/// order; after each page `page_done(done, total)` may commit and report.
/// Returns how many objects it fed.
pub fn take_all(
    store: &dyn ContentStore,
    site: &str,
    sink: &mut dyn Sink,
    mut page_done: impl FnMut(usize, usize) -> Result<(), IndexerError>,
) -> Result<usize, IndexerError> {
    let everything = ViewFilter::unrestricted();
    let mut query = CatalogQuery {
        sort: vec![(SortOn::Path, false)],
        limit: BATCH,
        ..Default::default()
    };
    let total = store
        .search(
            site,
            &CatalogQuery {
                limit: 0,
                ..query.clone()
            },
            &everything,
        )?
        .1;
    query.uncounted = true;
    let mut done = 0;
    loop {
        let (page, _) = store.search(site, &query, &everything)?;
        for c in &page {
            sink.upsert(c.uid.as_str(), language_of(&c.fields), &searchable_text(&c.fields))?;
        }
        done += page.len();
        page_done(done, total.max(done))?;
        match page.last() {
            Some(last) if page.len() == BATCH => query.after_path = Some(last.path.clone()),
            _ => return Ok(done),
        }
    }
}

fn language_of(fields: &serde_json::Map<String, Value>) -> &str {
    fields.get("language").and_then(Value::as_str).unwrap_or_default()
}

/// Indexes every change after the saved position; returns how many changes
/// were handled.
pub fn catch_up(store: &dyn ContentStore, site: &str, index: &SearchIndex) -> Result<usize, IndexerError> {
    let mut handled = 0;
    let mut position = saved_position(store, site, index)?;
    index.freshness().reached(position);
    // Changes taken in since the last commit: a commit syncs a new segment,
    // so a long backlog (a bulk load) is taken in with one per COMMIT_EVERY.
    let mut uncommitted = 0;
    loop {
        let changes = store.outbox_after(site, position, BATCH)?;
        let Some(last) = changes.last() else {
            if uncommitted > 0 {
                commit(store, site, index, position)?;
            }
            return Ok(handled);
        };
        take_in(store, site, &changes, &mut &*index)?;
        position = last.seq;
        handled += changes.len();
        uncommitted += changes.len();
        if changes.len() < BATCH || uncommitted >= COMMIT_EVERY {
            commit(store, site, index, position)?;
            uncommitted = 0;
        }
    }
}

/// The outbox position this index saved (0 when it never did).
fn saved_position(store: &dyn ContentStore, site: &str, index: &SearchIndex) -> Result<i64, IndexerError> {
    Ok(store
        .setting(site, &index.position_key())?
        .and_then(|v| v.as_i64())
        .unwrap_or(0))
}

/// Whether the outbox was pruned past this index's position: the changes
/// in between are gone, so only a rebuild brings the index up to date (a
/// node that was away long, or a new node on an old database).
pub fn behind_pruning(store: &dyn ContentStore, site: &str, index: &SearchIndex) -> Result<bool, IndexerError> {
    let pruned = store
        .setting(site, cairn_core::ports::OUTBOX_PRUNED_KEY)?
        .and_then(|v| v.as_i64())
        .unwrap_or(0);
    Ok(saved_position(store, site, index)? < pruned)
}

/// Changes taken in between index commits during a long catch-up.
const COMMIT_EVERY: usize = 10_000;

/// Commits the index, then saves `position` as reached.
fn commit(store: &dyn ContentStore, site: &str, index: &SearchIndex, position: i64) -> Result<(), IndexerError> {
    index.commit()?;
    store.put_setting(site, &index.position_key(), &json!(position))?;
    index.freshness().reached(position);
    Ok(())
}

/// Rebuilds the index from the database (`cairn reindex`): the position is
/// set to the newest change first, so whatever is written during the rebuild
/// is replayed by the next [`catch_up`]. `progress` hears (done, total).
pub fn rebuild(
    store: &dyn ContentStore,
    site: &str,
    index: &SearchIndex,
    mut progress: impl FnMut(usize, usize),
) -> Result<usize, IndexerError> {
    let newest = store.outbox_head(site)?;
    index.clear()?;
    let done = take_all(store, site, &mut &*index, |done, total| {
        // Committing is the expensive part of indexing: every 20 pages.
        if (done / BATCH).is_multiple_of(20) {
            index.commit()?;
        }
        progress(done, total);
        Ok(())
    })?;
    index.commit()?;
    store.put_setting(site, &index.position_key(), &json!(newest))?;
    index.freshness().reached(newest);
    Ok(done)
}

#[cfg(test)]
mod tests;
