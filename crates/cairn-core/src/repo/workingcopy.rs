//! Working copies (`@workingcopy`, as plone.app.iterate): an author checks
//! out a live item, edits the copy while readers keep seeing the original,
//! then checks it in (the original takes the copy's fields in one
//! transaction, keeping its UID, URL, children, sharing and history) or
//! cancels it.
//!
//! The pair is recorded on both ends (`_working_copy` on the original,
//! `_baseline` on the copy) and only counts while the two agree, so a
//! copied, trashed or restored half is an ordinary object again. The copy
//! lives next to the original (inside it for the site root), starts in the
//! workflow's initial state (private) and holds the fields alone: a folder
//! is checked out without its children, which stay with the original.

use cairn_model::time::format_ts;
use cairn_model::{ContentId, ContentPath, Uid};
use jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::read::{get_visible, unique_id};
use crate::content::Content;
use crate::error::{CoreError, CoreResult};
use crate::ports::{ChangeEvent, WriteBatch, WriteOp};
use crate::security::{Principal, can_modify, view_filter};
use crate::site::Site;

/// plone.locking's name for the lock a check-out holds.
pub const LOCK_NAME: &str = "iterate.lock";
/// On the original: the copy's UID.
const COPY: &str = "_working_copy";
/// On the copy: `{"uid": <original>, "by": <user>, "at": <time>}`.
const BASELINE: &str = "_baseline";
/// plone.locking's timeout for locks that never lapse.
const FOREVER: u64 = 4_294_967_280;

/// Who may view a working copy whose type has no workflow (the site root,
/// a type that follows its container): the roles of a private item, since
/// the container's view would show a draft to everyone.
pub const PRIVATE_VIEW: [&str; 6] = [
    "Manager",
    "Site Administrator",
    "Owner",
    "Editor",
    "Reader",
    "Contributor",
];

/// Whether `c` carries a working copy's marker (no lookup: asked on the
/// permission path).
pub fn marked_copy(c: &Content) -> bool {
    c.fields.contains_key(BASELINE)
}

/// A checked-out item and its working copy.
#[derive(Debug, Clone)]
pub struct Pair {
    pub baseline: Content,
    pub copy: Content,
    /// Who checked it out, and when.
    pub by: String,
    pub at: Timestamp,
}

/// Whether `c` records a check-out (as original or as copy); cheap, so a
/// reader pays for [`pair_of`] only on the few objects that do.
pub fn in_pair(c: &Content) -> bool {
    c.fields.contains_key(COPY) || c.fields.contains_key(BASELINE)
}

/// The pair `c` belongs to, if both ends still point at each other.
pub fn pair_of(site: &Site, c: &Content) -> CoreResult<Option<Pair>> {
    if let Some(copy_uid) = c.fields.get(COPY).and_then(Value::as_str) {
        let Ok(uid) = Uid::parse(copy_uid) else { return Ok(None) };
        let copy = site.store.by_uids(&site.id, &[uid])?.pop();
        return Ok(copy.and_then(|copy| pair(c.clone(), copy)));
    }
    if let Some(base_uid) = c
        .fields
        .get(BASELINE)
        .and_then(|b| b.get("uid"))
        .and_then(Value::as_str)
    {
        let Ok(uid) = Uid::parse(base_uid) else { return Ok(None) };
        let baseline = site.store.by_uids(&site.id, &[uid])?.pop();
        return Ok(baseline.and_then(|b| pair(b, c.clone())));
    }
    Ok(None)
}

fn pair(baseline: Content, copy: Content) -> Option<Pair> {
    let info = copy.fields.get(BASELINE)?;
    let agree = baseline.fields.get(COPY).and_then(Value::as_str) == Some(copy.uid.as_str())
        && info.get("uid").and_then(Value::as_str) == Some(baseline.uid.as_str());
    if !agree {
        return None;
    }
    let by = info.get("by").and_then(Value::as_str).unwrap_or_default().to_string();
    let at = info
        .get("at")
        .and_then(Value::as_str)
        .and_then(|t| t.parse().ok())
        .unwrap_or(copy.created);
    Some(Pair { baseline, copy, by, at })
}

/// Whether `c` is the working copy of a checked-out item.
pub fn is_working_copy(site: &Site, c: &Content) -> CoreResult<bool> {
    Ok(c.fields.contains_key(BASELINE) && pair_of(site, c)?.is_some_and(|p| p.copy.uid == c.uid))
}

