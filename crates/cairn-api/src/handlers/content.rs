//! The content service: GET, POST (create), PATCH (update, reorder), DELETE.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cairn_core::repo;
use cairn_model::ContentPath;

use super::{body_object, json};
use crate::batch::Batch;
use crate::ctx::Ctx;
use crate::error::{ApiError, ApiResult};
use crate::serialize::full::{Opts, full};

/// Reads the serialization options of a content GET.
pub fn opts(ctx: &Ctx, max_batch: usize) -> ApiResult<Opts> {
    let p = &ctx.params;
    Ok(Opts {
        include_items: p.bool("include_items")?.unwrap_or(true),
        // plone.restapi tests only for the key's presence here.
        fullobjects: p.has("fullobjects"),
        expand: p.list("expand"),
        metadata_fields: p.list("metadata_fields"),
        batch: Batch::from_params(p, max_batch)?,
    })
}

/// GET: the object, its components and (for folders) a page of its items.
pub fn get(ctx: &Ctx, path: &ContentPath, max_batch: usize) -> ApiResult<Response> {
    let c = repo::get_visible(&ctx.site, path, &ctx.who)?;
    let mut o = opts(ctx, max_batch)?;
    if o.fullobjects {
        // Full objects are heavy: one page of them at most, never recursive.
        o.batch.size = o.batch.size.min(crate::batch::DEFAULT_SIZE * 4);
    }
    let mut body = full(ctx, &c, None, &o)?;
    let collection = ctx
        .site
        .types()
        .get(&c.portal_type)
        .is_some_and(|t| t.has_behavior("plone.collection"));
    if collection && o.include_items {
        super::querystring::collection_items(ctx, &c, &o, &mut body)?;
    }
    Ok(json(StatusCode::OK, &body))
}

/// POST: create a child; 201 with `Location` and the new object.
pub fn post(ctx: &Ctx, path: &ContentPath, body: &[u8]) -> ApiResult<Response> {
    let mut body = body_object(body).map_err(ApiError::wrapped)?;
    // Volto names the original by its path, other clients by URL or UID
    // (plone.restapi takes all three): the core is given the UID.
    if let Some(serde_json::Value::String(of)) = body.get("translation_of")
        && cairn_model::Uid::parse(of).is_err()
    {
        let original = repo::get_visible(&ctx.site, &super::services::resolve_ref(ctx, of)?, &ctx.who)
            .map_err(|_| ApiError::bad_request(format!("'{of}' does not name an object to translate")))?;
        body.insert("translation_of".into(), serde_json::json!(original.uid.as_str()));
    }
    let type_name = body
        .get("@type")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default();
    check_collection(ctx, path, type_name, &body)?;
    let created = repo::create(&ctx.site, path, &body, &ctx.who).map_err(wrap_service_error)?;
    let url = ctx.url(&created.path);
    let value = full(
        ctx,
        &created,
        None,
        &Opts {
            include_items: true,
            ..Default::default()
        },
    )?;
    let mut resp = json(StatusCode::CREATED, &value);
    if let Ok(v) = HeaderValue::from_str(&url) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

/// PATCH: partial update; 204, or 200 with the object on `Prefer: return=representation`.
pub fn patch(ctx: &Ctx, path: &ContentPath, headers: &HeaderMap, body: &[u8]) -> ApiResult<Response> {
    let body = body_object(body).map_err(ApiError::wrapped)?;
    if body.contains_key("query") {
        let current = repo::get_visible(&ctx.site, path, &ctx.who)?;
        check_collection(ctx, path, &current.portal_type, &body)?;
    }
    let updated = repo::update(&ctx.site, path, &body, &ctx.who, lock_token(headers)).map_err(wrap_service_error)?;
    let wants_body = headers
        .get("Prefer")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("return=representation"));
    if wants_body {
        let value = full(
            ctx,
            &updated,
            None,
            &Opts {
                include_items: true,
                ..Default::default()
            },
        )?;
        Ok(json(StatusCode::OK, &value))
    } else {
        Ok(StatusCode::NO_CONTENT.into_response())
    }
}

/// A Collection's `query` must be one cairn can evaluate.
fn check_collection(
    ctx: &Ctx,
    context: &ContentPath,
    type_name: &str,
    body: &serde_json::Map<String, serde_json::Value>,
) -> ApiResult<()> {
    let collection = ctx
        .site
        .types()
        .get(type_name)
        .is_some_and(|t| t.has_behavior("plone.collection"));
    match body.get("query") {
        Some(query) if collection => Ok(ctx.searcher().check_stored_query(context, query)?),
        _ => Ok(()),
    }
}

/// DELETE: remove the object and its subtree; 204.
pub fn delete(ctx: &Ctx, path: &ContentPath, headers: &HeaderMap) -> ApiResult<Response> {
    repo::delete(&ctx.site, path, &ctx.who, lock_token(headers)).map_err(wrap_service_error)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The `Lock-Token` request header.
fn lock_token(headers: &HeaderMap) -> Option<&str> {
    headers.get("Lock-Token").and_then(|v| v.to_str().ok())
}

/// POST and PATCH report their own errors in the wrapped shape, except
/// validation errors, which plone.restapi raises as BadRequest (plain shape).
fn wrap_service_error(e: cairn_core::CoreError) -> ApiError {
    use cairn_core::CoreError::*;
    match e {
        Validation(_) | NotFound | Unauthorized(_) => ApiError::from(e),
        BadRequest(_) => ApiError::from(e),
        other => ApiError::from(other).wrapped(),
    }
}
