//! Putting a subtree in a new place (a paste, a move, a restore from the
//! trash): each object gets its path below the new root, its parent, and
//! the view permissions of that place, computed top-down.

use std::collections::HashMap;

use cairn_model::{ContentPath, Uid};

use crate::content::Content;
use crate::error::{CoreError, CoreResult};
use crate::security::{LocalRoles, allowed_to_view, chain, effective, effective_on_chain};
use crate::site::Site;

/// Each object of `subtree` (parents before children, rooted at `from`)
/// placed below `dst` as `root`, the root at `position`, paired with the
/// object as it was. `adjust` changes each before its permissions are
/// computed (a copy's new UID and state).
pub fn replant(
    site: &Site,
    subtree: Vec<Content>,
    from: &ContentPath,
    dst: &Content,
    root: &ContentPath,
    position: i64,
    mut adjust: impl FnMut(&Content, &mut Content),
) -> CoreResult<Vec<(Content, Content)>> {
    let container_local = effective_on_chain(&chain(site, dst)?);
    let mut computed: HashMap<ContentPath, (LocalRoles, Vec<String>, Uid)> = HashMap::new();
    let mut out = Vec::with_capacity(subtree.len());
    for obj in subtree {
        let rel = &obj.path.as_str()[from.as_str().len()..];
        // Too deep a result is the caller's choice of place, not a fault.
        let path = ContentPath::parse(&format!("{root}{rel}")).map_err(|e| CoreError::BadRequest(e.to_string()))?;
        let (parent_local, parent_allowed, parent_uid) = match path.parent().and_then(|p| computed.get(&p)) {
            Some((l, a, u)) => (l.clone(), a.clone(), u.clone()),
            None => (container_local.clone(), dst.allowed.clone(), dst.uid.clone()),
        };
        let mut next = obj.clone();
        next.path = path.clone();
        next.parent = Some(parent_uid);
        if path == *root {
            next.position = position;
        }
        adjust(&obj, &mut next);
        let local = effective(&parent_local, &next);
        next.allowed = allowed_to_view(site, &next, &parent_allowed, &local);
        computed.insert(path, (local, next.allowed.clone(), next.uid.clone()));
        out.push((obj, next));
    }
    Ok(out)
}
