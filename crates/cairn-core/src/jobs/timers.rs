//! Scheduled publication: a write that leaves a date ahead on an item (its
//! `effective` date, its `expires` date, an event's `end`) enqueues, in the
//! same transaction, a `publication` job due at that moment. The job records
//! the moment in the change log, so every cache and purge that follows
//! changes hears of it then.

use serde::{Deserialize, Serialize};

use super::{NewJob, Priority, now_ms};
use crate::caching::date_ms;
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
    batch.jobs.extend(jobs);
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
