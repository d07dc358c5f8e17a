//! Recomputing who may view a whole subtree after a change of state or of
//! local roles, as one write batch.

use std::collections::HashMap;

use cairn_model::ContentPath;

use super::allowed_to_view;
use super::local_roles::{LocalRoles, chain, effective, effective_on_chain};
use crate::content::Content;
use crate::error::CoreResult;
use crate::ports::{ViewFilter, WriteBatch};
use crate::site::Site;

/// Walks `root` and everything below it, parents first. `visit` may change an
/// object (it gets the local roles in effect there) and says whether it did;
/// every object whose data or view permissions changed is written back.
pub fn reindex_subtree(
    site: &Site,
    root: &Content,
    kind: &'static str,
    mut visit: impl FnMut(&mut Content, &LocalRoles, bool) -> CoreResult<bool>,
) -> CoreResult<WriteBatch> {
    let ancestors = chain(site, root)?;
    let above = &ancestors[..ancestors.len() - 1];
    let container_local = effective_on_chain(above);
    let container_allowed = above.last().map(|p| p.allowed.clone()).unwrap_or_default();
    let mut subtree = vec![root.clone()];
    subtree.extend(
        site.store
            .tree(&site.id, &root.path, 1000, &[], &ViewFilter::unrestricted())?,
    );
    let mut computed: HashMap<ContentPath, (LocalRoles, Vec<String>)> = HashMap::new();
    let mut batch = WriteBatch::default();
    for (i, obj) in subtree.into_iter().enumerate() {
        let (parent_local, parent_allowed) = match obj.path.parent().and_then(|p| computed.get(&p)) {
            Some((l, a)) => (l.clone(), a.clone()),
            None => (container_local.clone(), container_allowed.clone()),
        };
        let mut next = obj.clone();
        let changed = visit(&mut next, &effective(&parent_local, &obj), i == 0)?;
        let local = effective(&parent_local, &next);
        next.allowed = allowed_to_view(site, &next, &parent_allowed, &local);
        computed.insert(next.path.clone(), (local, next.allowed.clone()));
        if changed || next.allowed != obj.allowed {
            next.version = obj.version + 1;
            batch.update(&obj, next, kind);
        }
    }
    Ok(batch)
}
