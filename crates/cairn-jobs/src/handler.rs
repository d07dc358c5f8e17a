//! Job types: a handler per kind, typed arguments, and how a failure asks
//! (or not) for another attempt.

use std::collections::BTreeMap;
use std::sync::Arc;

use cairn_core::jobs::{Job, NewJob, Priority};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Why an attempt failed.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct JobError {
    pub message: String,
    /// Another attempt cannot succeed (bad arguments, a missing site): the
    /// job is dead at once instead of retried.
    pub permanent: bool,
}

impl JobError {
    /// A failure worth retrying (a remote API down, the database busy).
    pub fn transient(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            permanent: false,
        }
    }

    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            permanent: true,
        }
    }
}

impl From<cairn_core::CoreError> for JobError {
    fn from(e: cairn_core::CoreError) -> Self {
        let permanent = matches!(
            e,
            cairn_core::CoreError::BadRequest(_)
                | cairn_core::CoreError::Validation(_)
                | cairn_core::CoreError::NotFound
        );
        Self {
            message: e.to_string(),
            permanent,
        }
    }
}

/// Runs jobs of one kind. A handler must be idempotent: a job whose worker
/// died mid-run is run again.
pub trait Handler: Send + Sync {
    fn run(&self, job: &Job) -> Result<Value, JobError>;
}

/// A job type with typed arguments.
pub trait JobKind: Send + Sync + 'static {
    const KIND: &'static str;
    const PRIORITY: Priority = Priority::Normal;
    const MAX_ATTEMPTS: u32 = 5;
    type Args: Serialize + DeserializeOwned;

    fn run(&self, site: &str, args: Self::Args) -> Result<Value, JobError>;

    /// The job to enqueue for `args`.
    fn job(args: &Self::Args) -> NewJob {
        NewJob::new(Self::KIND, serde_json::to_value(args).unwrap_or(Value::Null))
            .priority(Self::PRIORITY)
            .attempts(Self::MAX_ATTEMPTS)
    }
}

struct Typed<K>(K);

impl<K: JobKind> Handler for Typed<K> {
    fn run(&self, job: &Job) -> Result<Value, JobError> {
        let args = serde_json::from_value(job.args.clone())
            .map_err(|e| JobError::permanent(format!("arguments of {} jobs: {e}", K::KIND)))?;
        self.0.run(&job.site, args)
    }
}

/// The handlers this process runs, by kind.
#[derive(Default, Clone)]
pub struct Registry {
    handlers: BTreeMap<&'static str, Arc<dyn Handler>>,
}

impl Registry {
    pub fn add<K: JobKind>(&mut self, kind: K) -> &mut Self {
        self.handlers.insert(K::KIND, Arc::new(Typed(kind)));
        self
    }

    /// A handler of a kind that has no typed arguments (tests, plug-ins).
    pub fn add_raw(&mut self, kind: &'static str, handler: Arc<dyn Handler>) -> &mut Self {
        self.handlers.insert(kind, handler);
        self
    }

    pub fn get(&self, kind: &str) -> Option<&Arc<dyn Handler>> {
        self.handlers.get(kind)
    }

    pub fn kinds(&self) -> Vec<&'static str> {
        self.handlers.keys().copied().collect()
    }
}
