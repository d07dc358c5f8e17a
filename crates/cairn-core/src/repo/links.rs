//! Which objects an object points to: its relation fields and every
//! `resolveuid/<UID>` link in its rich text and blocks. Kept in the store
//! on every write (same transaction), so `@linkintegrity` answers, before a
//! delete, who would be left with a broken link.

use std::collections::BTreeSet;

use cairn_model::Uid;
use serde_json::Value;

use super::read::get_visible;
use crate::content::Content;
use crate::error::{CoreError, CoreResult};
use crate::ports::{Link, ViewFilter, WriteBatch, WriteOp};
use crate::security::Principal;
use crate::site::Site;

/// Most objects one `@linkintegrity` request may ask about.
pub const MAX_UIDS: usize = 500;
/// Most objects (with everything inside them) one request may check
/// (bigger subtrees cannot be deleted at once either).
pub const MAX_SUBTREE: usize = 10_000;

/// The relation name of links found in text and blocks (Plone's
/// plone.app.linkintegrity records them under this name).
pub const REFERENCING: &str = "isReferencing";
/// Named relations without a field (created through `@relations`):
/// `{"<name>": ["<uid>", ...]}`, kept on the source so that the source's
/// content stays the one truth the catalog is rebuilt from.
pub const FREE: &str = "_relations";

/// What `c` points to, by relation (never itself): its relation fields,
/// its free relations and every `resolveuid` link in its text and blocks.
pub fn targets(site: &Site, c: &Content) -> Vec<Link> {
    let mut out: BTreeSet<Link> = super::surroundings::relation_fields(site, c)
        .into_iter()
        .map(|(relation, target)| Link { relation, target })
        .collect();
    if let Some(Value::Object(free)) = c.fields.get(FREE) {
        for (relation, uids) in free {
            let uids = uids.as_array().into_iter().flatten().filter_map(Value::as_str);
            out.extend(uids.filter_map(|u| Uid::parse(u).ok()).map(|target| Link {
                relation: relation.clone(),
                target,
            }));
        }
    }
    let mut linked = BTreeSet::new();
    for (k, v) in &c.fields {
        if !k.starts_with('_') {
            super::urls::uids_in(v, &mut linked);
        }
    }
    out.extend(linked.into_iter().map(|target| Link {
        relation: REFERENCING.into(),
        target,
    }));
    out.retain(|l| l.target != c.uid);
    // Field order, not sorted order: a relation list is shown as its source holds it.
    let mut ordered: Vec<Link> = Vec::with_capacity(out.len());
    for (relation, target) in super::surroundings::relation_fields(site, c) {
        let l = Link { relation, target };
        if out.remove(&l) {
            ordered.push(l);
        }
    }
    ordered.extend(out);
    ordered
}

/// Records the links of every object `batch` writes.
pub fn plan(site: &Site, batch: &mut WriteBatch) {
    let links: Vec<WriteOp> = batch
        .ops
        .iter()
        .filter_map(|op| match op {
            WriteOp::Insert(c) | WriteOp::Update { content: c, .. } => Some(WriteOp::SetLinks {
                source: c.uid.clone(),
                targets: targets(site, c),
            }),
            _ => None,
        })
        .collect();
    batch.ops.extend(links);
}

/// What deleting one object would break.
#[derive(Debug)]
pub struct Report {
    pub object: Content,
    /// Objects inside it the reader may see (not counting itself).
    pub contained: usize,
    /// Objects outside it, visible to the reader, that point into it.
    pub breaches: Vec<Content>,
}

