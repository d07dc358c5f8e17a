//! Read-your-writes for full text. The indexer publishes the outbox position
//! its last commit reached; a reader that must see every write up to a
//! position (an author searching right after saving) asks the indexer to
//! hurry past its batching delay and waits, bounded, until the index is
//! there, as Elasticsearch's `refresh=wait_for` does.

use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// Where the index stands in the change log, and where readers want it.
#[derive(Debug, Default)]
pub struct Freshness {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct State {
    /// Every change up to here is searchable.
    indexed: i64,
    /// The furthest position a waiting reader asked for.
    wanted: i64,
}

impl Freshness {
    /// Every change up to this outbox position is searchable.
    pub fn indexed(&self) -> i64 {
        self.lock().indexed
    }

    /// The indexer committed everything up to `position`: wakes the readers.
    pub fn reached(&self, position: i64) {
        let mut s = self.lock();
        s.indexed = s.indexed.max(position);
        self.changed.notify_all();
    }

    /// Waits until every change up to `position` is searchable, at most
    /// `timeout`; false when the time ran out first.
    pub fn wait_for(&self, position: i64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut s = self.lock();
        if s.indexed >= position {
            return true;
        }
        s.wanted = s.wanted.max(position);
        self.changed.notify_all();
        while s.indexed < position {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            s = self.changed.wait_timeout(s, left).expect("freshness lock poisoned").0;
        }
        true
    }

    /// For the indexer: sleeps up to `nap`, waking early when a reader waits
    /// for changes the index does not hold yet; true when one does.
    pub fn nap(&self, nap: Duration) -> bool {
        let s = self.lock();
        if s.wanted > s.indexed {
            return true;
        }
        let (s, _) = self
            .changed
            .wait_timeout_while(s, nap, |s| s.wanted <= s.indexed)
            .expect("freshness lock poisoned");
        s.wanted > s.indexed
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("freshness lock poisoned")
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::Freshness;

    #[test]
    fn a_reader_wakes_the_indexer_and_is_woken_when_its_position_is_reached() {
        let f = Arc::new(Freshness::default());
        f.reached(3);
        assert!(f.wait_for(3, Duration::ZERO), "already there");
        let indexer = {
            let f = f.clone();
            std::thread::spawn(move || {
                // Woken by the reader long before the nap ends.
                assert!(f.nap(Duration::from_secs(30)));
                f.reached(5);
            })
        };
        assert!(f.wait_for(5, Duration::from_secs(30)));
        indexer.join().unwrap();
        assert!(!f.wait_for(6, Duration::from_millis(10)), "nobody indexes 6");
    }
}
