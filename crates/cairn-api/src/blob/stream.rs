//! Files and image originals leave as a stream read from the blob file, so a
//! 50 MiB PDF costs a 64 KiB buffer, not 50 MiB per download; a `Range`
//! request reads only its slice.

use std::io::{Seek, SeekFrom};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cairn_core::ports::BlobFile;
use tokio::io::AsyncReadExt;
use tokio_util::io::ReaderStream;

use super::Want;
use super::range::{Selection, select};
use crate::error::{ApiError, ApiResult};

/// Read buffer per download.
const CHUNK: usize = 64 * 1024;

/// How a stored file is presented: its type, name and caching.
pub struct Stored<'a> {
    pub content_type: &'a str,
    pub filename: Option<&'a str>,
    pub want: Want,
    pub cache_control: &'a str,
}

/// The blob in `file`, whole (200) or the one range `request` asks for
/// (206, or 416 when it starts past the end), with the headers every blob
/// answer carries and an exact `Content-Length`.
pub fn stream(mut blob: BlobFile, request: &HeaderMap, how: &Stored<'_>) -> ApiResult<Response> {
    let len = blob.len;
    let asked = request.get(header::RANGE).and_then(|v| v.to_str().ok());
    let (status, span) = match select(asked, len) {
        Selection::Whole => (StatusCode::OK, None),
        Selection::Part(r) => (StatusCode::PARTIAL_CONTENT, Some(r)),
        Selection::Unsatisfiable => {
            let mut r = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            let h = r.headers_mut();
            h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                h.insert(header::CONTENT_RANGE, v);
            }
            return Ok(r);
        }
    };
    let (start, count) = span
        .as_ref()
        .map_or((0, len), |r| (*r.start(), r.end() - r.start() + 1));
    if start > 0 {
        // On the blocking pool already: seek before the file goes async.
        blob.file.seek(SeekFrom::Start(start)).map_err(|e| {
            tracing::error!(error = %e, "seeking in a blob failed");
            ApiError::internal()
        })?;
    }
    let reader = tokio::fs::File::from_std(blob.file).take(count);
    let mut r = (status, Body::from_stream(ReaderStream::with_capacity(reader, CHUNK))).into_response();
    let h = r.headers_mut();
    super::safe_headers(h, how.content_type, how.filename, how.want, how.cache_control);
    // The body's length is not known to hyper from a stream: say it, so
    // clients see progress and HEAD answers carry it.
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(count));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Some(r) = span
        && let Ok(v) = HeaderValue::from_str(&format!("bytes {}-{}/{len}", r.start(), r.end()))
    {
        h.insert(header::CONTENT_RANGE, v);
    }
    Ok(r)
}
