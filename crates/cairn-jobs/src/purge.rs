//! Precise purges: the [`StaleAnswers`] consumer turns each batch of
//! changes into one purge job holding exactly the cache tags and URLs they
//! made stale (see `cairn_core::caching::stale`), due a moment later; the
//! [`Purge`] handler takes over every purge job still waiting for the site,
//! so a burst of edits becomes a few calls to each cache, not one per edit.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use cairn_core::CoreResult;
use cairn_core::caching::{PURGE_JOB, PurgeArgs, Purger, stale};
use cairn_core::jobs::{Job, JobStore, NewJob, Priority, now_ms};
use cairn_core::ports::{ContentStore, OutboxEntry};
use cairn_model::Uid;
use serde_json::{Value, json};

use crate::builtin::WINDOW_EVENT;
use crate::clock::Consumer;
use crate::handler::{Handler, JobError};

/// More tags and URLs than this in one purge become a purge of everything
/// (a bulk import, a move of a large subtree): a hundred Cloudflare calls.
const MAX_LISTED: usize = 3_000;

/// Derives purge jobs from changes.
pub struct StaleAnswers {
    pub content: Arc<dyn ContentStore>,
    /// How long a purge waits for more changes to join it.
    pub delay: Duration,
}

impl Consumer for StaleAnswers {
    fn name(&self) -> &'static str {
        "purge"
    }

    fn starts_at_head(&self) -> bool {
        true
    }

    fn jobs_for(&self, site: &str, changes: &[OutboxEntry]) -> CoreResult<Vec<NewJob>> {
        // Lock changes show nowhere an anonymous visitor looks.
        let changes: Vec<OutboxEntry> = changes.iter().filter(|c| c.kind != "lock_changed").cloned().collect();
        if changes.is_empty() {
            return Ok(vec![]);
        }
        let uids: BTreeSet<&Uid> = changes.iter().map(|c| &c.uid).collect();
        let uids: Vec<Uid> = uids.into_iter().cloned().collect();
        let current = self.content.by_uids(site, &uids)?;
        let s = stale(&*self.content, site, &changes, &current)?;
        let args = PurgeArgs {
            tags: s.tags,
            paths: s.paths,
            all: s.all,
        };
        // A publication date reached is purged on the queue kept for time.
        let priority = if changes.iter().any(|c| c.kind == WINDOW_EVENT) {
            Priority::Important
        } else {
            Priority::Normal
        };
        let job = NewJob::new(PURGE_JOB, serde_json::to_value(&args).unwrap_or_default())
            .priority(priority)
            .attempts(8)
            .at(now_ms() + self.delay.as_millis() as i64);
        Ok(vec![job])
    }
}

/// Runs purge jobs against every configured cache.
pub struct Purge {
    pub jobs: Arc<dyn JobStore>,
    pub purgers: Vec<Arc<dyn Purger>>,
    /// Each site's public URL (purges by URL need absolute ones).
    pub public_urls: HashMap<String, String>,
}

impl Handler for Purge {
    fn run(&self, job: &Job) -> Result<Value, JobError> {
        let mut args: PurgeArgs = serde_json::from_value(job.args.clone())
            .map_err(|e| JobError::permanent(format!("arguments of a purge: {e}")))?;
        let others = self.jobs.absorb(&job.site, PURGE_JOB, job.id, now_ms())?;
        for other in &others {
            if let Ok(more) = serde_json::from_value::<PurgeArgs>(other.clone()) {
                args.merge(more);
            }
        }
        if !others.is_empty() {
            // A failed attempt must not lose what was taken over.
            self.jobs
                .set_args(job.id, &serde_json::to_value(&args).unwrap_or_default())?;
        }
        if args.tags.len() + args.paths.len() > MAX_LISTED {
            // Cheaper for the cache (and its API's rate limit) than thousands of keys.
            args.all = true;
        }
        let base = self.public_urls.get(&job.site).map(String::as_str).unwrap_or("");
        let tags: Vec<String> = args.tags.iter().cloned().collect();
        let urls: Vec<String> = args.paths.iter().map(|p| format!("{base}{p}")).collect();
        for purger in &self.purgers {
            let done = if args.all {
                purger.purge_all()
            } else {
                purger.purge(&tags, &urls)
            };
            done.map_err(|e| {
                let message = format!("{}: {}", purger.name(), e.message);
                if e.transient {
                    JobError::transient(message)
                } else {
                    JobError::permanent(message)
                }
            })?;
        }
        Ok(json!({
            "tags": tags.len(),
            "urls": urls.len(),
            "all": args.all,
            "merged": others.len(),
            "caches": self.purgers.iter().map(|p| p.name()).collect::<Vec<_>>(),
        }))
    }
}
