//! Workflow transitions, driven by the declarative workflow definitions:
//! guards, the new state, effective dates, history, and the view permissions
//! of the whole subtree recomputed in the same transaction.

use cairn_model::ContentPath;
use cairn_model::time::format_ts;
use jiff::Timestamp;
use serde_json::{Value, json};

use super::read::get_visible;
use crate::content::Content;
use crate::error::{CoreError, CoreResult};
use crate::security::{
    Access, LocalRoles, Principal, REQUEST_REVIEW, REVIEW, chain, effective_on_chain, reindex_subtree,
};
use crate::site::Site;

/// Title of a state of `c`'s workflow (the id when unknown).
pub fn state_title(site: &Site, c: &Content, state: &str) -> String {
    site.workflow_for(&c.portal_type)
        .and_then(|wf| wf.state(state))
        .map_or_else(|| state.to_string(), |s| s.title.clone())
}

fn may_fire(access: &Access<'_>, c: &Content, t: &cairn_model::workflow::TransitionDef) -> bool {
    let by_permission = t.guard_permission.as_deref().is_none_or(|p| access.has(c, p));
    let by_role = t.guard_roles.is_empty() || access.roles().iter().any(|r| t.guard_roles.contains(r));
    by_permission && by_role
}

/// Transitions `who` may fire on `c` now: `(id, title)`.
pub fn available(site: &Site, c: &Content, who: &Principal) -> CoreResult<Vec<(String, String)>> {
    let (Some(wf), Some(state)) = (site.workflow_for(&c.portal_type), c.review_state.as_deref()) else {
        return Ok(Vec::new());
    };
    if who.is_anonymous() {
        return Ok(Vec::new());
    }
    let access = Access::of(site, who, c)?;
    Ok(wf
        .transitions
        .iter()
        .filter(|t| t.from.iter().any(|f| f == state) && may_fire(&access, c, t))
        .map(|t| (t.id.clone(), t.title.clone()))
        .collect())
}

/// The review history of `c` as `who` may read it: the creation entry, then
/// every recorded transition with its actor and comment. Empty for readers
/// without "Request review" or "Review portal content" there, as Plone's
/// workflows guard their `review_history` variable: the comments a reviewer
/// and an author exchange are not part of the published page.
pub fn review_history(site: &Site, c: &Content, who: &Principal) -> CoreResult<Vec<Value>> {
    let Some(wf) = site.workflow_for(&c.portal_type) else {
        return Ok(Vec::new());
    };
    if c.review_state.is_none() || who.is_anonymous() {
        return Ok(Vec::new());
    }
    let access = Access::of(site, who, c)?;
    if !(access.has(c, REQUEST_REVIEW) || access.has(c, REVIEW)) {
        return Ok(Vec::new());
    }
    let mut history = vec![json!({
        "action": null,
        "actor": c.strings("creators").first(),
        "comments": "",
        "review_state": wf.initial_state,
        "time": format_ts(c.created),
        "title": state_title(site, c, &wf.initial_state),
    })];
    if let Some(Value::Array(h)) = c.fields.get("_workflow_history") {
        history.extend(h.iter().cloned());
    }
    Ok(history)
}

/// A transition as a client requests it.
#[derive(Debug, Clone, Default)]
pub struct Transition<'a> {
    pub id: &'a str,
    pub comment: &'a str,
    pub include_children: bool,
    /// Publication dates to set on every object the transition changes.
    pub effective: Option<&'a str>,
    pub expires: Option<&'a str>,
}

/// The requested dates, validated and normalized.
fn publication_dates(req: &Transition<'_>) -> CoreResult<Vec<(&'static str, String)>> {
    let mut out = Vec::new();
    for (field, raw) in [("effective", req.effective), ("expires", req.expires)] {
        if let Some(raw) = raw {
            let ts = cairn_model::values::parse_datetime(raw).map_err(CoreError::BadRequest)?;
            out.push((field, format_ts(ts)));
        }
    }
    if let [(_, e), (_, x)] = out.as_slice()
        && x < e
    {
        return Err(CoreError::BadRequest(
            "The expiration date must be after the effective date".into(),
        ));
    }
    Ok(out)
}

/// Fires `transition` on the object at `path` (and with `include_children` on
/// every descendant where it is available), recomputing who may view the whole
/// subtree in the same transaction. Returns the new history entry.
pub fn transition(site: &Site, path: &ContentPath, req: &Transition<'_>, who: &Principal) -> CoreResult<Value> {
    let (transition, comment, include_children) = (req.id, req.comment, req.include_children);
    let dates = publication_dates(req)?;
    let c = get_visible(site, path, who)?;
    if who.is_anonymous() {
        return Err(CoreError::Unauthorized(
            "You are not allowed to change the state of this object".into(),
        ));
    }
    let target = |obj: &Content, local: &LocalRoles| target_state(site, obj, transition, who, local);
    let Some(to) = target(&c, &effective_on_chain(&chain(site, &c)?)) else {
        return Err(invalid(transition));
    };
    let now = Timestamp::now();
    let entry = history_entry(site, &c, transition, &to, comment, who, now);
    let batch = reindex_subtree(site, &c, "state_changed", |obj, local, is_root| {
        if !(is_root || include_children) {
            return Ok(false);
        }
        match target(obj, local) {
            Some(to) => {
                apply_state(site, obj, &to, &entry, now);
                for (field, value) in &dates {
                    obj.fields.insert(field.to_string(), json!(value));
                }
                Ok(true)
            }
            None => Ok(false),
        }
    })?;
    site.write(batch)?;
    Ok(entry)
}

fn invalid(transition: &str) -> CoreError {
    CoreError::BadRequest(format!("Invalid transition '{transition}' for this object"))
}

/// The state `transition` leads `obj` to, if `who` (with `local` roles
/// there) may fire it from the state it is in.
fn target_state(site: &Site, obj: &Content, transition: &str, who: &Principal, local: &LocalRoles) -> Option<String> {
    let wf = site.workflow_for(&obj.portal_type)?;
    let t = wf.transition(transition)?;
    let state = obj.review_state.as_deref()?;
    let access = Access::with_local(site, who, local);
    (t.from.iter().any(|f| f == state) && may_fire(&access, obj, t)).then(|| t.to.clone())
}

fn history_entry(
    site: &Site,
    c: &Content,
    transition: &str,
    to: &str,
    comment: &str,
    who: &Principal,
    now: Timestamp,
) -> Value {
    json!({
        "action": transition,
        "actor": who.id.clone().unwrap_or_default(),
        "comments": comment,
        "review_state": to,
        "time": format_ts(now),
        "title": state_title(site, c, to),
    })
}

/// Fires `transition` on an object that is not stored yet and has no
/// children (the bulk loader's objects), with the same guards as
/// [`transition`]; `local` are the roles in effect on it. The caller
/// recomputes who may view it.
pub(super) fn fire_on_new(
    site: &Site,
    c: &mut Content,
    transition: &str,
    who: &Principal,
    local: &LocalRoles,
) -> CoreResult<()> {
    let to = target_state(site, c, transition, who, local).ok_or_else(|| invalid(transition))?;
    let now = Timestamp::now();
    let entry = history_entry(site, c, transition, &to, "", who, now);
    apply_state(site, c, &to, &entry, now);
    Ok(())
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
