//! The job queue on Redis, for a scale-out installation that runs its
//! queue there: every queue operation is one Lua script, so it is atomic
//! on the server (two nodes never claim the same job; a due schedule is
//! fired by the one caller that still sees its due time, so it runs once
//! per due time, not once per node). The rules are the embedded queue's,
//! checked by the same contract suite (`cairn_core::testkit::jobs`).
//!
//! The database keeps what must commit with a change: jobs a write batch
//! carries and the positions of outbox consumers (moved together with the
//! jobs they enqueue). Those jobs wait in the database's own queue until a
//! claim (or a look at the queue) hands them over here: added to Redis,
//! marked there by their database id, then forgotten by the database, so a
//! hand-over repeated after a crash adds nothing twice.
//!
//! Keys start with a configurable prefix; the scripts name keys they
//! compute, so this runs on one Redis server (or a primary with replicas),
//! not on Redis Cluster.

mod keys;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use cairn_core::jobs::{
    DatabaseJobs, Job, JobFilter, JobState, JobStore, NewJob, Outcome, Priority, QueueCount, Schedule,
};
use cairn_core::{CoreError, CoreResult, StorageError, StorageKind};
use redis::{Commands, Script};
use serde_json::Value;

use keys::{Fields, job_of, schedule_of};

/// Jobs handed over from the database at a time.
const RELAY_BATCH: usize = 100;
/// Finished jobs removed per script run while pruning.
const PRUNE_CHUNK: usize = 1_000;
/// Longest wait for Redis to answer.
const TIMEOUT: Duration = Duration::from_secs(5);

