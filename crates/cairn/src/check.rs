//! `cairn check`: verifies an installation's database, blobs and full-text
//! indexes against each other and reports what disagrees; with
//! `--repair`, fixes what can be fixed without a person's decision.
//!
//! - Every blob the database refers to is in the blob store and holds the
//!   bytes its key (their SHA-256) names. Nothing repairs a lost or damaged
//!   blob; the report names it, for a restore from a backup.
//! - Every object's parent is there and is the object its parent UID names.
//! - Each site's full-text index holds every change the database has; a
//!   repair rebuilds it. The embedded index can only be checked while no
//!   server holds it: it is reported as skipped otherwise.

use std::collections::{BTreeSet, HashMap};

use anyhow::Context;
use cairn_core::catalog::{CatalogQuery, SortOn};
use cairn_core::ports::{ContentStore, ViewFilter};
use cairn_model::{ContentPath, Uid};
use sha2::{Digest, Sha256};

use crate::Settings;

/// Objects read per page of the walk.
const PAGE: usize = 1000;
/// Passes a full-text engine gets to catch up before it counts as behind.
const CATCH_UP_PASSES: usize = 1000;

/// One disagreement.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The site, or `*` for what all sites share (the blob store).
    pub site: String,
    /// `missing-blob`, `damaged-blob`, `orphan`, `wrong-parent`,
    /// `index-behind`, `index-skipped`.
    pub kind: &'static str,
    pub detail: String,
    /// `--repair` fixed it.
    pub repaired: bool,
}

/// What a check looked at and found.
#[derive(Debug, Default)]
pub struct Report {
    pub objects: usize,
    pub blobs: usize,
    pub findings: Vec<Finding>,
}

impl Report {
    fn found(&mut self, site: &str, kind: &'static str, detail: String) {
        self.findings.push(Finding {
            site: site.to_string(),
            kind,
            detail,
            repaired: false,
        });
    }

    /// Findings `--repair` did not fix.
    pub fn unresolved(&self) -> usize {
        self.findings.iter().filter(|f| !f.repaired).count()
    }
}

/// Checks the configured installation (and repairs it when `repair`).
pub fn check(settings: &Settings, repair: bool, mut progress: impl FnMut(&str, usize)) -> anyhow::Result<Report> {
    let db = settings.database()?;
    let store = &*db.content;
    let blobs = settings.blob_store()?;
    let mut report = Report::default();
    let referenced: BTreeSet<String> = store.referenced_blobs()?.into_iter().collect();
    for key in &referenced {
        match blobs.open(key)? {
            None => report.found("*", "missing-blob", format!("blob {key} is referred to and not stored")),
            Some(mut blob) => {
                // Hashed as it streams: a blob may be as large as an upload may be.
                let mut hasher = Sha256::new();
                std::io::copy(&mut blob.file, &mut hasher)?;
                if hex::encode(hasher.finalize()) != *key {
                    report.found(
                        "*",
                        "damaged-blob",
                        format!("blob {key} holds other bytes than its key names"),
                    );
                }
            }
        }
        report.blobs += 1;
        progress("blobs", report.blobs);
    }
    for site in &settings.sites {
        tree(store, &site.id, &mut report, &mut progress)?;
    }
    match crate::full_text_engines(settings, db.postgres.as_ref()) {
        Ok(engines) => {
            for (site, engine) in engines {
                let mut passes = 0;
                while passes < CATCH_UP_PASSES && engine.step(store, &site)? > 0 {
                    passes += 1;
                }
                let head = store.outbox_head(&site)?;
                let behind = engine.indexed() < head;
                if behind || repair {
                    if repair {
                        let n = engine.rebuild(store, &site, &mut |done, _| progress("index", done))?;
                        if behind {
                            report.findings.push(Finding {
                                site: site.clone(),
                                kind: "index-behind",
                                detail: format!("the index was behind the database; rebuilt ({n} objects)"),
                                repaired: true,
                            });
                        }
                    } else {
                        report.found(
                            &site,
                            "index-behind",
                            format!("the index reaches change {} of {head}", engine.indexed()),
                        );
                    }
                }
            }
        }
        Err(e) => report.found("*", "index-skipped", format!("{e:#} (stop the server to check it)")),
    }
    Ok(report)
}

/// Walks a site in path order (a parent before its children) and checks
/// each object's parent.
fn tree(
    store: &dyn ContentStore,
    site: &str,
    report: &mut Report,
    progress: &mut impl FnMut(&str, usize),
) -> anyhow::Result<()> {
    let everything = ViewFilter::unrestricted();
    let mut query = CatalogQuery {
        sort: vec![(SortOn::Path, false)],
        limit: PAGE,
        uncounted: true,
        ..Default::default()
    };
    let mut uids: HashMap<ContentPath, Uid> = HashMap::new();
    loop {
        let (page, _) = store
            .search(site, &query, &everything)
            .with_context(|| format!("while reading site {site}"))?;
        for c in &page {
            if let Some(parent) = c.path.parent() {
                match uids.get(&parent) {
                    None => report.found(site, "orphan", format!("{} has no parent at {parent}", c.path)),
                    Some(uid) if c.parent.as_ref() != Some(uid) => report.found(
                        site,
                        "wrong-parent",
                        format!("{} names another parent than the object at {parent}", c.path),
                    ),
                    Some(_) => {}
                }
            }
            uids.insert(c.path.clone(), c.uid.clone());
            report.objects += 1;
        }
        progress("objects", report.objects);
        match page.last() {
            Some(last) if page.len() == PAGE => query.after_path = Some(last.path.clone()),
            _ => return Ok(()),
        }
    }
}
