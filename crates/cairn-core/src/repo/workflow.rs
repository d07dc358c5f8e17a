//! Workflow transitions of the shipped workflows. The foundation knows the
//! simple publication transitions; the security issue moves workflows into
//! declarative files with guards and permission maps per state.

use cairn_model::ContentPath;
use jiff::Timestamp;
use serde_json::{Value, json};

use super::read::get_visible;
use crate::content::Content;
use crate::error::{CoreError, CoreResult};
use crate::ports::{ChangeEvent, ViewFilter, WriteBatch, WriteOp};
use crate::security::{Principal, view_roles};
use crate::site::Site;

/// `(transition, from states, to state, title, needs reviewer rights)`.
const TRANSITIONS: [(&str, &[&str], &str, &str, bool); 6] = [
    ("publish", &["private", "pending"], "published", "Publish", true),
    ("submit", &["private"], "pending", "Submit for publication", false),
    ("retract", &["pending", "published"], "private", "Retract", false),
    ("reject", &["pending", "published"], "private", "Send back", true),
    ("hide", &["published"], "private", "Make private", false),
    ("show", &["private"], "published", "Make public", true),
];

/// Human title of a state.
pub fn state_title(state: &str) -> &str {
    match state {
        "private" => "Private",
        "pending" => "Pending review",
        "published" => "Published",
        "internal" => "Internal draft",
        "internally_published" => "Internally published",
        "external" => "Externally visible",
        other => other,
    }
}

fn may_fire(who: &Principal, c: &Content, reviewer: bool) -> bool {
    if reviewer {
        who.is_admin() || who.has_role("Reviewer")
    } else {
        who.can_modify(c)
    }
}

/// Transitions `who` may fire on `c` now: `(id, title)`.
pub fn available(c: &Content, who: &Principal) -> Vec<(&'static str, &'static str)> {
    let Some(state) = c.review_state.as_deref() else {
        return Vec::new();
    };
    TRANSITIONS
        .iter()
        .filter(|(id, from, _, _, reviewer)| {
            from.contains(&state) && may_fire(who, c, *reviewer) && !(*id == "show" || *id == "hide")
        })
        .map(|(id, _, _, title, _)| (*id, *title))
        .collect()
}

/// Fires `transition` on the object at `path` (and with `include_children`
/// on every descendant that allows it), recomputing who may view the whole
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
    let Some((_, _, to, _, reviewer)) = TRANSITIONS.iter().find(|(id, ..)| *id == transition) else {
        return Err(CoreError::BadRequest(format!("Invalid transition '{transition}'")));
    };
    let fire = |obj: &Content| -> bool {
        let state = obj.review_state.as_deref().unwrap_or("");
        TRANSITIONS
            .iter()
            .any(|(id, from, ..)| *id == transition && from.contains(&state))
            && may_fire(who, obj, *reviewer)
    };
    if !fire(&c) {
        return Err(CoreError::BadRequest(format!(
            "Invalid transition '{transition}' for this object"
        )));
    }
    let now = Timestamp::now();
    let actor = who.id.clone().unwrap_or_default();
    let entry = json!({
        "action": transition, "actor": actor, "comments": comment,
        "review_state": to, "time": cairn_model::time::format_ts(now), "title": state_title(to),
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
    let mut allowed_by_path: std::collections::HashMap<ContentPath, Vec<String>> = Default::default();
    // Parents come before children (tree is ordered by depth), so each child
    // inherits the freshly computed set of its container.
    for (i, obj) in subtree.into_iter().enumerate() {
        let mut next = obj.clone();
        let changes_state = (i == 0 || include_children) && obj.review_state.as_deref() != Some(to) && fire(&obj);
        if changes_state {
            next.review_state = Some(to.to_string());
            if *to == "published" && !next.fields.get("effective").is_some_and(|v| v.is_string()) {
                next.fields
                    .insert("effective".into(), json!(cairn_model::time::format_ts(now)));
            }
            let mut history = next.fields.get("_workflow_history").cloned().unwrap_or(json!([]));
            if let Some(h) = history.as_array_mut() {
                h.push(entry.clone());
            }
            next.fields.insert("_workflow_history".into(), history);
            next.modified = now;
        }
        let container = next
            .path
            .parent()
            .and_then(|p| allowed_by_path.get(&p).cloned())
            .unwrap_or(parent_allowed.clone());
        let creator = next.strings("creators").first().cloned();
        next.allowed = view_roles(next.review_state.as_deref(), creator.as_deref(), &container);
        allowed_by_path.insert(next.path.clone(), next.allowed.clone());
        if changes_state || next.allowed != obj.allowed {
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
