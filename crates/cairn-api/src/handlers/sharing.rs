//! `@sharing`: GET the sharing tab, POST changes (204).

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cairn_core::repo::sharing::{self, Change, SHARING_ROLES};
use cairn_model::ContentPath;
use serde_json::{Value, json};

use super::{body_object, json};
use crate::ctx::Ctx;
use crate::error::{ApiError, ApiResult};

/// GET `@sharing[?search=]`.
pub fn get(ctx: &Ctx, path: &ContentPath) -> ApiResult<Response> {
    let s = sharing::get(&ctx.site, &ctx.who, path, ctx.params.get("search"))?;
    let entries: Vec<Value> = s
        .entries
        .iter()
        .map(|e| {
            let mut o = json!({
                "id": e.id, "roles": e.roles, "title": e.title,
                "type": if e.is_group { "group" } else { "user" },
            });
            if e.is_group {
                o["login"] = Value::Null;
            }
            if e.id == sharing::AUTHENTICATED_USERS || e.id == ctx.who.id.clone().unwrap_or_default() {
                // Plone greys out the virtual group and the current user.
                o["disabled"] = json!(e.id != sharing::AUTHENTICATED_USERS);
            }
            o
        })
        .collect();
    // Only the roles the caller may hand out here, as Plone's sharing view offers.
    let roles: Vec<Value> = SHARING_ROLES
        .iter()
        .filter(|(id, _, _)| s.available_roles.contains(id))
        .map(|(id, title, _)| json!({"id": id, "title": title}))
        .collect();
    Ok(json(
        StatusCode::OK,
        &json!({"available_roles": roles, "entries": entries, "inherit": s.inherit}),
    ))
}

/// POST `@sharing` with `{"entries": [{"id", "roles": {role: bool}}], "inherit"?}`.
pub fn post(ctx: &Ctx, path: &ContentPath, body: &[u8]) -> ApiResult<Response> {
    let body = body_object(body)?;
    let bad = |m: &str| ApiError::bad_request(m.to_string());
    let mut changes = Vec::new();
    for e in body.get("entries").and_then(Value::as_array).into_iter().flatten() {
        let id = e
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("Each entry needs an 'id'"))?;
        let roles = e
            .get("roles")
            .and_then(Value::as_object)
            .ok_or_else(|| bad("Each entry needs 'roles'"))?;
        let roles: BTreeMap<String, bool> = roles
            .iter()
            // "acquired" and "global" are read-only markers echoed back by clients.
            .filter_map(|(r, v)| v.as_bool().map(|b| (r.clone(), b)))
            .collect();
        changes.push(Change {
            id: id.to_string(),
            roles,
        });
    }
    let inherit = match body.get("inherit") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => return Err(bad("'inherit' must be true or false")),
    };
    sharing::set(&ctx.site, &ctx.who, path, &changes, inherit)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
