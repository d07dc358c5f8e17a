//! The one error type of the core; the API maps each variant to Plone's status.

/// One invalid field, as plone.restapi reports it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
    pub error: &'static str,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
            error: "ValidationError",
        }
    }
}

/// Everything a core service can fail with.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("not found")]
    NotFound,
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("conflict: {0}")]
    Conflict(String),
    /// The site lacks what the request needs (a full-text index).
    #[error("not implemented: {0}")]
    NotImplemented(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("internal error: {0}")]
    Internal(String),
}

/// Result alias of the core.
pub type CoreResult<T> = Result<T, CoreError>;

/// What kind of storage failure happened: the backend classifies its own
/// error codes, so callers never match on message text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageKind {
    /// A uniqueness constraint refused the write (an id or path is taken).
    Duplicate,
    /// The database stayed locked or overloaded past its wait: worth a retry.
    Busy,
    /// Anything else: a bug, a full disk, a broken file.
    Other,
}

/// A storage backend's failure, with its cause kept for the log.
#[derive(Debug, thiserror::Error)]
#[error("storage failure ({kind:?}): {source}")]
pub struct StorageError {
    pub kind: StorageKind,
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

impl StorageError {
    pub fn new(kind: StorageKind, source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self {
            kind,
            source: source.into(),
        }
    }

    /// An unclassified failure.
    pub fn other(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::new(StorageKind::Other, source)
    }
}

impl CoreError {
    /// Whether this is a storage failure of `kind`.
    pub fn is_storage(&self, kind: StorageKind) -> bool {
        matches!(self, CoreError::Storage(e) if e.kind == kind)
    }
}
