//! Versions of objects (`@history`): a copy of the fields is kept at creation
//! and at every edit of a versioned type, in the same transaction as the edit;
//! any version can be shown or restored.

use cairn_model::ContentPath;
use cairn_model::time::format_ts;
use jiff::Timestamp;
use serde_json::{Map, Value};

use super::read::get_visible;
use crate::content::Content;
use crate::error::{CoreError, CoreResult};
use crate::ports::{ChangeEvent, VersionRecord, WriteBatch, WriteOp};
use crate::security::{Principal, can_modify};
use crate::site::Site;

/// Whether `c` keeps versions (the plone.versioning behavior, not switched off).
pub fn versioned(site: &Site, c: &Content) -> bool {
    let has = site
        .types()
        .get(&c.portal_type)
        .is_some_and(|t| t.has_behavior("plone.versioning"));
    has && c.fields.get("versioning_enabled").and_then(Value::as_bool) != Some(false)
}

/// The schema fields of `c` (internal `_` keys stay out of versions).
fn schema_fields(c: &Content) -> Map<String, Value> {
    c.fields
        .iter()
        .filter(|(k, _)| !k.starts_with('_'))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The op keeping the next version of `c`, if its type is versioned.
pub fn snapshot(site: &Site, c: &Content, who: &Principal, comment: &str) -> CoreResult<Option<WriteOp>> {
    if !versioned(site, c) {
        return Ok(None);
    }
    let next = site.store.last_version(&site.id, &c.uid)?.map_or(0, |v| v + 1);
    Ok(snapshot_at(site, c, who, comment, next))
}

/// [`snapshot`] when the caller knows the version number (0 for an object
/// that was never stored).
pub(super) fn snapshot_at(site: &Site, c: &Content, who: &Principal, comment: &str, version: i64) -> Option<WriteOp> {
    versioned(site, c).then(|| {
        WriteOp::AddVersion(Box::new(VersionRecord {
            uid: c.uid.clone(),
            version,
            actor: who.id.clone().unwrap_or_default(),
            time: format_ts(Timestamp::now()),
            comment: comment.to_string(),
            fields: schema_fields(c),
        }))
    })
}

/// Seeing old versions is its own permission: they may hold text that was
/// removed on purpose, and the names and notes of those who edited.
pub const ACCESS_VERSIONS: &str = "CMFEditions: Access previous versions";

/// Every version of the object at `path`, for readers with [`ACCESS_VERSIONS`].
pub fn versions(site: &Site, path: &ContentPath, who: &Principal) -> CoreResult<(Content, Vec<VersionRecord>)> {
    let c = get_visible(site, path, who)?;
    if !crate::security::Access::of(site, who, &c)?.has(&c, ACCESS_VERSIONS) {
        let why = "You are not allowed to see the history of this object".to_string();
        return Err(if who.is_anonymous() {
            CoreError::Unauthorized(why)
        } else {
            CoreError::Forbidden(why)
        });
    }
    let v = site.store.versions(&site.id, &c.uid)?;
    Ok((c, v))
}

/// The object at `path` as it was at version `n`.
pub fn at_version(site: &Site, path: &ContentPath, n: i64, who: &Principal) -> CoreResult<Content> {
    let (c, all) = versions(site, path, who)?;
    let v = all.into_iter().find(|v| v.version == n).ok_or(CoreError::NotFound)?;
    let mut old = c;
    let internal: Map<String, Value> = old
        .fields
        .iter()
        .filter(|(k, _)| k.starts_with('_'))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    old.fields = v.fields;
    old.fields.extend(internal);
    Ok(old)
}

/// Restores version `n` of the object at `path` as a new edit.
pub fn revert(site: &Site, path: &ContentPath, n: i64, who: &Principal) -> CoreResult<Content> {
    let current = get_visible(site, path, who)?;
    if who.is_anonymous() {
        return Err(CoreError::Unauthorized(
            "You are not allowed to revert this object".into(),
        ));
    }
    if !can_modify(site, who, &current)? {
        return Err(CoreError::Forbidden("You are not allowed to revert this object".into()));
    }
    let old = at_version(site, path, n, who)?;
    let mut next = old;
    next.modified = Timestamp::now();
    next.version = current.version + 1;
    next.review_state = current.review_state.clone();
    next.allowed = current.allowed.clone();
    next.layout = current.layout.clone();
    let mut batch = WriteBatch::default();
    batch.ops.push(WriteOp::Update {
        content: Box::new(next.clone()),
        expected: current.version,
    });
    batch
        .ops
        .extend(snapshot(site, &next, who, &format!("Reverted to revision {n}"))?);
    batch.events.push(ChangeEvent {
        kind: "modified",
        uid: next.uid.clone(),
        path: next.path.clone(),
    });
    site.write(batch)?;
    Ok(next)
}

/// One field that differs between two versions.
#[derive(Debug, Clone)]
pub struct FieldChange {
    pub field: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// The fields that differ between version `from` and version `to` (the
/// object as it is now when `None`) of the object at `path`, in the
/// order of the type's schema, for readers with [`ACCESS_VERSIONS`].
pub fn compare(
    site: &Site,
    path: &ContentPath,
    from: i64,
    to: Option<i64>,
    who: &Principal,
) -> CoreResult<(Content, Vec<FieldChange>)> {
    let (c, all) = versions(site, path, who)?;
    let fields_of = |n: i64| {
        all.iter()
            .find(|v| v.version == n)
            .map(|v| v.fields.clone())
            .ok_or_else(|| CoreError::BadRequest(format!("There is no version {n}")))
    };
    let before = fields_of(from)?;
    let after = match to {
        Some(n) => fields_of(n)?,
        None => schema_fields(&c),
    };
    let mut names: Vec<String> = site
        .types()
        .get(&c.portal_type)
        .map(|t| t.fields.iter().map(|f| f.name.clone()).collect())
        .unwrap_or_default();
    // Fields the type no longer declares still count, after the others.
    for k in before.keys().chain(after.keys()) {
        if !names.contains(k) {
            names.push(k.clone());
        }
    }
    let changes = names
        .into_iter()
        .filter(|k| before.get(k) != after.get(k))
        .map(|k| FieldChange {
            before: before.get(&k).cloned(),
            after: after.get(&k).cloned(),
            field: k,
        })
        .collect();
    Ok((c, changes))
}