/// Refuses to put content inside a working copy: check-in takes its fields,
/// not children, so anything added there would be lost.
pub fn refuse_children(site: &Site, container: &Content) -> CoreResult<()> {
    if is_working_copy(site, container)? {
        return Err(CoreError::BadRequest(format!(
            "{} is a working copy: add content to the original instead",
            container.path
        )));
    }
    Ok(())
}

/// Checks out the item at `path`; returns the working copy.
pub fn check_out(site: &Site, path: &ContentPath, who: &Principal) -> CoreResult<Content> {
    let baseline = get_visible(site, path, who)?;
    require_modify(site, who, &baseline, "check out")?;
    if let Some(p) = pair_of(site, &baseline)? {
        return Err(if p.copy.uid == baseline.uid {
            CoreError::BadRequest("A working copy cannot be checked out".into())
        } else {
            CoreError::Conflict(format!("This item is already checked out: {}", p.copy.path))
        });
    }
    if let Some(l) = super::lock::current(&baseline)
        && who.id.as_deref() != Some(l.creator.as_str())
    {
        return Err(CoreError::Forbidden("Resource is locked.".into()));
    }
    // Next to the original; the root's copy lives inside the root.
    let container_path = baseline.path.parent().unwrap_or_else(ContentPath::root);
    let container = super::read::get(site, &container_path)?;
    let name = if baseline.is_root() {
        site.id.as_str()
    } else {
        baseline.id()
    };
    let wanted = ContentId::parse(&format!("copy_of_{name}")).map_err(|e| CoreError::BadRequest(e.to_string()))?;
    let id = unique_id(site, &container_path, &wanted)?;
    let now = Timestamp::now();
    let me = who.id.clone().unwrap_or_default();
    let position = site.store.next_position(&site.id, &container_path)?;
    let at = container_path.child(&id);
    let mut placed = super::replant::replant(
        site,
        vec![baseline.clone()],
        &baseline.path,
        &container,
        &at,
        position,
        |_, next| {
            next.uid = Uid::new();
            next.created = now;
            next.modified = now;
            next.version = 1;
            next.review_state = site.workflow_for(&next.portal_type).map(|wf| wf.initial_state.clone());
            for internal in ["_workflow_history", super::lock::FIELD, COPY] {
                next.fields.remove(internal);
            }
            crate::security::set_owner(&mut next.fields, &me);
            next.fields.insert(
                BASELINE.into(),
                json!({"uid": baseline.uid.as_str(), "by": me, "at": format_ts(now)}),
            );
        },
    )?;
    let (_, copy) = placed
        .pop()
        .ok_or_else(|| CoreError::Internal("the working copy was not placed".into()))?;
    let mut locked = baseline.clone();
    locked.fields.insert(COPY.into(), json!(copy.uid.as_str()));
    locked.fields.insert(
        super::lock::FIELD.into(),
        json!({
            "token": format!("{}:{}", crate::bootstrap::random_secret(18), now.as_second()),
            "creator": me,
            "created": format_ts(now),
            "timeout": FOREVER,
            "stealable": false,
            "name": LOCK_NAME,
        }),
    );
    locked.version = baseline.version + 1;
    site.write(WriteBatch {
        ops: vec![
            WriteOp::Update {
                content: Box::new(locked),
                expected: baseline.version,
            },
            WriteOp::Insert(Box::new(copy.clone())),
        ],
        events: vec![event("lock_changed", &baseline), event("added", &copy)],
        ..Default::default()
    })?;
    Ok(copy)
}

/// Checks in the pair that the item at `path` (original or copy) belongs
/// to: the original takes the copy's fields and gains a version, the copy
/// goes. Returns the original as it now is.
pub fn check_in(site: &Site, path: &ContentPath, who: &Principal, message: &str) -> CoreResult<Content> {
    let p = pair_at(site, path, who)?;
    require_modify(site, who, &p.baseline, "check in")?;
    let mut next = p.baseline.clone();
    next.fields.retain(|k, _| k.starts_with('_'));
    next.fields.extend(schema_fields(&p.copy.fields));
    // Named relations are edited on the copy like its fields.
    match p.copy.fields.get(super::links::FREE) {
        Some(free) => next.fields.insert(super::links::FREE.into(), free.clone()),
        None => next.fields.remove(super::links::FREE),
    };
    unlock(&mut next);
    next.layout = p.copy.layout.clone();
    next.modified = Timestamp::now().max(p.baseline.modified);
    next.version = p.baseline.version + 1;
    let comment = if message.is_empty() { "Checked in" } else { message };
    let in_nav = ["title", "exclude_from_nav"]
        .iter()
        .any(|f| next.fields.get(*f) != p.baseline.fields.get(*f));
    let mut batch = release(&p, next.clone());
    batch.ops.extend(super::history::snapshot(site, &next, who, comment)?);
    batch.events[0].kind = if in_nav {
        crate::caching::MODIFIED_IN_NAV
    } else {
        "modified"
    };
    site.write(batch)?;
    Ok(next)
}

