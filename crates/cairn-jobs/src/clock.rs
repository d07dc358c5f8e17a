//! The thread that turns time and changes into jobs: it fires due
//! schedules, and feeds each outbox consumer the changes after its saved
//! position, enqueuing the jobs it derives and moving the position in one
//! transaction (a crash replays nothing twice and loses nothing; a change
//! that rolled back never reached the outbox).

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use cairn_core::CoreResult;
use cairn_core::jobs::{JobStore, NewJob, Schedule, now_ms};
use cairn_core::ports::{ContentStore, OutboxEntry};
use chrono::{TimeZone, Utc};

use crate::runner::Bell;

/// How often the clock looks for new changes.
const TICK: Duration = Duration::from_millis(10);
/// Schedules are checked, and changes by other processes looked for, this often.
const SECOND: Duration = Duration::from_secs(1);
/// Changes handed to a consumer at a time.
const BATCH: usize = 500;

/// Derives jobs from changes (a purge from an edit, a timed job from a
/// publication date). Called again for the same changes after a crash, so
/// what it derives must be safe to enqueue twice (use a dedupe key).
pub trait Consumer: Send + Sync {
    /// The name its position is saved under.
    fn name(&self) -> &'static str;
    fn jobs_for(&self, site: &str, changes: &[OutboxEntry]) -> CoreResult<Vec<NewJob>>;
    /// A consumer that never ran starts at the newest change instead of
    /// the oldest kept (purging what happened before it existed helps nobody).
    fn starts_at_head(&self) -> bool {
        false
    }
}

/// A recurring job every site gets.
#[derive(Debug, Clone)]
pub struct ScheduleSpec {
    pub name: &'static str,
    /// Cron with seconds, in UTC.
    pub cron: &'static str,
    pub job: NewJob,
}

