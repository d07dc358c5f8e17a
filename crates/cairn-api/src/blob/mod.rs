//! The one way stored bytes leave the server (files, images, scales,
//! portraits): uploads are attacker-controlled, so a browser must never run
//! them in the site's origin.
//!
//! Only a short list of passive types is shown inline (plone.namedfile's
//! `ALLOWED_INLINE_MIMETYPES`, plus audio and video); everything else is a
//! download, even from `@@display-file`. Every answer also forbids MIME
//! sniffing and carries a Content-Security-Policy that leaves a document
//! nothing to run and puts it in a sandbox with an opaque origin.
//!
//! Stored files stream from disk ([`stream`]), whole or as one byte range.

mod range;
mod stream;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

pub use stream::{Stored, stream};

/// Types a browser only displays, never executes. Not here on purpose:
/// `text/html`, `image/svg+xml`, `application/xhtml+xml`, `text/xml`,
/// `application/xml`, JavaScript, and anything unknown.
const INLINE_TYPES: [&str; 24] = [
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/x-icon",
    "image/vnd.microsoft.icon",
    "image/jp2",
    "image/jpx",
    "image/jpeg2000",
    "image/avif",
    "image/bmp",
    "image/tiff",
    "text/plain",
    "application/pdf",
    "audio/mpeg",
    "audio/mp4",
    "audio/ogg",
    "audio/wav",
    "audio/webm",
    "audio/flac",
    "video/mp4",
    "video/ogg",
    "video/webm",
    "video/quicktime",
];

/// Nothing may load or run; `sandbox` gives the document an opaque origin, so
/// even a type a browser does render cannot reach the site's cookies or API.
/// Inline styles stay allowed: browsers style their own image and media viewers.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; sandbox";

/// Chromium refuses to show a PDF in a sandboxed document, so a PDF shown
/// inline goes without `sandbox`; its viewer runs no script in the page's origin.
const CSP_PDF: &str = "default-src 'none'; style-src 'unsafe-inline'; object-src 'self'";

/// How the caller would like the bytes presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    Inline,
    Download,
}

/// The MIME type without parameters, lower-cased (`Text/HTML; charset=x` → `text/html`).
fn essence(content_type: &str) -> String {
    content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

/// Whether bytes of this type may be displayed by the browser.
pub fn shown_inline(content_type: &str) -> bool {
    INLINE_TYPES.contains(&essence(content_type).as_str())
}

/// `200` with `bytes` held in memory (scales, portraits) and the headers of
/// [`safe_headers`].
pub fn respond(
    bytes: Vec<u8>,
    content_type: &str,
    filename: Option<&str>,
    want: Want,
    cache_control: &str,
) -> Response {
    let mut r = (StatusCode::OK, bytes).into_response();
    safe_headers(r.headers_mut(), content_type, filename, want, cache_control);
    r
}

/// Sets the type, a disposition (inline only for [`shown_inline`] types),
/// `nosniff`, the CSP and `cache_control`: what every answer carrying stored
/// bytes needs, whole or in part.
fn safe_headers(h: &mut HeaderMap, content_type: &str, filename: Option<&str>, want: Want, cache_control: &str) {
    let inline = want == Want::Inline && shown_inline(content_type);
    let ct = HeaderValue::from_str(content_type)
        .ok()
        .filter(|_| essence(content_type).contains('/'))
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    h.insert(header::CONTENT_TYPE, ct);
    let kind = if inline { "inline" } else { "attachment" };
    let disposition = match filename {
        Some(name) => disposition_header(kind, name),
        None => kind.to_string(),
    };
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    let csp = if inline && essence(content_type) == "application/pdf" {
        CSP_PDF
    } else {
        CSP
    };
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
    if let Ok(v) = HeaderValue::from_str(cache_control) {
        h.insert(header::CACHE_CONTROL, v);
    }
}

fn disposition_header(kind: &str, name: &str) -> String {
    // The plain parameter must be ASCII; the full name travels in filename*.
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() && c != '"' && c != '\\' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded = percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC);
    format!("{kind}; filename=\"{safe}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_passive_types_are_shown_inline() {
        assert!(shown_inline("image/png"));
        assert!(shown_inline("Text/Plain; charset=utf-8"));
        for t in [
            "text/html",
            "image/svg+xml",
            "application/xhtml+xml",
            "text/xml",
            "application/javascript",
            "",
        ] {
            assert!(!shown_inline(t), "{t}");
        }
    }

    #[test]
    fn a_type_that_is_no_header_value_becomes_octet_stream() {
        let r = respond(b"x".to_vec(), "text/html\n", None, Want::Inline, "no-store");
        assert_eq!(r.headers()[header::CONTENT_TYPE], "application/octet-stream");
        assert_eq!(r.headers()[header::CONTENT_DISPOSITION], "attachment");
    }
}
