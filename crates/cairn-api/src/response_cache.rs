//! Rendered responses for anonymous reads (GETs, and POSTs that only read),
//! reused until content changes.
//!
//! Anonymous visitors all see the same thing, so the serialized body of a
//! page, listing or navigation tree can be kept and served again. Entries are
//! stamped with the store's generation and ignored once any write happened;
//! a short time-to-live bounds what time alone can change.
//!
//! Only bodies whose length is known and within the per-entry limit are
//! read into memory; larger ones (downloads of big files) pass through as
//! the stream they are.
//!
//! Every answer that could be kept says in `X-Cairn-Cache` how it was made:
//! `hit` (served from here), `miss` (rendered, and kept if it could be) or
//! `bypass` (rendered because the request said `Cache-Control: no-cache`).

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody, to_bytes};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The name of the header that tells how an answer was made.
pub const HEADER: &str = "x-cairn-cache";
pub const HIT: &str = "hit";
pub const MISS: &str = "miss";
pub const BYPASS: &str = "bypass";

/// Labels `resp` with how it was made.
pub fn mark(mut resp: Response, how: &'static str) -> Response {
    resp.headers_mut()
        .insert(HEADER, axum::http::HeaderValue::from_static(how));
    resp
}

/// Whether the request asks not to be answered from a kept response
/// (`Cache-Control: no-cache` or `max-age=0`, or the older `Pragma: no-cache`).
pub fn wants_fresh(headers: &HeaderMap) -> bool {
    let directive = |name: header::HeaderName, wanted: &[&str]| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|d| wanted.iter().any(|w| d.trim().eq_ignore_ascii_case(w)))
    };
    directive(header::CACHE_CONTROL, &["no-cache", "max-age=0"]) || directive(header::PRAGMA, &["no-cache"])
}

/// Largest body kept; bigger answers (big navigation trees) are rare per URL.
const MAX_ENTRY: usize = 2 * 1024 * 1024;
/// Largest request body that may be part of a key.
const MAX_KEYED_BODY: usize = 8 * 1024;

struct Entry {
    generation: u64,
    /// All of them: a blob's disposition, CSP and `nosniff` matter as much as its type.
    headers: HeaderMap,
    body: Bytes,
}

/// The cache; bounded by the total size of the kept bodies.
pub struct ResponseCache {
    entries: moka::sync::Cache<String, Arc<Entry>>,
    /// Largest body kept: [`MAX_ENTRY`], or less when the whole cache is
    /// smaller (0: the cache is off).
    max_entry: u64,
}

impl ResponseCache {
    pub fn new(max_bytes: u64) -> Self {
        let entries = moka::sync::Cache::builder()
            .weigher(|k: &String, e: &Arc<Entry>| (k.len() + e.body.len()).try_into().unwrap_or(u32::MAX))
            .max_capacity(max_bytes)
            .time_to_live(Duration::from_secs(60))
            .build();
        Self {
            entries,
            max_entry: max_bytes.min(MAX_ENTRY as u64),
        }
    }

    /// Whether anything is kept at all (`limits.response_cache_bytes` > 0).
    pub fn enabled(&self) -> bool {
        self.max_entry > 0
    }

    /// The cache key of a request, `None` when its answer may depend on who
    /// asks. A POST is kept only when it only reads (`read_body`: Volto's
    /// listing blocks POST `@querystring-search` on every page view) and its
    /// body is small; the body is part of the key.
    pub fn key(
        method: &Method,
        uri: &axum::http::Uri,
        headers: &HeaderMap,
        read_body: Option<&[u8]>,
    ) -> Option<String> {
        let post_body = match (method, read_body) {
            (&Method::GET, _) => None,
            (&Method::POST, Some(body)) if body.len() <= MAX_KEYED_BODY => std::str::from_utf8(body).ok(),
            _ => return None,
        };
        // A part of a file is no answer for the whole URL.
        if headers.contains_key(header::AUTHORIZATION) || headers.contains_key(header::RANGE) {
            return None;
        }
        let has_session = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.contains("auth_token="));
        // `@id`s may be built from the Host: an answer for one host name is
        // no answer for another (nor may a forged Host poison the cache).
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
        (!has_session).then(|| match post_body {
            Some(body) => format!("POST {host} {uri}\n{body}"),
            None => format!("{host} {uri}"),
        })
    }

    /// A stored answer that is still current.
    pub fn get(&self, key: &str, generation: u64) -> Option<Response> {
        let e = self.entries.get(key)?;
        if e.generation != generation {
            return None;
        }
        let mut r = (StatusCode::OK, e.body.clone()).into_response();
        r.headers_mut().extend(e.headers.clone());
        Some(r)
    }

    /// Keeps a successful answer and hands it on unchanged. Only a body of
    /// known length within the per-entry limit is read: the rest streams on.
    pub async fn store(&self, key: String, generation: u64, resp: Response) -> Response {
        if resp.status() != StatusCode::OK || !resp.headers().contains_key(header::CONTENT_TYPE) {
            return resp;
        }
        let declared = resp
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        let Some(len) = resp.body().size_hint().exact().or(declared) else {
            return resp;
        };
        if len > self.max_entry {
            return resp;
        }
        let (parts, body) = resp.into_parts();
        let limit = usize::try_from(len).unwrap_or(usize::MAX);
        let Ok(bytes) = to_bytes(body, limit).await else {
            // The body failed (a read error) or was longer than it said.
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        };
        let entry = Entry {
            generation,
            headers: parts.headers.clone(),
            body: bytes.clone(),
        };
        self.entries.insert(key, Arc::new(entry));
        Response::from_parts(parts, Body::from(bytes))
    }
}
