//! `@jobs` on the site root: the background job dashboard for Site
//! Administrators and Managers. `GET @jobs` lists the queues with counts per
//! state, the schedules with their next run, and one page of jobs (filter by
//! `state`, `type` and `queue`); `GET @jobs/<id>` shows one job;
//! `POST @jobs/<id>/retry` and `POST @jobs/<id>/cancel` act on it.

use axum::http::{Method, StatusCode};
use axum::response::Response;
use cairn_core::jobs::{Job, JobFilter, JobState, Priority, admin, iso};
use cairn_model::ContentPath;
use serde_json::{Map, Value, json};

use super::json;
use crate::batch::{Batch, batching};
use crate::ctx::Ctx;
use crate::error::{ApiError, ApiResult};

/// Largest page of jobs.
const MAX_PAGE: usize = 1000;

pub fn handle(ctx: &Ctx, path: &ContentPath, method: &Method, args: &[String]) -> ApiResult<Response> {
    let base = format!("{}/@jobs", ctx.url(path));
    if !path.is_root() {
        return Err(ApiError::not_found(&base));
    }
    let id = |raw: &str| {
        raw.parse::<i64>()
            .map_err(|_| ApiError::not_found(&format!("{base}/{raw}")))
    };
    let job = match (method, args) {
        (&Method::GET, []) => return list(ctx, &base),
        (&Method::GET, [n]) => admin::job(&ctx.site, &ctx.who, id(n)?)?,
        (&Method::POST, [n, action]) if action == "retry" => admin::retry(&ctx.site, &ctx.who, id(n)?)?,
        (&Method::POST, [n, action]) if action == "cancel" => admin::cancel(&ctx.site, &ctx.who, id(n)?)?,
        (&Method::GET | &Method::POST, _) => return Err(ApiError::not_found(&format!("{base}/{}", args.join("/")))),
        _ => return Err(ApiError::method_not_allowed()),
    };
    Ok(json(StatusCode::OK, &job_json(&base, &job)))
}

fn list(ctx: &Ctx, base: &str) -> ApiResult<Response> {
    let p = &ctx.params;
    let batch = Batch::from_params(p, MAX_PAGE)?;
    let state = p
        .get("state")
        .map(|s| JobState::parse(s).ok_or_else(|| choice("state", s, JobState::ALL.map(JobState::name))))
        .transpose()?;
    let priority = p
        .get("queue")
        .map(|s| Priority::parse(s).ok_or_else(|| choice("queue", s, Priority::ALL.map(Priority::name))))
        .transpose()?;
    let filter = JobFilter {
        state,
        kind: p.get("type").map(str::to_owned),
        priority,
        start: batch.start,
        limit: batch.size,
    };
    let o = admin::overview(&ctx.site, &ctx.who, &filter)?;
    let queues: Vec<Value> = Priority::ALL
        .iter()
        .map(|&q| {
            let mut counts = Map::new();
            counts.insert("name".into(), json!(q.name()));
            let mut scheduled = 0;
            for s in JobState::ALL {
                let found = o.counts.iter().find(|c| c.priority == q && c.state == s);
                let (n, waiting) = found.map_or((0, 0), |c| (c.count, c.waiting));
                // Queued jobs waiting for their time are reported apart.
                counts.insert(s.name().into(), json!(n - waiting));
                scheduled += waiting;
            }
            counts.insert("scheduled".into(), json!(scheduled));
            Value::Object(counts)
        })
        .collect();
    let schedules: Vec<Value> = o
        .schedules
        .iter()
        .map(|s| {
            json!({
                "name": s.name,
                "cron": s.cron,
                "type": s.kind,
                "queue": s.priority.name(),
                "next_run": (s.next_run != i64::MAX).then(|| iso(s.next_run)),
                "last_run": s.last_run.map(iso),
            })
        })
        .collect();
    let items: Vec<Value> = o.jobs.iter().map(|j| job_json(base, j)).collect();
    let mut body = json!({
        "@id": base,
        "queues": queues,
        "schedules": schedules,
        "items": items,
        "items_total": o.total,
    });
    if let Some(b) = batching(ctx, base, &batch, o.total) {
        body["batching"] = b;
    }
    Ok(json(StatusCode::OK, &body))
}

fn choice<const N: usize>(name: &str, got: &str, allowed: [&str; N]) -> ApiError {
    ApiError::bad_request(format!("'{name}' must be one of {}, not '{got}'", allowed.join(", ")))
}

fn job_json(base: &str, j: &Job) -> Value {
    json!({
        "@id": format!("{base}/{}", j.id),
        "id": j.id,
        "type": j.kind,
        "queue": j.priority.name(),
        "state": j.state.name(),
        "args": j.args,
        "attempts": j.attempts,
        "max_attempts": j.max_attempts,
        "created": iso(j.created),
        "run_at": iso(j.run_at),
        "started": j.started.map(iso),
        "finished": j.finished.map(iso),
        "error": j.error,
        "result": j.result,
        "schedule": j.schedule,
    })
}
