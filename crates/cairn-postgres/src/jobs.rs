//! The job queue on PostgreSQL, shared by every node: a job is claimed with
//! `FOR UPDATE SKIP LOCKED`, so two nodes never take the same one and never
//! wait on each other, and a due schedule is fired by the one node that
//! locks it, so it runs once per due time, not once per node. The rules are
//! the embedded queue's (`cairn-store`), checked by the same contract suite.

use cairn_core::CoreResult;
use cairn_core::jobs::{
    CONSUMER_KEY_PREFIX, Job, JobFilter, JobState, NewJob, Outcome, Priority, QueueCount, Schedule, consumer_key,
};
use cairn_core::ports::{FULL_TEXT_ALIVE_PREFIX, FULL_TEXT_GONE_AFTER_MS, FULL_TEXT_NODE_PREFIX, OUTBOX_PRUNED_KEY};
use r2d2_postgres::postgres::{GenericClient, Row, Transaction};
use serde_json::Value;

use crate::{PgStore, db};

const COLUMNS: &str = "id, site, kind, priority, args, state, attempts, max_attempts, run_at, created, \
                       started, finished, error, result, dedupe, schedule, lease_until";

/// Outbox rows removed per transaction, so writers never wait long.
const PRUNE_CHUNK: i64 = 10_000;

fn job_of(r: &Row) -> Job {
    Job {
        id: r.get(0),
        site: r.get(1),
        kind: r.get(2),
        priority: Priority::from_rank(i64::from(r.get::<_, i32>(3))),
        args: r.get(4),
        state: JobState::parse(r.get(5)).unwrap_or(JobState::Dead),
        attempts: u32::try_from(r.get::<_, i32>(6)).unwrap_or(0),
        max_attempts: u32::try_from(r.get::<_, i32>(7)).unwrap_or(0),
        run_at: r.get(8),
        created: r.get(9),
        started: r.get(10),
        finished: r.get(11),
        error: r.get(12),
        result: r.get(13),
        dedupe: r.get(14),
        schedule: r.get(15),
        lease_until: r.get(16),
    }
}

fn schedule_of(r: &Row) -> Schedule {
    Schedule {
        site: r.get(0),
        name: r.get(1),
        cron: r.get(2),
        kind: r.get(3),
        args: r.get(4),
        priority: Priority::from_rank(i64::from(r.get::<_, i32>(5))),
        next_run: r.get(6),
        last_run: r.get(7),
    }
}

/// Inserts jobs in the caller's transaction; one whose `dedupe` key is
/// already waiting is dropped.
pub(crate) fn insert(
    c: &mut impl GenericClient,
    site: &str,
    jobs: &[NewJob],
    now: i64,
    schedule: Option<&str>,
) -> CoreResult<()> {
    use r2d2_postgres::postgres::types::Type;
    // Typed parameters: one round trip per job, no prepare step.
    for j in jobs {
        let max_attempts = i32::try_from(j.max_attempts).unwrap_or(i32::MAX);
        let (priority, run_at) = (j.priority as i32, j.run_at.unwrap_or(now));
        c.execute_typed(
            "INSERT INTO jobs (site, kind, priority, args, state, max_attempts, run_at, created, dedupe, schedule)
             VALUES ($1, $2, $3, $4, 'queued', $5, $6, $7, $8, $9)
             ON CONFLICT (site, dedupe) WHERE dedupe IS NOT NULL AND state = 'queued' DO NOTHING",
            &[
                (&site, Type::TEXT),
                (&j.kind, Type::TEXT),
                (&priority, Type::INT4),
                (&j.args, Type::JSONB),
                (&max_attempts, Type::INT4),
                (&run_at, Type::INT8),
                (&now, Type::INT8),
                (&j.dedupe, Type::TEXT),
                (&schedule, Type::TEXT),
            ],
        )
        .map_err(db)?;
    }
    Ok(())
}

