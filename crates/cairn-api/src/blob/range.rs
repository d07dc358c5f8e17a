//! Which bytes of a blob a `Range` header asks for, decided as static file
//! servers decide: one satisfiable range is a 206, a range that starts past
//! the end is a 416, and anything else (malformed, another unit, several
//! ranges) is ignored, so the whole file goes out with 200.

use std::ops::RangeInclusive;

use http_range_header::{EndPosition, StartPosition};

/// What to send of a blob of known length.
#[derive(Debug, PartialEq, Eq)]
pub enum Selection {
    Whole,
    /// These bytes (inclusive, within the blob).
    Part(RangeInclusive<u64>),
    Unsatisfiable,
}

/// The selection a `Range` header value makes in `len` bytes.
pub fn select(header: Option<&str>, len: u64) -> Selection {
    let Some(spec) = header else {
        return Selection::Whole;
    };
    let Ok(parsed) = http_range_header::parse_range_header(spec) else {
        return Selection::Whole;
    };
    // Multipart answers are rarely used and easy to abuse (many tiny
    // overlapping ranges); the whole file is always a correct answer.
    let [one] = parsed.ranges.as_slice() else {
        return Selection::Whole;
    };
    if len == 0 {
        return Selection::Whole;
    }
    let last = len - 1;
    match (one.start, one.end) {
        // `bytes=9-3` is no valid range at all: ignored (RFC 9110, 14.1.1).
        (StartPosition::Index(s), EndPosition::Index(e)) if e < s => Selection::Whole,
        (StartPosition::Index(s), _) if s > last => Selection::Unsatisfiable,
        (StartPosition::Index(s), EndPosition::Index(e)) => Selection::Part(s..=e.min(last)),
        (StartPosition::Index(s), EndPosition::LastByte) => Selection::Part(s..=last),
        // A suffix longer than the file is the whole file (RFC 9110, 14.1.3).
        (StartPosition::FromLast(n), _) => Selection::Part(len.saturating_sub(n)..=last),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_select_as_static_servers_do() {
        let sel = |h: &str| select(Some(h), 100);
        assert_eq!(select(None, 100), Selection::Whole);
        assert_eq!(sel("bytes=0-9"), Selection::Part(0..=9));
        assert_eq!(sel("bytes=90-"), Selection::Part(90..=99));
        assert_eq!(sel("bytes=95-500"), Selection::Part(95..=99));
        assert_eq!(sel("bytes=-5"), Selection::Part(95..=99));
        assert_eq!(sel("bytes=-500"), Selection::Part(0..=99));
        assert_eq!(sel("bytes=100-"), Selection::Unsatisfiable);
        assert_eq!(sel("bytes=200-300"), Selection::Unsatisfiable);
        for ignored in ["bytes=9-3", "bytes=a-b", "lines=0-1", "bytes=0-1,3-4", "bytes=-0", ""] {
            assert_eq!(sel(ignored), Selection::Whole, "{ignored}");
        }
        assert_eq!(select(Some("bytes=0-1"), 0), Selection::Whole);
    }
}
