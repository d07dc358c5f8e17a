//! The embedded job queue: jobs and schedules in the site's database, so a
//! change and the jobs it causes commit in one transaction. The SQL is
//! written out here rather than built: claiming is backend-specific (a
//! PostgreSQL queue takes rows with `FOR UPDATE SKIP LOCKED`; SQLite has one
//! writer, and the claim is one `UPDATE ... RETURNING`).

use cairn_core::CoreResult;
use cairn_core::jobs::{
    CONSUMER_KEY_PREFIX, Job, JobFilter, JobState, NewJob, Outcome, Priority, QueueCount, Schedule, consumer_key,
};
use cairn_core::ports::OUTBOX_PRUNED_KEY;
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use serde_json::Value;

use super::{SqliteStore, db};

/// Tables and indexes of the queue (created by `migrate`).
pub const DDL: &str = "
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    site TEXT NOT NULL,
    kind TEXT NOT NULL,
    priority INTEGER NOT NULL,
    args TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_at INTEGER NOT NULL,
    created INTEGER NOT NULL,
    started INTEGER,
    finished INTEGER,
    error TEXT,
    result TEXT,
    dedupe TEXT,
    schedule TEXT,
    lease_until INTEGER
);
CREATE INDEX IF NOT EXISTS jobs_due ON jobs (state, priority, run_at);
CREATE INDEX IF NOT EXISTS jobs_by_site ON jobs (site, state, priority);
CREATE INDEX IF NOT EXISTS jobs_finished ON jobs (finished) WHERE finished IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS jobs_dedupe ON jobs (site, dedupe)
    WHERE dedupe IS NOT NULL AND state = 'queued';
CREATE TABLE IF NOT EXISTS job_schedules (
    site TEXT NOT NULL,
    name TEXT NOT NULL,
    cron TEXT NOT NULL,
    kind TEXT NOT NULL,
    args TEXT NOT NULL,
    priority INTEGER NOT NULL,
    next_run INTEGER NOT NULL,
    last_run INTEGER,
    PRIMARY KEY (site, name)
);
";

const COLUMNS: &str = "id, site, kind, priority, args, state, attempts, max_attempts, run_at, created, \
                       started, finished, error, result, dedupe, schedule, lease_until";

/// Outbox rows removed per transaction, so writers never wait long.
const PRUNE_CHUNK: i64 = 10_000;

fn job_of(r: &Row<'_>) -> rusqlite::Result<Job> {
    let json = |i: usize| -> rusqlite::Result<Option<Value>> {
        Ok(r.get::<_, Option<String>>(i)?
            .map(|s| serde_json::from_str(&s).unwrap_or(Value::String(s))))
    };
    Ok(Job {
        id: r.get(0)?,
        site: r.get(1)?,
        kind: r.get(2)?,
        priority: Priority::from_rank(r.get(3)?),
        args: json(4)?.unwrap_or(Value::Null),
        state: JobState::parse(&r.get::<_, String>(5)?).unwrap_or(JobState::Dead),
        attempts: r.get(6)?,
        max_attempts: r.get(7)?,
        run_at: r.get(8)?,
        created: r.get(9)?,
        started: r.get(10)?,
        finished: r.get(11)?,
        error: r.get(12)?,
        result: json(13)?,
        dedupe: r.get(14)?,
        schedule: r.get(15)?,
        lease_until: r.get(16)?,
    })
}

/// Inserts jobs in the caller's transaction; one whose `dedupe` key is
/// already waiting is dropped.
pub(crate) fn insert(c: &Connection, site: &str, jobs: &[NewJob], now: i64, schedule: Option<&str>) -> CoreResult<()> {
    let mut stmt = c
        .prepare_cached(
            "INSERT OR IGNORE INTO jobs (site, kind, priority, args, state, max_attempts, run_at, created, dedupe, schedule)
             VALUES (?1, ?2, ?3, ?4, 'queued', ?5, ?6, ?7, ?8, ?9)",
        )
        .map_err(db)?;
    for j in jobs {
        stmt.execute(params![
            site,
            j.kind,
            j.priority as i64,
            j.args.to_string(),
            j.max_attempts,
            j.run_at.unwrap_or(now),
            now,
            j.dedupe,
            schedule,
        ])
        .map_err(db)?;
    }
    Ok(())
}

fn kinds_json(kinds: &[&str]) -> String {
    serde_json::to_string(kinds).unwrap_or_else(|_| "[]".into())
}