/// A Redis failure as the core's storage error: a server that does not
/// answer in time is busy (worth a retry), anything else is a failure.
fn redis_error(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> CoreError {
    let source = e.into();
    let busy = source
        .downcast_ref::<redis::RedisError>()
        .is_some_and(|e| e.is_timeout() || e.is_connection_refusal() || e.is_connection_dropped() || e.is_io_error())
        || source.is::<r2d2::Error>();
    let kind = if busy { StorageKind::Busy } else { StorageKind::Other };
    CoreError::Storage(StorageError::new(kind, source))
}

/// The operations' scripts, each prefixed with the shared helpers.
struct Scripts {
    enqueue: Script,
    claim: Script,
    finish: Script,
    admin: Script,
    schedule: Script,
    sweep: Script,
}

impl Scripts {
    fn new() -> Self {
        let with_prelude = |body: &str| Script::new(&format!("{}\n{body}", include_str!("lua/prelude.lua")));
        Self {
            enqueue: with_prelude(include_str!("lua/enqueue.lua")),
            claim: with_prelude(include_str!("lua/claim.lua")),
            finish: with_prelude(include_str!("lua/finish.lua")),
            admin: with_prelude(include_str!("lua/admin.lua")),
            schedule: with_prelude(include_str!("lua/schedule.lua")),
            sweep: with_prelude(include_str!("lua/sweep.lua")),
        }
    }
}

/// Sets the answer timeouts of each pooled connection.
#[derive(Debug)]
struct Timeouts;

impl r2d2::CustomizeConnection<redis::Connection, redis::RedisError> for Timeouts {
    fn on_acquire(&self, conn: &mut redis::Connection) -> Result<(), redis::RedisError> {
        conn.set_read_timeout(Some(TIMEOUT))?;
        conn.set_write_timeout(Some(TIMEOUT))
    }
}

/// The job queue on one Redis server, with the database's queue behind it.
pub struct RedisJobs {
    pool: r2d2::Pool<redis::Client>,
    prefix: String,
    db: Arc<dyn DatabaseJobs>,
    scripts: Scripts,
}

impl RedisJobs {
    /// Connects to `url` (`redis://host:6379/0`, `rediss://` for TLS); keys
    /// start with `prefix` (several installations may share a server).
    /// `db` is the database's queue, for what commits with changes.
    pub fn open(url: &str, prefix: &str, db: Arc<dyn DatabaseJobs>) -> CoreResult<Self> {
        let client = redis::Client::open(url).map_err(redis_error)?;
        let pool = r2d2::Pool::builder()
            .max_size(16)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(10))
            .connection_customizer(Box::new(Timeouts))
            .build(client)
            .map_err(redis_error)?;
        Ok(Self {
            pool,
            prefix: prefix.to_string(),
            db,
            scripts: Scripts::new(),
        })
    }

    fn conn(&self) -> CoreResult<r2d2::PooledConnection<redis::Client>> {
        self.pool.get().map_err(redis_error)
    }

    fn key(&self, rest: &str) -> String {
        format!("{}{rest}", self.prefix)
    }

    /// Adds `jobs` of `site`; `relay` pairs each with its id in the
    /// database when it is handed over from there.
    fn add(&self, site: &str, jobs: &[(&NewJob, Option<i64>)], now: i64) -> CoreResult<()> {
        if jobs.is_empty() {
            return Ok(());
        }
        let mut call = self.scripts.enqueue.prepare_invoke();
        call.arg(&self.prefix).arg(site).arg(now).arg(jobs.len());
        for (j, relay) in jobs {
            call.arg(&j.kind)
                .arg(j.priority as i64)
                .arg(j.args.to_string())
                .arg(j.max_attempts)
                .arg(j.run_at.unwrap_or(now))
                .arg(j.dedupe.as_deref().unwrap_or_default())
                .arg(relay.map(|id| id.to_string()).unwrap_or_default());
        }
        call.invoke::<i64>(&mut *self.conn()?).map_err(redis_error)?;
        Ok(())
    }

    /// Hands every job waiting in the database over to Redis: added here
    /// (each marked with its database id, so adding it again does nothing),
    /// then forgotten there. A hand-over cut short between the two steps is
    /// repeated by the next one.
    fn relay(&self, now: i64) -> CoreResult<()> {
        loop {
            let waiting = self.db.waiting(RELAY_BATCH)?;
            if waiting.is_empty() {
                return Ok(());
            }
            for job in &waiting {
                let new = NewJob {
                    kind: job.kind.clone(),
                    args: job.args.clone(),
                    priority: job.priority,
                    run_at: Some(job.run_at),
                    max_attempts: job.max_attempts,
                    dedupe: job.dedupe.clone(),
                };
                self.add(&job.site, &[(&new, Some(job.id))], now)?;
            }
            let ids: Vec<i64> = waiting.iter().map(|j| j.id).collect();
            self.db.forget(&ids)?;
            if waiting.len() < RELAY_BATCH {
                return Ok(());
            }
        }
    }

    /// The ids of a site's jobs, newest first, with the fields to filter on.
    fn site_jobs(&self, site: &str, fields: &[&str]) -> CoreResult<Vec<(i64, Vec<Option<String>>)>> {
        let mut conn = self.conn()?;
        let ids: Vec<String> = conn
            .zrevrange(self.key(&format!("site:{site}")), 0, -1)
            .map_err(redis_error)?;
        let ids: Vec<i64> = ids.iter().filter_map(|m| m.parse().ok()).collect();
        if ids.is_empty() {
            // An empty pipeline answers nothing a list can be read from.
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for id in &ids {
            pipe.cmd("HMGET").arg(self.key(&format!("job:{id}"))).arg(fields);
        }
        let rows: Vec<Vec<Option<String>>> = pipe.query(&mut *conn).map_err(redis_error)?;
        Ok(ids.into_iter().zip(rows).collect())
    }

    fn load(&self, ids: &[i64]) -> CoreResult<Vec<Job>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for id in ids {
            pipe.hgetall(self.key(&format!("job:{id}")));
        }
        let all: Vec<Fields> = pipe.query(&mut *self.conn()?).map_err(redis_error)?;
        Ok(ids.iter().zip(all).filter_map(|(id, f)| job_of(*id, &f)).collect())
    }

    fn admin(&self, action: &str, site: &str, id: i64, value: &str) -> CoreResult<bool> {
        let n: i64 = self
            .scripts
            .admin
            .prepare_invoke()
            .arg(&self.prefix)
            .arg(action)
            .arg(site)
            .arg(id)
            .arg(value)
            .invoke(&mut *self.conn()?)
            .map_err(redis_error)?;
        Ok(n == 1)
    }
}

impl JobStore for RedisJobs {
    fn enqueue(&self, site: &str, jobs: &[NewJob]) -> CoreResult<()> {
        let jobs: Vec<_> = jobs.iter().map(|j| (j, None)).collect();
        self.add(site, &jobs, cairn_core::jobs::now_ms())
    }

