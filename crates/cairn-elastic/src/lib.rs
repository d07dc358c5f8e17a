//! Full text on Elasticsearch or OpenSearch: the shared engine a scale-out
//! installation may run instead of PostgreSQL's, behind the core's
//! full-text port. Every node feeds one index per site from the change
//! outbox and asks it; a pass holds the site's lease ([`lease`]), so one
//! node writes at a time while the others learn how far it got.
//!
//! The index reads text as the embedded index does ([`index`]) and answers
//! the same query language ([`query`]); the ranking is the cluster's BM25
//! with the title boosted, so a title match counts more than a match in the
//! rest. The position the index reaches lives in the index itself (a
//! cluster that lost the index starts over), mirrored into the database's
//! settings so the outbox is not pruned past it. The [`fake`] cluster
//! (feature `fake`) speaks the part of the REST API used here; this adapter
//! is tested against it, not against a real cluster.

pub mod client;
#[cfg(feature = "fake")]
pub mod fake;
pub mod index;
pub mod lease;
pub mod query;
mod sink;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use cairn_core::ports::{ContentStore, FULL_TEXT_POSITION_KEY, FullText, Hit, OUTBOX_PRUNED_KEY};
use cairn_core::{CoreError, CoreResult, StorageError, StorageKind};
use cairn_model::fulltext::Query;
use cairn_search::indexer::BATCH;
use cairn_search::{Engine, Freshness, IndexerError, take_all, take_in};
use serde_json::json;

pub use client::{Credentials, ElasticError};

use crate::client::{Body, Client};
use crate::index::Names;
use crate::sink::Bulk;

/// The most hits one search returns: the cluster's default
/// `index.max_result_window`.
pub const MAX_HITS: usize = 10_000;

/// Where the cluster is and how to reach it.
#[derive(Clone, Debug)]
pub struct ElasticConfig {
    /// The cluster's base URL, e.g. `https://search.example.ch:9200`.
    pub url: String,
    /// Put before every index and alias name, so several installations
    /// can share a cluster.
    pub prefix: String,
    pub credentials: Credentials,
}

impl From<ElasticError> for IndexerError {
    fn from(e: ElasticError) -> Self {
        IndexerError::Store(core_error(e))
    }
}

/// A cluster that is away, overloaded (429) or failing (5xx) is busy, worth
/// another try; any other refusal is a fault.
pub fn core_error(e: ElasticError) -> CoreError {
    let kind = match e.status() {
        None => StorageKind::Busy,
        Some(s) if s == 429 || s >= 500 => StorageKind::Busy,
        Some(_) => StorageKind::Other,
    };
    CoreError::Storage(StorageError::new(kind, e))
}

/// The full-text engine of one site on the cluster.
pub struct ElasticFullText {
    client: Client,
    names: Names,
    site: String,
    /// This node's name in the site's lease.
    node: String,
    /// The language of objects in none of the known ones.
    default_lang: &'static str,
    freshness: Freshness,
    /// Grows whenever this node sees the index move on.
    version: AtomicU64,
}

impl ElasticFullText {
    /// The engine of `site`, reading objects in unknown languages as
    /// `default_language`; `node` names this process in the site's lease.
    /// Refused when the prefix or the site id make no valid index name.
    pub fn new(config: &ElasticConfig, site: &str, default_language: &str, node: &str) -> Result<Self, String> {
        let slot = cairn_search::engine::language_slot(default_language).unwrap_or(0);
        Ok(Self {
            client: Client::new(&config.url, &config.credentials),
            names: Names::new(&config.prefix, site)?,
            site: site.to_string(),
            node: node.to_string(),
            default_lang: index::LANGUAGES[slot],
            freshness: Freshness::default(),
            version: AtomicU64::new(0),
        })
    }

    /// Whether the cluster answers, and what it says it is (for `/readyz`
    /// and the start-up log): e.g. `elasticsearch 8.15.0`.
    pub fn cluster(&self) -> Result<String, ElasticError> {
        let answer = self.client.expect("GET", "/", None, &[])?;
        let version = &answer.body["version"];
        let distribution = version["distribution"].as_str().unwrap_or("elasticsearch");
        Ok(format!("{distribution} {}", version["number"].as_str().unwrap_or("?")))
    }

    /// This node learned that the index reaches `position`.
    fn observe(&self, position: i64) {
        if position > self.freshness.indexed() {
            self.version.fetch_add(1, Ordering::SeqCst);
        }
        self.freshness.reached(position);
    }

    /// The pass of the lease holder: the changes since the index's
    /// position, or the whole site when it holds none or the outbox was
    /// pruned past it.
    fn pass(&self, store: &dyn ContentStore, lease: &mut lease::Lease) -> Result<usize, IndexerError> {
        let site = self.site.as_str();
        let current = index::current(&self.client, &self.names)?;
        let saved = match &current {
            Some(concrete) => index::position(&self.client, concrete)?,
            None => None,
        };
        let pruned = store
            .setting(site, OUTBOX_PRUNED_KEY)?
            .and_then(|v| v.as_i64())
            .unwrap_or(0);
        let Some(mut position) = saved.filter(|p| *p >= pruned) else {
            let started = Instant::now();
            let n = self.fill(store, lease, current.as_deref(), &mut |_, _| {})?;
            tracing::info!(
                site,
                objects = n,
                seconds = started.elapsed().as_secs_f64(),
                "full-text index built on the search cluster"
            );
            return Ok(n);
        };
        self.observe(position);
        let mut taken = 0;
        let mut renewed = Instant::now();
        loop {
            let changes = store.outbox_after(site, position, BATCH)?;
            let Some(last) = changes.last() else { break };
            // Every object is read after its change was committed, so the
            // batch's last position is a version no older text can beat.
            let mut bulk = Bulk::new(&self.client, (&self.names.alias, true), last.seq, self.default_lang);
            take_in(store, site, &changes, &mut bulk)?;
            bulk.finish(true)?;
            self.save_position((&self.names.alias, true), last.seq)?;
            store.put_setting(site, FULL_TEXT_POSITION_KEY, &json!(last.seq))?;
            position = last.seq;
            self.observe(position);
            taken += changes.len();
            if changes.len() < BATCH {
                break;
            }
            if renewed.elapsed() > lease::TERM / 3 {
                lease::renew(&self.client, &self.names, lease, &self.node)?;
                renewed = Instant::now();
            }
        }
        Ok(taken)
    }