/// A queued twin (same key) of a job about to be queued again gives way,
/// as only one job per key may wait.
fn drop_twins(
    tx: &mut Transaction<'_>,
    condition: &str,
    params: &[&(dyn r2d2_postgres::postgres::types::ToSql + Sync)],
) -> CoreResult<()> {
    tx.execute(
        &format!(
            "DELETE FROM jobs t USING jobs j
             WHERE {condition} AND j.dedupe IS NOT NULL AND t.site = j.site AND t.dedupe = j.dedupe
               AND t.state = 'queued' AND t.id <> j.id"
        ),
        params,
    )
    .map_err(db)?;
    Ok(())
}

impl PgStore {
    fn in_tx<T>(&self, f: impl FnOnce(&mut Transaction<'_>) -> CoreResult<T>) -> CoreResult<T> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction().map_err(db)?;
        let out = f(&mut tx)?;
        tx.commit().map_err(db)?;
        Ok(out)
    }
}

fn kinds(kinds: &[&str]) -> Vec<String> {
    kinds.iter().map(|k| k.to_string()).collect()
}

impl cairn_core::jobs::JobStore for PgStore {
    fn enqueue(&self, site: &str, jobs: &[NewJob]) -> CoreResult<()> {
        let now = cairn_core::jobs::now_ms();
        self.in_tx(|tx| insert(tx, site, jobs, now, None))
    }

    fn claim(&self, kinds_: &[&str], now: i64, lease_until: i64) -> CoreResult<Option<Job>> {
        let kinds = kinds(kinds_);
        self.in_tx(|tx| {
            // A job whose worker died is due again (or dead, out of attempts).
            drop_twins(
                tx,
                "j.state = 'running' AND j.lease_until < $1 AND j.attempts < j.max_attempts",
                &[&now],
            )?;
            tx.execute(
                "UPDATE jobs SET
                    state = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END,
                    finished = CASE WHEN attempts >= max_attempts THEN $1 END,
                    error = 'the worker running it stopped before it ended', lease_until = NULL
                 WHERE state = 'running' AND lease_until < $1",
                &[&now],
            )
            .map_err(db)?;
            // Another node's claim holds its row: this one takes the next.
            let row = tx
                .query_opt(
                    &format!(
                        "UPDATE jobs SET state = 'running', attempts = attempts + 1, started = $1, lease_until = $2
                         WHERE id = (SELECT id FROM jobs WHERE state = 'queued' AND run_at <= $1
                                     AND kind = ANY($3) ORDER BY priority, run_at, id
                                     LIMIT 1 FOR UPDATE SKIP LOCKED)
                         RETURNING {COLUMNS}"
                    ),
                    &[&now, &lease_until, &kinds],
                )
                .map_err(db)?;
            Ok(row.as_ref().map(job_of))
        })
    }

    fn finish(&self, id: i64, attempt: u32, now: i64, outcome: Outcome) -> CoreResult<()> {
        let attempt = i32::try_from(attempt).unwrap_or(i32::MAX);
        self.in_tx(|tx| {
            match outcome {
                Outcome::Done(result) => tx.execute(
                    "UPDATE jobs SET state = 'done', finished = $2, result = $3, lease_until = NULL
                     WHERE id = $1 AND state = 'running' AND attempts = $4",
                    &[&id, &now, &result, &attempt],
                ),
                Outcome::Retry { at, error } => {
                    drop_twins(
                        tx,
                        "j.id = $1 AND j.state = 'running' AND j.attempts = $2",
                        &[&id, &attempt],
                    )?;
                    tx.execute(
                        "UPDATE jobs SET state = 'queued', run_at = $2, error = $3, lease_until = NULL
                         WHERE id = $1 AND state = 'running' AND attempts = $4",
                        &[&id, &at, &error, &attempt],
                    )
                }
                Outcome::Dead(error) => tx.execute(
                    "UPDATE jobs SET state = 'dead', finished = $2, error = $3, lease_until = NULL
                     WHERE id = $1 AND state = 'running' AND attempts = $4",
                    &[&id, &now, &error, &attempt],
                ),
            }
            .map_err(db)?;
            Ok(())
        })
    }

