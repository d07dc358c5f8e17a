//! Reading the golden `.req` / `.resp` files.

use std::path::PathBuf;

use serde_json::Value;

use super::*;

/// One parsed `.req` / `.resp` pair.
#[derive(Debug, Clone)]
pub struct Golden {
    pub method: String,
    /// Path and query as recorded, e.g. `/plone/folder?b_size=5`.
    pub path: String,
    pub req_headers: Vec<(String, String)>,
    pub req_body: Option<Vec<u8>>,
    pub status: u16,
    pub resp_headers: Vec<(String, String)>,
    /// `None` when the response had no body.
    pub resp_body: Option<Value>,
}

/// The pairs: `CAIRN_CONFORMANCE_DIR`, else `shared/` beside the repository
/// (as in CI and the team's checkouts).
pub(super) fn golden_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CAIRN_CONFORMANCE_DIR") {
        return PathBuf::from(dir);
    }
    PathBuf::from(DEFAULT_DIR)
}

/// Splits an HTTP message into its first line, headers and body.
pub(super) fn split_http(text: &str) -> (String, Vec<(String, String)>, String) {
    let text = text.replace("\r\n", "\n");
    let (head, body) = match text.find("\n\n") {
        Some(i) => (&text[..i], text[i + 2..].to_string()),
        None => (text.trim_end_matches('\n'), String::new()),
    };
    let mut lines = head.lines();
    let first = lines.next().unwrap_or_default().to_string();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    (first, headers, body)
}

pub fn load_golden(name: &str) -> Result<Golden, String> {
    let dir = golden_dir();
    let req = std::fs::read_to_string(dir.join(format!("{name}.req"))).map_err(|e| format!("{name}.req: {e}"))?;
    let resp = std::fs::read_to_string(dir.join(format!("{name}.resp"))).map_err(|e| format!("{name}.resp: {e}"))?;
    let (line, req_headers, body) = split_http(&req);
    let mut parts = line.split_whitespace();
    let method = parts.next().ok_or("empty request line")?.to_string();
    let path = parts.next().ok_or("request line without a path")?.to_string();
    let req_body = (!body.trim().is_empty()).then(|| body.into_bytes());
    let (line, resp_headers, body) = split_http(&resp);
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("{name}.resp: bad status line {line:?}"))?;
    let resp_body = if body.trim().is_empty() {
        None
    } else {
        Some(serde_json::from_str(&body).map_err(|e| format!("{name}.resp: body is not JSON: {e}"))?)
    };
    Ok(Golden {
        method,
        path,
        req_headers,
        req_body,
        status,
        resp_headers,
        resp_body,
    })
}

pub(super) fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}
