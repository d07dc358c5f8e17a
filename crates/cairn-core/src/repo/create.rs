//! Creating an object inside a container (POST on a folderish URL).

use cairn_model::{ContentId, ContentPath, Uid};
use jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::fields;
use super::read::{get_visible, unique_id};
use crate::content::Content;
use crate::error::{CoreError, CoreResult};
use crate::ports::{ChangeEvent, WriteBatch, WriteOp};
use crate::security::{Principal, allowed_to_view, can_add, chain, effective, effective_on_chain};
use crate::site::Site;

/// Creates an object of `body["@type"]` in the container at `parent_path`.
pub fn create(
    site: &Site,
    parent_path: &ContentPath,
    body: &Map<String, Value>,
    who: &Principal,
) -> CoreResult<Content> {
    let parent = get_visible(site, parent_path, who)?;
    let type_name = body
        .get("@type")
        .and_then(Value::as_str)
        .ok_or_else(|| CoreError::BadRequest("Property '@type' is required".into()))?;
    let ty = site.registry.get(type_name).ok_or_else(|| {
        CoreError::Forbidden(format!(
            "Invalid '@type' parameter. No content type with the name '{type_name}' found"
        ))
    })?;
    if who.is_anonymous() {
        return Err(CoreError::Unauthorized(
            "You are not allowed to add content here".into(),
        ));
    }
    if !can_add(site, who, &parent, type_name)? {
        return Err(CoreError::Forbidden(format!("Cannot create {type_name}")));
    }
    let parent_ty = site.registry.get(&parent.portal_type);
    let allowed_here = parent.is_folderish
        && match parent_ty {
            Some(pt) if pt.def.filter_content_types => pt.def.allowed_types.iter().any(|t| t == type_name),
            _ => ty.def.global_allow,
        };
    if !allowed_here {
        return Err(CoreError::Forbidden(format!("Disallowed subobject type: {type_name}")));
    }
    if !parent_path.may_have_children() {
        return Err(CoreError::BadRequest(cairn_model::IdError::TooDeep.to_string()));
    }
    let uid = match body.get("UID").and_then(Value::as_str) {
        Some(raw) if !who.has_role("Manager") => {
            let _ = raw;
            return Err(CoreError::Forbidden(
                "Setting UID of an object requires Manage Portal permission".into(),
            ));
        }
        Some(raw) => {
            let uid = Uid::parse(raw).map_err(|e| CoreError::BadRequest(e.to_string()))?;
            if !site.store.by_uids(&site.id, std::slice::from_ref(&uid))?.is_empty() {
                return Err(CoreError::BadRequest(format!("The UID {uid} is already in use")));
            }
            uid
        }
        None => Uid::new(),
    };

    let mut values = Map::new();
    // Dropped on every early return below: uploads of a failed create go.
    let mut uploads = site.uploads.begin();
    fields::apply(site, ty, body, &mut values, true, &mut uploads)?;

    let creator = who.id.clone().unwrap_or_default();
    if !values.contains_key("creators") || values["creators"].as_array().is_some_and(|a| a.is_empty()) {
        values.insert("creators".into(), json!([creator]));
    }
    // The creator owns what they create; an administrator may create on
    // someone's behalf by naming them first among the creators.
    let owner = match values["creators"].get(0).and_then(Value::as_str) {
        Some(first) if who.is_admin() => first.to_string(),
        _ => creator.clone(),
    };
    crate::security::set_owner(&mut values, &owner);
    let layout = match body.get("layout").and_then(Value::as_str) {
        Some(l) => Some(l.to_string()),
        None => Some(ty.def.default_view.clone()),
    };
    let state = site.workflow_for(type_name).map(|wf| wf.initial_state.clone());
    let explicit = body.get("id").and_then(Value::as_str).is_some_and(|s| !s.is_empty());
    let mut attempt = 0;
    loop {
        let id = choose_id(site, parent_path, body, &values, type_name)?;
        let now = Timestamp::now();
        let path = parent_path.child(&id);
        let position = site.store.next_position(&site.id, parent_path)?;
        let mut content = Content {
            uid: uid.clone(),
            path: path.clone(),
            parent: Some(parent.uid.clone()),
            position,
            portal_type: type_name.to_string(),
            review_state: state.clone(),
            is_folderish: ty.def.folderish,
            created: now,
            modified: now,
            version: 1,
            layout: layout.clone(),
            fields: values.clone(),
            allowed: Vec::new(),
        };
        let local = effective(&effective_on_chain(&chain(site, &parent)?), &content);
        content.allowed = allowed_to_view(site, &content, &parent.allowed, &local);
        let mut batch = WriteBatch {
            ops: vec![WriteOp::Insert(Box::new(content.clone()))],
            events: vec![ChangeEvent {
                kind: "added",
                uid: uid.clone(),
                path,
            }],
        };
        batch
            .ops
            .extend(super::history::snapshot(site, &content, who, "Initial version")?);
        match site.store.write(&site.id, batch) {
            Ok(()) => {
                uploads.commit();
                return Ok(content);
            }
            // Another writer took the chosen id between the check and the
            // insert: choose again, as Plone's name chooser would have.
            Err(CoreError::Conflict(_)) if !explicit && attempt < MAX_ID_ATTEMPTS => attempt += 1,
            Err(CoreError::Conflict(_)) if explicit => {
                return Err(CoreError::BadRequest(format!(
                    "The id \"{id}\" is invalid - it is already in use."
                )));
            }
            Err(e) => return Err(e),
        }
    }
}

/// Fresh ids tried when concurrent writers keep taking the chosen one.
const MAX_ID_ATTEMPTS: usize = 16;

/// The explicit id (must be free), else one made from the title or file name.
fn choose_id(
    site: &Site,
    parent: &ContentPath,
    body: &Map<String, Value>,
    values: &Map<String, Value>,
    type_name: &str,
) -> CoreResult<ContentId> {
    if let Some(raw) = body.get("id").and_then(Value::as_str).filter(|s| !s.is_empty()) {
        let id = ContentId::parse(raw).map_err(|e| CoreError::BadRequest(e.to_string()))?;
        if site.store.by_path(&site.id, &parent.child(&id))?.is_some() {
            return Err(CoreError::BadRequest(format!(
                "The id \"{id}\" is invalid - it is already in use."
            )));
        }
        return Ok(id);
    }
    let from_file = ["file", "image"]
        .iter()
        .find_map(|f| values.get(*f).and_then(|v| v.get("filename")).and_then(Value::as_str))
        .filter(|s| !s.is_empty());
    let base = values
        .get("title")
        .and_then(Value::as_str)
        .filter(|t| !t.trim().is_empty())
        .and_then(ContentId::from_title)
        .or_else(|| from_file.and_then(ContentId::from_title))
        .or_else(|| ContentId::from_title(type_name))
        .ok_or_else(|| CoreError::BadRequest("Could not choose an id for the new object".into()))?;
    unique_id(site, parent, &base)
}
