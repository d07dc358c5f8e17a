//! Scheduled publication: a write that leaves a date ahead on an item (its
//! `effective` date, its `expires` date, an event's `end`) enqueues, in the
//! same transaction, a `publication` job due at that moment. The job records
//! the moment in the change log, so every cache and purge that follows
//! changes hears of it then.

use serde::{Deserialize, Serialize};

use super::{JobStore, NewJob, Priority, now_ms};
use crate::caching::date_ms;
use crate::ports::ContentStore;
use crate::ports::{WriteBatch, WriteOp};

/// The job type.
pub const PUBLICATION_JOB: &str = "publication";

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
    pub const ALL: [Edge; 3] = [Edge::Effective, Edge::Expires, Edge::End];

    pub fn field(self) -> &'static str {
        match self {
            Edge::Effective => "effective",
            Edge::Expires => "expires",
            Edge::End => "end",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicationArgs {
    pub uid: String,
    pub edge: Edge,
    /// The date (Unix ms) the job was planned for.
    pub at: i64,
}

/// Adds a publication job for every date ahead on the objects `batch` writes.
pub fn plan(batch: &mut WriteBatch) {
    let now = now_ms();
    let mut jobs = Vec::new();
    for op in &batch.ops {
        let (WriteOp::Insert(c) | WriteOp::Update { content: c, .. }) = op else {
            continue;
        };
        jobs_for(c, now, &mut jobs);
    }
    batch.jobs.extend(jobs);
}

/// Settings key set once a site's stored dates all have their jobs.
const BACKFILLED: &str = "jobs.publication_planned";
/// Objects read per page while planning for stored dates.
const PAGE: usize = 500;

/// The job type that runs [`backfill_once`], off the start-up path: it
/// reads every object with a date ahead, which at a million objects takes
/// long enough to hold up a start.
pub const BACKFILL_JOB: &str = "publication.plan";

/// [`backfill`] once per site (the first start of a version that plans
/// publication jobs, or after an import that wrote rows directly).
pub fn backfill_once(store: &dyn ContentStore, jobs: &dyn JobStore, site: &str) -> crate::error::CoreResult<usize> {
    if store.setting(site, BACKFILLED)?.is_some() {
        return Ok(0);
    }
    let planned = backfill(store, jobs, site)?;
    store.put_setting(site, BACKFILLED, &serde_json::json!(super::iso(now_ms())))?;
    Ok(planned)
}

/// Whether [`backfill_once`] still has to run for `site`.
pub fn needs_backfill(store: &dyn ContentStore, site: &str) -> crate::error::CoreResult<bool> {
    Ok(store.setting(site, BACKFILLED)?.is_none())
}

/// Plans the jobs of every date ahead stored on the site's objects; a job
/// already waiting is not planned twice. Returns how many it considered.
pub fn backfill(store: &dyn ContentStore, jobs: &dyn JobStore, site: &str) -> crate::error::CoreResult<usize> {
    use crate::catalog::{CatalogQuery, DateIndex, SortOn};
    let now = now_ms();
    let from = super::iso(now);
    let everything = crate::ports::ViewFilter::unrestricted();
    let mut planned = 0;
    // `end` is read from the fields of events only (it has no column).
    for (index, types) in [
        (DateIndex::Effective, vec![]),
        (DateIndex::Expires, vec![]),
        (DateIndex::End, vec!["Event".to_string()]),
    ] {
        let mut query = CatalogQuery {
            date_ranges: vec![(index, Some(from.clone()), None)],
            portal_types: types,
            sort: vec![(SortOn::Path, false)],
            limit: PAGE,
            uncounted: true,
            ..Default::default()
        };
        loop {
            let (page, _) = store.search(site, &query, &everything)?;
            let mut planned_now = Vec::new();
            for c in &page {
                jobs_for(c, now, &mut planned_now);
            }
            planned += planned_now.len();
            jobs.enqueue(site, &planned_now)?;
            match page.last() {
                Some(last) if page.len() == PAGE => query.after_path = Some(last.path.clone()),
                _ => break,
            }
        }
    }
    Ok(planned)
}

/// The publication jobs of the dates ahead on `c`.
fn jobs_for(c: &crate::Content, now: i64, jobs: &mut Vec<NewJob>) {
    for edge in Edge::ALL {
        let Some(at) = c.fields.get(edge.field()).and_then(date_ms).filter(|at| *at > now) else {
            continue;
        };
        let args = PublicationArgs {
            uid: c.uid.as_str().to_owned(),
            edge,
            at,
        };
        // Saved twice with the same date, the job is planned once.
        let key = format!("publication:{}:{}:{at}", args.uid, edge.field());
        jobs.push(
            NewJob::new(PUBLICATION_JOB, serde_json::to_value(&args).unwrap_or_default())
                .priority(Priority::Important)
                .at(at)
                .dedupe(key),
        );
    }
}

#[cfg(test)]
mod tests {
    use cairn_model::{ContentPath, Uid};
    use serde_json::{Map, Value, json};

    use super::*;
    use crate::content::Content;
    use crate::jobs::iso;

    fn page(fields: Map<String, serde_json::Value>) -> Content {
        Content {
            uid: Uid::new(),
            path: ContentPath::parse("/p").unwrap(),
            parent: None,
            position: 0,
            portal_type: "Event".into(),
            review_state: None,
            is_folderish: false,
            created: jiff::Timestamp::now(),
            modified: jiff::Timestamp::now(),
            version: 1,
            layout: None,
            fields,
            allowed: Vec::new(),
        }
    }

    #[test]
    fn only_dates_ahead_become_jobs_due_then() {
        let soon = now_ms() + 60_000;
        let mut fields = Map::new();
        fields.insert("effective".into(), json!(iso(now_ms() - 60_000)));
        fields.insert("expires".into(), json!(iso(soon)));
        fields.insert("end".into(), json!(iso(soon + 1000)));
        let c = page(fields);
        let mut batch = WriteBatch {
            ops: vec![WriteOp::Insert(Box::new(c.clone()))],
            ..Default::default()
        };
        plan(&mut batch);
        let planned: Vec<(i64, Value)> = batch
            .jobs
            .iter()
            .map(|j| (j.run_at.unwrap(), j.args["edge"].clone()))
            .collect();
        // `iso` keeps whole seconds.
        let second = |ms: i64| ms / 1000 * 1000;
        assert_eq!(
            planned,
            [(second(soon), json!("expires")), (second(soon + 1000), json!("end"))]
        );
        assert!(
            batch
                .jobs
                .iter()
                .all(|j| j.priority == Priority::Important && j.dedupe.is_some())
        );
        assert_eq!(batch.jobs[0].args["uid"], c.uid.as_str());
    }
}
