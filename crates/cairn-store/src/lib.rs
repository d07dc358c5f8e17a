//! cairn-store: storage adapters behind cairn-core's ports. The SQLite store is
//! the embedded default (one file, WAL); the blob store keeps files on disk by
//! content hash.

pub mod blobs;
pub mod sqlite;

pub use blobs::FsBlobStore;
pub use sqlite::SqliteStore;
