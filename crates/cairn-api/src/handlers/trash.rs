//! `@trash` on the site root: what DELETE put aside. `GET @trash` lists the
//! entries (newest first, batched), `GET @trash/<id>` shows one with the
//! objects it holds, `POST @trash/<id>/restore` puts it back (where it was,
//! or into `{"target": <folder URL, path or UID>}`), `DELETE @trash/<id>`
//! purges it for good. Managers and Site Administrators see every entry,
//! other members the ones they own; anonymous visitors nothing.

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use cairn_core::jobs::iso;
use cairn_core::ports::TrashEntry;
use cairn_core::repo::trash;
use cairn_model::ContentPath;
use serde_json::{Value, json};

use super::{body_object, json};
use crate::batch::{Batch, batching};
use crate::ctx::Ctx;
use crate::error::{ApiError, ApiResult};

pub fn handle(ctx: &Ctx, path: &ContentPath, method: &Method, args: &[String], body: &[u8]) -> ApiResult<Response> {
    let base = format!("{}/@trash", ctx.url(path));
    if !path.is_root() {
        return Err(ApiError::not_found(&base));
    }
    let id = |raw: &str| {
        raw.parse::<i64>()
            .map_err(|_| ApiError::not_found(&format!("{base}/{raw}")))
    };
    match (method, args) {
        (&Method::GET, []) => list(ctx, &base),
        (&Method::GET, [n]) => {
            let e = trash::entry(&ctx.site, &ctx.who, id(n)?)?;
            let mut v = entry_json(ctx, &base, &e);
            v["objects"] = e
                .objects
                .iter()
                .map(|c| json!({"path": c.path.as_str(), "@type": c.portal_type, "title": c.title(), "UID": c.uid.as_str()}))
                .collect();
            Ok(json(StatusCode::OK, &v))
        }
        (&Method::POST, [n, action]) if action == "restore" => {
            let body = body_object(body)?;
            let target = match body.get("target") {
                None | Some(Value::Null) => None,
                Some(Value::String(t)) => Some(super::services::resolve_ref(ctx, t)?),
                Some(_) => return Err(ApiError::bad_request("'target' must be a folder's URL, path or UID")),
            };
            let restored = trash::restore(&ctx.site, &ctx.who, id(n)?, target.as_ref())?;
            Ok(json(StatusCode::OK, &json!({"@id": ctx.url(&restored)})))
        }
        (&Method::DELETE, [n]) => {
            trash::purge(&ctx.site, &ctx.who, id(n)?)?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        (&Method::GET | &Method::POST | &Method::DELETE, _) => {
            Err(ApiError::not_found(&format!("{base}/{}", args.join("/"))))
        }
        _ => Err(ApiError::method_not_allowed()),
    }
}

fn list(ctx: &Ctx, base: &str) -> ApiResult<Response> {
    let batch = Batch::from_params(&ctx.params, 1000)?;
    let (entries, total) = trash::list(&ctx.site, &ctx.who, batch.start, batch.size)?;
    let items: Vec<Value> = entries.iter().map(|e| entry_json(ctx, base, e)).collect();
    let mut body = json!({"@id": base, "items": items, "items_total": total});
    if let Some(b) = batching(ctx, base, &batch, total) {
        body["batching"] = b;
    }
    Ok(json(StatusCode::OK, &body))
}

fn entry_json(ctx: &Ctx, base: &str, e: &TrashEntry) -> Value {
    json!({
        "@id": format!("{base}/{}", e.id),
        "id": e.id,
        "UID": e.uid.as_str(),
        "@type": e.portal_type,
        "title": e.title,
        "path": e.path.as_str(),
        "parent": ctx.url(&e.path.parent().unwrap_or_else(ContentPath::root)),
        "owner": e.owner,
        "deleted_by": e.deleted_by,
        "deleted": iso(e.deleted_at),
        "items_total": e.items,
    })
}
