//! HTTP caching headers for the CDN or Varnish in front of cairn. Anonymous
//! GETs are public for a shared cache (`s-maxage`, purged on change) and
//! revalidated by browsers; they carry an `ETag` (a `304` answers a
//! matching `If-None-Match`), a `Last-Modified` where the dates of what they
//! show say when they changed, and the cache tags of everything they show
//! (`Cache-Tag` for Cloudflare, `xkey` for Varnish), so a change purges
//! exactly them. A response showing an item whose publication window opens
//! or closes sooner is kept no longer than that. Authenticated answers are
//! private, errors are not stored.

use std::hash::{DefaultHasher, Hasher};

use axum::body::{Body, to_bytes};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cairn_core::caching::Deps;

/// Seconds shared caches keep each kind of answer (browsers revalidate).
#[derive(Debug, Clone)]
pub struct Policy {
    /// Pages of content.
    pub content_s_maxage: u64,
    /// Navigation, breadcrumbs, search and listing answers.
    pub listing_s_maxage: u64,
    /// Files and images at their field URLs (scale URLs with a hash are immutable).
    pub file_s_maxage: u64,
    /// Headers that carry the cache tags: `Cache-Tag` (comma separated,
    /// Cloudflare), `xkey` (space separated, Varnish).
    pub tag_headers: Vec<String>,
    /// Caches are configured to purge (`@invalidate` has something to do).
    pub purges: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            content_s_maxage: 86_400,
            listing_s_maxage: 3_600,
            file_s_maxage: 86_400,
            tag_headers: vec!["Cache-Tag".into(), "xkey".into()],
            purges: false,
        }
    }
}

/// Longest tag header sent; Cloudflare reads up to 16 KB. A response with
/// more tags keeps only the broad ones and expires within a minute.
const MAX_TAG_HEADER: usize = 15_000;
const OVERFLOW_S_MAXAGE: u64 = 60;

/// What kind of answer a response is, for its policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Content,
    Listing,
    File,
    /// Answers that change by who asks or are actions (`@login`, `@jobs`):
    /// never stored.
    Private,
}

/// Attached by the handler thread, read by [`finish`].
#[derive(Debug, Clone)]
pub struct Info {
    pub anonymous: bool,
    pub kind: Kind,
    pub deps: Deps,
    /// The site's s-maxage for this kind (the Caching panel), else the policy's.
    pub s_maxage: Option<u64>,
}

/// Sets the caching headers of a GET or HEAD answer (the response carries
/// [`Info`] when a handler produced it).
pub async fn finish(resp: Response, method: &Method, policy: &Policy) -> Response {
    let Some(info) = resp.extensions().get::<Info>().cloned() else {
        return resp;
    };
    if !matches!(*method, Method::GET | Method::HEAD) {
        return resp;
    }
    let mut resp = resp;
    let status = resp.status();
    let h = resp.headers_mut();
    if status != StatusCode::OK {
        if !matches!(status, StatusCode::PARTIAL_CONTENT | StatusCode::NOT_MODIFIED) {
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        return resp;
    }
    let immutable = h
        .get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("immutable") && v.starts_with("public"));
    if !info.anonymous || info.kind == Kind::Private {
        if !immutable {
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
        }
        return resp;
    }
    if !immutable {
        let mut s_maxage = info.s_maxage.unwrap_or(match info.kind {
            Kind::Content => policy.content_s_maxage,
            Kind::Listing => policy.listing_s_maxage,
            Kind::File | Kind::Private => policy.file_s_maxage,
        });
        if let Some(edge) = info.deps.edge() {
            let until = (edge - cairn_core::jobs::now_ms()).max(0) as u64;
            s_maxage = s_maxage.min(until.div_ceil(1000));
        }
        let tags: Vec<&str> = info.deps.tags().collect();
        let joined = tags.join(",");
        let (tags, s_maxage) = if joined.len() > MAX_TAG_HEADER {
            // Object tags are 32 characters; the broad ones are few.
            let broad: Vec<&str> = tags.into_iter().filter(|t| t.len() != 32).collect();
            (broad, s_maxage.min(OVERFLOW_S_MAXAGE))
        } else {
            (tags, s_maxage)
        };
        if let Some(v) = info
            .deps
            .last_modified()
            .and_then(|t| HeaderValue::from_str(&http_date(t)).ok())
        {
            h.insert(header::LAST_MODIFIED, v);
        }
        let value = format!("public, max-age=0, s-maxage={s_maxage}, must-revalidate");
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(header::CACHE_CONTROL, v);
        }
        for name in &policy.tag_headers {
            let sep = if name.eq_ignore_ascii_case("xkey") { " " } else { "," };
            if let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&tags.join(sep)),
            ) && !tags.is_empty()
            {
                h.insert(n, v);
            }
        }
    }
    with_etag(resp).await
}

