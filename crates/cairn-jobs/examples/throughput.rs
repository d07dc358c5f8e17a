//! Jobs per second through the embedded queue: enqueue N no-op jobs (one
//! transaction each, as a change enqueues its jobs), then let the workers
//! run them all. `cargo run --release -p cairn-jobs --example throughput -- [N] [WORKERS]`

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use cairn_core::jobs::{Job, JobMetrics, JobStore, NewJob};
use cairn_core::ports::ContentStore;
use cairn_jobs::{Bell, Config, Handler, JobError, Registry, Workers};
use serde_json::{Value, json};

struct Count(AtomicUsize);

impl Handler for Count {
    fn run(&self, _: &Job) -> Result<Value, JobError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(Value::Null)
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let workers: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2);
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(cairn_store::SqliteStore::open(&dir.path().join("db.sqlite")).expect("open"));
    store.migrate().expect("migrate");
    let started = Instant::now();
    for i in 0..n {
        store
            .enqueue("x", &[NewJob::new("noop", json!({ "n": i }))])
            .expect("enqueue");
    }
    let enqueue = started.elapsed().as_secs_f64();
    let count = Arc::new(Count(AtomicUsize::new(0)));
    let mut registry = Registry::default();
    registry.add_raw("noop", count.clone());
    let config = Config {
        workers,
        ..Config::default()
    };
    let started = Instant::now();
    let running = Workers::start(
        store,
        registry,
        config,
        Arc::new(Bell::default()),
        Arc::new(JobMetrics::default()),
    )
    .expect("workers");
    while count.0.load(Ordering::SeqCst) < n {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let run = started.elapsed().as_secs_f64();
    drop(running);
    println!(
        "{{\"jobs\": {n}, \"workers\": {workers}, \"enqueue_per_s\": {:.0}, \"complete_per_s\": {:.0}}}",
        n as f64 / enqueue,
        n as f64 / run
    );
}
