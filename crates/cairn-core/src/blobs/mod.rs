//! Blob bytes as part of the commit protocol. A write stores its uploads
//! first (content-addressed), then commits its transaction; a write that
//! fails removes the blobs it added and nothing refers to ([`pending`]).
//! What a crash leaves behind, and blobs that edits and deletions stopped
//! referring to, are collected by [`sweep`].

mod pending;
mod sweep;

pub use pending::{Pending, Uploads};
pub use sweep::{DEFAULT_GRACE, SweepReport, sweep};
