//! Creating an object inside a container (POST on a folderish URL).

use cairn_model::{ContentId, ContentPath, Uid};
use jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::fields;
use super::read::{Taken, get_visible, unique_id_in};
use crate::blobs::Pending;
use crate::content::Content;
use crate::error::{CoreError, CoreResult};
use crate::ports::{ChangeEvent, WriteBatch, WriteOp};
use crate::security::{LocalRoles, Principal, allowed_to_view, can_add, chain, effective, effective_on_chain};
use crate::site::Site;

/// Creates an object of `body["@type"]` in the container at `parent_path`.
pub fn create(
    site: &Site,
    parent_path: &ContentPath,
    body: &Map<String, Value>,
    who: &Principal,
) -> CoreResult<Content> {
    let parent = get_visible(site, parent_path, who)?;
    // Dropped on every early return below: uploads of a failed create go.
    let mut uploads = site.uploads.begin();
    let mut draft = Draft::new(site, &parent, body, who, &mut uploads)?;
    // Created as a translation: it joins the original's group, which the
    // same transaction starts on the original if it had none.
    let mut joined = None;
    if let Some(of) = body.get("translation_of") {
        let of = of
            .as_str()
            .ok_or_else(|| CoreError::BadRequest("'translation_of' must be a UID".into()))?;
        let lang = draft.values.get("language").and_then(Value::as_str).unwrap_or_default();
        let (group, original) = super::translations::join(site, who, of, lang)?;
        draft.values.insert(super::translations::GROUP.into(), json!(group));
        joined = original.map(|o| (o, group));
    }
    let parent_local = effective_on_chain(&chain(site, &parent)?);
    let explicit = body.get("id").and_then(Value::as_str).is_some_and(|s| !s.is_empty());
    // Creates in one container take turns in this process between choosing
    // an id and committing it: several writers naming items alike would
    // otherwise all choose the same free id and all but one start over,
    // again and again (other nodes still race, and retry below).
    let _turn = container_turn(&site.id, parent_path);
    let mut attempt = 0;
    loop {
        let id = choose_id(site, parent_path, body, &draft.values, &draft.type_name, Taken::InStore)?;
        let position = site.store.next_position(&site.id, parent_path)?;
        let content = draft.place(site, &parent, &parent_local, &id, position);
        let mut batch = WriteBatch::default();
        draft.write_ops(site, content.clone(), who, &mut batch)?;
        if let Some((original, group)) = &joined {
            super::translations::set_group(&mut batch, original, Some(group));
        }
        match site.write(batch) {
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

/// A new object checked against its container and with its values
/// validated, before it has an id: what a single create and the bulk loader
/// share.
pub(super) struct Draft {
    pub type_name: String,
    uid: Uid,
    /// Whether the client chose the UID (then earlier versions may exist).
    uid_given: bool,
    pub values: Map<String, Value>,
    layout: Option<String>,
    state: Option<String>,
    folderish: bool,
}

impl Draft {
    /// Checks that `who` may add `body["@type"]` to `parent` and validates
    /// the values; uploads go through `uploads`.
    pub fn new(
        site: &Site,
        parent: &Content,
        body: &Map<String, Value>,
        who: &Principal,
        uploads: &mut Pending<'_>,
    ) -> CoreResult<Self> {
        let type_name = body
            .get("@type")
            .and_then(Value::as_str)
            .ok_or_else(|| CoreError::BadRequest("Property '@type' is required".into()))?;
        let types = site.types();
        let ty = types.get(type_name).ok_or_else(|| {
            CoreError::Forbidden(format!(
                "Invalid '@type' parameter. No content type with the name '{type_name}' found"
            ))
        })?;
        if who.is_anonymous() {
            return Err(CoreError::Unauthorized(
                "You are not allowed to add content here".into(),
            ));
        }
        if !can_add(site, who, parent, type_name)? {
            return Err(CoreError::Forbidden(format!("Cannot create {type_name}")));
        }
        super::workingcopy::refuse_children(site, parent)?;
        let types = site.types();
        let parent_ty = types.get(&parent.portal_type);
        let allowed_here = parent.is_folderish
            && match parent_ty {
                Some(pt) if pt.def.filter_content_types => pt.def.allowed_types.iter().any(|t| t == type_name),
                _ => ty.def.global_allow,
            };
        if !allowed_here {
            return Err(CoreError::Forbidden(format!("Disallowed subobject type: {type_name}")));
        }
        if !parent.path.may_have_children() {
            return Err(CoreError::BadRequest(cairn_model::IdError::TooDeep.to_string()));
        }
        let (uid, uid_given) = match body.get("UID").and_then(Value::as_str) {
            Some(_) if !who.has_role("Manager") => {
                return Err(CoreError::Forbidden(
                    "Setting UID of an object requires Manage Portal permission".into(),
                ));
            }
            Some(raw) => {
                let uid = Uid::parse(raw).map_err(|e| CoreError::BadRequest(e.to_string()))?;
                if !site.store.by_uids(&site.id, std::slice::from_ref(&uid))?.is_empty() {
                    return Err(CoreError::BadRequest(format!("The UID {uid} is already in use")));
                }
                (uid, true)
            }
            None => (Uid::new(), false),
        };

        let mut values = Map::new();
        fields::apply(site, ty, body, &mut values, true, uploads)?;
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
        Ok(Self {
            type_name: type_name.to_string(),
            uid,
            uid_given,
            values,
            layout,
            state: site.workflow_for(type_name).map(|wf| wf.initial_state.clone()),
            folderish: ty.def.folderish,
        })
    }

    /// The object at `parent/id`, with who may view it computed from the
    /// container's view permissions and local roles.
    pub fn place(
        &self,
        site: &Site,
        parent: &Content,
        parent_local: &LocalRoles,
        id: &ContentId,
        position: i64,
    ) -> Content {
        let now = Timestamp::now();
        let mut content = Content {
            uid: self.uid.clone(),
            path: parent.path.child(id),
            parent: Some(parent.uid.clone()),
            position,
            portal_type: self.type_name.clone(),
            review_state: self.state.clone(),
            is_folderish: self.folderish,
            created: now,
            modified: now,
            version: 1,
            layout: self.layout.clone(),
            fields: self.values.clone(),
            allowed: Vec::new(),
        };
        let local = effective(parent_local, &content);
        content.allowed = allowed_to_view(site, &content, &parent.allowed, &local);
        content
    }

    /// The insert, the initial version and the "added" event of `content`.
    pub fn write_ops(&self, site: &Site, content: Content, who: &Principal, batch: &mut WriteBatch) -> CoreResult<()> {
        // A new UID has no versions yet; only a client-chosen one (of an
        // object deleted earlier) may, so only then is the store asked.
        let version = if self.uid_given {
            super::history::snapshot(site, &content, who, "Initial version")?
        } else {
            super::history::snapshot_at(site, &content, who, "Initial version", 0)
        };
        batch.events.push(ChangeEvent {
            kind: "added",
            uid: content.uid.clone(),
            path: content.path.clone(),
        });
        batch.ops.push(WriteOp::Insert(Box::new(content)));
        batch.ops.extend(version);
        Ok(())
    }
}

/// Fresh ids tried when concurrent writers keep taking the chosen one.
const MAX_ID_ATTEMPTS: usize = 16;

/// The turn of creates in a container (striped: containers share 64 locks).
fn container_turn(site: &str, parent: &ContentPath) -> std::sync::MutexGuard<'static, ()> {
    use std::hash::{Hash, Hasher};
    static TURNS: [std::sync::Mutex<()>; 64] = [const { std::sync::Mutex::new(()) }; 64];
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (site, parent.as_str()).hash(&mut h);
    TURNS[(h.finish() % 64) as usize]
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The explicit id (must be free), else one made from the title or file name.
pub(super) fn choose_id(
    site: &Site,
    parent: &ContentPath,
    body: &Map<String, Value>,
    values: &Map<String, Value>,
    type_name: &str,
    taken: Taken<'_>,
) -> CoreResult<ContentId> {
    if let Some(raw) = body.get("id").and_then(Value::as_str).filter(|s| !s.is_empty()) {
        let id = ContentId::parse(raw).map_err(|e| CoreError::BadRequest(e.to_string()))?;
        if taken.holds(site, parent, &id)? {
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
    unique_id_in(site, parent, &base, taken)
}