impl SqliteStore {
    /// Runs `f` in a write transaction behind the store's writer queue.
    fn in_write<T>(&self, f: impl FnOnce(&rusqlite::Transaction<'_>) -> CoreResult<T>) -> CoreResult<T> {
        let _writer = self
            .write_lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut conn = self.conn()?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let out = f(&tx)?;
        tx.commit().map_err(db)?;
        Ok(out)
    }
}

impl cairn_core::jobs::JobStore for SqliteStore {
    fn enqueue(&self, site: &str, jobs: &[NewJob]) -> CoreResult<()> {
        let now = cairn_core::jobs::now_ms();
        self.in_write(|tx| insert(tx, site, jobs, now, None))
    }

    fn claim(&self, kinds: &[&str], now: i64, lease_until: i64) -> CoreResult<Option<Job>> {
        self.in_write(|tx| {
            // A job whose worker died is due again (or dead, out of attempts).
            // OR REPLACE: a twin queued since (same dedupe key) gives way.
            tx.prepare_cached(
                "UPDATE OR REPLACE jobs SET
                    state = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END,
                    finished = CASE WHEN attempts >= max_attempts THEN ?1 END,
                    error = 'the worker running it stopped before it ended', lease_until = NULL
                 WHERE state = 'running' AND lease_until < ?1",
            )
            .and_then(|mut s| s.execute([now]))
            .map_err(db)?;
            let sql = format!(
                "UPDATE jobs SET state = 'running', attempts = attempts + 1, started = ?1, lease_until = ?2
                 WHERE id = (SELECT id FROM jobs WHERE state = 'queued' AND run_at <= ?1
                             AND kind IN (SELECT value FROM json_each(?3))
                             ORDER BY priority, run_at, id LIMIT 1)
                 RETURNING {COLUMNS}"
            );
            tx.prepare_cached(&sql)
                .and_then(|mut s| {
                    s.query_row(params![now, lease_until, kinds_json(kinds)], job_of)
                        .optional()
                })
                .map_err(db)
        })
    }

    fn finish(&self, id: i64, attempt: u32, now: i64, outcome: Outcome) -> CoreResult<()> {
        self.in_write(|tx| {
            let n = match outcome {
                Outcome::Done(result) => tx.execute(
                    "UPDATE jobs SET state = 'done', finished = ?2, result = ?3, lease_until = NULL
                     WHERE id = ?1 AND state = 'running' AND attempts = ?4",
                    params![id, now, result.to_string(), attempt],
                ),
                Outcome::Retry { at, error } => tx.execute(
                    "UPDATE OR REPLACE jobs SET state = 'queued', run_at = ?2, error = ?3, lease_until = NULL
                     WHERE id = ?1 AND state = 'running' AND attempts = ?4",
                    params![id, at, error, attempt],
                ),
                Outcome::Dead(error) => tx.execute(
                    "UPDATE jobs SET state = 'dead', finished = ?2, error = ?3, lease_until = NULL
                     WHERE id = ?1 AND state = 'running' AND attempts = ?4",
                    params![id, now, error, attempt],
                ),
            };
            n.map(|_| ()).map_err(db)
        })
    }

    fn next_due(&self, kinds: &[&str]) -> CoreResult<Option<i64>> {
        self.conn()?
            .prepare_cached(
                "SELECT min(run_at) FROM jobs WHERE state = 'queued' AND kind IN (SELECT value FROM json_each(?1))",
            )
            .and_then(|mut s| s.query_row([kinds_json(kinds)], |r| r.get(0)))
            .map_err(db)
    }

    fn job(&self, site: &str, id: i64) -> CoreResult<Option<Job>> {
        self.conn()?
            .prepare_cached(&format!("SELECT {COLUMNS} FROM jobs WHERE site = ?1 AND id = ?2"))
            .and_then(|mut s| s.query_row(params![site, id], job_of).optional())
            .map_err(db)
    }

