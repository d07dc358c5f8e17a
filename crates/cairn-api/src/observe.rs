//! What operators see of each request: a request id (the caller's
//! `X-Request-Id` when it is a plausible one, else one made here) that
//! every log line of the request carries and the answer echoes, one access
//! log line (method, route class, status, time), and counts and latency
//! per route class, method and status for `/metrics`.
//!
//! A route class names what was asked, never which object: `content`,
//! `@search`, `@@images`, `health`. Unknown service names fall into
//! `@other`, so no client can grow the metrics without bound.

use std::collections::HashMap;
use std::fmt::Write;
use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use crate::route::{self, View};

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 8] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5];
/// Service names kept as classes of their own; others are `@other`.
const MAX_CLASSES: usize = 128;

/// Counts and latencies by (class, method, status).
#[derive(Default)]
pub struct HttpMetrics {
    series: Mutex<HashMap<(String, String, u16), Series>>,
}

#[derive(Default, Clone)]
struct Series {
    count: u64,
    seconds: f64,
    /// Requests at or under each of [`BUCKETS`].
    buckets: [u64; BUCKETS.len()],
}

impl HttpMetrics {
    fn record(&self, class: String, method: &str, status: u16, seconds: f64) {
        let mut series = self.series.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let classes = series.len();
        let class = if classes >= MAX_CLASSES * 8 && !series.keys().any(|(c, _, _)| *c == class) {
            "@other".to_string()
        } else {
            class
        };
        let s = series.entry((class, method.to_string(), status)).or_default();
        s.count += 1;
        s.seconds += seconds;
        for (bucket, le) in s.buckets.iter_mut().zip(BUCKETS) {
            if seconds <= le {
                *bucket += 1;
            }
        }
    }

    /// The Prometheus text of every series, sorted.
    pub fn render(&self, out: &mut String) {
        let series = self.series.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut keys: Vec<_> = series.keys().cloned().collect();
        keys.sort();
        out.push_str("# HELP cairn_http_requests_total Requests answered, by route class, method and status.\n");
        out.push_str("# TYPE cairn_http_requests_total counter\n");
        for k in &keys {
            let _ = writeln!(out, "cairn_http_requests_total{{{}}} {}", labels(k), series[k].count);
        }
        out.push_str("# HELP cairn_http_request_seconds Time to answer, by route class, method and status.\n");
        out.push_str("# TYPE cairn_http_request_seconds histogram\n");
        for k in &keys {
            let s = &series[k];
            for (le, n) in BUCKETS.iter().zip(s.buckets) {
                let _ = writeln!(
                    out,
                    "cairn_http_request_seconds_bucket{{{},le=\"{le}\"}} {n}",
                    labels(k)
                );
            }
            let _ = writeln!(
                out,
                "cairn_http_request_seconds_bucket{{{},le=\"+Inf\"}} {}",
                labels(k),
                s.count
            );
            let _ = writeln!(out, "cairn_http_request_seconds_sum{{{}}} {:.6}", labels(k), s.seconds);
            let _ = writeln!(out, "cairn_http_request_seconds_count{{{}}} {}", labels(k), s.count);
        }
    }
}

fn labels((class, method, status): &(String, String, u16)) -> String {
    format!("class=\"{class}\",method=\"{method}\",status=\"{status}\"")
}

/// The route class of a request path (see the module's comment).
pub fn class(path: &str) -> String {
    match path {
        "/healthz" | "/readyz" => return "health".into(),
        "/metrics" => return "metrics".into(),
        _ => {}
    }
    let Some(target) = route::parse(path) else {
        return "unrouted".into();
    };
    match target.view {
        View::Content => "content".into(),
        View::Images(_) => "@@images".into(),
        View::Download { inline: false, .. } => "@@download".into(),
        View::Download { inline: true, .. } => "@@display-file".into(),
        View::Service { name, .. } => {
            let plain = !name.is_empty()
                && name.len() <= 32
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if plain { format!("@{name}") } else { "@other".into() }
        }
    }
}

/// The caller's request id when it is one (1 to 128 of `A-Za-z0-9._-`),
/// else a new one: unique in this process, unlikely to meet another's.
fn request_id(given: Option<&HeaderValue>) -> String {
    if let Some(id) = given.and_then(|v| v.to_str().ok()).filter(|id| {
        !id.is_empty()
            && id.len() <= 128
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    }) {
        return id.to_string();
    }
    static NEXT: AtomicU64 = AtomicU64::new(0);
    static PROCESS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let process = PROCESS.get_or_init(|| RandomState::new().hash_one(std::process::id()));
    format!("{process:016x}-{:x}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// The middleware: runs the request inside a span holding its id, then
/// logs and counts it.
pub async fn observe(State(metrics): State<std::sync::Arc<HttpMetrics>>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request_id(req.headers().get("x-request-id"));
    // Extension methods are one label, so a client cannot add series.
    let method = match req.method().as_str() {
        m @ ("GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS") => m.to_string(),
        _ => "OTHER".to_string(),
    };
    let class = class(req.uri().path());
    // At WARN level: a span is built only where its level is logged, and
    // warnings and errors are the lines that most need their request's id.
    let span = tracing::warn_span!("request", id = %id, method = %method, class = %class);
    let mut response = next.run(req).instrument(span.clone()).await;
    let status = response.status().as_u16();
    let seconds = started.elapsed().as_secs_f64();
    span.in_scope(|| {
        // The access line has a target of its own: `cairn serve` leaves it
        // out unless RUST_LOG asks (one line per request cost a fifth of
        // the CPU of the cheapest answer; a CDN or ingress logs them too).
        tracing::info!(target: "cairn_api::access", status, ms = (seconds * 1000.0 * 1000.0).round() / 1000.0, "answered");
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    metrics.record(class, &method, status, seconds);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_name_what_was_asked_never_which_object() {
        assert_eq!(class("/Plone/news/vote-2026"), "content");
        assert_eq!(class("/Plone/@search"), "@search");
        assert_eq!(class("/Plone/++api++/news/@workflow/publish"), "@workflow");
        assert_eq!(class("/Plone/bild/@@images/image/preview"), "@@images");
        assert_eq!(class("/healthz"), "health");
        assert_eq!(class(&format!("/Plone/@{}", "x".repeat(40))), "@other");
    }

    #[test]
    fn a_plausible_caller_id_is_kept_and_anything_else_replaced() {
        let given = HeaderValue::from_static("edge-42.abc_DEF");
        assert_eq!(request_id(Some(&given)), "edge-42.abc_DEF");
        let odd = HeaderValue::from_static("<script>");
        let made = request_id(Some(&odd));
        assert_ne!(made, "<script>");
        assert_ne!(request_id(None), request_id(None), "unique");
    }

    #[test]
    fn metrics_count_by_class_method_and_status() {
        let m = HttpMetrics::default();
        m.record("@search".into(), "GET", 200, 0.003);
        m.record("@search".into(), "GET", 200, 0.2);
        m.record("content".into(), "GET", 404, 0.0005);
        let mut out = String::new();
        m.render(&mut out);
        assert!(out.contains("cairn_http_requests_total{class=\"@search\",method=\"GET\",status=\"200\"} 2\n"));
        assert!(out.contains(
            "cairn_http_request_seconds_bucket{class=\"@search\",method=\"GET\",status=\"200\",le=\"0.005\"} 1\n"
        ));
        assert!(out.contains(
            "cairn_http_request_seconds_bucket{class=\"content\",method=\"GET\",status=\"404\",le=\"0.001\"} 1\n"
        ));
    }
}
