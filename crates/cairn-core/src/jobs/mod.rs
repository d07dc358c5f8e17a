//! Background jobs as the core sees them: what a job is, its states, and the
//! [`JobStore`] port a durable queue implements (the embedded one lives in
//! the site's SQLite database, so a job is enqueued in the same transaction
//! as the change that causes it). Running jobs is the `cairn-jobs` crate's
//! work; this module has no threads.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::CoreResult;

pub mod admin;
pub mod timers;

/// Which queue a job waits in; workers drain them in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    /// Work that must happen on time: scheduled publication, purges of it.
    Important = 0,
    /// The default: purges after edits, maintenance.
    Normal = 1,
    /// Deferrable heavy work.
    Low = 2,
}

impl Priority {
    pub const ALL: [Priority; 3] = [Priority::Important, Priority::Normal, Priority::Low];

    pub fn name(self) -> &'static str {
        match self {
            Priority::Important => "important",
            Priority::Normal => "normal",
            Priority::Low => "low",
        }
    }

    pub fn from_rank(rank: i64) -> Self {
        match rank {
            0 => Priority::Important,
            2 => Priority::Low,
            _ => Priority::Normal,
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// Where a job is in its life. A job waiting for its time (`run_at` ahead)
/// or for its next attempt is `Queued`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    Queued,
    Running,
    Done,
    /// Failed every attempt (or failed in a way a retry cannot mend); kept
    /// with its error until an administrator retries or it is pruned.
    Dead,
    Cancelled,
}

impl JobState {
    pub const ALL: [JobState; 5] = [
        JobState::Queued,
        JobState::Running,
        JobState::Done,
        JobState::Dead,
        JobState::Cancelled,
    ];

    pub fn name(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Dead => "dead",
            JobState::Cancelled => "cancelled",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// A job to enqueue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    /// The job type; a worker runs it with the handler registered for it.
    pub kind: String,
    pub args: Value,
    pub priority: Priority,
    /// Not before this time (Unix milliseconds); `None` is now.
    pub run_at: Option<i64>,
    /// Attempts before the job is dead.
    pub max_attempts: u32,
    /// While a job with this key waits in the queue, enqueuing another with
    /// the same key does nothing: a burst of the same work runs once.
    pub dedupe: Option<String>,
}

impl NewJob {
    pub fn new(kind: impl Into<String>, args: Value) -> Self {
        Self {
            kind: kind.into(),
            args,
            priority: Priority::Normal,
            run_at: None,
            max_attempts: 5,
            dedupe: None,
        }
    }

    pub fn priority(mut self, p: Priority) -> Self {
        self.priority = p;
        self
    }

    pub fn at(mut self, unix_ms: i64) -> Self {
        self.run_at = Some(unix_ms);
        self
    }

    pub fn attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    pub fn dedupe(mut self, key: impl Into<String>) -> Self {
        self.dedupe = Some(key.into());
        self
    }
}

/// A stored job. Times are Unix milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Job {
    pub id: i64,
    pub site: String,
    pub kind: String,
    pub priority: Priority,
    pub args: Value,
    pub state: JobState,
    pub attempts: u32,
    pub max_attempts: u32,
    pub run_at: i64,
    pub created: i64,
    pub started: Option<i64>,
    pub finished: Option<i64>,
    /// The last attempt's error (kept when a later attempt succeeds).
    pub error: Option<String>,
    pub result: Option<Value>,
    pub dedupe: Option<String>,
    /// The schedule that enqueued it.
    pub schedule: Option<String>,
    /// A running job whose worker holds it until then; past it (the worker
    /// died), the job is queued again.
    pub lease_until: Option<i64>,
}

/// How an attempt ended, as a worker reports it.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Done(Value),
    /// Try again at `at` (Unix ms), keeping `error`.
    Retry {
        at: i64,
        error: String,
    },
    Dead(String),
}

/// Which jobs to list.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    pub state: Option<JobState>,
    pub kind: Option<String>,
    pub priority: Option<Priority>,
    pub start: usize,
    pub limit: usize,
}

/// A recurring job: `cron` (with seconds) says when, in UTC.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Schedule {
    pub site: String,
    pub name: String,
    pub cron: String,
    pub kind: String,
    pub args: Value,
    pub priority: Priority,
    pub next_run: i64,
    pub last_run: Option<i64>,
}

/// Jobs per queue and state, for the dashboard and metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueCount {
    pub priority: Priority,
    pub state: JobState,
    /// Of the queued ones: how many wait for a later time (scheduled or
    /// backing off before a retry); zero for other states.
    pub waiting: u64,
    pub count: u64,
}

