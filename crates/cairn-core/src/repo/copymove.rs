//! `@copy` and `@move`: subtrees taken to another container in one
//! transaction (all sources of a request, or none), with view permissions
//! recomputed for their new place.

use std::collections::HashSet;

use cairn_model::{ContentId, ContentPath, Uid};
use jiff::Timestamp;

use super::read::{get_visible, unique_id};
use crate::content::Content;
use crate::error::{CoreError, CoreResult};
use crate::ports::{ChangeEvent, ViewFilter, WriteBatch, WriteOp};
use crate::security::{Principal, can_add, can_delete};
use crate::site::Site;

/// Copy or move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Copy,
    Move,
}

/// The most objects one `@copy` or `@move` may name (each brings its subtree).
pub const MAX_SOURCES: usize = 500;

/// Takes the objects at `sources`, each with its subtree, into `target`, all
/// in one transaction: either every source arrives or none does. Returns
/// each source with its new path, in the order given. A source inside
/// another one that is moved travels with it.
pub fn transfer(
    site: &Site,
    sources: &[ContentPath],
    target: &ContentPath,
    mode: Mode,
    who: &Principal,
) -> CoreResult<Vec<(ContentPath, ContentPath)>> {
    if sources.len() > MAX_SOURCES {
        return Err(CoreError::BadRequest(format!(
            "At most {MAX_SOURCES} objects can be copied or moved at once."
        )));
    }
    let dst = get_visible(site, target, who)?;
    let mut plan = Plan {
        batch: WriteBatch::default(),
        claimed: HashSet::new(),
        position: site.store.next_position(&site.id, target)?,
    };
    let mut moved: Vec<(ContentPath, ContentPath)> = Vec::new();
    for source in sources {
        let carried = (mode == Mode::Move)
            .then(|| sources.iter().find(|o| *o != source && source.starts_with(o)))
            .flatten();
        if carried.is_none() && !moved.iter().any(|(s, _)| s == source) {
            let to = plan.add(site, source, &dst, mode, who)?;
            moved.push((source.clone(), to));
        }
    }
    site.write(plan.batch)?;
    // A source carried by an outer one is where the outer one's move put it.
    let new_path = |source: &ContentPath| -> CoreResult<ContentPath> {
        if let Some((_, to)) = moved.iter().find(|(s, _)| s == source) {
            return Ok(to.clone());
        }
        let (outer, to) = moved
            .iter()
            .find(|(s, _)| source.starts_with(s))
            .ok_or_else(|| CoreError::Internal(format!("{source} was not transferred")))?;
        let rest = &source.as_str()[outer.as_str().len()..];
        ContentPath::parse(&format!("{to}{rest}")).map_err(|e| CoreError::BadRequest(e.to_string()))
    };
    sources.iter().map(|s| Ok((s.clone(), new_path(s)?))).collect()
}

/// One request's writes, built source by source before anything is written.
struct Plan {
    batch: WriteBatch,
    /// Ids in the target taken by earlier sources of this request.
    claimed: HashSet<ContentId>,
    /// The next free position among the target's children.
    position: i64,
}

impl Plan {
    /// Adds the writes that take `source` into `dst`; returns its new path.
    fn add(
        &mut self,
        site: &Site,
        source: &ContentPath,
        dst: &Content,
        mode: Mode,
        who: &Principal,
    ) -> CoreResult<ContentPath> {
        let target = &dst.path;
        let src = get_visible(site, source, who)?;
        if src.is_root() || target.starts_with(source) {
            return Err(CoreError::BadRequest(format!("Cannot put {source} inside itself")));
        }
        super::workingcopy::refuse_children(site, dst)?;
        if !dst.is_folderish || !can_add(site, who, dst, &src.portal_type)? {
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
        let id = if self.is_free(site, target, &name)? {
            name
        } else {
            // Plone's paste names a clash `copy_of_<id>`, then numbers it.
            let base = ContentId::parse(&format!("copy_of_{name}")).unwrap_or(name);
            self.free_id(site, target, &base)?
        };
        self.claimed.insert(id.clone());
        let position = self.position;
        self.position += 1;
        self.batch.merge(subtree_ops(site, &src, dst, &id, position, mode)?);
        Ok(target.child(&id))
    }

    fn is_free(&self, site: &Site, target: &ContentPath, id: &ContentId) -> CoreResult<bool> {
        Ok(!self.claimed.contains(id) && site.store.by_path(&site.id, &target.child(id))?.is_none())
    }

    /// `base`, or the first free `base-n`, avoiding ids this request claimed.
    fn free_id(&self, site: &Site, target: &ContentPath, base: &ContentId) -> CoreResult<ContentId> {
        let mut id = unique_id(site, target, base)?;
        let mut n = 0;
        while self.claimed.contains(&id) {
            n += 1;
            let next = ContentId::parse(&format!("{base}-{n}")).map_err(|e| CoreError::BadRequest(e.to_string()))?;
            if self.is_free(site, target, &next)? {
                id = next;
            }
        }
        Ok(id)
    }
}

/// The writes that put `src` and its subtree into `dst` as `id`.
fn subtree_ops(
    site: &Site,
    src: &Content,
    dst: &Content,
    id: &ContentId,
    position: i64,
    mode: Mode,
) -> CoreResult<WriteBatch> {
    let (source, target) = (&src.path, &dst.path);
    let new_root = target.child(id);
    let mut subtree = vec![src.clone()];
    subtree.extend(
        site.store
            .tree(&site.id, source, 1000, &[], &ViewFilter::unrestricted())?,
    );
    let now = Timestamp::now();
    let placed = super::replant::replant(site, subtree, source, dst, &new_root, position, |obj, next| {
        if mode == Mode::Copy {
            // A copy is a new object: new UID, new history, the initial state.
            next.uid = Uid::new();
            next.created = now;
            next.modified = now;
            next.version = 1;
            next.review_state = site.workflow_for(&next.portal_type).map(|wf| wf.initial_state.clone());
            next.fields.remove("_workflow_history");
            next.fields.remove("_lock");
            super::workingcopy::forget_pair(&mut next.fields);
            // A copy is no translation.
            next.fields.remove(super::translations::GROUP);
        } else {
            next.version = obj.version + 1;
        }
    })?;
    let mut batch = WriteBatch::default();
    for (obj, next) in placed {
        // A move's event names the old place (what went stale there); the
        // new one is found through the UID.
        let (kind, at) = match mode {
            Mode::Copy => ("added", next.path.clone()),
            Mode::Move => ("moved", obj.path.clone()),
        };
        batch.events.push(ChangeEvent {
            kind,
            uid: next.uid.clone(),
            path: at,
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
    Ok(batch)
}
