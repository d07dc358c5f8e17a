//! The trash: a DELETE keeps the object with its whole subtree (fields,
//! blobs, history, sharing, workflow state) instead of erasing it, and it
//! leaves the site in the same transaction. Administrators, and owners for
//! their own items, list it, restore an entry (to its old place or into
//! another folder) or purge it for good; a scheduled job purges what stayed
//! longer than the site keeps it.

use cairn_model::{ContentId, ContentPath};

use super::read::get_visible;
use crate::content::Content;
use crate::error::{CoreError, CoreResult};
use crate::ports::{ChangeEvent, ContentStore, TrashEntry, ViewFilter, WriteBatch, WriteOp};
use crate::security::{Principal, can_add, can_delete};
use crate::site::Site;

/// Deepest subtree the trash takes (paths are bounded deeper anyway).
const DEPTH: usize = 1000;

/// Moves the object at `path` with everything inside it to the trash.
pub fn trash(site: &Site, path: &ContentPath, who: &Principal, lock_token: Option<&str>) -> CoreResult<()> {
    let current = get_visible(site, path, who)?;
    if current.is_root() {
        return Err(CoreError::Forbidden("The site root cannot be deleted".into()));
    }
    if who.is_anonymous() {
        return Err(CoreError::Unauthorized(
            "You are not allowed to delete this resource".into(),
        ));
    }
    if !can_delete(site, who, &current)? {
        return Err(CoreError::Forbidden(
            "You are not allowed to delete this resource".into(),
        ));
    }
    super::lock::check_unlocked(&current, who, lock_token)?;
    let limit = site.settings.trash_max_items;
    // Counted before anything is loaded: a delete of the biggest folder
    // must not read it whole to refuse it.
    if super::read::count_subtree(site, path, limit)? > limit {
        return Err(CoreError::BadRequest(format!(
            "{path} holds more than {limit} items (itself included); at most {limit} can be deleted \
             at once. Delete its contents in parts first."
        )));
    }
    let mut objects = vec![current.clone()];
    objects.extend(
        site.store
            .tree(&site.id, path, DEPTH, &[], &ViewFilter::unrestricted())?,
    );
    let mut batch = WriteBatch::default();
    pairs_leaving(site, &mut objects, &mut batch)?;
    let entry = TrashEntry {
        id: 0,
        uid: current.uid.clone(),
        path: current.path.clone(),
        title: current.title().to_owned(),
        portal_type: current.portal_type.clone(),
        owner: crate::security::owner(&current),
        deleted_by: who.id.clone().unwrap_or_default(),
        deleted_at: crate::jobs::now_ms(),
        items: objects.len(),
        objects,
    };
    batch.ops.insert(0, WriteOp::MoveToTrash(Box::new(entry)));
    batch.events.insert(
        0,
        ChangeEvent {
            kind: "removed",
            uid: current.uid,
            path: current.path,
        },
    );
    site.write(batch)
}

/// Working copies among `objects` (a subtree about to go) whose original
/// stays: the original is unlocked in the same batch, as a cancel would.
/// An original whose copy stays refuses the delete: the copy would lose
/// what it is a copy of.
fn pairs_leaving(site: &Site, objects: &mut [Content], batch: &mut WriteBatch) -> CoreResult<()> {
    use super::workingcopy::{in_pair, pair_of, released_by_removal};
    for c in objects.iter().filter(|c| in_pair(c)) {
        if let Some(p) = pair_of(site, c)?
            && p.baseline.uid == c.uid
            && !objects.iter().any(|o| o.uid == p.copy.uid)
        {
            return Err(CoreError::BadRequest(format!(
                "{} is checked out: check in or cancel its working copy {} first",
                c.path, p.copy.path
            )));
        }
    }
    batch.merge(released_by_removal(site, objects)?);
    Ok(())
}

/// Managers and Site Administrators see the whole trash; other members
/// what they own.
fn scope(who: &Principal) -> CoreResult<Option<&str>> {
    match &who.id {
        _ if who.is_admin() => Ok(None),
        Some(id) => Ok(Some(id.as_str())),
        None => Err(CoreError::Unauthorized("You are not allowed to see the trash".into())),
    }
}

/// One page of the trash as `who` may see it, newest first. An owner who
/// is no administrator is told only of the objects they could see (by the
/// view permissions they had when deleted), in counts too.
pub fn list(site: &Site, who: &Principal, start: usize, limit: usize) -> CoreResult<(Vec<TrashEntry>, usize)> {
    let (mut entries, total) = site.store.trash(&site.id, scope(who)?, start, limit)?;
    if !who.is_admin() {
        for e in &mut entries {
            e.items = entry(site, who, e.id)?.objects.len();
        }
    }
    Ok((entries, total))
}