    fn next_due(&self, kinds_: &[&str]) -> CoreResult<Option<i64>> {
        let row = self
            .conn()?
            .query_one(
                "SELECT min(run_at) FROM jobs WHERE state = 'queued' AND kind = ANY($1)",
                &[&kinds(kinds_)],
            )
            .map_err(db)?;
        Ok(row.get(0))
    }

    fn job(&self, site: &str, id: i64) -> CoreResult<Option<Job>> {
        let row = self
            .conn()?
            .query_opt(
                &format!("SELECT {COLUMNS} FROM jobs WHERE site = $1 AND id = $2"),
                &[&site, &id],
            )
            .map_err(db)?;
        Ok(row.as_ref().map(job_of))
    }

    fn jobs(&self, site: &str, f: &JobFilter) -> CoreResult<(Vec<Job>, usize)> {
        let mut conn = self.conn()?;
        let filter = "site = $1 AND ($2::text IS NULL OR state = $2) AND ($3::text IS NULL OR kind = $3) \
                      AND ($4::integer IS NULL OR priority = $4)";
        let state = f.state.map(JobState::name);
        let priority = f.priority.map(|p| p as i32);
        let (limit, start) = (f.limit as i64, f.start as i64);
        let page = conn
            .query(
                &format!("SELECT {COLUMNS} FROM jobs WHERE {filter} ORDER BY id DESC LIMIT $5 OFFSET $6"),
                &[&site, &state, &f.kind, &priority, &limit, &start],
            )
            .map_err(db)?;
        let total: i64 = conn
            .query_one(
                &format!("SELECT count(*) FROM jobs WHERE {filter}"),
                &[&site, &state, &f.kind, &priority],
            )
            .map_err(db)?
            .get(0);
        Ok((page.iter().map(job_of).collect(), usize::try_from(total).unwrap_or(0)))
    }

    fn counts(&self, site: &str, now: i64) -> CoreResult<Vec<QueueCount>> {
        let rows = self
            .conn()?
            .query(
                "SELECT priority, state, count(*), count(*) FILTER (WHERE state = 'queued' AND run_at > $2)
                 FROM jobs WHERE site = $1 GROUP BY priority, state",
                &[&site, &now],
            )
            .map_err(db)?;
        Ok(rows
            .iter()
            .map(|r| QueueCount {
                priority: Priority::from_rank(i64::from(r.get::<_, i32>(0))),
                state: JobState::parse(r.get(1)).unwrap_or(JobState::Dead),
                count: u64::try_from(r.get::<_, i64>(2)).unwrap_or(0),
                waiting: u64::try_from(r.get::<_, i64>(3)).unwrap_or(0),
            })
            .collect())
    }

    fn cancel(&self, site: &str, id: i64, now: i64) -> CoreResult<bool> {
        self.in_tx(|tx| {
            let n = tx
                .execute(
                    "UPDATE jobs SET state = 'cancelled', finished = $3, lease_until = NULL
                     WHERE site = $1 AND id = $2 AND state IN ('queued', 'running')",
                    &[&site, &id, &now],
                )
                .map_err(db)?;
            Ok(n == 1)
        })
    }

    fn retry(&self, site: &str, id: i64, now: i64) -> CoreResult<bool> {
        self.in_tx(|tx| {
            drop_twins(
                tx,
                "j.site = $1 AND j.id = $2 AND j.state IN ('dead', 'cancelled')",
                &[&site, &id],
            )?;
            let n = tx
                .execute(
                    "UPDATE jobs SET state = 'queued', attempts = 0, run_at = $3, finished = NULL, lease_until = NULL
                     WHERE site = $1 AND id = $2 AND state IN ('dead', 'cancelled')",
                    &[&site, &id, &now],
                )
                .map_err(db)?;
            Ok(n == 1)
        })
    }

