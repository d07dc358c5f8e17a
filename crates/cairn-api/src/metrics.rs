//! `GET /metrics`: Prometheus text exposition of what operators watch here,
//! per site: how far the full-text index lags behind the database, and how
//! many image scales were computed or failed (each costs a full decode), and
//! how many store round trips requests and background work made.
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
        if !app.full_text.contains_key(&site.id) {
            continue;
        }
        let lag_now = cairn_core::search::lag(site)?;
        let _ = writeln!(lag, "cairn_search_lag_changes{{site=\"{label}\"}} {lag_now}");
    }
    Ok(format!(
        "# HELP cairn_search_lag_changes Changes written to the database but not yet in the full-text index.\n\
         # TYPE cairn_search_lag_changes gauge\n{lag}\
         # HELP cairn_image_scales_total Image scales computed (each once) and computations that failed (remembered).\n\
         # TYPE cairn_image_scales_total counter\n{scales}\
         # HELP cairn_store_queries_total Store round trips that reached the database (cache hits not counted), by cause.\n\
         # TYPE cairn_store_queries_total counter\n{queries}"
    ))
}