/// Cancels the check-out the item at `path` belongs to: the copy goes and
/// the original is unlocked, unchanged. Returns the original.
pub fn cancel(site: &Site, path: &ContentPath, who: &Principal) -> CoreResult<Content> {
    let p = pair_at(site, path, who)?;
    if !can_modify(site, who, &p.copy)? {
        require_modify(site, who, &p.baseline, "cancel the check-out of")?;
    }
    let mut next = p.baseline.clone();
    unlock(&mut next);
    next.version = p.baseline.version + 1;
    site.write(release(&p, next.clone()))?;
    Ok(next)
}

/// The original, unlocked as `next`, and the copy erased (with its versions).
fn release(p: &Pair, next: Content) -> WriteBatch {
    WriteBatch {
        ops: vec![
            WriteOp::Update {
                content: Box::new(next),
                expected: p.baseline.version,
            },
            WriteOp::DeleteSubtree(p.copy.path.clone()),
            WriteOp::ForgetVersions(vec![p.copy.uid.clone()]),
        ],
        events: vec![event("lock_changed", &p.baseline), event("removed", &p.copy)],
        ..Default::default()
    }
}

/// For a subtree leaving the site another way (to the trash): the
/// originals of working copies in `removed` whose original stays are
/// unlocked (the writes to add to the same batch), and those copies become
/// ordinary objects.
pub fn released_by_removal(site: &Site, removed: &mut [Content]) -> CoreResult<WriteBatch> {
    let mut batch = WriteBatch::default();
    let uids: Vec<Uid> = removed.iter().map(|c| c.uid.clone()).collect();
    for c in removed.iter_mut().filter(|c| c.fields.contains_key(BASELINE)) {
        let Some(p) = pair_of(site, c)? else { continue };
        if p.copy.uid != c.uid || uids.contains(&p.baseline.uid) {
            continue;
        }
        let mut next = p.baseline.clone();
        unlock(&mut next);
        next.version = p.baseline.version + 1;
        forget_pair(&mut c.fields);
        batch.update(&p.baseline, next, "lock_changed");
    }
    Ok(batch)
}

/// The original's fields without the check-out: no pair, no iterate lock.
fn unlock(original: &mut Content) {
    original.fields.remove(COPY);
    original.fields.remove(super::lock::FIELD);
}

/// Drops the pair markers from objects leaving the pair another way (a
/// copy of either half, an entry of the trash).
pub fn forget_pair(fields: &mut Map<String, Value>) {
    fields.remove(COPY);
    fields.remove(BASELINE);
}

/// The pair of the item at `path`, for a reader who may see the item.
pub fn pair_at(site: &Site, path: &ContentPath, who: &Principal) -> CoreResult<Pair> {
    let c = get_visible(site, path, who)?;
    let p = pair_of(site, &c)?.ok_or_else(|| CoreError::BadRequest(format!("{path} is not checked out")))?;
    // Both ends must be visible to act on them.
    if !view_filter(site, who).allows(&p.copy) || !view_filter(site, who).allows(&p.baseline) {
        return Err(CoreError::Unauthorized(
            "You are not allowed to access this resource".into(),
        ));
    }
    Ok(p)
}

fn require_modify(site: &Site, who: &Principal, c: &Content, what: &str) -> CoreResult<()> {
    if who.is_anonymous() {
        return Err(CoreError::Unauthorized(format!(
            "You are not allowed to {what} this item"
        )));
    }
    if !can_modify(site, who, c)? {
        return Err(CoreError::Forbidden(format!("You are not allowed to {what} this item")));
    }
    Ok(())
}

fn schema_fields(fields: &Map<String, Value>) -> impl Iterator<Item = (String, Value)> + '_ {
    fields
        .iter()
        .filter(|(k, _)| !k.starts_with('_'))
        .map(|(k, v)| (k.clone(), v.clone()))
}

fn event(kind: &'static str, c: &Content) -> ChangeEvent {
    ChangeEvent {
        kind,
        uid: c.uid.clone(),
        path: c.path.clone(),
    }
}
