//! cairn-jobs: runs the durable job queue of the core's [`JobStore`] port.
//! Worker threads take due jobs by priority and retry failures with a
//! growing pause; a clock thread fires cron schedules and turns outbox
//! changes into jobs through [`Consumer`]s; [`builtin`] holds the job types
//! every site has. `cairn serve` runs all of it in-process, `cairn worker`
//! runs it as a separate process on the same database.
//!
//! [`JobStore`]: cairn_core::jobs::JobStore

pub mod builtin;
pub mod clock;
pub mod handler;
pub mod mail;
pub mod purge;
pub mod runner;

pub use clock::{Clock, Consumer, ScheduleSpec, next_run};
pub use handler::{Handler, JobError, JobKind, Registry};
pub use runner::{Bell, Config, Workers};

/// Why the job machinery could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("schedule {0}: cannot read the cron expression {1:?}")]
    BadCron(&'static str, &'static str),
    #[error(transparent)]
    Store(#[from] cairn_core::CoreError),
    #[error("starting a thread: {0}")]
    Io(#[from] std::io::Error),
}
