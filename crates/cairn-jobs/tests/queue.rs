//! The embedded queue (SQLite) with the real workers: transactions shared
//! with content writes, the outbox, retries, dead jobs and recovery after a
//! crash. The queue's own rules (order, deduplication, leases,
//! cancellation, schedules) are the contract suite every backend runs
//! (`cairn_core::testkit::jobs`, in `cairn-store/tests/contract.rs`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cairn_core::jobs::{Job, JobMetrics, JobState, JobStore, NewJob, now_ms};
use cairn_core::ports::{ChangeEvent, ContentStore, WriteBatch, WriteOp};
use cairn_jobs::{Bell, Config, Handler, JobError, Registry, Workers};
use cairn_store::SqliteStore;
use serde_json::{Value, json};

fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStore::open(&dir.path().join("db.sqlite")).unwrap();
    s.migrate().unwrap();
    (dir, s)
}

fn claim(s: &SqliteStore, now: i64) -> Option<Job> {
    s.claim(&["t"], now, now + 60_000).unwrap()
}

#[test]
fn jobs_commit_and_roll_back_with_the_change_that_causes_them() {
    let (_d, s) = store();
    let site = "x";
    cairn_core::bootstrap::ensure_root(&s, site, "X", "en").unwrap();
    let root = s.by_path(site, &cairn_model::ContentPath::root()).unwrap().unwrap();
    let batch = |expected| WriteBatch {
        ops: vec![WriteOp::Update {
            content: Box::new(root.clone()),
            expected,
        }],
        events: vec![ChangeEvent {
            kind: "modified",
            uid: root.uid.clone(),
            path: root.path.clone(),
        }],
        jobs: vec![NewJob::new("t", json!(expected))],
    };
    assert!(s.write(site, batch(root.version + 7)).is_err(), "a stale write fails");
    assert!(claim(&s, now_ms()).is_none(), "its job is gone with it");
    s.write(site, batch(root.version)).unwrap();
    assert_eq!(claim(&s, now_ms()).unwrap().args, json!(root.version));
}

#[test]
fn the_outbox_is_pruned_up_to_the_slowest_consumer() {
    let (_d, s) = store();
    let site = "x";
    cairn_core::bootstrap::ensure_root(&s, site, "X", "en").unwrap();
    let root = s.by_path(site, &cairn_model::ContentPath::root()).unwrap().unwrap();
    for _ in 0..5 {
        let event = ChangeEvent {
            kind: "modified",
            uid: root.uid.clone(),
            path: root.path.clone(),
        };
        s.write(
            site,
            WriteBatch {
                events: vec![event],
                ..Default::default()
            },
        )
        .unwrap();
    }
    let head = s.outbox_head(site).unwrap();
    assert_eq!(s.prune_outbox(site).unwrap(), 0, "no consumer has said where it is");
    assert!(s.advance(site, "fast", 0, head, &[]).unwrap());
    assert!(s.advance(site, "slow", 0, head - 2, &[]).unwrap());
    assert!(
        !s.advance(site, "slow", 0, head, &[]).unwrap(),
        "moved on by another process"
    );
    let before = s.outbox_len(site).unwrap();
    assert_eq!(s.prune_outbox(site).unwrap(), before - 2);
    let left: Vec<i64> = s.outbox_after(site, 0, 10).unwrap().iter().map(|e| e.seq).collect();
    assert_eq!(left, [head - 1, head]);
}

/// Fails the first `failures` attempts of each job, then records its
/// argument once per success.
struct Flaky {
    failures: u32,
    seen: Mutex<HashMap<String, u32>>,
    done: Mutex<Vec<Value>>,
}

impl Handler for Flaky {
    fn run(&self, job: &Job) -> Result<Value, JobError> {
        if job.args == json!("panic") {
            panic!("boom");
        }
        let key = job.args.to_string();
        let mut seen = self.seen.lock().unwrap();
        let n = seen.entry(key).or_default();
        *n += 1;
        if job.args == json!("bad") {
            return Err(JobError::permanent("bad arguments"));
        }
        if *n <= self.failures {
            return Err(JobError::transient(format!("attempt {n} failed")));
        }
        self.done.lock().unwrap().push(job.args.clone());
        Ok(json!({"ok": n}))
    }
}