    fn jobs(&self, site: &str, f: &JobFilter) -> CoreResult<(Vec<Job>, usize)> {
        let conn = self.conn()?;
        let filter = "site = ?1 AND (?2 IS NULL OR state = ?2) AND (?3 IS NULL OR kind = ?3) \
                      AND (?4 IS NULL OR priority = ?4)";
        let args = params![
            site,
            f.state.map(JobState::name),
            f.kind,
            f.priority.map(|p| p as i64),
            f.limit as i64,
            f.start as i64
        ];
        let page = conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM jobs WHERE {filter} ORDER BY id DESC LIMIT ?5 OFFSET ?6"
            ))
            .and_then(|mut s| s.query_map(args, job_of)?.collect::<Result<Vec<_>, _>>())
            .map_err(db)?;
        let total: i64 = conn
            .prepare_cached(&format!("SELECT count(*) FROM jobs WHERE {filter}"))
            .and_then(|mut s| s.query_row(&args[..4], |r| r.get(0)))
            .map_err(db)?;
        Ok((page, total as usize))
    }

    fn counts(&self, site: &str, now: i64) -> CoreResult<Vec<QueueCount>> {
        self.conn()?
            .prepare_cached(
                "SELECT priority, state, count(*), sum(state = 'queued' AND run_at > ?2)
                 FROM jobs WHERE site = ?1 GROUP BY priority, state",
            )
            .and_then(|mut s| {
                s.query_map(params![site, now], |r| {
                    Ok(QueueCount {
                        priority: Priority::from_rank(r.get(0)?),
                        state: JobState::parse(&r.get::<_, String>(1)?).unwrap_or(JobState::Dead),
                        count: r.get::<_, i64>(2)? as u64,
                        waiting: r.get::<_, i64>(3)? as u64,
                    })
                })?
                .collect()
            })
            .map_err(db)
    }

    fn cancel(&self, site: &str, id: i64, now: i64) -> CoreResult<bool> {
        self.in_write(|tx| {
            tx.execute(
                "UPDATE jobs SET state = 'cancelled', finished = ?3, lease_until = NULL
                 WHERE site = ?1 AND id = ?2 AND state IN ('queued', 'running')",
                params![site, id, now],
            )
            .map(|n| n == 1)
            .map_err(db)
        })
    }

    fn retry(&self, site: &str, id: i64, now: i64) -> CoreResult<bool> {
        self.in_write(|tx| {
            tx.execute(
                "UPDATE OR REPLACE jobs SET state = 'queued', attempts = 0, run_at = ?3, finished = NULL,
                    lease_until = NULL
                 WHERE site = ?1 AND id = ?2 AND state IN ('dead', 'cancelled')",
                params![site, id, now],
            )
            .map(|n| n == 1)
            .map_err(db)
        })
    }

    fn put_schedule(&self, s: &Schedule) -> CoreResult<()> {
        self.in_write(|tx| {
            // The same cron keeps its next run: a restart must not skip a
            // run that came due while the server was down.
            tx.execute(
                "INSERT INTO job_schedules (site, name, cron, kind, args, priority, next_run)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (site, name) DO UPDATE SET
                    next_run = CASE WHEN cron = excluded.cron THEN next_run ELSE excluded.next_run END,
                    cron = excluded.cron, kind = excluded.kind, args = excluded.args,
                    priority = excluded.priority",
                params![
                    s.site,
                    s.name,
                    s.cron,
                    s.kind,
                    s.args.to_string(),
                    s.priority as i64,
                    s.next_run
                ],
            )
            .map(|_| ())
            .map_err(db)
        })
    }

    fn schedules(&self, site: &str) -> CoreResult<Vec<Schedule>> {
        self.conn()?
            .prepare_cached(
                "SELECT site, name, cron, kind, args, priority, next_run, last_run
                 FROM job_schedules WHERE site = ?1 ORDER BY name",
            )
            .and_then(|mut s| s.query_map([site], schedule_of)?.collect())
            .map_err(db)
    }

    fn fire_schedules(&self, now: i64, next: &dyn Fn(&Schedule) -> Option<i64>) -> CoreResult<usize> {
        self.in_write(|tx| {
            let due: Vec<Schedule> = tx
                .prepare_cached(
                    "SELECT site, name, cron, kind, args, priority, next_run, last_run
                     FROM job_schedules WHERE next_run <= ?1",
                )
                .and_then(|mut s| s.query_map([now], schedule_of)?.collect())
                .map_err(db)?;
            for s in &due {
                // One waiting run per schedule: a stalled queue does not pile up copies.
                let job = NewJob::new(&s.kind, s.args.clone())
                    .priority(s.priority)
                    .dedupe(format!("schedule:{}", s.name));
                insert(tx, &s.site, &[job], now, Some(&s.name))?;
                tx.execute(
                    "UPDATE job_schedules SET next_run = ?3, last_run = ?4 WHERE site = ?1 AND name = ?2",
                    params![s.site, s.name, next(s).unwrap_or(i64::MAX), now],
                )
                .map_err(db)?;
            }
            Ok(due.len())
        })
    }

    fn absorb(&self, site: &str, kind: &str, into: i64, now: i64) -> CoreResult<Vec<Value>> {
        self.in_write(|tx| {
            tx.prepare_cached(
                "UPDATE jobs SET state = 'done', finished = ?4, result = json_object('merged_into', ?3)
                 WHERE site = ?1 AND kind = ?2 AND state = 'queued' AND id != ?3
                 RETURNING args",
            )
            .and_then(|mut s| {
                s.query_map(params![site, kind, into, now], |r| r.get::<_, String>(0))?
                    .collect::<Result<Vec<_>, _>>()
            })
            .map(|args| args.iter().filter_map(|a| serde_json::from_str(a).ok()).collect())
            .map_err(db)
        })
    }

    fn set_args(&self, id: i64, args: &Value) -> CoreResult<()> {
        self.in_write(|tx| {
            tx.execute("UPDATE jobs SET args = ?2 WHERE id = ?1", params![id, args.to_string()])
                .map(|_| ())
                .map_err(db)
        })
    }

    fn prune_jobs(&self, before: i64) -> CoreResult<u64> {
        self.in_write(|tx| {
            tx.execute(
                "DELETE FROM jobs WHERE finished IS NOT NULL AND finished < ?1
                 AND state IN ('done', 'dead', 'cancelled')",
                [before],
            )
            .map(|n| n as u64)
            .map_err(db)
        })
    }

    fn consumer_position(&self, site: &str, consumer: &str) -> CoreResult<i64> {
        position(&*self.conn()?, site, consumer)
    }

    fn advance(&self, site: &str, consumer: &str, from: i64, to: i64, jobs: &[NewJob]) -> CoreResult<bool> {
        let now = cairn_core::jobs::now_ms();
        self.in_write(|tx| {
            if position(tx, site, consumer)? != from {
                return Ok(false);
            }
            insert(tx, site, jobs, now, None)?;
            cairn_sql::writes::put_setting(&super::sql::Sql(tx), site, &consumer_key(consumer), &Value::from(to))?;
            Ok(true)
        })
    }

    fn prune_outbox(&self, site: &str) -> CoreResult<u64> {
        let floor: Option<i64> = self
            .conn()?
            .query_row(
                "SELECT min(CAST(value AS INTEGER)) FROM settings WHERE site = ?1 AND substr(key, 1, ?2) = ?3",
                params![site, CONSUMER_KEY_PREFIX.len() as i64, CONSUMER_KEY_PREFIX],
                |r| r.get(0),
            )
            .map_err(db)?;
        let Some(floor) = floor else { return Ok(0) };
        // Said before the changes go: an index behind it rebuilds.
        self.in_write(|tx| {
            let known = cairn_sql::writes::setting(&super::sql::Sql(tx), site, OUTBOX_PRUNED_KEY)?
                .and_then(|v| v.as_i64())
                .filter(|pruned| *pruned >= floor);
            if known.is_none() {
                cairn_sql::writes::put_setting(&super::sql::Sql(tx), site, OUTBOX_PRUNED_KEY, &Value::from(floor))?;
            }
            Ok(())
        })?;
        let mut removed = 0;
        loop {
            let n = self.in_write(|tx| {
                tx.execute(
                    "DELETE FROM outbox WHERE seq IN
                        (SELECT seq FROM outbox WHERE site = ?1 AND seq <= ?2 ORDER BY seq LIMIT ?3)",
                    params![site, floor, PRUNE_CHUNK],
                )
                .map_err(db)
            })?;
            removed += n as u64;
            if (n as i64) < PRUNE_CHUNK {
                return Ok(removed);
            }
        }
    }
}

