//! `GET /metrics`: Prometheus text exposition of what operators watch here,
//! per site: how far the full-text index lags behind the database, and how
//! many image scales were computed or failed (each costs a full decode), and
//! how many store round trips requests and background work made, how many
//! background jobs wait or failed per queue and state, and what this
//! process's job workers did (attempts by outcome, latency, run time),
//! and the requests it answered (see [`crate::observe`]).
//! Nothing here counts content, since anyone reaching the port can read it.

use std::fmt::Write;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use cairn_core::CoreResult;

use crate::AppState;

pub async fn get(State(app): State<Arc<AppState>>) -> Response {
    match tokio::task::spawn_blocking(move || render(&app)).await {
        Ok(Ok(text)) => ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response(),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "metrics");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

fn render(app: &AppState) -> CoreResult<String> {
    let mut lag = String::new();
    let mut scales = String::new();
    let mut queries = String::new();
    let mut jobs = String::new();
    let now = cairn_core::jobs::now_ms();
    let mut sites: Vec<_> = app.sites.values().collect();
    sites.sort_by(|a, b| a.id.cmp(&b.id));
    for site in sites {
        let label = site.id.replace('\\', "\\\\").replace('"', "\\\"");
        let (computed, failed) = site.scaler.counts();
        let _ = writeln!(
            scales,
            "cairn_image_scales_total{{site=\"{label}\",outcome=\"computed\"}} {computed}\n\
             cairn_image_scales_total{{site=\"{label}\",outcome=\"failed\"}} {failed}"
        );
        if let Some(stats) = site.store.stats() {
            let n = stats.counts(&site.id);
            let _ = writeln!(
                queries,
                "cairn_store_queries_total{{site=\"{label}\",source=\"request\"}} {}\n\
                 cairn_store_queries_total{{site=\"{label}\",source=\"background\"}} {}",
                n.request, n.background
            );
        }
        for c in site.jobs.counts(&site.id, now)? {
            let _ = writeln!(
                jobs,
                "cairn_jobs{{site=\"{label}\",queue=\"{}\",state=\"{}\"}} {}",
                c.priority.name(),
                c.state.name(),
                c.count
            );
        }
        let Some(text) = app.full_text.get(&site.id) else {
            continue;
        };
        let lag_now = cairn_core::search::lag(site, &**text)?;
        let _ = writeln!(lag, "cairn_search_lag_changes{{site=\"{label}\"}} {lag_now}");
    }
    let mut attempts = String::new();
    for (kind, m) in app.job_metrics.as_ref().map(|m| m.snapshot()).unwrap_or_default() {
        let kind = kind.replace('\\', "\\\\").replace('"', "\\\"");
        let _ = writeln!(
            attempts,
            "cairn_job_attempts_total{{type=\"{kind}\",outcome=\"done\"}} {}\n\
             cairn_job_attempts_total{{type=\"{kind}\",outcome=\"retried\"}} {}\n\
             cairn_job_attempts_total{{type=\"{kind}\",outcome=\"dead\"}} {}\n\
             cairn_job_latency_seconds_sum{{type=\"{kind}\"}} {}\n\
             cairn_job_latency_seconds_count{{type=\"{kind}\"}} {}\n\
             cairn_job_run_seconds_sum{{type=\"{kind}\"}} {}\n\
             cairn_job_run_seconds_count{{type=\"{kind}\"}} {}",
            m.done, m.retried, m.dead, m.latency_seconds, m.attempts, m.run_seconds, m.attempts
        );
    }
    let mut http = String::new();
    app.http_metrics.render(&mut http);
    Ok(format!(
        "{http}# HELP cairn_search_lag_changes Changes written to the database but not yet in the full-text index.\n\
         # TYPE cairn_search_lag_changes gauge\n{lag}\
         # HELP cairn_image_scales_total Image scales computed (each once) and computations that failed (remembered).\n\
         # TYPE cairn_image_scales_total counter\n{scales}\
         # HELP cairn_store_queries_total Store round trips that reached the database (cache hits not counted), by cause.\n\
         # TYPE cairn_store_queries_total counter\n{queries}\
         # HELP cairn_jobs Background jobs by queue and state (queued includes those waiting for their time).\n\
         # TYPE cairn_jobs gauge\n{jobs}\
         # HELP cairn_job_attempts_total Job attempts run by this process, by type and outcome.\n\
         # TYPE cairn_job_attempts_total counter\n\
         # HELP cairn_job_latency_seconds From when a job was due to when a worker of this process started it.\n\
         # TYPE cairn_job_latency_seconds summary\n\
         # HELP cairn_job_run_seconds How long job attempts of this process ran.\n\
         # TYPE cairn_job_run_seconds summary\n{attempts}"
    ))
}
