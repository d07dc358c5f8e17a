//! Reading single objects with the view check applied.

use std::collections::HashSet;

use cairn_model::{ContentId, ContentPath};

use crate::content::Content;
use crate::error::{CoreError, CoreResult};
use crate::security::Principal;
use crate::site::Site;

/// The object at `path`, or `NotFound`.
pub fn get(site: &Site, path: &ContentPath) -> CoreResult<Content> {
    find(site, path)?.ok_or(CoreError::NotFound)
}

/// The object at `path`, if there is one (no view check: the caller decides
/// what of it to show).
pub fn find(site: &Site, path: &ContentPath) -> CoreResult<Option<Content>> {
    site.store.by_path(&site.id, path)
}

/// The object at `path` if `who` may view it: missing is 404, hidden is 401
/// (Plone raises Unauthorized for anonymous and authenticated users alike).
pub fn get_visible(site: &Site, path: &ContentPath, who: &Principal) -> CoreResult<Content> {
    let c = get(site, path)?;
    if crate::security::view_filter(site, who).allows(&c) {
        Ok(c)
    } else {
        Err(CoreError::Unauthorized(
            "You are not allowed to access this resource".into(),
        ))
    }
}

/// A free id in `parent` based on `wanted`: `wanted`, then `wanted-1`, `wanted-2`...
/// Candidates are probed by path in batches, so big folders cost no full scan.
/// How many objects lie at or below `path` (itself included), counted up
/// to `cap + 1` only: enough to refuse a subtree too large to load before
/// any of it is loaded.
pub fn count_subtree(site: &Site, path: &ContentPath, cap: usize) -> CoreResult<usize> {
    let query = crate::catalog::CatalogQuery {
        paths: vec![path.clone()],
        limit: cap.saturating_add(1),
        uncounted: true,
        light: true,
        ..Default::default()
    };
    let (found, _) = site
        .store
        .search(&site.id, &query, &crate::ports::ViewFilter::unrestricted())?;
    Ok(found.len())
}

pub fn unique_id(site: &Site, parent: &ContentPath, wanted: &ContentId) -> CoreResult<ContentId> {
    unique_id_in(site, parent, wanted, Taken::InStore)
}

/// Which ids a new object may not take.
#[derive(Clone, Copy)]
pub(super) enum Taken<'a> {
    /// Those of the objects in the store.
    InStore,
    /// Exactly these: a bulk load reads a container's ids once and adds
    /// those it gives out.
    Known(&'a HashSet<ContentId>),
}

impl Taken<'_> {
    /// Whether `id` is taken in `parent`.
    pub(super) fn holds(self, site: &Site, parent: &ContentPath, id: &ContentId) -> CoreResult<bool> {
        Ok(match self {
            Taken::InStore => site.store.by_path(&site.id, &parent.child(id))?.is_some(),
            Taken::Known(ids) => ids.contains(id),
        })
    }
}

/// [`unique_id`] with the taken ids from `taken`.
pub(super) fn unique_id_in(
    site: &Site,
    parent: &ContentPath,
    wanted: &ContentId,
    taken: Taken<'_>,
) -> CoreResult<ContentId> {
    const BATCH: usize = 32;
    for round in 0..1000 {
        let candidates: Vec<ContentId> = (round * BATCH..(round + 1) * BATCH)
            .filter_map(|n| match n {
                0 => Some(wanted.clone()),
                n => ContentId::parse(&format!("{wanted}-{n}")).ok(),
            })
            .collect();
        let free = match taken {
            Taken::Known(ids) => candidates.into_iter().find(|c| !ids.contains(c)),
            Taken::InStore => {
                let paths: Vec<ContentPath> = candidates.iter().map(|c| parent.child(c)).collect();
                let stored: HashSet<ContentPath> = site
                    .store
                    .by_paths(&site.id, &paths)?
                    .into_iter()
                    .map(|c| c.path)
                    .collect();
                candidates.into_iter().find(|c| !stored.contains(&parent.child(c)))
            }
        };
        if let Some(free) = free {
            return Ok(free);
        }
    }
    Err(CoreError::BadRequest(format!("No free id left for '{wanted}'")))
}

/// The site path a reference names: an absolute URL (of `base`, the site's
/// public URL, or any other host a client reached it by), `/<site>/...`,
/// `/++api++/...` or a path below the site. `None` when it names no path.
pub fn path_of_ref(site: &Site, r: &str, base: Option<&str>) -> Option<ContentPath> {
    let rel = base
        .and_then(|b| below(r, b))
        .or_else(|| below(r, &site.public_url))
        .unwrap_or_else(|| url_path(r));
    let rel = below(rel, &format!("/{}", site.id)).unwrap_or(rel);
    let rel = below(rel, "/++api++").unwrap_or(rel);
    if rel.contains("://") {
        return None;
    }
    ContentPath::parse(rel).ok()
}

/// `s` without `prefix`, when the prefix ends at a segment boundary
/// (`/Plone2` is not below `/Plone`).
fn below<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    s.strip_prefix(prefix)
        .filter(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The path of an absolute `http(s)://host/path` URL; anything else as is.
fn url_path(r: &str) -> &str {
    match r.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https") => {
            rest.find('/').map_or("", |i| &rest[i..])
        }
        _ => r,
    }
}
