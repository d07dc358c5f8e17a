//! Date formatting as plone.restapi prints it (`1995-07-31T13:45:00+00:00`).

use jiff::Timestamp;

/// ISO-8601 in UTC with an explicit `+00:00` offset and whole seconds.
pub fn format_ts(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%S+00:00").to_string()
}

/// Parses what `format_ts` wrote (or any RFC 3339 string).
pub fn parse_ts(s: &str) -> Option<Timestamp> {
    s.parse().ok()
}
