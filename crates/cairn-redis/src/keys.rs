//! Jobs and schedules as Redis hashes: every field a string, absent when
//! unset; JSON values (arguments, results) stored as their text.

use std::collections::HashMap;

use cairn_core::jobs::{Job, JobState, Priority, Schedule};
use serde_json::Value;

/// A hash as HGETALL gives it.
pub(crate) type Fields = HashMap<String, String>;

fn int(f: &Fields, key: &str) -> Option<i64> {
    f.get(key).and_then(|v| v.parse().ok())
}

/// A JSON field; text that does not parse is kept as a string.
fn json(f: &Fields, key: &str) -> Option<Value> {
    f.get(key)
        .map(|v| serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.clone())))
}

/// The job stored as `f` under `id`; `None` when there is none.
pub(crate) fn job_of(id: i64, f: &Fields) -> Option<Job> {
    Some(Job {
        id,
        site: f.get("site")?.clone(),
        kind: f.get("kind")?.clone(),
        priority: Priority::from_rank(int(f, "priority").unwrap_or(1)),
        args: json(f, "args").unwrap_or(Value::Null),
        state: f
            .get("state")
            .and_then(|s| JobState::parse(s))
            .unwrap_or(JobState::Dead),
        attempts: int(f, "attempts").and_then(|n| u32::try_from(n).ok()).unwrap_or(0),
        max_attempts: int(f, "max_attempts").and_then(|n| u32::try_from(n).ok()).unwrap_or(1),
        run_at: int(f, "run_at").unwrap_or(0),
        created: int(f, "created").unwrap_or(0),
        started: int(f, "started"),
        finished: int(f, "finished"),
        error: f.get("error").cloned(),
        result: json(f, "result"),
        dedupe: f.get("dedupe").cloned(),
        schedule: f.get("schedule").cloned(),
        lease_until: int(f, "lease_until"),
    })
}

/// The schedule stored as `f`; `None` when there is none.
pub(crate) fn schedule_of(f: &Fields) -> Option<Schedule> {
    Some(Schedule {
        site: f.get("site")?.clone(),
        name: f.get("name")?.clone(),
        cron: f.get("cron")?.clone(),
        kind: f.get("kind")?.clone(),
        args: json(f, "args").unwrap_or(Value::Null),
        priority: Priority::from_rank(int(f, "priority").unwrap_or(1)),
        next_run: int(f, "next_run").unwrap_or(i64::MAX),
        last_run: int(f, "last_run"),
    })
}
