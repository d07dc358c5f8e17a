//! The job types every site has: scheduled publication (a change event at
//! the moment an item's `effective` date arrives, its `expires` date passes
//! or an event's `end` passes, so everything that follows changes (caches,
//! purges) hears of it then), and the
//! upkeep of the outbox and of finished jobs.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use cairn_core::CoreResult;
use cairn_core::jobs::{JobStore, NewJob, Priority, now_ms};
use cairn_core::ports::{ChangeEvent, ContentStore, OutboxEntry, WriteBatch};
use cairn_model::Uid;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::clock::{Consumer, ScheduleSpec};
use crate::handler::{JobError, JobKind, Registry};

/// The change event a reached publication date records.
pub const WINDOW_EVENT: &str = "window";

/// One edge of an item's publication window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Edge {
    Effective,
    Expires,
    /// An event's end: listings of upcoming events change.
    End,
}

impl Edge {
    const ALL: [Edge; 3] = [Edge::Effective, Edge::Expires, Edge::End];

    fn field(self) -> &'static str {
        match self {
            Edge::Effective => "effective",
            Edge::Expires => "expires",
            Edge::End => "end",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PublicationArgs {
    pub uid: String,
    pub edge: Edge,
    /// The date (Unix ms) the job was planned for.
    pub at: i64,
}

/// Records that an item entered or left its publication window.
pub struct Publication {
    pub content: Arc<dyn ContentStore>,
}

impl JobKind for Publication {
    const KIND: &'static str = "publication";
    const PRIORITY: Priority = Priority::Important;
    type Args = PublicationArgs;

    fn run(&self, site: &str, args: PublicationArgs) -> Result<Value, JobError> {
        let uid = Uid::parse(&args.uid).map_err(|_| JobError::permanent(format!("not a UID: {}", args.uid)))?;
        let Some(item) = self.content.by_uids(site, std::slice::from_ref(&uid))?.pop() else {
            return Ok(json!({"skipped": "the item is gone"}));
        };
        // Edited since: the job planned for the new date does the work.
        if date_ms(item.fields.get(args.edge.field())) != Some(args.at) {
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

/// Plans a [`Publication`] job for every future `effective` or `expires`
/// date a change leaves on an item.
pub struct PublicationTimer {
    pub content: Arc<dyn ContentStore>,
}

impl Consumer for PublicationTimer {
    fn name(&self) -> &'static str {
        "publication"
    }

    fn jobs_for(&self, site: &str, changes: &[OutboxEntry]) -> CoreResult<Vec<NewJob>> {
        let uids: BTreeSet<&Uid> = changes.iter().map(|c| &c.uid).collect();
        let uids: Vec<Uid> = uids.into_iter().cloned().collect();
        let now = now_ms();
        let mut jobs = Vec::new();
        for item in self.content.by_uids(site, &uids)? {
            for edge in Edge::ALL {
                let Some(at) = date_ms(item.fields.get(edge.field())).filter(|at| *at > now) else {
                    continue;
                };
                let args = PublicationArgs {
                    uid: item.uid.as_str().to_owned(),
                    edge,
                    at,
                };
                let key = format!("publication:{}:{}:{at}", args.uid, edge.field());
                jobs.push(Publication::job(&args).at(at).dedupe(key));
            }
        }
        Ok(jobs)
    }
}

/// A stored date field in Unix milliseconds.
fn date_ms(v: Option<&Value>) -> Option<i64> {
    cairn_core::caching::date_ms(v?)
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NoArgs {}

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

/// Everything built in, over the given stores; finished jobs are kept
/// `keep`. With `caches`, every change is purged from them.
pub fn builtin(
    content: Arc<dyn ContentStore>,
    jobs: Arc<dyn JobStore>,
    keep: Duration,
    caches: Option<Caches>,
) -> Builtin {
    let mut registry = Registry::default();
    registry
        .add(Publication {
            content: content.clone(),
        })
        .add(OutboxPrune { jobs: jobs.clone() })
        .add(JobsPrune {
            jobs: jobs.clone(),
            keep,
        });
    let mut consumers: Vec<Arc<dyn Consumer>> = vec![Arc::new(PublicationTimer {
        content: content.clone(),
    })];
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
        ],
    }
}
