//! Reading single objects with the view check applied.

use cairn_model::{ContentId, ContentPath};

use crate::content::Content;
use crate::error::{CoreError, CoreResult};
use crate::security::Principal;
use crate::site::Site;

/// The object at `path`, or `NotFound`.
pub fn get(site: &Site, path: &ContentPath) -> CoreResult<Content> {
    site.store.by_path(&site.id, path)?.ok_or(CoreError::NotFound)
}

/// The object at `path` if `who` may view it: missing is 404, hidden is 401
/// (Plone raises Unauthorized for anonymous and authenticated users alike).
pub fn get_visible(site: &Site, path: &ContentPath, who: &Principal) -> CoreResult<Content> {
    let c = get(site, path)?;
    if who.view_filter().allows(&c) {
        Ok(c)
    } else {
        Err(CoreError::Unauthorized(
            "You are not allowed to access this resource".into(),
        ))
    }
}

/// A free id in `parent` based on `wanted`: `wanted`, then `wanted-1`, `wanted-2`...
pub fn unique_id(site: &Site, parent: &ContentPath, wanted: &ContentId) -> CoreResult<ContentId> {
    let taken: std::collections::HashSet<String> = site
        .store
        .child_ids(&site.id, parent)?
        .into_iter()
        .map(|(_, id, _)| id)
        .collect();
    if !taken.contains(wanted.as_str()) {
        return Ok(wanted.clone());
    }
    (1..)
        .map(|n| format!("{wanted}-{n}"))
        .find(|cand| !taken.contains(cand))
        .and_then(|cand| ContentId::parse(&cand).ok())
        .ok_or_else(|| CoreError::Internal("no free id".into()))
}
