//! The Redis job queue against a real server: `CAIRN_TEST_REDIS` names it
//! (`.ci/run` starts one on loopback). Each test works under a key prefix
//! of its own, with a SQLite database behind the queue. Without the
//! variable the tests fail where `CAIRN_REQUIRE_REDIS=1` (CI) and are
//! skipped, loudly, elsewhere.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use cairn_core::CoreResult;
use cairn_core::jobs::{DatabaseJobs, Job, JobFilter, JobStore, NewJob, Outcome, Priority, QueueCount, Schedule};
use cairn_core::ports::{ContentStore, WriteBatch};
use cairn_redis::RedisJobs;
use cairn_store::SqliteStore;
use serde_json::{Value, json};

fn server() -> Option<String> {
    let Ok(url) = std::env::var("CAIRN_TEST_REDIS") else {
        let required = std::env::var("CAIRN_REQUIRE_REDIS").is_ok_and(|v| v == "1");
        assert!(!required, "CAIRN_TEST_REDIS is not set: CI must run the Redis tests");
        eprintln!("CAIRN_TEST_REDIS is not set: Redis tests skipped");
        return None;
    };
    Some(url)
}

fn prefix() -> String {
    format!("t{:016x}:", rand::random::<u64>())
}

fn database() -> (SqliteStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStore::open(&dir.path().join("t.sqlite")).unwrap();
    s.migrate().unwrap();
    (s, dir)
}

#[test]
fn the_queue_keeps_the_job_contract() {
    let Some(url) = server() else { return };
    let (db, _dir) = database();
    let jobs = RedisJobs::open(&url, &prefix(), Arc::new(db)).unwrap();
    cairn_core::testkit::jobs(&jobs);
}

