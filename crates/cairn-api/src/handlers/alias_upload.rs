//! Aliases uploaded as CSV (the URL management control panel's bulk add):
//! a `text/csv` body, or the file of a `multipart/form-data` upload, with
//! rows `old path,new path[,datetime[,manual]]` and an optional header row,
//! as plone.app.redirector exports them.

use axum::http::{HeaderMap, header};
use cairn_core::repo::aliases::NewAlias;

use crate::error::{ApiError, ApiResult};

/// Most rows one upload may add.
const MAX_ROWS: usize = 10_000;

/// The aliases of a CSV upload, or `None` when the body is not one.
pub fn parse(headers: &HeaderMap, body: &[u8]) -> ApiResult<Option<Vec<NewAlias>>> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let csv = match essence.as_str() {
        "text/csv" => body,
        "multipart/form-data" => file_part(content_type, body)
            .ok_or_else(|| ApiError::bad_request("The upload holds no file (a CSV of aliases is expected)"))?,
        _ => return Ok(None),
    };
    rows(csv).map(Some)
}

fn rows(csv: &[u8]) -> ApiResult<Vec<NewAlias>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(csv);
    let mut out = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let record = record.map_err(|e| ApiError::bad_request(format!("CSV row {}: {e}", n + 1)))?;
        let field = |i: usize| record.get(i).filter(|s| !s.is_empty()).map(str::to_owned);
        let (Some(path), Some(to)) = (field(0), field(1)) else {
            if record.iter().all(str::is_empty) {
                continue;
            }
            return Err(ApiError::bad_request(format!(
                "CSV row {}: an old path and a new path are needed",
                n + 1
            )));
        };
        if n == 0 && path.eq_ignore_ascii_case("old path") {
            continue;
        }
        if out.len() == MAX_ROWS {
            return Err(ApiError::bad_request(format!("At most {MAX_ROWS} aliases per upload")));
        }
        out.push(NewAlias {
            path,
            redirect_to: Some(to),
            datetime: field(2),
        });
    }
    Ok(out)
}

/// The content of the first part that carries a file name (or the only part).
fn file_part<'a>(content_type: &str, body: &'a [u8]) -> Option<&'a [u8]> {
    let boundary = content_type
        .split(';')
        .filter_map(|p| p.trim().strip_prefix("boundary="))
        .next()?
        .trim_matches('"');
    let delimiter = format!("--{boundary}");
    let mut parts = split(body, delimiter.into_bytes()).skip(1);
    let mut only = None;
    for part in parts.by_ref() {
        // The closing delimiter is followed by `--`.
        if part.starts_with(b"--") {
            break;
        }
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let split_at = find(part, b"\r\n\r\n")?;
        let (head, content) = (&part[..split_at], &part[split_at + 4..]);
        let content = content.strip_suffix(b"\r\n").unwrap_or(content);
        let head = String::from_utf8_lossy(head).to_ascii_lowercase();
        if head.contains("filename=") {
            return Some(content);
        }
        only = only.or(Some(content));
    }
    only
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn split(mut hay: &[u8], delimiter: Vec<u8>) -> impl Iterator<Item = &[u8]> {
    std::iter::from_fn(move || {
        if hay.is_empty() {
            return None;
        }
        match find(hay, &delimiter) {
            Some(i) => {
                let (head, rest) = (&hay[..i], &hay[i + delimiter.len()..]);
                hay = rest;
                Some(head)
            }
            None => {
                let last = hay;
                hay = &[];
                Some(last)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(ct: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_str(ct).unwrap());
        h
    }

    #[test]
    fn a_multipart_upload_gives_its_file_rows() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\nContent-Type: text/csv\r\n\r\n\
old path,new path,datetime,manual\r\n/a,/b,2024-01-01T00:00:00,True\r\n\"/c,d\",/e\r\n\r\n--XyZ--\r\n";
        let rows = parse(&headers("multipart/form-data; boundary=XyZ"), body)
            .unwrap()
            .unwrap();
        let got: Vec<(&str, &str)> = rows
            .iter()
            .map(|r| (r.path.as_str(), r.redirect_to.as_deref().unwrap()))
            .collect();
        assert_eq!(got, [("/a", "/b"), ("/c,d", "/e")]);
        assert_eq!(rows[0].datetime.as_deref(), Some("2024-01-01T00:00:00"));
    }

    #[test]
    fn json_is_not_an_upload_and_a_half_row_is_refused() {
        assert!(parse(&headers("application/json"), b"{}").unwrap().is_none());
        assert!(parse(&headers("text/csv"), b"/only-one\n").is_err());
        assert!(parse(&headers("multipart/form-data; boundary=Q"), b"nothing").is_err());
    }
}