/// One entry with the objects `who` may know of, if they may see it.
pub fn entry(site: &Site, who: &Principal, id: i64) -> CoreResult<TrashEntry> {
    let mut e = whole(site, who, id)?;
    if !who.is_admin() {
        let filter = crate::security::view_filter(site, who);
        e.objects.retain(|c| filter.allows(c));
    }
    Ok(e)
}

/// One entry with all its objects (what a restore or purge acts on), if
/// `who` may see it.
fn whole(site: &Site, who: &Principal, id: i64) -> CoreResult<TrashEntry> {
    let owner = scope(who)?;
    site.store
        .trash_entry(&site.id, id)?
        .filter(|e| owner.is_none() || e.owner.as_deref() == owner)
        .ok_or(CoreError::NotFound)
}

/// Puts an entry back: into `into` (a folder), or where it was. Returns
/// the restored object's path.
pub fn restore(site: &Site, who: &Principal, id: i64, into: Option<&ContentPath>) -> CoreResult<ContentPath> {
    let e = whole(site, who, id)?;
    let parent_path = match into {
        Some(p) => p.clone(),
        None => e.path.parent().unwrap_or_else(ContentPath::root),
    };
    let Some(parent) = site.store.by_path(&site.id, &parent_path)? else {
        return Err(CoreError::BadRequest(format!(
            "{parent_path}, where it was, is gone; restore it into another folder"
        )));
    };
    // The folder must be one the user may see and add this type to.
    let parent = get_visible(site, &parent.path, who)?;
    super::workingcopy::refuse_children(site, &parent)?;
    if !parent.is_folderish || !can_add(site, who, &parent, &e.portal_type)? {
        return Err(CoreError::Forbidden(format!(
            "You are not allowed to add {} to {parent_path}",
            e.portal_type
        )));
    }
    let name = ContentId::parse(e.path.name()).map_err(|err| CoreError::Internal(err.to_string()))?;
    let root = parent.path.child(&name);
    if site.store.by_path(&site.id, &root)?.is_some() {
        return Err(CoreError::Conflict(format!(
            "{root} is taken; rename what is there or restore into another folder"
        )));
    }
    let position = site.store.next_position(&site.id, &parent.path)?;
    let mut batch = placed(site, &e, &parent, &root, position)?;
    batch.ops.push(WriteOp::RemoveTrash(e.id));
    site.write(batch)?;
    Ok(root)
}

/// The inserts (and "added" events) that put `e`'s objects below `parent`
/// as `root`, with view permissions computed for that place.
fn placed(site: &Site, e: &TrashEntry, parent: &Content, root: &ContentPath, position: i64) -> CoreResult<WriteBatch> {
    let mut objects = e.objects.clone();
    // Parents before children, whatever order they were kept in.
    objects.sort_by_key(|c| c.path.depth());
    let placed = super::replant::replant(site, objects, &e.path, parent, root, position, |_, next| {
        next.version += 1;
    })?;
    let mut batch = WriteBatch::default();
    for (_, next) in placed {
        batch.events.push(ChangeEvent {
            kind: "added",
            uid: next.uid.clone(),
            path: next.path.clone(),
        });
        batch.ops.push(WriteOp::Insert(Box::new(next)));
    }
    Ok(batch)
}

/// Removes an entry for good, with the kept versions of its objects (its
/// blobs go with the next blob sweep).
pub fn purge(site: &Site, who: &Principal, id: i64) -> CoreResult<()> {
    let e = whole(site, who, id)?;
    forget(&*site.store, &site.id, &e)
}

fn forget(store: &dyn ContentStore, site: &str, e: &TrashEntry) -> CoreResult<()> {
    store.write(
        site,
        WriteBatch {
            ops: vec![
                WriteOp::RemoveTrash(e.id),
                WriteOp::ForgetVersions(e.objects.iter().map(|c| c.uid.clone()).collect()),
            ],
            ..Default::default()
        },
    )
}

/// Purges what was deleted before `before` (Unix ms); returns how many entries.
pub fn purge_before(store: &dyn ContentStore, site: &str, before: i64) -> CoreResult<usize> {
    let ids = store.trash_before(site, before)?;
    for id in &ids {
        if let Some(e) = store.trash_entry(site, *id)? {
            forget(store, site, &e)?;
        }
    }
    Ok(ids.len())
}