/// An error answer to a read: no cache may keep it (a page that is not
/// there yet, or not for this reader, may be soon).
pub fn not_stored(mut resp: Response, method: &Method) -> Response {
    if matches!(*method, Method::GET | Method::HEAD) {
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// Adds an `ETag` computed from a JSON body (files keep theirs). The hash
/// has fixed keys, so every node of a deployment names the same answer alike.
async fn with_etag(resp: Response) -> Response {
    let json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json || resp.headers().contains_key(header::ETAG) {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let Ok(bytes) = to_bytes(body, usize::MAX).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let mut h = DefaultHasher::new();
    h.write(&bytes);
    if let Ok(v) = HeaderValue::from_str(&format!("\"{:016x}{:08x}\"", h.finish(), bytes.len())) {
        parts.headers.insert(header::ETAG, v);
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// `Last-Modified`'s form (RFC 9110 IMF-fixdate).
fn http_date(t: jiff::Timestamp) -> String {
    t.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// A `304 Not Modified` when the request's `If-None-Match` names the
/// answer's `ETag`, or (without `If-None-Match`, as RFC 9110 orders) when
/// its `If-Modified-Since` is not older than the answer's `Last-Modified`;
/// the answer unchanged otherwise.
pub fn conditional(resp: Response, request: &HeaderMap) -> Response {
    if resp.status() != StatusCode::OK {
        return resp;
    }
    let text = |h: &HeaderMap, name| {
        h.get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .map(str::to_owned)
    };
    let fresh = match text(request, header::IF_NONE_MATCH) {
        Some(wanted) => text(resp.headers(), header::ETAG).is_some_and(|etag| {
            wanted
                .split(',')
                .map(|t| t.trim().trim_start_matches("W/"))
                .any(|t| t == "*" || t == etag)
        }),
        None => match (
            text(request, header::IF_MODIFIED_SINCE).and_then(|s| parse_http_date(&s)),
            text(resp.headers(), header::LAST_MODIFIED).and_then(|s| parse_http_date(&s)),
        ) {
            (Some(since), Some(modified)) => modified <= since,
            _ => false,
        },
    };
    if !fresh {
        return resp;
    }
    let mut not_modified = StatusCode::NOT_MODIFIED.into_response();
    for name in [
        header::ETAG,
        header::LAST_MODIFIED,
        header::CACHE_CONTROL,
        header::VARY,
        header::CONTENT_LOCATION,
    ] {
        if let Some(v) = resp.headers().get(&name) {
            not_modified.headers_mut().insert(name, v.clone());
        }
    }
    not_modified
}

/// Reads an IMF-fixdate (`Tue, 01 Dec 2026 10:00:00 GMT`).
fn parse_http_date(s: &str) -> Option<jiff::Timestamp> {
    jiff::fmt::strtime::parse("%a, %d %b %Y %H:%M:%S GMT", s.trim())
        .ok()?
        .to_datetime()
        .ok()?
        .to_zoned(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp())
}

#[cfg(test)]
mod tests {
    #[test]
    fn http_dates_read_back_to_the_second() {
        let t: jiff::Timestamp = "2026-12-01T10:00:30.750Z".parse().unwrap();
        let text = super::http_date(t);
        assert_eq!(text, "Tue, 01 Dec 2026 10:00:30 GMT");
        assert_eq!(super::parse_http_date(&text).unwrap().as_second(), t.as_second());
        assert!(super::parse_http_date("yesterday").is_none());
    }
}