/// The next time after `after_ms` that `cron` names.
pub fn next_run(cron: &str, after_ms: i64) -> Option<i64> {
    let cron = croner::Cron::from_str(cron).ok()?;
    let after = Utc.timestamp_millis_opt(after_ms).single()?;
    cron.find_next_occurrence(&after, false)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// The running clock; stops it on drop.
pub struct Clock {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

struct State {
    content: Arc<dyn ContentStore>,
    jobs: Arc<dyn JobStore>,
    sites: Vec<String>,
    consumers: Vec<Arc<dyn Consumer>>,
    bell: Arc<Bell>,
    /// Per (site, consumer): how far it read, and the position saved in
    /// the database, which may trail: changes that derived no job move the
    /// saved position at most once a second (a write transaction per pass
    /// cost creates 5% of their throughput). Replaying them after a crash
    /// derives nothing twice, since consumers' jobs carry dedupe keys.
    read: std::sync::Mutex<std::collections::HashMap<(String, &'static str), Read>>,
}

#[derive(Clone, Copy)]
struct Read {
    position: i64,
    saved: i64,
    saved_at: Instant,
}

impl Clock {
    /// Saves every site's schedules, then starts the thread.
    pub fn start(
        content: Arc<dyn ContentStore>,
        jobs: Arc<dyn JobStore>,
        sites: Vec<String>,
        consumers: Vec<Arc<dyn Consumer>>,
        schedules: &[ScheduleSpec],
        bell: Arc<Bell>,
    ) -> Result<Self, crate::StartError> {
        let now = now_ms();
        for site in &sites {
            for s in schedules {
                let next = next_run(s.cron, now).ok_or(crate::StartError::BadCron(s.name, s.cron))?;
                jobs.put_schedule(&Schedule {
                    site: site.clone(),
                    name: s.name.into(),
                    cron: s.cron.into(),
                    kind: s.job.kind.clone(),
                    args: s.job.args.clone(),
                    priority: s.job.priority,
                    next_run: next,
                    last_run: None,
                })?;
            }
        }
        let stop = Arc::new(AtomicBool::new(false));
        let state = State {
            content,
            jobs,
            sites,
            consumers,
            bell,
            read: Default::default(),
        };
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("job-clock".into())
            .spawn(move || state.run(&flag))?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Clock {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl State {
    fn run(&self, stop: &AtomicBool) {
        let mut seen = None;
        let mut last_second = Instant::now() - SECOND;
        while !stop.load(Ordering::SeqCst) {
            let generation = self.content.generation();
            let second = last_second.elapsed() >= SECOND;
            if seen != Some(generation) || second {
                seen = Some(generation);
                match self.dispatch() {
                    Ok(true) => self.bell.ring(),
                    Ok(false) => {}
                    Err(e) => tracing::error!(error = %e, "deriving jobs from changes failed; retrying"),
                }
            }
            if second {
                last_second = Instant::now();
                let fired = self
                    .jobs
                    .fire_schedules(now_ms(), &|s: &Schedule| next_run(&s.cron, now_ms()));
                match fired {
                    Ok(0) => {}
                    Ok(_) => self.bell.ring(),
                    Err(e) => tracing::error!(error = %e, "firing schedules failed"),
                }
            }
            std::thread::sleep(TICK);
        }
    }

    /// Feeds every consumer its new changes; true when jobs were enqueued.
    fn dispatch(&self) -> CoreResult<bool> {
        let mut enqueued = false;
        let mut read = self.read.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for site in &self.sites {
            for c in &self.consumers {
                let key = (site.clone(), c.name());
                let mut r = match read.get(&key) {
                    Some(r) => *r,
                    None => self.start(site, c.as_ref())?,
                };
                enqueued |= self.feed(site, c.as_ref(), &mut r)?;
                read.insert(key, r);
            }
        }
        Ok(enqueued)
    }

    /// Where a consumer this process has not fed yet stands.
    fn start(&self, site: &str, c: &dyn Consumer) -> CoreResult<Read> {
        let mut saved = self.jobs.consumer_position(site, c.name())?;
        if saved == 0 && c.starts_at_head() {
            let head = self.content.outbox_head(site)?;
            if self.jobs.advance(site, c.name(), 0, head, &[])? {
                saved = head;
            }
        }
        Ok(Read {
            position: saved,
            saved,
            saved_at: Instant::now(),
        })
    }

    /// Hands `c` the changes after its position; true when jobs were enqueued.
    fn feed(&self, site: &str, c: &dyn Consumer, r: &mut Read) -> CoreResult<bool> {
        let mut enqueued = false;
        loop {
            let changes = self.content.outbox_after(site, r.position, BATCH)?;
            let Some(last) = changes.last() else { break };
            let jobs = c.jobs_for(site, &changes)?;
            r.position = last.seq;
            if !jobs.is_empty() || r.saved_at.elapsed() >= SECOND {
                enqueued |= self.save(site, c, r, &jobs)?;
            }
            if changes.len() < BATCH {
                break;
            }
        }
        // Changes that derived nothing are saved once a second.
        if r.position != r.saved && r.saved_at.elapsed() >= SECOND {
            self.save(site, c, r, &[])?;
        }
        Ok(enqueued)
    }

    /// Enqueues `jobs` and saves the position in one transaction; true when
    /// it did. Another process may have taken these changes first: then this
    /// one follows it.
    fn save(&self, site: &str, c: &dyn Consumer, r: &mut Read, jobs: &[NewJob]) -> CoreResult<bool> {
        let done = self.jobs.advance(site, c.name(), r.saved, r.position, jobs)?;
        if !done {
            r.position = self.jobs.consumer_position(site, c.name())?;
        }
        r.saved = r.position;
        r.saved_at = Instant::now();
        Ok(done && !jobs.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cron_with_seconds_names_the_next_time() {
        // 2026-12-01T10:00:30Z
        let t = 1_796_119_230_000;
        assert_eq!(next_run("0 * * * * *", t), Some(t + 30_000));
        assert_eq!(next_run("*/10 * * * * *", t), Some(t + 10_000));
        assert_eq!(next_run("0 30 3 * * *", t).map(|n| (n - t) / 1000), Some(62_970));
        assert_eq!(next_run("not a cron", t), None);
    }
}