    fn claim(&self, kinds: &[&str], now: i64, lease_until: i64) -> CoreResult<Option<Job>> {
        self.relay(now)?;
        let mut call = self.scripts.claim.prepare_invoke();
        call.arg(&self.prefix).arg(now).arg(lease_until);
        for kind in kinds {
            call.arg(*kind);
        }
        let fields: Option<Vec<String>> = call.invoke(&mut *self.conn()?).map_err(redis_error)?;
        let Some(flat) = fields else { return Ok(None) };
        let fields: Fields = flat.chunks(2).map(|p| (p[0].clone(), p[1].clone())).collect();
        let id = fields.get("id").and_then(|v| v.parse().ok()).unwrap_or_default();
        Ok(job_of(id, &fields))
    }

    fn finish(&self, id: i64, attempt: u32, now: i64, outcome: Outcome) -> CoreResult<()> {
        let (name, value, error) = match outcome {
            Outcome::Done(result) => ("done", result.to_string(), String::new()),
            Outcome::Retry { at, error } => ("retry", at.to_string(), error),
            Outcome::Dead(error) => ("dead", String::new(), error),
        };
        self.scripts
            .finish
            .prepare_invoke()
            .arg(&self.prefix)
            .arg(id)
            .arg(attempt)
            .arg(now)
            .arg(name)
            .arg(value)
            .arg(error)
            .invoke::<i64>(&mut *self.conn()?)
            .map_err(redis_error)?;
        Ok(())
    }

    fn next_due(&self, kinds: &[&str]) -> CoreResult<Option<i64>> {
        if kinds.is_empty() {
            return Ok(None);
        }
        let mut pipe = redis::pipe();
        for kind in kinds {
            for p in Priority::ALL {
                pipe.cmd("ZRANGE")
                    .arg(self.key(&format!("q:{kind}:{}", p as i64)))
                    .arg(0)
                    .arg(0)
                    .arg("WITHSCORES");
            }
        }
        let firsts: Vec<Vec<(String, f64)>> = pipe.query(&mut *self.conn()?).map_err(redis_error)?;
        let here = firsts.iter().flatten().map(|(_, score)| *score as i64).min();
        // Jobs a write committed wait in the database until handed over.
        let there = self.db.next_due(kinds)?;
        Ok(here.into_iter().chain(there).min())
    }

    fn job(&self, site: &str, id: i64) -> CoreResult<Option<Job>> {
        Ok(self.load(&[id])?.into_iter().find(|j| j.site == site))
    }

    fn jobs(&self, site: &str, f: &JobFilter) -> CoreResult<(Vec<Job>, usize)> {
        // What a write just committed is listed too, scheduled or not.
        self.relay(cairn_core::jobs::now_ms())?;
        let matching: Vec<i64> = self
            .site_jobs(site, &["state", "kind", "priority"])?
            .into_iter()
            .filter(|(_, v)| {
                f.state.is_none_or(|s| v[0].as_deref() == Some(s.name()))
                    && f.kind.as_ref().is_none_or(|k| v[1].as_ref() == Some(k))
                    && f.priority
                        .is_none_or(|p| v[2].as_deref() == Some((p as i64).to_string().as_str()))
            })
            .map(|(id, _)| id)
            .collect();
        let page: Vec<i64> = matching.iter().skip(f.start).take(f.limit).copied().collect();
        Ok((self.load(&page)?, matching.len()))
    }

    fn counts(&self, site: &str, now: i64) -> CoreResult<Vec<QueueCount>> {
        self.relay(now)?;
        let mut groups: HashMap<(Priority, JobState), (u64, u64)> = HashMap::new();
        for (_, v) in self.site_jobs(site, &["priority", "state", "run_at"])? {
            let priority = Priority::from_rank(v[0].as_deref().and_then(|p| p.parse().ok()).unwrap_or(1));
            let Some(state) = v[1].as_deref().and_then(JobState::parse) else {
                continue;
            };
            let later = state == JobState::Queued
                && v[2]
                    .as_deref()
                    .and_then(|r| r.parse::<i64>().ok())
                    .is_some_and(|r| r > now);
            let entry = groups.entry((priority, state)).or_default();
            entry.0 += 1;
            entry.1 += u64::from(later);
        }
        Ok(groups
            .into_iter()
            .map(|((priority, state), (count, waiting))| QueueCount {
                priority,
                state,
                waiting,
                count,
            })
            .collect())
    }