#[test]
fn a_due_schedule_fires_once_however_many_nodes_wake() {
    let Some(url) = server() else { return };
    let (db, _dir) = database();
    let db: Arc<dyn DatabaseJobs> = Arc::new(db);
    let prefix = prefix();
    let nodes: Vec<RedisJobs> = (0..3)
        .map(|_| RedisJobs::open(&url, &prefix, db.clone()).unwrap())
        .collect();
    let now = cairn_core::jobs::now_ms();
    nodes[0]
        .put_schedule(&Schedule {
            site: "x".into(),
            name: "nightly".into(),
            cron: "0 0 2 * * *".into(),
            kind: "report".into(),
            args: json!({"full": true}),
            priority: Priority::Normal,
            next_run: now - 1,
            last_run: None,
        })
        .unwrap();
    for round in 0..3 {
        let at = now + round * 86_400_000;
        let fired: usize = std::thread::scope(|scope| {
            let handles: Vec<_> = nodes
                .iter()
                .map(|n| scope.spawn(move || n.fire_schedules(at, &|_| Some(at + 86_400_000)).unwrap()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(fired, 1, "round {round}: once, not once per node");
        let job = nodes[1]
            .claim(&["report"], at, at + 60_000)
            .unwrap()
            .expect("the run is queued");
        assert_eq!(
            (job.args, job.schedule.as_deref()),
            (json!({"full": true}), Some("nightly"))
        );
        nodes[1]
            .finish(job.id, job.attempts, at, Outcome::Done(json!(null)))
            .unwrap();
    }
}

/// The database's queue, made to fail once when it forgets jobs: a node
/// that stops between handing a job to Redis and recording it.
struct StopsOnce {
    db: SqliteStore,
    fail: AtomicBool,
}

impl JobStore for StopsOnce {
    fn enqueue(&self, site: &str, jobs: &[NewJob]) -> CoreResult<()> {
        self.db.enqueue(site, jobs)
    }
    fn claim(&self, kinds: &[&str], now: i64, lease_until: i64) -> CoreResult<Option<Job>> {
        self.db.claim(kinds, now, lease_until)
    }
    fn finish(&self, id: i64, attempt: u32, now: i64, outcome: Outcome) -> CoreResult<()> {
        self.db.finish(id, attempt, now, outcome)
    }
    fn next_due(&self, kinds: &[&str]) -> CoreResult<Option<i64>> {
        self.db.next_due(kinds)
    }
    fn job(&self, site: &str, id: i64) -> CoreResult<Option<Job>> {
        self.db.job(site, id)
    }
    fn jobs(&self, site: &str, filter: &JobFilter) -> CoreResult<(Vec<Job>, usize)> {
        self.db.jobs(site, filter)
    }
    fn counts(&self, site: &str, now: i64) -> CoreResult<Vec<QueueCount>> {
        self.db.counts(site, now)
    }
    fn cancel(&self, site: &str, id: i64, now: i64) -> CoreResult<bool> {
        self.db.cancel(site, id, now)
    }
    fn retry(&self, site: &str, id: i64, now: i64) -> CoreResult<bool> {
        self.db.retry(site, id, now)
    }
    fn put_schedule(&self, schedule: &Schedule) -> CoreResult<()> {
        self.db.put_schedule(schedule)
    }
    fn schedules(&self, site: &str) -> CoreResult<Vec<Schedule>> {
        self.db.schedules(site)
    }
    fn fire_schedules(&self, now: i64, next: &dyn Fn(&Schedule) -> Option<i64>) -> CoreResult<usize> {
        self.db.fire_schedules(now, next)
    }
    fn absorb(&self, site: &str, kind: &str, into: i64, now: i64) -> CoreResult<Vec<Value>> {
        self.db.absorb(site, kind, into, now)
    }
    fn set_args(&self, id: i64, args: &Value) -> CoreResult<()> {
        self.db.set_args(id, args)
    }
    fn prune_jobs(&self, before: i64) -> CoreResult<u64> {
        self.db.prune_jobs(before)
    }
    fn consumer_position(&self, site: &str, consumer: &str) -> CoreResult<i64> {
        self.db.consumer_position(site, consumer)
    }
    fn advance(&self, site: &str, consumer: &str, from: i64, to: i64, jobs: &[NewJob]) -> CoreResult<bool> {
        self.db.advance(site, consumer, from, to, jobs)
    }
    fn prune_outbox(&self, site: &str) -> CoreResult<u64> {
        self.db.prune_outbox(site)
    }
}

impl DatabaseJobs for StopsOnce {
    fn waiting(&self, limit: usize) -> CoreResult<Vec<Job>> {
        self.db.waiting(limit)
    }
    fn forget(&self, ids: &[i64]) -> CoreResult<()> {
        if self.fail.swap(false, Ordering::SeqCst) {
            return Err(cairn_core::CoreError::Internal("stopped".into()));
        }
        self.db.forget(ids)
    }
}

#[test]
fn a_job_a_write_commits_reaches_redis_once_even_when_the_hand_over_is_cut_short() {
    let Some(url) = server() else { return };
    let (db, _dir) = database();
    let database = Arc::new(StopsOnce {
        db: db.clone(),
        fail: AtomicBool::new(true),
    });
    let jobs = RedisJobs::open(&url, &prefix(), database.clone()).unwrap();
    // A change and its job commit together, in the database.
    let page = cairn_core::testkit::page("/mitteilung");
    let mut batch: WriteBatch = cairn_core::testkit::inserting(&page);
    batch
        .jobs
        .push(NewJob::new("mail", json!({"to": "amt@example.org"})).dedupe("mail:1"));
    db.write("x", batch).unwrap();
    let now = cairn_core::jobs::now_ms();
    // The first hand-over stops after Redis took the job, before the
    // database forgot it.
    assert!(jobs.claim(&["mail"], now, now + 60_000).is_err());
    assert_eq!(db.waiting(10).unwrap().len(), 1, "still in the database");
    // The next claim hands it over again: Redis knows it already.
    let job = jobs.claim(&["mail"], now, now + 60_000).unwrap().expect("the job");
    assert_eq!(
        (job.site.as_str(), job.args["to"].as_str()),
        ("x", Some("amt@example.org"))
    );
    assert!(jobs.claim(&["mail"], now, now + 60_000).unwrap().is_none(), "once");
    let all = JobFilter {
        limit: 10,
        ..Default::default()
    };
    assert_eq!(jobs.jobs("x", &all).unwrap().1, 1, "one job in Redis");
    assert!(db.waiting(10).unwrap().is_empty(), "forgotten by the database");
    assert_eq!(jobs.next_due(&["mail"]).unwrap(), None, "nothing waits anywhere");
    // A site without jobs or schedules has empty lists, not errors.
    assert_eq!(jobs.jobs("none", &all).unwrap(), (Vec::new(), 0));
    assert!(jobs.counts("none", now).unwrap().is_empty() && jobs.schedules("none").unwrap().is_empty());
    assert_eq!(jobs.next_due(&[]).unwrap(), None);
}