    /// Fills a new concrete index from the database and moves the alias
    /// onto it; searches keep the old one's answers meanwhile.
    fn fill(
        &self,
        store: &dyn ContentStore,
        lease: &mut lease::Lease,
        current: Option<&str>,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<usize, IndexerError> {
        let site = self.site.as_str();
        // Writes after this point are in the outbox after it: the next pass replays them.
        let head = store.outbox_head(site)?;
        let generation = current.and_then(|c| self.names.generation(c)).map_or(1, |g| g + 1);
        let fresh = index::create(&self.client, &self.names, generation)?;
        let mut bulk = Bulk::new(&self.client, (&fresh, false), head, self.default_lang);
        let mut renewed = Instant::now();
        let done = take_all(store, site, &mut bulk, |done, total| {
            progress(done, total);
            if renewed.elapsed() > lease::TERM / 3 {
                lease::renew(&self.client, &self.names, lease, &self.node)?;
                renewed = Instant::now();
            }
            Ok(())
        })?;
        bulk.finish(false)?;
        self.save_position((&fresh, false), head)?;
        self.client.expect("POST", &format!("/{fresh}/_refresh"), None, &[])?;
        index::swap(&self.client, &self.names, current, &fresh)?;
        if let Some(old) = current {
            self.client.expect("DELETE", &format!("/{old}"), None, &[404])?;
        }
        store.put_setting(site, FULL_TEXT_POSITION_KEY, &json!(head))?;
        self.version.fetch_add(1, Ordering::SeqCst);
        self.observe(head);
        Ok(done)
    }

    /// Records in `target` (the alias when `alias`, which must stay one)
    /// that the index reaches `position`; a position never moves back: it
    /// is the document's external version.
    fn save_position(&self, (target, alias): (&str, bool), position: i64) -> Result<(), ElasticError> {
        let path = format!(
            "/{target}/_doc/{}?version={position}&version_type=external_gte&require_alias={alias}",
            index::POSITION_ID
        );
        self.client
            .expect("PUT", &path, Some(Body::Json(&json!({"position": position}))), &[409])?;
        Ok(())
    }

    /// Runs `work` holding the site's lease, waiting for it when `wait`;
    /// `None` when another node holds it and `wait` is false.
    fn holding<T>(
        &self,
        wait: bool,
        work: impl FnOnce(&mut lease::Lease) -> Result<T, IndexerError>,
    ) -> Result<Option<T>, IndexerError> {
        let mut lease = loop {
            match lease::take(&self.client, &self.names, &self.site, &self.node)? {
                Some(lease) => break lease,
                None if wait => std::thread::sleep(std::time::Duration::from_millis(200)),
                None => return Ok(None),
            }
        };
        let result = work(&mut lease);
        if let Err(e) = lease::end(&self.client, &self.names, lease) {
            tracing::warn!(site = %self.site, error = %e, "could not end the search index lease; it runs out");
        }
        result.map(Some)
    }
}

impl Engine for ElasticFullText {
    fn step(&self, store: &dyn ContentStore, site: &str) -> Result<usize, IndexerError> {
        debug_assert_eq!(site, self.site);
        match self.holding(false, |lease| self.pass(store, lease))? {
            Some(n) => Ok(n),
            None => {
                // Another node is indexing; this one learns how far it got.
                if let Some(p) = index::position(&self.client, &self.names.alias)? {
                    self.observe(p);
                }
                Ok(0)
            }
        }
    }

    fn rebuild(
        &self,
        store: &dyn ContentStore,
        site: &str,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<usize, IndexerError> {
        debug_assert_eq!(site, self.site);
        let done = self.holding(true, |lease| {
            let current = index::current(&self.client, &self.names)?;
            self.fill(store, lease, current.as_deref(), progress)
        })?;
        Ok(done.unwrap_or(0))
    }

    fn freshness(&self) -> &Freshness {
        &self.freshness
    }
}

impl FullText for ElasticFullText {
    fn search(&self, q: &Query, limit: usize) -> CoreResult<Arc<Vec<Hit>>> {
        let body = query::search_body(q, limit.clamp(1, MAX_HITS));
        let answer = self
            .client
            .expect(
                "POST",
                &format!("/{}/_search", self.names.alias),
                Some(Body::Json(&body)),
                &[404],
            )
            .map_err(core_error)?;
        if answer.status == 404 {
            // No index yet: the first pass has not run.
            return Ok(Arc::new(Vec::new()));
        }
        let hits = answer.body["hits"]["hits"]
            .as_array()
            .map(|hits| {
                hits.iter()
                    .filter_map(|h| {
                        Some(Hit {
                            uid: h["_id"].as_str()?.to_string(),
                            score: h["_score"].as_f64().unwrap_or(0.0) as f32,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Arc::new(hits))
    }

    fn version(&self) -> u64 {
        self.version.load(Ordering::SeqCst)
    }

    fn indexed(&self) -> i64 {
        self.freshness.indexed()
    }

    fn wait_for(&self, position: i64, timeout: std::time::Duration) -> bool {
        self.freshness.wait_for(position, timeout)
    }
}
