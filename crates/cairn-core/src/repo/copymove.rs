//! `@copy` and `@move`: a subtree taken to another container in one
//! transaction, with view permissions recomputed for its new place.

use std::collections::HashMap;

use cairn_model::{ContentId, ContentPath, Uid};
use jiff::Timestamp;

use super::read::{get_visible, unique_id};
use crate::content::Content;
use crate::error::{CoreError, CoreResult};
use crate::ports::{ChangeEvent, ViewFilter, WriteBatch, WriteOp};
use crate::security::{
    LocalRoles, Principal, allowed_to_view, can_add, can_delete, chain, effective, effective_on_chain,
};
use crate::site::Site;

/// Copy or move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Copy,
    Move,
}

/// Takes the object at `source` with its subtree into `target`; returns the new path.
pub fn transfer(
    site: &Site,
    source: &ContentPath,
    target: &ContentPath,
    mode: Mode,
    who: &Principal,
) -> CoreResult<ContentPath> {
    let src = get_visible(site, source, who)?;
    let dst = get_visible(site, target, who)?;
    if src.is_root() || target.starts_with(source) {
        return Err(CoreError::BadRequest(format!("Cannot put {source} inside itself")));
    }
    if !dst.is_folderish || !can_add(site, who, &dst, &src.portal_type)? {
        return Err(CoreError::Forbidden(format!(
            "You are not allowed to add {} here",
            src.portal_type
        )));
    }
    if mode == Mode::Move && !can_delete(site, who, &src)? {
        return Err(CoreError::Forbidden(format!("You are not allowed to move {source}")));
    }
    if mode == Mode::Move && source.parent().as_ref() == Some(target) {
        return Ok(source.clone());
    }
    let name = ContentId::parse(src.id()).map_err(|e| CoreError::Internal(e.to_string()))?;
    let free = site.store.by_path(&site.id, &target.child(&name))?.is_none();
    let id = match (mode, free) {
        (_, true) => name,
        // Plone's paste names a clash `copy_of_<id>`, then numbers it.
        (_, false) => unique_id(
            site,
            target,
            &ContentId::parse(&format!("copy_of_{name}")).unwrap_or(name),
        )?,
    };
    let new_root = target.child(&id);
    let mut subtree = vec![src.clone()];
    subtree.extend(
        site.store
            .tree(&site.id, source, 1000, &[], &ViewFilter::unrestricted())?,
    );
    let container_local = effective_on_chain(&chain(site, &dst)?);
    let position = site.store.next_position(&site.id, target)?;
    let now = Timestamp::now();
    let mut computed: HashMap<ContentPath, (LocalRoles, Vec<String>, Uid)> = HashMap::new();
    let mut batch = WriteBatch::default();
    for obj in subtree {
        let rel = &obj.path.as_str()[source.as_str().len()..];
        // Too deep a result is the caller's choice of target, not a fault.
        let path = ContentPath::parse(&format!("{new_root}{rel}")).map_err(|e| CoreError::BadRequest(e.to_string()))?;
        let (parent_local, parent_allowed, parent_uid) = match path.parent().and_then(|p| computed.get(&p)) {
            Some((l, a, u)) => (l.clone(), a.clone(), u.clone()),
            None => (container_local.clone(), dst.allowed.clone(), dst.uid.clone()),
        };
        let mut next: Content = obj.clone();
        next.path = path.clone();
        next.parent = Some(parent_uid);
        if path == new_root {
            next.position = position;
        }
        if mode == Mode::Copy {
            // A copy is a new object: new UID, new history, the initial state.
            next.uid = Uid::new();
            next.created = now;
            next.modified = now;
            next.version = 1;
            next.review_state = site.workflow_for(&next.portal_type).map(|wf| wf.initial_state.clone());
            next.fields.remove("_workflow_history");
            next.fields.remove("_lock");
        } else {
            next.version = obj.version + 1;
        }
        let local = effective(&parent_local, &next);
        next.allowed = allowed_to_view(site, &next, &parent_allowed, &local);
        computed.insert(path.clone(), (local, next.allowed.clone(), next.uid.clone()));
        let kind = if mode == Mode::Copy { "added" } else { "moved" };
        batch.events.push(ChangeEvent {
            kind,
            uid: next.uid.clone(),
            path: path.clone(),
        });
        batch.ops.push(match mode {
            Mode::Copy => WriteOp::Insert(Box::new(next)),
            Mode::Move => WriteOp::Update {
                content: Box::new(next),
                expected: obj.version,
            },
        });
    }
    if mode == Mode::Move {
        batch.ops.extend(super::aliases::on_move(source, &new_root));
    }
    site.store.write(&site.id, batch)?;
    Ok(new_root)
}
