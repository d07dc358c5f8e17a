//! A fake Elasticsearch cluster for tests: an HTTP server on loopback that
//! speaks the part of the REST API the adapter uses, as the reference
//! documents it (index creation with analysis and strict mappings,
//! aliases, `_bulk` NDJSON, documents with versioning and optimistic
//! concurrency, `_refresh`, `_search`), enforces its request shapes
//! (content types, the bulk's closing newline, unknown parameters and
//! keys, the result window) and answers with its response and error
//! bodies. It is not a real cluster: one shard, no replicas, no
//! `gc_deletes` expiry, and only the components the adapter needs.

mod analysis;
mod docs;
mod dsl;
mod routes;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

/// A refusal as the cluster words it.
#[derive(Debug)]
pub struct Refusal {
    pub status: u16,
    pub kind: &'static str,
    pub reason: String,
    pub index: Option<String>,
    /// Raised while a search ran on the shards: the cluster reports it as
    /// a `search_phase_execution_exception` caused by this one.
    pub in_search: bool,
}

impl Refusal {
    pub fn new(status: u16, kind: &'static str, reason: String) -> Self {
        Self {
            status,
            kind,
            reason,
            index: None,
            in_search: false,
        }
    }

    /// A refusal raised on the shards during a search.
    pub fn in_search(status: u16, kind: &'static str, reason: String) -> Self {
        Self {
            in_search: true,
            ..Self::new(status, kind, reason)
        }
    }

    /// The documented error body.
    pub fn body(&self) -> Value {
        let mut cause = json!({"type": self.kind, "reason": self.reason});
        if let Some(index) = &self.index {
            cause["index"] = json!(index);
        }
        let error = if self.in_search {
            json!({
                "root_cause": [cause], "type": "search_phase_execution_exception",
                "reason": "all shards failed", "phase": "query", "grouped": true,
                "caused_by": cause,
            })
        } else {
            let mut error = cause.clone();
            error["root_cause"] = json!([cause]);
            error
        };
        json!({"error": error, "status": self.status})
    }
}

/// The cluster's state.
#[derive(Default)]
pub(crate) struct State {
    indices: HashMap<String, docs::Index>,
    aliases: HashMap<String, Vec<String>>,
    /// Requests to fail: those whose "METHOD /path" holds the text, how
    /// many more, and the status to fail them with.
    failing: Option<(String, usize, u16)>,
    /// Every request served: method, path and query.
    log: Vec<String>,
    api_key: Option<String>,
}

/// A running fake cluster; stops when dropped.
pub struct FakeCluster {
    pub url: String,
    state: Arc<Mutex<State>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeCluster {
    /// Starts a cluster that wants no credentials.
    pub fn start() -> Self {
        Self::start_with(None)
    }

    /// Starts a cluster that wants `Authorization: ApiKey {api_key}`.
    pub fn start_with(api_key: Option<&str>) -> Self {
        let state = Arc::new(Mutex::new(State {
            api_key: api_key.map(str::to_string),
            ..State::default()
        }));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        listener.set_nonblocking(true).expect("a non-blocking socket");
        let url = format!("http://{}", listener.local_addr().expect("an address"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = routes::router(state.clone());
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await;
            });
        });
        Self {
            url,
            state,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// The next `n` requests are answered with `status` (429 or 503: the
    /// cluster's "too busy" answers).
    pub fn fail_next(&self, n: usize, status: u16) {
        self.fail_matching("", n, status);
    }

    /// The next `n` requests whose "METHOD /path" holds `text` are
    /// answered with `status`.
    pub fn fail_matching(&self, text: &str, n: usize, status: u16) {
        let mut state = self.state.lock().expect("the fake's state");
        state.failing = Some((text.to_string(), n, status));
    }

    /// The requests served so far ("METHOD /path?query"), and forgets them.
    pub fn take_log(&self) -> Vec<String> {
        std::mem::take(&mut self.state.lock().expect("the fake's state").log)
    }

    /// The concrete indices there are, sorted.
    pub fn indices(&self) -> Vec<String> {
        let state = self.state.lock().expect("the fake's state");
        let mut names: Vec<String> = state.indices.keys().cloned().collect();
        names.sort();
        names
    }

    /// Drops every index and alias, as a cluster that lost its data.
    pub fn wipe(&self) {
        let mut state = self.state.lock().expect("the fake's state");
        state.indices.clear();
        state.aliases.clear();
    }
}

impl Drop for FakeCluster {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
