//! Keeps each site's full-text engine following the database. One thread
//! per site runs the engine's passes (`cairn_search::Engine::step`: a
//! rebuild when it holds nothing, else the changes since its position): within a
//! tick of a write, spaced by the cost of the last pass while writes keep
//! coming (each pass ends in an index commit), at once when a reader
//! waits for a write the index does not hold yet (read-your-writes, see
//! `cairn_search::Freshness`), and at least once a second for writes by
//! other processes. Dropping [`Indexing`] stops the threads and waits for
//! them, which releases the index directories.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use cairn_core::ports::ContentStore;
use cairn_search::Engine;

/// How often a follower looks for new writes.
const TICK: Duration = Duration::from_millis(10);
/// Catch up at least this often, for writes the generation can't see.
const IDLE: Duration = Duration::from_secs(1);
/// Passes that index something are spaced by four times the last one's
/// duration, within these bounds, unless a reader waits: a write is
/// searchable within tens of milliseconds, while under a stream of writes
/// the indexer spends at most a fifth of its time indexing. Each pass ends in
/// an index commit, which syncs a new segment to disk that tantivy later
/// merges; one per write cost more CPU than the writes did.
const MIN_SPACING: Duration = Duration::from_millis(40);
const MAX_SPACING: Duration = Duration::from_secs(1);
/// After a failure (disk full, database busy), wait before trying again.
const BACKOFF: Duration = Duration::from_secs(5);

/// The running followers; stops them on drop.
pub struct Indexing {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Indexing {
    /// Starts one follower per `(site, index)`.
    pub fn start(store: Arc<dyn ContentStore>, sites: Vec<(String, Arc<dyn Engine>)>) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        for (site, index) in sites {
            let (store, stop) = (store.clone(), stop.clone());
            threads.push(
                std::thread::Builder::new()
                    .name(format!("indexer-{site}"))
                    .spawn(move || follow(&*store, &site, &*index, &stop))?,
            );
        }
        Ok(Self { stop, threads })
    }
}

impl Drop for Indexing {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn follow(store: &dyn ContentStore, site: &str, index: &dyn Engine, stop: &AtomicBool) {
    let mut seen = None;
    // In scale-out mode: when this node last said its index is alive.
    let mut stamped = None::<Instant>;
    let mut last_pass = Instant::now();
    // When the last pass that indexed something ended, and the pause it asks for.
    let (mut last_work, mut spacing) = (None::<Instant>, MIN_SPACING);
    let mut retry_at = Instant::now();
    let mut hurry = false;
    while !stop.load(Ordering::SeqCst) {
        let generation = store.generation();
        let rested = last_work.is_none_or(|t| t.elapsed() >= spacing);
        let due = hurry || (seen != Some(generation) && rested) || last_pass.elapsed() >= IDLE;
        if due && Instant::now() >= retry_at {
            let started = Instant::now();
            last_pass = started;
            // Read before indexing: a write during the pass moves it again.
            seen = Some(generation);
            match index.step(store, site) {
                Ok(0) => {}
                Ok(_) => {
                    last_work = Some(Instant::now());
                    spacing = (started.elapsed() * 4).clamp(MIN_SPACING, MAX_SPACING);
                }
                Err(e) => {
                    tracing::error!(site, error = %e, "full-text indexing failed; retrying");
                    retry_at = Instant::now() + BACKOFF;
                    seen = None;
                }
            }
        }
        if let Some(key) = index.alive_key()
            && stamped.is_none_or(|t| t.elapsed() >= ALIVE_EVERY)
        {
            match store.put_setting(site, &key, &serde_json::json!(cairn_core::jobs::now_ms())) {
                Ok(()) => stamped = Some(Instant::now()),
                Err(e) => tracing::warn!(site, error = %e, "could not renew the search index's alive stamp"),
            }
        }
        hurry = index.freshness().nap(TICK);
    }
}

/// How often a node renews its index's alive stamp.
const ALIVE_EVERY: Duration = Duration::from_millis(cairn_core::ports::FULL_TEXT_ALIVE_EVERY_MS as u64);
