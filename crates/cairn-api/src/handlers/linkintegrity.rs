//! `GET @linkintegrity?uids=<uid>&uids=...`: for each object, who points
//! into it (or anything inside it) from outside, as Volto asks before a
//! delete; the reader sees only the pointing objects they may view.

use axum::http::StatusCode;
use axum::response::Response;
use cairn_core::repo::links;
use cairn_model::Uid;
use serde_json::{Value, json};

use super::json;
use crate::ctx::Ctx;
use crate::error::{ApiError, ApiResult};
use crate::serialize::summary::type_title;

pub fn get(ctx: &Ctx) -> ApiResult<Response> {
    let mut uids = Vec::new();
    for raw in ctx.params.list("uids") {
        uids.push(Uid::parse(&raw).map_err(|_| ApiError::bad_request(format!("'{raw}' is not a UID")))?);
    }
    let reports = links::check(&ctx.site, &ctx.who, &uids)?;
    let out: Vec<Value> = reports
        .iter()
        .map(|r| {
            let o = &r.object;
            json!({
                "@id": ctx.url(&o.path),
                "@type": o.portal_type,
                "title": o.title(),
                "description": o.description(),
                "review_state": o.review_state,
                "type_title": type_title(ctx, o),
                "items_total": r.contained,
                "breaches": r.breaches.iter().map(|b| json!({
                    "@id": ctx.url(&b.path),
                    "title": b.title(),
                    "uid": b.uid.as_str(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(json(StatusCode::OK, &Value::Array(out)))
}
