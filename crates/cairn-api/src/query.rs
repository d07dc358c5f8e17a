//! Query strings with Zope's conventions: repeated keys form lists, `:list`,
//! `:int`, `:boolean` and `:record` suffixes are type hints, booleans are strict.

use crate::error::{ApiError, ApiResult};

/// A decoded query string.
#[derive(Debug, Clone, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
    raw: String,
}

const TRUE: [&str; 9] = ["1", "y", "yes", "t", "true", "True", "active", "enabled", "on"];
const FALSE: [&str; 9] = ["0", "n", "no", "f", "false", "False", "inactive", "disabled", "off"];

fn strip_hint(key: &str) -> &str {
    match key.rsplit_once(':') {
        Some((k, "list" | "int" | "boolean" | "bool" | "record" | "records" | "string" | "tuple" | "float")) => k,
        _ => key,
    }
}

impl Params {
    pub fn parse(raw: Option<&str>) -> Self {
        let raw = raw.unwrap_or("");
        let pairs = raw
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                let dec = |s: &str| {
                    percent_encoding::percent_decode_str(&s.replace('+', " "))
                        .decode_utf8_lossy()
                        .into_owned()
                };
                (strip_hint(&dec(k)).to_string(), dec(v))
            })
            .collect();
        Self {
            pairs,
            raw: raw.to_string(),
        }
    }

    /// The query string as received.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    pub fn has(&self, key: &str) -> bool {
        self.pairs.iter().any(|(k, _)| k == key)
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// Every value of a repeated key, with comma-separated values split.
    pub fn list(&self, key: &str) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == key)
            .flat_map(|(_, v)| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
            })
            .collect()
    }

    /// A strict boolean; anything but Zope's true/false words is a 400.
    pub fn bool(&self, key: &str) -> ApiResult<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) if TRUE.contains(&v) => Ok(Some(true)),
            Some(v) if FALSE.contains(&v) => Ok(Some(false)),
            Some(v) => Err(ApiError::bad_request(format!("Invalid boolean value for {key}: {v}"))),
        }
    }

    /// A non-negative integer, 400 when it is not one.
    pub fn usize(&self, key: &str) -> ApiResult<Option<usize>> {
        match self.get(key) {
            None | Some("") => Ok(None),
            Some(v) => v
                .parse::<i64>()
                .map(|n| Some(n.max(0) as usize))
                .map_err(|_| ApiError::bad_request(format!("Invalid {key}: Not an integer"))),
        }
    }

    /// The query with some keys removed (for canonical and batching URLs).
    pub fn without(&self, keys: &[&str]) -> Vec<(String, String)> {
        self.pairs
            .iter()
            .filter(|(k, _)| !keys.contains(&k.as_str()))
            .cloned()
            .collect()
    }
}

/// Encodes pairs back into a query string.
pub fn encode(pairs: &[(String, String)]) -> String {
    use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
    // What would break the query's structure, and `/` as Python's urlencode does;
    // `_`, `.`, `:` and `,` stay readable.
    const QUERY: &AsciiSet = &CONTROLS
        .add(b' ')
        .add(b'/')
        .add(b'"')
        .add(b'#')
        .add(b'%')
        .add(b'&')
        .add(b'+')
        .add(b'=')
        .add(b'?')
        .add(b'<')
        .add(b'>');
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", utf8_percent_encode(k, QUERY), utf8_percent_encode(v, QUERY)))
        .collect::<Vec<_>>()
        .join("&")
}