/// A durable job queue. Every call is atomic.
pub trait JobStore: Send + Sync {
    /// Enqueues jobs (on their own; a write batch carries the jobs of a change).
    fn enqueue(&self, site: &str, jobs: &[NewJob]) -> CoreResult<()>;
    /// Takes the next due job of one of `kinds` (any site), most important
    /// queue first, and holds it until `lease_until`. Jobs whose lease ran
    /// out are taken again first.
    fn claim(&self, kinds: &[&str], now: i64, lease_until: i64) -> CoreResult<Option<Job>>;
    /// Records how an attempt of a claimed job ended: `attempt` is the
    /// job's `attempts` as its claim gave it, so a worker whose lease ran
    /// out (the job claimed again, elsewhere) changes nothing when it ends
    /// late. A job cancelled while it ran stays cancelled.
    fn finish(&self, id: i64, attempt: u32, now: i64, outcome: Outcome) -> CoreResult<()>;
    /// Earliest `run_at` of a queued job of `kinds`, to sleep until then.
    fn next_due(&self, kinds: &[&str]) -> CoreResult<Option<i64>>;
    fn job(&self, site: &str, id: i64) -> CoreResult<Option<Job>>;
    /// Newest first, one page, and the total.
    fn jobs(&self, site: &str, filter: &JobFilter) -> CoreResult<(Vec<Job>, usize)>;
    fn counts(&self, site: &str, now: i64) -> CoreResult<Vec<QueueCount>>;
    /// Cancels a queued or running job; false when it was in another state
    /// (or missing).
    fn cancel(&self, site: &str, id: i64, now: i64) -> CoreResult<bool>;
    /// Queues a dead or cancelled job again, with a fresh set of attempts.
    fn retry(&self, site: &str, id: i64, now: i64) -> CoreResult<bool>;
    /// Creates or replaces a schedule (keeping its `last_run`).
    fn put_schedule(&self, schedule: &Schedule) -> CoreResult<()>;
    fn schedules(&self, site: &str) -> CoreResult<Vec<Schedule>>;
    /// Every schedule due at `now` (all sites): enqueues its job and sets its
    /// next run to `next(schedule)`, each in one transaction. Returns how
    /// many fired.
    fn fire_schedules(&self, now: i64, next: &dyn Fn(&Schedule) -> Option<i64>) -> CoreResult<usize>;
    /// Takes over the queued jobs of `kind` of a site (due or not) into the
    /// running job `into`: they are marked done (merged) and their
    /// arguments returned, so one run does the work of a burst.
    fn absorb(&self, site: &str, kind: &str, into: i64, now: i64) -> CoreResult<Vec<Value>>;
    /// Replaces a job's arguments (a merged job keeps what it took over
    /// for its next attempt).
    fn set_args(&self, id: i64, args: &Value) -> CoreResult<()>;
    /// Removes finished jobs (done, dead, cancelled) that ended before `before`.
    fn prune_jobs(&self, before: i64) -> CoreResult<u64>;
    /// An outbox consumer's saved position (0 when it never ran).
    fn consumer_position(&self, site: &str, consumer: &str) -> CoreResult<i64>;
    /// Atomically: enqueues `jobs` and moves `consumer` from `from` to `to`.
    /// False (and nothing done) when its position is no longer `from`:
    /// another process consumed the same entries.
    fn advance(&self, site: &str, consumer: &str, from: i64, to: i64, jobs: &[NewJob]) -> CoreResult<bool>;
    /// Removes the outbox entries every consumer has passed; returns how many.
    fn prune_outbox(&self, site: &str) -> CoreResult<u64>;
}

/// The job queue in the content database, which can hand its jobs to a
/// queue elsewhere (Redis): jobs a write batch carries commit here with the
/// change, then move. A hand-over adds them there first and forgets them
/// here after, so a crash in between repeats it; the other queue knows
/// what it already took.
pub trait DatabaseJobs: JobStore {
    /// Queued jobs of any kind, due or not, oldest first; at most `limit`.
    fn waiting(&self, limit: usize) -> CoreResult<Vec<Job>>;
    /// Removes jobs for good (another queue took them over).
    fn forget(&self, ids: &[i64]) -> CoreResult<()>;
}

/// Settings key under which an outbox consumer saves its position; the
/// outbox is pruned up to the lowest of them.
pub fn consumer_key(consumer: &str) -> String {
    format!("{CONSUMER_KEY_PREFIX}{consumer}")
}

/// Prefix of [`consumer_key`].
pub const CONSUMER_KEY_PREFIX: &str = "outbox.position.";

/// Now, in Unix milliseconds.
pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// A Unix-millisecond time as Plone writes dates (`2026-12-01T10:00:00+00:00`).
pub fn iso(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%S+00:00").to_string())
        .unwrap_or_default()
}

/// What the workers of this process did, per job type (Prometheus counters).
#[derive(Debug, Default)]
pub struct JobMetrics {
    kinds: std::sync::Mutex<std::collections::BTreeMap<String, KindMetrics>>,
}

/// Counters of one job type.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct KindMetrics {
    pub done: u64,
    /// Attempts that failed and were scheduled again.
    pub retried: u64,
    pub dead: u64,
    /// Seconds from when a job was due to when a worker started it, summed.
    pub latency_seconds: f64,
    /// Seconds attempts ran, summed.
    pub run_seconds: f64,
    pub attempts: u64,
}

impl JobMetrics {
    /// Records one attempt: how late it started and how long it ran.
    pub fn record(&self, kind: &str, outcome: &Outcome, latency_ms: i64, run: std::time::Duration) {
        let mut kinds = self.kinds.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let k = kinds.entry(kind.to_owned()).or_default();
        match outcome {
            Outcome::Done(_) => k.done += 1,
            Outcome::Retry { .. } => k.retried += 1,
            Outcome::Dead(_) => k.dead += 1,
        }
        k.attempts += 1;
        k.latency_seconds += latency_ms.max(0) as f64 / 1000.0;
        k.run_seconds += run.as_secs_f64();
    }

    pub fn snapshot(&self) -> Vec<(String, KindMetrics)> {
        let kinds = self.kinds.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        kinds.iter().map(|(k, m)| (k.clone(), m.clone())).collect()
    }
}
