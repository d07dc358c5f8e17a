//! `@relations` on the site root: `GET` without criteria gives the counts
//! per relation (administrators), with `source`, `target`, `relation`,
//! `query_source`, `query_target`, `max` or `onlyBroken` the relations
//! themselves (both ends visible to the reader); `POST` adds and `DELETE`
//! removes (by `items`, or administrators by criteria), all or none, with
//! Plone's 422 listing what failed; `POST @relations/rebuild` rebuilds the
//! catalog from the content.

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use cairn_core::repo::links::REFERENCING;
use cairn_core::repo::relations::{self, Ask, Item, MAX_SCAN};
use cairn_model::ContentPath;
use serde_json::{Map, Value, json};

use super::{body_object, json};
use crate::ctx::Ctx;
use crate::error::{ApiError, ApiResult, Code};
use crate::serialize::summary::summary;

const CRITERIA: [&str; 7] = [
    "source",
    "target",
    "relation",
    "query_source",
    "query_target",
    "max",
    "onlyBroken",
];

pub fn handle(ctx: &Ctx, path: &ContentPath, method: &Method, args: &[String], body: &[u8]) -> ApiResult<Response> {
    let base = format!("{}/@relations", ctx.url(path));
    if !path.is_root() {
        return Err(ApiError::not_found(&base));
    }
    match (method, args) {
        (&Method::GET, []) if !CRITERIA.iter().any(|k| ctx.params.has(k)) => stats(ctx, &base),
        (&Method::GET, []) => list(ctx, &base),
        (&Method::POST, [r]) if r == "rebuild" => {
            relations::rebuild(&ctx.site, &ctx.who)?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        (&Method::POST, []) => {
            let body = body_object(body)?;
            let failed = relations::add(&ctx.site, &ctx.who, &items(&body)?)?;
            done(failed, "Failed on creating relations")
        }
        (&Method::DELETE, []) => {
            let body = body_object(body)?;
            if body.contains_key("items") {
                let failed = relations::remove(&ctx.site, &ctx.who, &items(&body)?)?;
                return done(failed, "Failed on deleting relations");
            }
            let text = |k: &str| -> ApiResult<Option<String>> {
                match body.get(k) {
                    None | Some(Value::Null) => Ok(None),
                    Some(Value::String(s)) => Ok(Some(ref_of(ctx, s))),
                    Some(_) => Err(ApiError::bad_request(format!("'{k}' must be a text"))),
                }
            };
            let ask = Ask {
                source: text("source")?,
                target: text("target")?,
                relation: text("relation")?,
                ..Default::default()
            };
            relations::remove_matching(&ctx.site, &ctx.who, &ask)?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        (&Method::GET | &Method::POST | &Method::DELETE, _) => {
            Err(ApiError::not_found(&format!("{base}/{}", args.join("/"))))
        }
        _ => Err(ApiError::method_not_allowed()),
    }
}

fn stats(ctx: &Ctx, base: &str) -> ApiResult<Response> {
    let mut stats = Map::new();
    let mut broken = Map::new();
    for (name, count, bad) in relations::stats(&ctx.site, &ctx.who)? {
        if bad > 0 {
            broken.insert(name.clone(), json!(bad));
        }
        stats.insert(name, json!(count));
    }
    Ok(json(
        StatusCode::OK,
        &json!({"@id": base, "stats": stats, "broken": broken}),
    ))
}

fn list(ctx: &Ctx, base: &str) -> ApiResult<Response> {
    let p = &ctx.params;
    let text = |k: &str| p.get(k).map(|v| ref_of(ctx, v));
    let ask = Ask {
        source: text("source"),
        target: text("target"),
        relation: p.get("relation").map(str::to_string),
        query_source: p.get("query_source").map(str::to_string),
        query_target: p.get("query_target").map(str::to_string),
        max: p.usize("max")?.unwrap_or(MAX_SCAN).min(MAX_SCAN),
        only_broken: p.bool("onlyBroken")?.unwrap_or(false),
    };
    let found = relations::query(&ctx.site, &ctx.who, &ask)?;
    let mut out = Map::new();
    for (name, listing) in found {
        let items: Vec<Value> = listing
            .items
            .iter()
            .map(|(s, uid, t)| {
                let target = match t {
                    Some(t) => with_uid(ctx, t),
                    None => json!({"@id": null, "UID": uid.as_str()}),
                };
                json!({"source": with_uid(ctx, s), "target": target})
            })
            .collect();
        let mut o = json!({"items": items, "items_total": listing.total});
        if ask.relation.is_some() {
            o["readonly"] = json!(name == REFERENCING);
            o["staticCatalogVocabularyQuery"] = Value::Null;
        }
        out.insert(name, o);
    }
    let id = match p.raw() {
        "" => base.to_string(),
        q => format!("{base}?{q}"),
    };
    Ok(json(StatusCode::OK, &json!({"@id": id, "relations": out})))
}

fn with_uid(ctx: &Ctx, c: &cairn_core::Content) -> Value {
    let mut v = summary(ctx, c, &[]);
    v["UID"] = json!(c.uid.as_str());
    v
}

/// A source or target as the core reads it: a UID or a `/path`; a URL of
/// this site is taken as its path.
fn ref_of(ctx: &Ctx, raw: &str) -> String {
    let root = ctx.url(&ContentPath::root());
    match raw.strip_prefix(&root) {
        Some("") => "/".into(),
        Some(rest) if rest.starts_with('/') => rest.to_string(),
        _ => raw.to_string(),
    }
}

fn items(body: &Map<String, Value>) -> ApiResult<Vec<Item>> {
    let Some(Value::Array(list)) = body.get("items") else {
        return Err(ApiError::bad_request(
            "'items' must be a list of {source, target, relation}",
        ));
    };
    list.iter()
        .map(|v| {
            let field = |k: &str| {
                v.get(k)
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| ApiError::bad_request(format!("Each item needs '{k}' as a text")))
            };
            Ok(Item {
                source: field("source")?,
                target: field("target")?,
                relation: field("relation")?,
            })
        })
        .collect()
}

/// 204, or Plone's 422 with each failed item and why.
fn done(failed: Vec<(Item, String)>, message: &str) -> ApiResult<Response> {
    if failed.is_empty() {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let failed: Vec<Value> = failed
        .into_iter()
        .map(|(i, why)| json!([{"relation": i.relation, "source": i.source, "target": i.target}, why]))
        .collect();
    Err(ApiError::new(Code::Unprocessable, message).with_extra("failed", json!(failed)))
}
