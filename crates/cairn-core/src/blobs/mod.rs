//! Blob bytes as part of the commit protocol. A write stores its uploads
//! first (content-addressed), then commits its transaction; a write that
//! fails removes the blobs it added and nothing refers to ([`pending`]).
//! What a crash leaves behind, and blobs that edits and deletions stopped
//! referring to, are collected by [`sweep`].

mod pending;
mod sweep;

pub use pending::{Pending, Uploads};
pub use sweep::{DEFAULT_GRACE, SweepReport, sweep};

/// Whether `name` can be a blob key (a SHA-256 digest: 64 hex digits).
pub fn is_key(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Whether `name` can name a derived blob (letters, digits, `-`): never a
/// path, whatever a caller passes.
pub fn is_derived_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 200 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}
