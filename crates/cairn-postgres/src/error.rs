//! PostgreSQL errors as the core's storage errors, classified by SQLSTATE.

use cairn_core::CoreError;
use cairn_core::error::{StorageError, StorageKind};
use r2d2_postgres::postgres::error::SqlState;

/// Wraps any error of this adapter; a PostgreSQL error is classified by its
/// SQLSTATE code (never by its text).
pub fn db<E: Into<Box<dyn std::error::Error + Send + Sync>>>(e: E) -> CoreError {
    let source: Box<dyn std::error::Error + Send + Sync> = e.into();
    // No connection free within the pool's wait: the database is busy.
    if source.is::<r2d2::Error>() {
        return CoreError::Storage(StorageError::new(StorageKind::Busy, source));
    }
    let kind = match source
        .downcast_ref::<r2d2_postgres::postgres::Error>()
        .and_then(|e| e.code())
    {
        Some(c) if *c == SqlState::UNIQUE_VIOLATION => StorageKind::Duplicate,
        Some(c)
            if *c == SqlState::T_R_SERIALIZATION_FAILURE
                || *c == SqlState::T_R_DEADLOCK_DETECTED
                || *c == SqlState::LOCK_NOT_AVAILABLE
                || *c == SqlState::QUERY_CANCELED
                || *c == SqlState::TOO_MANY_CONNECTIONS =>
        {
            StorageKind::Busy
        }
        _ => StorageKind::Other,
    };
    CoreError::Storage(StorageError::new(kind, source))
}
