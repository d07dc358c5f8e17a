//! Partial updates (PATCH) and deletion of objects.

use cairn_model::ContentPath;
use jiff::Timestamp;
use serde_json::{Map, Value};

use super::fields;
use super::order::{self, Ordering, SortSpec};
use super::read::get_visible;
use crate::content::Content;
use crate::error::{CoreError, CoreResult};
use crate::ports::{ChangeEvent, WriteBatch, WriteOp};
use crate::security::Principal;
use crate::site::Site;

/// Applies `body` to the object at `path`: field values, `layout`, and the
/// container keys `ordering` / `sort`. Everything commits in one batch.
pub fn update(site: &Site, path: &ContentPath, body: &Map<String, Value>, who: &Principal) -> CoreResult<Content> {
    let current = get_visible(site, path, who)?;
    if who.is_anonymous() {
        return Err(CoreError::Unauthorized(
            "You are not allowed to modify this resource".into(),
        ));
    }
    if !who.can_modify(&current) {
        return Err(CoreError::Forbidden(
            "You are not allowed to modify this resource".into(),
        ));
    }
    let ty = site
        .registry
        .get(&current.portal_type)
        .ok_or_else(|| CoreError::Internal(format!("type {} is not registered", current.portal_type)))?;
    let mut next = current.clone();
    fields::apply(site, ty, body, &mut next.fields, false)?;
    if let Some(layout) = body.get("layout") {
        let l = layout
            .as_str()
            .ok_or_else(|| CoreError::BadRequest("layout must be a string".into()))?;
        next.layout = Some(l.to_string());
    }
    let mut batch = WriteBatch::default();
    if let Some(spec) = body.get("ordering") {
        let ordering: Ordering = serde_json::from_value(spec.clone())
            .map_err(|e| CoreError::BadRequest(format!("Invalid ordering: {e}")))?;
        batch
            .ops
            .push(WriteOp::Reposition(order::reorder(site, &current, &ordering)?));
    }
    if let Some(spec) = body.get("sort") {
        let sort: SortSpec =
            serde_json::from_value(spec.clone()).map_err(|e| CoreError::BadRequest(format!("Invalid sort: {e}")))?;
        batch
            .ops
            .push(WriteOp::Reposition(order::resort(site, &current, &sort, who)?));
    }
    next.modified = Timestamp::now().max(current.modified);
    next.version = current.version + 1;
    batch.ops.insert(
        0,
        WriteOp::Update {
            content: Box::new(next.clone()),
            expected: current.version,
        },
    );
    batch.events.push(ChangeEvent {
        kind: "modified",
        uid: next.uid.clone(),
        path: next.path.clone(),
    });
    site.store.write(&site.id, batch)?;
    Ok(next)
}

/// Deletes the object at `path` with everything inside it.
pub fn delete(site: &Site, path: &ContentPath, who: &Principal) -> CoreResult<()> {
    let current = get_visible(site, path, who)?;
    if current.is_root() {
        return Err(CoreError::Forbidden("The site root cannot be deleted".into()));
    }
    if who.is_anonymous() {
        return Err(CoreError::Unauthorized(
            "You are not allowed to delete this resource".into(),
        ));
    }
    if !who.can_delete(&current) {
        return Err(CoreError::Forbidden(
            "You are not allowed to delete this resource".into(),
        ));
    }
    let batch = WriteBatch {
        ops: vec![WriteOp::DeleteSubtree(current.path.clone())],
        events: vec![ChangeEvent {
            kind: "removed",
            uid: current.uid,
            path: current.path,
        }],
    };
    site.store.write(&site.id, batch)
}
