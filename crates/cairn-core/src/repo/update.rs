//! Partial updates (PATCH) and deletion of objects.

use cairn_model::{ContentId, ContentPath};
use jiff::Timestamp;
use serde_json::{Map, Value};

use super::fields;
use super::order::{self, Ordering, SortSpec};
use super::read::get_visible;
use crate::content::Content;
use crate::error::{CoreError, CoreResult, FieldError};
use crate::ports::{ChangeEvent, WriteBatch, WriteOp};
use crate::security::{Principal, can_modify};
use crate::site::Site;

/// Applies `body` to the object at `path`: field values, `layout`, and the
/// container keys `ordering` / `sort`. Everything commits in one batch.
/// `lock_token` is the client's `Lock-Token` header: needed while someone else
/// holds the object's lock.
pub fn update(
    site: &Site,
    path: &ContentPath,
    body: &Map<String, Value>,
    who: &Principal,
    lock_token: Option<&str>,
) -> CoreResult<Content> {
    let current = get_visible(site, path, who)?;
    if who.is_anonymous() {
        return Err(CoreError::Unauthorized(
            "You are not allowed to modify this resource".into(),
        ));
    }
    if !can_modify(site, who, &current)? {
        return Err(CoreError::Forbidden(
            "You are not allowed to modify this resource".into(),
        ));
    }
    super::lock::check_unlocked(&current, who, lock_token)?;
    let types = site.types();
    let ty = types
        .get(&current.portal_type)
        .ok_or_else(|| CoreError::Internal(format!("type {} is not registered", current.portal_type)))?;
    let mut next = current.clone();
    // Dropped on every early return below: uploads of a failed edit go.
    let mut uploads = site.uploads.begin();
    fields::apply(site, ty, body, &mut next.fields, false, &mut uploads)?;
    // Editing the byline (`creators`) never hands over ownership.
    if let Some(owner) = crate::security::owner(&current) {
        crate::security::set_owner(&mut next.fields, &owner);
    }
    if let Some(layout) = body.get("layout") {
        let l = layout
            .as_str()
            .ok_or_else(|| CoreError::BadRequest("layout must be a string".into()))?;
        next.layout = Some(l.to_string());
    }
    let mut batch = WriteBatch::default();
    if let Some(new_id) = renamed_to(site, &current, body)? {
        let to = current
            .path
            .parent()
            .map(|p| p.child(&new_id))
            .unwrap_or_else(ContentPath::root);
        batch.ops.push(WriteOp::Move {
            from: current.path.clone(),
            to: to.clone(),
        });
        batch.ops.extend(super::aliases::on_move(&current.path, &to));
        batch.events.push(ChangeEvent {
            kind: "moved",
            uid: current.uid.clone(),
            path: current.path.clone(),
        });
        next.path = to;
    }
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
    // Navigation shows titles, hides excluded items and follows the order.
    let in_nav = ["title", "exclude_from_nav"]
        .iter()
        .any(|f| next.fields.get(*f) != current.fields.get(*f))
        || body.contains_key("ordering")
        || body.contains_key("sort");
    batch.events.push(ChangeEvent {
        kind: if in_nav {
            crate::caching::MODIFIED_IN_NAV
        } else {
            "modified"
        },
        uid: next.uid.clone(),
        path: next.path.clone(),
    });
    // plone.versioning's change note becomes the version's comment; it is never stored.
    let note = body.get("changeNote").and_then(Value::as_str).unwrap_or("");
    batch.ops.extend(super::history::snapshot(site, &next, who, note)?);
    site.write(batch)?;
    uploads.commit();
    Ok(next)
}

/// The new id when `body` renames the object (Volto's rename sends `id` in a PATCH).
fn renamed_to(site: &Site, current: &Content, body: &Map<String, Value>) -> CoreResult<Option<ContentId>> {
    let Some(raw) = body.get("id").and_then(Value::as_str) else {
        return Ok(None);
    };
    if raw == current.id() || current.is_root() {
        return Ok(None);
    }
    let id = ContentId::parse(raw).map_err(|e| CoreError::Validation(vec![FieldError::new("id", e.to_string())]))?;
    let parent = current.path.parent().unwrap_or_else(ContentPath::root);
    if site.store.by_path(&site.id, &parent.child(&id))?.is_some() {
        return Err(CoreError::Validation(vec![FieldError::new(
            "id",
            format!("The id \"{id}\" is already in use."),
        )]));
    }
    Ok(Some(id))
}

/// Deletes the object at `path` with everything inside it: into the trash.
pub fn delete(site: &Site, path: &ContentPath, who: &Principal, lock_token: Option<&str>) -> CoreResult<()> {
    super::trash::trash(site, path, who, lock_token)
}