fn run_until(s: &Arc<SqliteStore>, handler: Arc<Flaky>, done: impl Fn() -> bool) -> Arc<JobMetrics> {
    let mut registry = Registry::default();
    registry.add_raw("t", handler);
    let metrics = Arc::new(JobMetrics::default());
    let config = Config {
        workers: 3,
        backoff: Duration::from_millis(10),
        poll: Duration::from_millis(20),
        ..Config::default()
    };
    let workers = Workers::start(s.clone(), registry, config, Arc::new(Bell::default()), metrics.clone()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "the workers did not finish");
        std::thread::sleep(Duration::from_millis(10));
    }
    drop(workers);
    metrics
}

#[test]
fn workers_retry_with_backoff_and_keep_dead_jobs_with_their_error() {
    let (_d, s) = store();
    let s = Arc::new(s);
    s.enqueue(
        "x",
        &[
            NewJob::new("t", json!("flaky")),
            NewJob::new("t", json!("bad")),
            NewJob::new("t", json!("panic")),
            NewJob::new("t", json!("hopeless")).attempts(2),
        ],
    )
    .unwrap();
    let flaky = Arc::new(Flaky {
        failures: 2,
        seen: Default::default(),
        done: Default::default(),
    });
    let settled = || {
        let f = cairn_core::jobs::JobFilter {
            state: Some(JobState::Queued),
            limit: 10,
            ..Default::default()
        };
        let running = cairn_core::jobs::JobFilter {
            state: Some(JobState::Running),
            ..f.clone()
        };
        s.jobs("x", &f).unwrap().1 == 0 && s.jobs("x", &running).unwrap().1 == 0
    };
    let metrics = run_until(&s, flaky.clone(), settled);
    let by_arg: HashMap<String, Job> = s
        .jobs(
            "x",
            &cairn_core::jobs::JobFilter {
                limit: 10,
                ..Default::default()
            },
        )
        .unwrap()
        .0
        .into_iter()
        .map(|j| (j.args.as_str().unwrap().to_owned(), j))
        .collect();
    let flaky_job = &by_arg["flaky"];
    assert_eq!((flaky_job.state, flaky_job.attempts), (JobState::Done, 3));
    assert_eq!(
        flaky_job.error.as_deref(),
        Some("attempt 2 failed"),
        "the last error is kept"
    );
    assert_eq!(flaky_job.result, Some(json!({"ok": 3})));
    assert_eq!((by_arg["bad"].state, by_arg["bad"].attempts), (JobState::Dead, 1));
    assert_eq!(by_arg["panic"].state, JobState::Dead);
    assert!(by_arg["panic"].error.as_deref().unwrap().contains("panicked"));
    let hopeless = &by_arg["hopeless"];
    assert_eq!((hopeless.state, hopeless.attempts), (JobState::Dead, 2));
    let counts: HashMap<String, _> = metrics.snapshot().into_iter().collect();
    assert_eq!((counts["t"].done, counts["t"].retried, counts["t"].dead), (1, 3, 3));
}

#[test]
fn after_a_crash_every_pending_job_runs_exactly_once() {
    let (dir, s) = store();
    let s = Arc::new(s);
    let jobs: Vec<NewJob> = (0..50).map(|n| NewJob::new("t", json!(n))).collect();
    s.enqueue("x", &jobs).unwrap();
    // A worker took three jobs, then its process died (the leases ran out).
    let now = now_ms();
    for _ in 0..3 {
        s.claim(&["t"], now, now + 1).unwrap().unwrap();
    }
    drop(s);
    std::thread::sleep(Duration::from_millis(5));
    // The restart opens the same database.
    let s = Arc::new(SqliteStore::open(&dir.path().join("db.sqlite")).unwrap());
    s.migrate().unwrap();
    let handler = Arc::new(Flaky {
        failures: 0,
        seen: Default::default(),
        done: Default::default(),
    });
    let h = handler.clone();
    run_until(&s, handler.clone(), move || h.done.lock().unwrap().len() >= 50);
    let mut done: Vec<i64> = handler
        .done
        .lock()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    done.sort();
    assert_eq!(done, (0..50).collect::<Vec<_>>(), "each job's work happened once");
}
