//! The job types every site has: scheduled publication (a change event at
//! the moment an item's `effective` date arrives, its `expires` date passes
//! or an event's `end` passes, planned by the write that set the date: see
//! `cairn_core::jobs::timers`), and the
//! upkeep of the outbox and of finished jobs.

use std::sync::Arc;
use std::time::Duration;

use cairn_core::jobs::{JobStore, Priority, now_ms};
use cairn_core::ports::{ChangeEvent, ContentStore, WriteBatch};
use cairn_model::Uid;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::clock::{Consumer, ScheduleSpec};
use crate::handler::{JobError, JobKind, Registry};

/// The change event a reached publication date records.
pub const WINDOW_EVENT: &str = "window";

pub use cairn_core::jobs::timers::{Edge, PUBLICATION_JOB, PublicationArgs};

/// Records that an item entered or left its publication window.
pub struct Publication {
    pub content: Arc<dyn ContentStore>,
}

impl JobKind for Publication {
    const KIND: &'static str = PUBLICATION_JOB;
    const PRIORITY: Priority = Priority::Important;
    type Args = PublicationArgs;

    fn run(&self, site: &str, args: PublicationArgs) -> Result<Value, JobError> {
        let uid = Uid::parse(&args.uid).map_err(|_| JobError::permanent(format!("not a UID: {}", args.uid)))?;
        let Some(item) = self.content.by_uids(site, std::slice::from_ref(&uid))?.pop() else {
            return Ok(json!({"skipped": "the item is gone"}));
        };
        // Edited since: the job planned for the new date does the work.
        if item
            .fields
            .get(args.edge.field())
            .and_then(cairn_core::caching::date_ms)
            != Some(args.at)
        {
            return Ok(json!({"skipped": "the date changed"}));
        }
        self.content.write(
            site,
            WriteBatch {
                events: vec![ChangeEvent {
                    kind: WINDOW_EVENT,
                    uid,
                    path: item.path.clone(),
                }],
                ..Default::default()
            },
        )?;
        Ok(json!({"path": item.path.as_str()}))
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NoArgs {}

/// Plans the publication jobs of dates stored before they were planned at
/// write time, once per site.
pub struct PlanStoredDates {
    pub content: Arc<dyn ContentStore>,
    pub jobs: Arc<dyn JobStore>,
}

impl JobKind for PlanStoredDates {
    const KIND: &'static str = cairn_core::jobs::timers::BACKFILL_JOB;
    const PRIORITY: Priority = Priority::Low;
    type Args = NoArgs;

    fn run(&self, site: &str, _: NoArgs) -> Result<Value, JobError> {
        let planned = cairn_core::jobs::timers::backfill_once(&*self.content, &*self.jobs, site)?;
        Ok(json!({ "planned": planned }))
    }
}

/// Records the links of objects stored before links were recorded.
pub struct PlanLinks {
    pub sites: Vec<Arc<cairn_core::Site>>,
}

impl JobKind for PlanLinks {
    const KIND: &'static str = cairn_core::repo::links::BACKFILL_JOB;
    const PRIORITY: Priority = Priority::Low;
    type Args = NoArgs;

    fn run(&self, site: &str, _: NoArgs) -> Result<Value, JobError> {
        let s = self
            .sites
            .iter()
            .find(|s| s.id == site)
            .ok_or_else(|| JobError::permanent(format!("no site {site}")))?;
        Ok(json!({ "objects": cairn_core::repo::links::backfill_once(s)? }))
    }
}

/// Purges trash entries older than `keep`.
pub struct TrashPurge {
    pub content: Arc<dyn ContentStore>,
    pub keep: Duration,
}

impl JobKind for TrashPurge {
    const KIND: &'static str = "trash.purge";
    const PRIORITY: Priority = Priority::Low;
    type Args = NoArgs;

    fn run(&self, site: &str, _: NoArgs) -> Result<Value, JobError> {
        let before = now_ms() - self.keep.as_millis() as i64;
        let purged = cairn_core::repo::trash::purge_before(&*self.content, site, before)?;
        Ok(json!({ "purged": purged }))
    }
}

/// Removes the outbox entries every consumer has passed.
pub struct OutboxPrune {
    pub jobs: Arc<dyn JobStore>,
}

impl JobKind for OutboxPrune {
    const KIND: &'static str = "outbox.prune";
    type Args = NoArgs;

    fn run(&self, site: &str, _: NoArgs) -> Result<Value, JobError> {
        Ok(json!({"removed": self.jobs.prune_outbox(site)?}))
    }
}

/// Removes finished jobs older than `keep`.
pub struct JobsPrune {
    pub jobs: Arc<dyn JobStore>,
    pub keep: Duration,
}

impl JobKind for JobsPrune {
    const KIND: &'static str = "jobs.prune";
    const PRIORITY: Priority = Priority::Low;
    type Args = NoArgs;

    fn run(&self, _: &str, _: NoArgs) -> Result<Value, JobError> {
        let before = now_ms() - self.keep.as_millis() as i64;
        Ok(json!({"removed": self.jobs.prune_jobs(before)?}))
    }
}

/// The built-in handlers, consumers and schedules.
pub struct Builtin {
    pub registry: Registry,
    pub consumers: Vec<Arc<dyn Consumer>>,
    pub schedules: Vec<ScheduleSpec>,
}

/// The HTTP caches changes are purged from.
pub struct Caches {
    pub purgers: Vec<Arc<dyn cairn_core::caching::Purger>>,
    /// Each site's public URL.
    pub public_urls: std::collections::HashMap<String, String>,
    /// How long a purge waits for more changes to join it.
    pub delay: Duration,
}

/// How long things are kept.
#[derive(Debug, Clone, Copy)]
pub struct Keep {
    /// Finished jobs.
    pub jobs: Duration,
    /// Trash entries.
    pub trash: Duration,
}

/// Everything built in, over the given stores and sites. With `caches`,
/// every change is purged from them.
pub fn builtin(
    content: Arc<dyn ContentStore>,
    jobs: Arc<dyn JobStore>,
    sites: Vec<Arc<cairn_core::Site>>,
    keep: Keep,
    caches: Option<Caches>,
) -> Builtin {
    let mut registry = Registry::default();
    registry
        .add(crate::mail::SendMail { sites: sites.clone() })
        .add(PlanLinks { sites })
        .add(Publication {
            content: content.clone(),
        })
        .add(PlanStoredDates {
            content: content.clone(),
            jobs: jobs.clone(),
        })
        .add(OutboxPrune { jobs: jobs.clone() })
        .add(JobsPrune {
            jobs: jobs.clone(),
            keep: keep.jobs,
        })
        .add(TrashPurge {
            content: content.clone(),
            keep: keep.trash,
        });
    let mut consumers: Vec<Arc<dyn Consumer>> = Vec::new();
    if let Some(c) = caches {
        registry.add_raw(
            cairn_core::caching::PURGE_JOB,
            Arc::new(crate::purge::Purge {
                jobs,
                purgers: c.purgers,
                public_urls: c.public_urls,
            }),
        );
        consumers.push(Arc::new(crate::purge::StaleAnswers {
            content,
            delay: c.delay,
        }));
    }
    Builtin {
        registry,
        consumers,
        schedules: vec![
            ScheduleSpec {
                name: "outbox-prune",
                cron: "0 * * * * *",
                job: OutboxPrune::job(&NoArgs {}),
            },
            ScheduleSpec {
                name: "jobs-prune",
                cron: "0 30 3 * * *",
                job: JobsPrune::job(&NoArgs {}),
            },
            ScheduleSpec {
                name: "trash-purge",
                cron: "0 0 4 * * *",
                job: TrashPurge::job(&NoArgs {}),
            },
        ],
    }
}