impl cairn_core::jobs::DatabaseJobs for SqliteStore {
    fn waiting(&self, limit: usize) -> CoreResult<Vec<Job>> {
        self.conn()?
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM jobs WHERE state = 'queued' ORDER BY id LIMIT ?1"
            ))
            .and_then(|mut s| s.query_map([limit as i64], job_of)?.collect())
            .map_err(db)
    }

    fn forget(&self, ids: &[i64]) -> CoreResult<()> {
        let ids = serde_json::to_string(ids).unwrap_or_else(|_| "[]".into());
        self.in_write(|tx| {
            tx.execute("DELETE FROM jobs WHERE id IN (SELECT value FROM json_each(?1))", [ids])
                .map(|_| ())
                .map_err(db)
        })
    }
}

fn position(c: &Connection, site: &str, consumer: &str) -> CoreResult<i64> {
    Ok(
        cairn_sql::writes::setting(&super::sql::Sql(c), site, &consumer_key(consumer))?
            .and_then(|v| v.as_i64())
            .unwrap_or(0),
    )
}

fn schedule_of(r: &Row<'_>) -> rusqlite::Result<Schedule> {
    Ok(Schedule {
        site: r.get(0)?,
        name: r.get(1)?,
        cron: r.get(2)?,
        kind: r.get(3)?,
        args: serde_json::from_str(&r.get::<_, String>(4)?).unwrap_or(Value::Null),
        priority: Priority::from_rank(r.get(5)?),
        next_run: r.get(6)?,
        last_run: r.get(7)?,
    })
}
