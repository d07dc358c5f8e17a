//! Edit locks (`@lock`): who is editing an object, until when, and whether
//! others may take the lock over. A lock lapses after its timeout.

use cairn_model::ContentPath;
use cairn_model::time::format_ts;
use jiff::Timestamp;
use serde_json::{Value, json};

use super::read::get_visible;
use crate::content::Content;
use crate::error::{CoreError, CoreResult};
use crate::ports::{ChangeEvent, WriteBatch, WriteOp};
use crate::security::{Principal, can_modify};
use crate::site::Site;

pub(super) const FIELD: &str = "_lock";
/// The name of an ordinary edit lock.
const STEALABLE: &str = "plone.locking.stealable";
/// Plone's default lock timeout.
pub const DEFAULT_TIMEOUT: u64 = 600;
/// Longest lock a client may ask for (a day).
const MAX_TIMEOUT: u64 = 86_400;

/// A lock in force.
#[derive(Debug, Clone)]
pub struct Lock {
    pub token: String,
    pub creator: String,
    pub created: Timestamp,
    pub timeout: u64,
    pub stealable: bool,
    /// plone.locking's lock type: `plone.locking.stealable`, or
    /// `iterate.lock` while a working copy is checked out.
    pub name: String,
}

impl Lock {
    /// Held by a check-out: nobody edits the original, not even the one
    /// who checked it out; check-in or cancel releases it.
    pub fn is_checkout(&self) -> bool {
        self.name == super::workingcopy::LOCK_NAME
    }
}

/// Why a checked-out original refuses edits.
pub const CHECKED_OUT: &str = "This item is checked out: edit its working copy, then check it in or cancel it.";

/// The lock on `c`, if one is in force now.
pub fn current(c: &Content) -> Option<Lock> {
    let v = c.fields.get(FIELD)?;
    let created: Timestamp = v.get("created")?.as_str()?.parse().ok()?;
    let timeout = v.get("timeout")?.as_u64()?;
    if Timestamp::now().as_second() > created.as_second() + timeout as i64 {
        return None;
    }
    Some(Lock {
        token: v.get("token")?.as_str()?.to_string(),
        creator: v.get("creator")?.as_str()?.to_string(),
        created,
        timeout,
        stealable: v.get("stealable").and_then(Value::as_bool).unwrap_or(true),
        name: v.get("name").and_then(Value::as_str).unwrap_or(STEALABLE).to_string(),
    })
}

/// The lock on `c` as `who` may see it.
#[derive(Debug, Clone)]
pub struct LockView {
    pub lock: Lock,
    /// Who holds the lock may be shown: to those who may edit `c`, whom the
    /// lock keeps out and who must know whom to ask (plone.restapi shows it
    /// to every viewer; an editor's name is no part of the published page).
    pub holder_visible: bool,
    /// `who` holds the lock, so its token is theirs to see.
    pub own: bool,
}

/// The lock in force on `c`, with what of it `who` may see.
pub fn seen_by(site: &Site, c: &Content, who: &Principal) -> CoreResult<Option<LockView>> {
    let Some(lock) = current(c) else {
        return Ok(None);
    };
    let own = who.id.as_deref() == Some(lock.creator.as_str());
    let holder_visible = own || can_modify(site, who, c)?;
    Ok(Some(LockView {
        lock,
        holder_visible,
        own,
    }))
}

/// Refuses a write to `c` while someone else holds its lock, unless the
/// request carries the lock's token.
pub fn check_unlocked(c: &Content, who: &Principal, token: Option<&str>) -> CoreResult<()> {
    match current(c) {
        Some(l) if l.is_checkout() => Err(CoreError::Forbidden(CHECKED_OUT.into())),
        Some(l) if who.id.as_deref() != Some(l.creator.as_str()) && token != Some(l.token.as_str()) => {
            Err(CoreError::Forbidden("Resource is locked.".into()))
        }
        _ => Ok(()),
    }
}

fn save(site: &Site, current: &Content, lock: Option<Value>) -> CoreResult<Content> {
    let mut next = current.clone();
    match lock {
        Some(v) => next.fields.insert(FIELD.into(), v),
        None => next.fields.remove(FIELD),
    };
    next.version = current.version + 1;
    let batch = WriteBatch {
        ops: vec![WriteOp::Update {
            content: Box::new(next.clone()),
            expected: current.version,
        }],
        events: vec![ChangeEvent {
            kind: "lock_changed",
            uid: next.uid.clone(),
            path: next.path.clone(),
        }],
        ..Default::default()
    };
    site.write(batch)?;
    Ok(next)
}

fn editable(site: &Site, path: &ContentPath, who: &Principal) -> CoreResult<Content> {
    let c = get_visible(site, path, who)?;
    if who.is_anonymous() {
        return Err(CoreError::Unauthorized(
            "You are not allowed to lock this object".into(),
        ));
    }
    if !can_modify(site, who, &c)? {
        return Err(CoreError::Forbidden("You are not allowed to lock this object".into()));
    }
    Ok(c)
}

/// Locks (or, for the holder, renews) the object at `path`.
pub fn lock(
    site: &Site,
    path: &ContentPath,
    who: &Principal,
    stealable: bool,
    timeout: Option<u64>,
) -> CoreResult<Content> {
    let c = editable(site, path, who)?;
    let me = who.id.clone().unwrap_or_default();
    let token = match current(&c) {
        Some(l) if l.is_checkout() => return Err(CoreError::Forbidden(CHECKED_OUT.into())),
        Some(l) if l.creator != me => return Err(CoreError::Forbidden("Resource is locked.".into())),
        Some(l) => l.token,
        None => format!(
            "{}:{}",
            crate::bootstrap::random_secret(18),
            Timestamp::now().as_second()
        ),
    };
    let timeout = timeout.unwrap_or(DEFAULT_TIMEOUT).clamp(1, MAX_TIMEOUT);
    let v = json!({"token": token, "creator": me, "created": format_ts(Timestamp::now()), "timeout": timeout, "stealable": stealable});
    save(site, &c, Some(v))
}

/// Renews the holder's lock.
pub fn refresh(site: &Site, path: &ContentPath, who: &Principal) -> CoreResult<Content> {
    let c = editable(site, path, who)?;
    match current(&c) {
        Some(l) if who.id.as_deref() == Some(l.creator.as_str()) => lock(site, path, who, l.stealable, Some(l.timeout)),
        Some(_) => Err(CoreError::Forbidden("Resource is locked.".into())),
        None => Err(CoreError::BadRequest("The object is not locked".into())),
    }
}

/// Removes the lock: the holder's own, or with `force` a stealable one (any
/// lock for Managers).
pub fn unlock(site: &Site, path: &ContentPath, who: &Principal, force: bool) -> CoreResult<Content> {
    let c = editable(site, path, who)?;
    match current(&c) {
        None => Ok(c),
        Some(l) if l.is_checkout() => Err(CoreError::Forbidden(CHECKED_OUT.into())),
        Some(l) if who.id.as_deref() == Some(l.creator.as_str()) => save(site, &c, None),
        Some(l) if force && (l.stealable || who.has_role("Manager")) => save(site, &c, None),
        Some(_) => Err(CoreError::Forbidden("Resource is locked.".into())),
    }
}
