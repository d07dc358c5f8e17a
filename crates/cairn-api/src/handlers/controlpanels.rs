//! Site Setup for administrators: `@controlpanels` lists the panels,
//! `@controlpanels/<id>` gives one panel's schema and values and PATCH saves
//! them; `@registry` reads (batched, or one record) and PATCH writes the
//! records the panels are made of. Values take effect on the next request.

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use cairn_core::records;
use cairn_model::ContentPath;
use cairn_model::schema::panels::{self, ControlPanel};
use serde_json::{Map, Value, json};

use super::{body_object, json, types};
use crate::batch::{Batch, batching};
use crate::ctx::Ctx;
use crate::error::{ApiError, ApiResult};

pub fn controlpanels(
    ctx: &Ctx,
    path: &ContentPath,
    method: &Method,
    args: &[String],
    body: &[u8],
) -> ApiResult<Response> {
    let base = format!("{}/@controlpanels", ctx.url(path));
    if !path.is_root() {
        return Err(ApiError::not_found(&base));
    }
    cairn_core::security::require_admin(&ctx.who, "manage the site")?;
    if args.first().map(String::as_str) == Some(types::PANEL) {
        return types::panel(ctx, &base, method, &args[1..], body);
    }
    match (method, args) {
        (&Method::GET, []) => {
            let mut list: Vec<Value> = panels::panels()
                .iter()
                .map(|p| {
                    let mut words = vec![p.title.clone(), p.group.clone()];
                    words.extend(p.fields.iter().map(|f| f.title.clone()));
                    json!({"@id": format!("{base}/{}", p.id), "group": p.group, "title": p.title, "searchable_text": words})
                })
                .collect();
            let mut words = vec![types::TITLE.to_string(), "Content".into()];
            words.extend(ctx.site.types().all().map(|t| t.def.title.clone()));
            list.push(json!({
                "@id": format!("{base}/{}", types::PANEL), "group": "Content", "title": types::TITLE,
                "searchable_text": words,
            }));
            Ok(json(StatusCode::OK, &json!(list)))
        }
        (&Method::GET, [id]) => {
            let p = panel(&base, id)?;
            Ok(json(StatusCode::OK, &panel_json(ctx, &base, p)?))
        }
        (&Method::PATCH, [id]) => {
            let p = panel(&base, id)?;
            let body = body_object(body)?;
            let mut changes = Map::new();
            for (k, v) in body {
                let Some(f) = p.fields.iter().find(|f| f.name == k) else {
                    return Err(ApiError::bad_request(format!("The {} panel has no field '{k}'", p.id)));
                };
                changes.insert(p.record(f), v);
            }
            records::set(&ctx.site, &ctx.who, &changes)?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        (&Method::GET | &Method::PATCH, _) => Err(ApiError::not_found(&format!("{base}/{}", args.join("/")))),
        _ => Err(ApiError::method_not_allowed()),
    }
}

fn panel(base: &str, id: &str) -> ApiResult<&'static ControlPanel> {
    panels::panel(id).ok_or_else(|| ApiError::not_found(&format!("{base}/{id}")))
}

fn panel_json(ctx: &Ctx, base: &str, p: &ControlPanel) -> ApiResult<Value> {
    Ok(json!({
        "@id": format!("{base}/{}", p.id),
        "group": p.group,
        "title": p.title,
        "schema": p.json_schema(&ctx.base),
        "data": records::panel_data(&ctx.site, p)?,
    }))
}

pub fn registry(
    ctx: &Ctx,
    path: &ContentPath,
    method: &Method,
    args: &[String],
    body: &[u8],
    max: usize,
) -> ApiResult<Response> {
    let base = format!("{}/@registry", ctx.url(path));
    if !path.is_root() {
        return Err(ApiError::not_found(&base));
    }
    cairn_core::security::require_admin(&ctx.who, "manage the site")?;
    match (method, args) {
        (&Method::GET, []) => {
            let mut names: Vec<(String, &'static cairn_model::schema::FieldDef)> = panels::panels()
                .iter()
                .flat_map(|p| p.fields.iter().map(move |f| (p.record(f), f)))
                .collect();
            if let Some(q) = ctx.params.get("q") {
                names.retain(|(n, _)| n.contains(q));
            }
            names.sort_by(|a, b| a.0.cmp(&b.0));
            let batch = Batch::from_params(&ctx.params, max)?;
            let total = names.len();
            let mut items = Vec::new();
            for (name, f) in names.into_iter().skip(batch.start).take(batch.size) {
                let mut schema = f.json_schema(&ctx.base);
                if let Value::Object(o) = &mut schema {
                    o.remove("behavior");
                }
                items.push(
                    json!({"name": name, "value": records::value(&ctx.site, &name)?, "schema": {"properties": schema}}),
                );
            }
            let mut out = json!({"@id": base, "items": items, "items_total": total});
            if let Some(b) = batching(ctx, &base, &batch, total) {
                out["batching"] = b;
            }
            Ok(json(StatusCode::OK, &out))
        }
        (&Method::GET, [name]) => match panels::record(name) {
            Some(_) => Ok(json(StatusCode::OK, &records::shown(&ctx.site, name)?)),
            None => Err(ApiError::not_found(&format!("{base}/{name}"))),
        },
        (&Method::PATCH, []) => {
            records::set(&ctx.site, &ctx.who, &body_object(body)?)?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        (&Method::GET | &Method::PATCH, _) => Err(ApiError::not_found(&format!("{base}/{}", args.join("/")))),
        _ => Err(ApiError::method_not_allowed()),
    }
}
