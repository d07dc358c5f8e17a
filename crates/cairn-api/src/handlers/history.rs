//! `@history`: the versions and workflow steps of an object, one version in
//! full, two versions compared field by field, and reverting to a version.

use axum::http::{Method, StatusCode};
use axum::response::Response;
use cairn_core::repo::history;
use cairn_core::repo::workflow::state_title;
use cairn_model::ContentPath;
use serde_json::{Value, json};

use super::{body_object, json};
use crate::ctx::Ctx;
use crate::error::{ApiError, ApiResult};
use crate::serialize::full::{Opts, full};

fn actor(ctx: &Ctx, id: &str) -> Value {
    json!({"@id": format!("{}/@users/{id}", ctx.base), "fullname": id, "id": id, "username": null})
}

/// GET `@history`, GET `@history/{n}`, PATCH `@history` with `{"version": n}`.
pub fn handle(ctx: &Ctx, path: &ContentPath, method: &Method, args: &[String], body: &[u8]) -> ApiResult<Response> {
    match (method.clone(), args) {
        (Method::GET, []) => list(ctx, path),
        (Method::GET, [c]) if c == "compare" => compare(ctx, path),
        (Method::GET, [n]) => {
            let n: i64 = n
                .parse()
                .map_err(|_| ApiError::bad_request(format!("Invalid version: {n}")))?;
            let old = history::at_version(&ctx.site, path, n, &ctx.who)?;
            let mut body = full(
                ctx,
                &old,
                None,
                &Opts {
                    include_items: false,
                    ..Default::default()
                },
            )?;
            body["version"] = json!(n);
            Ok(json(StatusCode::OK, &body))
        }
        (Method::PATCH, []) => {
            let body = body_object(body)?;
            let n = body
                .get("version")
                .and_then(Value::as_i64)
                .ok_or_else(|| ApiError::bad_request("'version' is required"))?;
            let reverted = history::revert(&ctx.site, path, n, &ctx.who)?;
            let message = format!("{} has been reverted to revision {n}.", reverted.title());
            Ok(json(StatusCode::OK, &json!({"message": message})))
        }
        _ => Err(ApiError::method_not_allowed()),
    }
}

fn list(ctx: &Ctx, path: &ContentPath) -> ApiResult<Response> {
    let (c, versions) = history::versions(&ctx.site, path, &ctx.who)?;
    let url = ctx.url(&c.path);
    let may_revert = cairn_core::security::can_modify(&ctx.site, &ctx.who, &c)?;
    // Built newest first, so that the stable sort below keeps entries of
    // one second in that order.
    let mut entries: Vec<(String, Value)> = versions
        .iter()
        .rev()
        .map(|v| {
            let e = json!({
                "@id": format!("{url}/@history/{}", v.version), "action": "Edited", "actor": actor(ctx, &v.actor),
                "comments": v.comment, "may_revert": may_revert, "time": v.time,
                "transition_title": "Edited", "type": "versioning", "version": v.version,
            });
            (v.time.clone(), e)
        })
        .collect();
    if let Some(wf) = ctx.site.workflow_for(&c.portal_type) {
        let created = cairn_model::time::format_ts(c.created);
        let creator = c.strings("creators").first().cloned().unwrap_or_default();
        let create = json!({
            "action": "Create", "actor": actor(ctx, &creator), "comments": "", "review_state": wf.initial_state,
            "state_title": state_title(&ctx.site, &c, &wf.initial_state), "time": created, "transition_title": "Create",
            "type": "workflow",
        });
        for step in c
            .fields
            .get("_workflow_history")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .rev()
        {
            let action = step["action"].as_str().unwrap_or("");
            let title = wf.transition(action).map_or(action, |t| t.title.as_str());
            let e = json!({
                "action": action, "actor": actor(ctx, step["actor"].as_str().unwrap_or("")),
                "comments": step["comments"], "review_state": step["review_state"], "state_title": step["title"],
                "time": step["time"], "transition_title": title, "type": "workflow",
            });
            entries.push((step["time"].as_str().unwrap_or("").to_string(), e));
        }
        entries.push((created, create));
    }
    // Newest first; entries of the same second keep the order built above.
    entries.sort_by(|a, b| b.0.cmp(&a.0));
    let items: Vec<Value> = entries.into_iter().map(|(_, e)| e).collect();
    Ok(json(StatusCode::OK, &json!(items)))
}

/// `GET @history/compare?from=<n>&to=<m>|current`: the fields that differ
/// between two versions, each with its value before and after, and for
/// texts (rich text too) the words and characters that changed.
fn compare(ctx: &Ctx, path: &ContentPath) -> ApiResult<Response> {
    let number = |k: &str| -> ApiResult<Option<i64>> {
        match ctx.params.get(k) {
            None | Some("current") => Ok(None),
            Some(raw) => raw
                .parse()
                .map(Some)
                .map_err(|_| ApiError::bad_request(format!("'{k}' must be a version number or 'current'"))),
        }
    };
    let from = number("from")?.ok_or_else(|| ApiError::bad_request("'from' (a version number) is required"))?;
    let to = number("to")?;
    let (c, changes) = history::compare(&ctx.site, path, from, to, &ctx.who)?;
    let types = ctx.site.types();
    let ty = types.get(&c.portal_type);
    let items: Vec<Value> = changes
        .into_iter()
        .map(|ch| {
            let title = ty
                .and_then(|t| t.fields.iter().find(|f| f.name == ch.field))
                .map_or(ch.field.as_str(), |f| f.title.as_str());
            let mut o = json!({"field": ch.field, "title": title, "before": ch.before, "after": ch.after});
            if let (Some(a), Some(b)) = (text_of(ch.before.as_ref()), text_of(ch.after.as_ref())) {
                o["text"] = json!(cairn_model::delta::compare_text(a, b));
            }
            o
        })
        .collect();
    let to_label = to.map_or(json!("current"), |n| json!(n));
    Ok(json(
        StatusCode::OK,
        &json!({
            "@id": format!("{}/@history/compare?{}", ctx.url(&c.path), ctx.params.raw()),
            "from": from,
            "to": to_label,
            "changes": items,
        }),
    ))
}

/// The text of a plain or rich text value.
fn text_of(v: Option<&Value>) -> Option<&str> {
    match v? {
        Value::String(s) => Some(s),
        Value::Object(o) => o.get("data")?.as_str(),
        _ => None,
    }
}
