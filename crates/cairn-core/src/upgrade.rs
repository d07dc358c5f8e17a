//! Upgrade steps (`@upgrade`). The database schema migrates when cairn
//! starts; what a newer cairn may still owe an older site are one-time
//! passes over its stored content, run as background jobs. A step is
//! pending until its pass has finished; asking to run it queues the job
//! (once, however often it is asked).

use crate::error::CoreResult;
use crate::jobs::{NewJob, Priority};
use crate::site::Site;

/// One pass a site may still need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// The job kind that runs it.
    pub id: &'static str,
    pub title: &'static str,
}

const LINKS: Step = Step {
    id: crate::repo::links::BACKFILL_JOB,
    title: "Record the links and relations of objects stored before they were recorded on write",
};
const PUBLICATION: Step = Step {
    id: crate::jobs::timers::BACKFILL_JOB,
    title: "Plan the publication jobs of effective and expiry dates stored before they were planned on write",
};

/// The steps `site` still needs.
pub fn pending(site: &Site) -> CoreResult<Vec<Step>> {
    let store = &*site.store;
    let mut out = Vec::new();
    if crate::repo::links::needs_backfill(store, &site.id)? {
        out.push(LINKS);
    }
    if crate::jobs::timers::needs_backfill(store, &site.id)? {
        out.push(PUBLICATION);
    }
    Ok(out)
}

/// Queues every pending step (a step already queued is not queued twice);
/// returns them.
pub fn run(site: &Site) -> CoreResult<Vec<Step>> {
    let steps = pending(site)?;
    let jobs: Vec<NewJob> = steps
        .iter()
        .map(|s| {
            NewJob::new(s.id, serde_json::json!({}))
                .priority(Priority::Low)
                .dedupe(s.id)
        })
        .collect();
    if !jobs.is_empty() {
        site.jobs.enqueue(&site.id, &jobs)?;
    }
    Ok(steps)
}
