//! Workflow transitions, driven by the declarative workflow definitions:
//! guards, the new state, effective dates, history, and the view permissions
//! of the whole subtree recomputed in the same transaction.

use std::collections::HashMap;

use cairn_model::ContentPath;
use cairn_model::time::format_ts;
use jiff::Timestamp;
use serde_json::{Value, json};

use super::read::get_visible;
use crate::content::Content;
use crate::error::{CoreError, CoreResult};
use crate::ports::{ChangeEvent, ViewFilter, WriteBatch, WriteOp};
use crate::security::{Principal, allowed_to_view, has_permission, roles_on};
use crate::site::Site;

/// Title of a state of `c`'s workflow (the id when unknown).
pub fn state_title(site: &Site, c: &Content, state: &str) -> String {
    site.workflow_for(&c.portal_type)
        .and_then(|wf| wf.state(state))
        .map_or_else(|| state.to_string(), |s| s.title.clone())
}

fn may_fire(site: &Site, who: &Principal, c: &Content, t: &cairn_model::workflow::TransitionDef) -> bool {
    if who.is_anonymous() {
        return false;
    }
    let by_permission = t
        .guard_permission
        .as_deref()
        .is_none_or(|p| has_permission(site, who, c, p));
    let by_role = t.guard_roles.is_empty() || roles_on(who, c).iter().any(|r| t.guard_roles.contains(r));
    by_permission && by_role
}

/// Transitions `who` may fire on `c` now: `(id, title)`.
pub fn available(site: &Site, c: &Content, who: &Principal) -> Vec<(String, String)> {
    let (Some(wf), Some(state)) = (site.workflow_for(&c.portal_type), c.review_state.as_deref()) else {
        return Vec::new();
    };
    wf.transitions
        .iter()
        .filter(|t| t.from.iter().any(|f| f == state) && may_fire(site, who, c, t))
        .map(|t| (t.id.clone(), t.title.clone()))
        .collect()
}

/// Fires `transition` on the object at `path` (and with `include_children` on
/// every descendant where it is available), recomputing who may view the whole
/// subtree in the same transaction. Returns the new history entry.
pub fn transition(
    site: &Site,
    path: &ContentPath,
    transition: &str,
    comment: &str,
    include_children: bool,
    who: &Principal,
) -> CoreResult<Value> {
    let c = get_visible(site, path, who)?;
    let fire = |obj: &Content| -> Option<String> {
        let wf = site.workflow_for(&obj.portal_type)?;
        let t = wf.transition(transition)?;
        let state = obj.review_state.as_deref()?;
        (t.from.iter().any(|f| f == state) && may_fire(site, who, obj, t)).then(|| t.to.clone())
    };
    let Some(to) = fire(&c) else {
        return Err(CoreError::BadRequest(format!(
            "Invalid transition '{transition}' for this object"
        )));
    };
    let now = Timestamp::now();
    let entry = json!({
        "action": transition,
        "actor": who.id.clone().unwrap_or_default(),
        "comments": comment,
        "review_state": to,
        "time": format_ts(now),
        "title": state_title(site, &c, &to),
    });
    let mut subtree = vec![c.clone()];
    subtree.extend(
        site.store
            .tree(&site.id, &c.path, 1000, &[], &ViewFilter::unrestricted())?,
    );
    let parent_allowed = match c.path.parent() {
        Some(p) => site.store.by_path(&site.id, &p)?.map(|p| p.allowed).unwrap_or_default(),
        None => Vec::new(),
    };
    let mut batch = WriteBatch::default();
    let mut allowed_by_path: HashMap<ContentPath, Vec<String>> = HashMap::new();
    // Rows come parents first (ordered by depth), so each child inherits the
    // freshly computed set of its container.
    for (i, obj) in subtree.into_iter().enumerate() {
        let mut next = obj.clone();
        let target = if i == 0 || include_children { fire(&obj) } else { None };
        if let Some(to) = &target {
            apply_state(site, &mut next, to, &entry, now);
        }
        let container = next.path.parent().and_then(|p| allowed_by_path.get(&p).cloned());
        next.allowed = allowed_to_view(site, &next, container.as_deref().unwrap_or(&parent_allowed));
        allowed_by_path.insert(next.path.clone(), next.allowed.clone());
        if target.is_some() || next.allowed != obj.allowed {
            next.version = obj.version + 1;
            batch.events.push(ChangeEvent {
                kind: "state_changed",
                uid: next.uid.clone(),
                path: next.path.clone(),
            });
            batch.ops.push(WriteOp::Update {
                content: Box::new(next),
                expected: obj.version,
            });
        }
    }
    site.store.write(&site.id, batch)?;
    Ok(entry)
}

/// Moves `c` to state `to`: history entry, first-publication date, modified.
fn apply_state(site: &Site, c: &mut Content, to: &str, entry: &Value, now: Timestamp) {
    let transition = entry["action"].as_str().unwrap_or("");
    let wf = site.workflow_for(&c.portal_type);
    let public = wf
        .and_then(|w| w.roles_for(to, "View"))
        .is_some_and(|r| r.iter().any(|x| x == "Anonymous"));
    let set_effective = wf
        .and_then(|w| w.transition(transition))
        .and_then(|t| t.set_effective)
        .unwrap_or(public);
    c.review_state = Some(to.to_string());
    if set_effective && !c.fields.get("effective").is_some_and(Value::is_string) {
        c.fields.insert("effective".into(), json!(format_ts(now)));
    }
    let mut history = c.fields.get("_workflow_history").cloned().unwrap_or(json!([]));
    if let Some(h) = history.as_array_mut() {
        h.push(entry.clone());
    }
    c.fields.insert("_workflow_history".into(), history);
    c.modified = now;
}