    fn put_schedule(&self, s: &Schedule) -> CoreResult<()> {
        self.in_tx(|tx| {
            // The same cron keeps its next run: a restart must not skip a
            // run that came due while the server was down.
            tx.execute(
                "INSERT INTO job_schedules (site, name, cron, kind, args, priority, next_run)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (site, name) DO UPDATE SET
                    next_run = CASE WHEN job_schedules.cron = EXCLUDED.cron
                                    THEN job_schedules.next_run ELSE EXCLUDED.next_run END,
                    cron = EXCLUDED.cron, kind = EXCLUDED.kind, args = EXCLUDED.args,
                    priority = EXCLUDED.priority",
                &[
                    &s.site,
                    &s.name,
                    &s.cron,
                    &s.kind,
                    &s.args,
                    &(s.priority as i32),
                    &s.next_run,
                ],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    fn schedules(&self, site: &str) -> CoreResult<Vec<Schedule>> {
        let rows = self
            .conn()?
            .query(
                "SELECT site, name, cron, kind, args, priority, next_run, last_run
                 FROM job_schedules WHERE site = $1 ORDER BY name",
                &[&site],
            )
            .map_err(db)?;
        Ok(rows.iter().map(schedule_of).collect())
    }

    fn fire_schedules(&self, now: i64, next: &dyn Fn(&Schedule) -> Option<i64>) -> CoreResult<usize> {
        self.in_tx(|tx| {
            // A schedule another node is firing is locked: skipped here, and
            // no longer due once that node commits.
            let due: Vec<Schedule> = tx
                .query(
                    "SELECT site, name, cron, kind, args, priority, next_run, last_run
                     FROM job_schedules WHERE next_run <= $1 FOR UPDATE SKIP LOCKED",
                    &[&now],
                )
                .map_err(db)?
                .iter()
                .map(schedule_of)
                .collect();
            for s in &due {
                // One waiting run per schedule: a stalled queue does not pile up copies.
                let job = NewJob::new(&s.kind, s.args.clone())
                    .priority(s.priority)
                    .dedupe(format!("schedule:{}", s.name));
                insert(tx, &s.site, &[job], now, Some(&s.name))?;
                tx.execute(
                    "UPDATE job_schedules SET next_run = $3, last_run = $4 WHERE site = $1 AND name = $2",
                    &[&s.site, &s.name, &next(s).unwrap_or(i64::MAX), &now],
                )
                .map_err(db)?;
            }
            Ok(due.len())
        })
    }

    fn absorb(&self, site: &str, kind: &str, into: i64, now: i64) -> CoreResult<Vec<Value>> {
        self.in_tx(|tx| {
            let rows = tx
                .query(
                    "UPDATE jobs SET state = 'done', finished = $4, result = jsonb_build_object('merged_into', $3::bigint)
                     WHERE site = $1 AND kind = $2 AND state = 'queued' AND id <> $3
                     RETURNING args",
                    &[&site, &kind, &into, &now],
                )
                .map_err(db)?;
            Ok(rows.iter().map(|r| r.get(0)).collect())
        })
    }

    fn set_args(&self, id: i64, args: &Value) -> CoreResult<()> {
        self.conn()?
            .execute("UPDATE jobs SET args = $2 WHERE id = $1", &[&id, args])
            .map_err(db)?;
        Ok(())
    }

    fn prune_jobs(&self, before: i64) -> CoreResult<u64> {
        self.conn()?
            .execute(
                "DELETE FROM jobs WHERE finished IS NOT NULL AND finished < $1
                 AND state IN ('done', 'dead', 'cancelled')",
                &[&before],
            )
            .map_err(db)
    }

    fn consumer_position(&self, site: &str, consumer: &str) -> CoreResult<i64> {
        position(&mut *self.conn()?, site, consumer)
    }

    fn advance(&self, site: &str, consumer: &str, from: i64, to: i64, jobs: &[NewJob]) -> CoreResult<bool> {
        let now = cairn_core::jobs::now_ms();
        self.in_tx(|tx| {
            // Two nodes advancing the same consumer take turns (the lock is
            // held until commit), so only one moves it from `from`.
            tx.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended($1 || '/' || $2, 0))",
                &[&site, &consumer],
            )
            .map_err(db)?;
            if position(tx, site, consumer)? != from {
                return Ok(false);
            }
            insert(tx, site, jobs, now, None)?;
            tx.execute(
                "INSERT INTO settings (site, key, value) VALUES ($1, $2, $3)
                 ON CONFLICT (site, key) DO UPDATE SET value = EXCLUDED.value",
                &[&site, &consumer_key(consumer), &Value::from(to)],
            )
            .map_err(db)?;
            Ok(true)
        })
    }

    fn prune_outbox(&self, site: &str) -> CoreResult<u64> {
        // Every consumer's position, but a node's search index position
        // only while the node says it is alive (a gone node rebuilds).
        let gone_before = cairn_core::jobs::now_ms() - FULL_TEXT_GONE_AFTER_MS;
        let floor: Option<i64> = self
            .conn()?
            .query_one(
                "SELECT min((s.value #>> '{}')::bigint) FROM settings s
                 WHERE s.site = $1 AND starts_with(s.key, $2)
                   AND NOT (starts_with(s.key, $3) AND coalesce((
                       SELECT (a.value #>> '{}')::bigint FROM settings a
                       WHERE a.site = s.site AND a.key = $4 || substr(s.key, length($3) + 1)), 0) < $5)",
                &[
                    &site,
                    &CONSUMER_KEY_PREFIX,
                    &FULL_TEXT_NODE_PREFIX,
                    &FULL_TEXT_ALIVE_PREFIX,
                    &gone_before,
                ],
            )
            .map_err(db)?
            .get(0);
        let Some(floor) = floor else { return Ok(0) };
        // Said before the changes go: an index behind it rebuilds.
        self.conn()?
            .execute(
                "INSERT INTO settings (site, key, value) VALUES ($1, $2, to_jsonb($3::bigint))
                 ON CONFLICT (site, key) DO UPDATE SET value = to_jsonb(GREATEST(
                     (settings.value #>> '{}')::bigint, $3::bigint))",
                &[&site, &OUTBOX_PRUNED_KEY, &floor],
            )
            .map_err(db)?;
        let mut removed = 0;
        loop {
            let n = self
                .conn()?
                .execute(
                    "DELETE FROM outbox WHERE seq IN
                        (SELECT seq FROM outbox WHERE site = $1 AND seq <= $2 ORDER BY seq LIMIT $3)",
                    &[&site, &floor, &PRUNE_CHUNK],
                )
                .map_err(db)?;
            removed += n;
            if (n as i64) < PRUNE_CHUNK {
                return Ok(removed);
            }
        }
    }
}

/// An outbox consumer's saved position (0 when it never ran).
impl cairn_core::jobs::DatabaseJobs for PgStore {
    fn waiting(&self, limit: usize) -> CoreResult<Vec<Job>> {
        Ok(self
            .conn()?
            .query(
                &format!("SELECT {COLUMNS} FROM jobs WHERE state = 'queued' ORDER BY id LIMIT $1"),
                &[&(limit as i64)],
            )
            .map_err(db)?
            .iter()
            .map(job_of)
            .collect())
    }

    fn forget(&self, ids: &[i64]) -> CoreResult<()> {
        self.conn()?
            .execute("DELETE FROM jobs WHERE id = ANY($1)", &[&ids])
            .map_err(db)?;
        Ok(())
    }
}

fn position(c: &mut impl GenericClient, site: &str, consumer: &str) -> CoreResult<i64> {
    let row = c
        .query_opt(
            "SELECT value FROM settings WHERE site = $1 AND key = $2",
            &[&site, &consumer_key(consumer)],
        )
        .map_err(db)?;
    Ok(row.and_then(|r| r.get::<_, Value>(0).as_i64()).unwrap_or(0))
}