/// For each of `uids` the reader may see: who points into its subtree from
/// outside it. Plone's `@linkintegrity`, which Volto asks before a delete.
pub fn check(site: &Site, who: &Principal, uids: &[Uid]) -> CoreResult<Vec<Report>> {
    if who.is_anonymous() {
        return Err(CoreError::Unauthorized("You are not allowed to check links".into()));
    }
    if uids.len() > MAX_UIDS {
        return Err(CoreError::BadRequest(format!("At most {MAX_UIDS} uids at once")));
    }
    let filter = crate::security::view_filter(site, who);
    let mut budget = MAX_SUBTREE;
    let mut out = Vec::new();
    for object in site.store.by_uids(&site.id, uids)? {
        let Ok(object) = get_visible(site, &object.path, who) else {
            continue;
        };
        // One budget for the whole request: many big folders at once are as
        // costly as one huge one.
        let size = super::read::count_subtree(site, &object.path, budget)?;
        if size > budget {
            return Err(CoreError::BadRequest(format!(
                "The objects asked about hold more than {MAX_SUBTREE} items together: too many to check at once"
            )));
        }
        budget -= size;
        let inside = site
            .store
            .tree(&site.id, &object.path, 1000, &[], &ViewFilter::unrestricted())?;
        let mut subtree: BTreeSet<Uid> = inside.iter().map(|c| c.uid.clone()).collect();
        subtree.insert(object.uid.clone());
        let targets: Vec<Uid> = subtree.iter().cloned().collect();
        // The Editing control panel may switch the warnings off.
        let checking = crate::records::value(site, "plone.enable_link_integrity_checks")?.as_bool() != Some(false);
        let linking = if checking {
            site.store.linking_to(&site.id, &targets)?
        } else {
            Vec::new()
        };
        let sources: BTreeSet<Uid> = linking
            .into_iter()
            .map(|(source, _)| source)
            .filter(|s| !subtree.contains(s))
            .collect();
        let sources: Vec<Uid> = sources.into_iter().collect();
        let breaches = site
            .store
            .by_uids(&site.id, &sources)?
            .into_iter()
            .filter(|c| filter.allows(c))
            .collect();
        // Counted as the reader sees them: a count must not reveal private items.
        let contained = inside.iter().filter(|c| filter.allows(c)).count();
        out.push(Report {
            object,
            contained,
            breaches,
        });
    }
    Ok(out)
}

/// The job type that records the links of objects stored before links
/// were recorded on write (a database from an older version).
pub const BACKFILL_JOB: &str = "links.plan";
/// Settings key set once a site's stored objects all have their links.
pub(super) const BACKFILLED: &str = "links.planned";
/// Objects read and written per transaction while back-filling.
const PAGE: usize = 500;

/// Whether [`backfill_once`] still has to run for `site`.
/// (A `null` stored under the key asks for it again.)
pub fn needs_backfill(store: &dyn crate::ports::ContentStore, site: &str) -> CoreResult<bool> {
    Ok(store.setting(site, BACKFILLED)?.is_none_or(|v| v.is_null()))
}

/// Records the links of every stored object, once per site, a page per
/// transaction (writes go on meanwhile; each records its own links).
/// Returns how many objects it read.
pub fn backfill_once(site: &Site) -> CoreResult<usize> {
    use crate::catalog::{CatalogQuery, SortOn};
    if !needs_backfill(&*site.store, &site.id)? {
        return Ok(0);
    }
    let mut query = CatalogQuery {
        sort: vec![(SortOn::Path, false)],
        limit: PAGE,
        uncounted: true,
        ..Default::default()
    };
    let mut read = 0;
    loop {
        let (page, _) = site.store.search(&site.id, &query, &ViewFilter::unrestricted())?;
        read += page.len();
        let ops = page
            .iter()
            .map(|c| WriteOp::SetLinks {
                source: c.uid.clone(),
                targets: targets(site, c),
            })
            .collect();
        site.store.write(
            &site.id,
            WriteBatch {
                ops,
                ..Default::default()
            },
        )?;
        match page.last() {
            Some(last) if page.len() == PAGE => query.after_path = Some(last.path.clone()),
            _ => break,
        }
    }
    site.store.put_setting(
        &site.id,
        BACKFILLED,
        &serde_json::json!(crate::jobs::iso(crate::jobs::now_ms())),
    )?;
    Ok(read)
}
