//! Worker threads: each takes the next due job, runs its handler and
//! records the outcome (done, another attempt after a growing pause, or dead).
//! An idle worker sleeps until the next job is due, a poke from this process
//! (a job enqueued here) or the poll interval, which is how it hears of jobs
//! other processes enqueue.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use cairn_core::jobs::{Job, JobMetrics, JobStore, Outcome, now_ms};
use rand::Rng;

use crate::handler::Registry;

/// How the workers behave.
#[derive(Debug, Clone)]
pub struct Config {
    pub workers: usize,
    /// A claimed job is the worker's for this long; past it, another worker
    /// takes it again (its worker died). Longer than any job runs.
    pub lease: Duration,
    /// Longest idle sleep: how soon a job enqueued by another process runs.
    pub poll: Duration,
    /// Pause before the second attempt; doubled for each further one.
    pub backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            workers: 2,
            lease: Duration::from_secs(300),
            poll: Duration::from_millis(500),
            backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(3600),
        }
    }
}

/// Wakes idle workers when this process enqueued something.
#[derive(Default)]
pub struct Bell {
    rung: Mutex<u64>,
    cv: Condvar,
}

impl Bell {
    pub fn ring(&self) {
        *self.rung.lock().unwrap_or_else(std::sync::PoisonError::into_inner) += 1;
        self.cv.notify_all();
    }

    /// Sleeps up to `timeout` or until rung after `seen`; returns the count.
    fn wait(&self, seen: u64, timeout: Duration) -> u64 {
        let guard = self.rung.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (guard, _) = self
            .cv
            .wait_timeout_while(guard, timeout, |n| *n == seen)
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *guard
    }

    fn count(&self) -> u64 {
        *self.rung.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The running workers; stops them (after their current job) on drop.
pub struct Workers {
    stop: Arc<AtomicBool>,
    bell: Arc<Bell>,
    threads: Vec<JoinHandle<()>>,
}

impl Workers {
    pub fn start(
        store: Arc<dyn JobStore>,
        registry: Registry,
        config: Config,
        bell: Arc<Bell>,
        metrics: Arc<JobMetrics>,
    ) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        for n in 0..config.workers {
            let worker = Worker {
                store: store.clone(),
                registry: registry.clone(),
                config: config.clone(),
                bell: bell.clone(),
                metrics: metrics.clone(),
                stop: stop.clone(),
            };
            threads.push(
                std::thread::Builder::new()
                    .name(format!("job-worker-{n}"))
                    .spawn(move || worker.run())?,
            );
        }
        Ok(Self { stop, bell, threads })
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.bell.ring();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

struct Worker {
    store: Arc<dyn JobStore>,
    registry: Registry,
    config: Config,
    bell: Arc<Bell>,
    metrics: Arc<JobMetrics>,
    stop: Arc<AtomicBool>,
}

impl Worker {
    fn run(self) {
        let kinds = self.registry.kinds();
        while !self.stop.load(Ordering::SeqCst) {
            // Read before claiming: a ring during the claim is not missed.
            let seen = self.bell.count();
            let now = now_ms();
            let lease_until = now + self.config.lease.as_millis() as i64;
            match self.store.claim(&kinds, now, lease_until) {
                Ok(Some(job)) => self.attempt(job),
                Ok(None) => {
                    let due = self.store.next_due(&kinds).ok().flatten();
                    let until_due = due.map_or(self.config.poll, |at| {
                        Duration::from_millis((at - now_ms()).max(0) as u64)
                    });
                    self.bell.wait(seen, until_due.min(self.config.poll));
                }
                Err(e) => {
                    tracing::error!(error = %e, "claiming a job failed; retrying");
                    self.bell.wait(seen, self.config.poll);
                }
            }
        }
    }

    fn attempt(&self, job: Job) {
        let Some(handler) = self.registry.get(&job.kind) else {
            return;
        };
        let started = Instant::now();
        let latency = job.started.unwrap_or(job.run_at) - job.run_at;
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| handler.run(&job)));
        let outcome = match result {
            Ok(Ok(value)) => Outcome::Done(value),
            Ok(Err(e)) if e.permanent || job.attempts >= job.max_attempts => Outcome::Dead(e.message),
            Ok(Err(e)) => Outcome::Retry {
                at: now_ms() + backoff(&self.config, job.attempts).as_millis() as i64,
                error: e.message,
            },
            Err(_) => Outcome::Dead("the job's handler panicked".into()),
        };
        match &outcome {
            Outcome::Done(_) => tracing::debug!(id = job.id, kind = %job.kind, "job done"),
            Outcome::Retry { error, .. } => {
                tracing::warn!(id = job.id, kind = %job.kind, attempt = job.attempts, error = %error, "job failed; will retry")
            }
            Outcome::Dead(error) => tracing::error!(id = job.id, kind = %job.kind, error = %error, "job dead"),
        }
        self.metrics.record(&job.kind, &outcome, latency, started.elapsed());
        if let Err(e) = self.store.finish(job.id, job.attempts, now_ms(), outcome) {
            // The lease runs out and the job is run again: handlers are idempotent.
            tracing::error!(id = job.id, error = %e, "recording a job's outcome failed");
        }
    }
}

/// The pause after failed attempt `attempt` (1-based): doubling from the
/// configured base, capped, with a fifth of jitter so that jobs failing
/// together (a remote API down) do not all come back at the same instant.
pub fn backoff(config: &Config, attempt: u32) -> Duration {
    let doubling = 2u32.saturating_pow(attempt.saturating_sub(1).min(20));
    let base = config.backoff.saturating_mul(doubling).min(config.max_backoff);
    let jitter = rand::rng().random_range(0.8..=1.2);
    base.mul_f64(jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_per_attempt_up_to_the_cap() {
        let c = Config {
            backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(60),
            ..Config::default()
        };
        let secs = |a| backoff(&c, a).as_secs_f64();
        assert!((1.6..=2.4).contains(&secs(1)));
        assert!((3.2..=4.8).contains(&secs(2)));
        assert!((6.4..=9.6).contains(&secs(3)));
        assert!((48.0..=72.0).contains(&secs(30)));
    }
}