    fn cancel(&self, site: &str, id: i64, now: i64) -> CoreResult<bool> {
        self.admin("cancel", site, id, &now.to_string())
    }

    fn retry(&self, site: &str, id: i64, now: i64) -> CoreResult<bool> {
        self.admin("retry", site, id, &now.to_string())
    }

    fn put_schedule(&self, s: &Schedule) -> CoreResult<()> {
        self.scripts
            .schedule
            .prepare_invoke()
            .arg(&self.prefix)
            .arg("put")
            .arg(&s.site)
            .arg(&s.name)
            .arg(&s.cron)
            .arg(&s.kind)
            .arg(s.args.to_string())
            .arg(s.priority as i64)
            .arg(s.next_run)
            .invoke::<i64>(&mut *self.conn()?)
            .map_err(redis_error)?;
        Ok(())
    }

    fn schedules(&self, site: &str) -> CoreResult<Vec<Schedule>> {
        let mut conn = self.conn()?;
        let mut names: Vec<String> = conn
            .smembers(self.key(&format!("scheds:{site}")))
            .map_err(redis_error)?;
        names.sort();
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for name in &names {
            pipe.hgetall(self.key(&format!("sched:{site}:{name}")));
        }
        let all: Vec<Fields> = pipe.query(&mut *conn).map_err(redis_error)?;
        Ok(all.iter().filter_map(schedule_of).collect())
    }

    fn fire_schedules(&self, now: i64, next: &dyn Fn(&Schedule) -> Option<i64>) -> CoreResult<usize> {
        let mut conn = self.conn()?;
        let due: Vec<String> = conn.zrangebyscore(self.key("due"), "-inf", now).map_err(redis_error)?;
        let mut fired = 0;
        for member in due {
            let Some((site, name)) = member.split_once('\n') else {
                continue;
            };
            let fields: Fields = conn
                .hgetall(self.key(&format!("sched:{site}:{name}")))
                .map_err(redis_error)?;
            let (Some(schedule), Some(seen)) = (schedule_of(&fields), fields.get("next_run")) else {
                continue;
            };
            let n: i64 = self
                .scripts
                .schedule
                .prepare_invoke()
                .arg(&self.prefix)
                .arg("fire")
                .arg(site)
                .arg(name)
                .arg(seen)
                .arg(now)
                .arg(next(&schedule).unwrap_or(i64::MAX))
                .invoke(&mut *conn)
                .map_err(redis_error)?;
            fired += n as usize;
        }
        Ok(fired)
    }

    fn absorb(&self, site: &str, kind: &str, into: i64, now: i64) -> CoreResult<Vec<Value>> {
        let taken: Vec<String> = self
            .scripts
            .sweep
            .prepare_invoke()
            .arg(&self.prefix)
            .arg("absorb")
            .arg(site)
            .arg(kind)
            .arg(into)
            .arg(now)
            .invoke(&mut *self.conn()?)
            .map_err(redis_error)?;
        Ok(taken.iter().filter_map(|a| serde_json::from_str(a).ok()).collect())
    }

    fn set_args(&self, id: i64, args: &Value) -> CoreResult<()> {
        self.admin("set_args", "", id, &args.to_string()).map(|_| ())
    }

    fn prune_jobs(&self, before: i64) -> CoreResult<u64> {
        let mut removed = 0;
        loop {
            let n: usize = self
                .scripts
                .sweep
                .prepare_invoke()
                .arg(&self.prefix)
                .arg("prune")
                .arg(before)
                .arg(PRUNE_CHUNK)
                .invoke(&mut *self.conn()?)
                .map_err(redis_error)?;
            removed += n as u64;
            if n < PRUNE_CHUNK {
                return Ok(removed);
            }
        }
    }

    fn consumer_position(&self, site: &str, consumer: &str) -> CoreResult<i64> {
        self.db.consumer_position(site, consumer)
    }

    fn advance(&self, site: &str, consumer: &str, from: i64, to: i64, jobs: &[NewJob]) -> CoreResult<bool> {
        // In the database, with the position: the jobs follow by hand-over.
        self.db.advance(site, consumer, from, to, jobs)
    }

    fn prune_outbox(&self, site: &str) -> CoreResult<u64> {
        self.db.prune_outbox(site)
    }
}
