//! The named `@services` of the foundation: components, `@site` and `@types`.

use axum::http::StatusCode;
use axum::response::Response;
use cairn_core::repo;
use cairn_model::ContentPath;
use serde_json::json;

use super::json;
use crate::ctx::Ctx;
use crate::error::{ApiError, ApiResult, Code};
use crate::serialize::components;

/// GET `@{name}` on the object at `path`; `None` when no such service exists.
pub fn get(ctx: &Ctx, path: &ContentPath, name: &str, args: &[String]) -> Option<ApiResult<Response>> {
    let run = || -> ApiResult<Response> {
        let c = repo::get_visible(&ctx.site, path, &ctx.who)?;
        let body = match name {
            "breadcrumbs" => components::breadcrumbs(ctx, &c)?,
            "navigation" => {
                let depth = ctx.params.usize("expand.navigation.depth")?.unwrap_or(1);
                let bytes = crate::serialize::navigation::navigation_bytes(ctx, &c, depth)?;
                return Ok(super::bytes_json(bytes));
            }
            "navroot" => components::navroot(ctx, &c)?,
            "actions" => components::actions(ctx, &c),
            "workflow" => components::workflow(ctx, &c)?,
            "inherit" => components::inherit(ctx, &c)?,
            "contextnavigation" => crate::serialize::navigation::contextnavigation(ctx, &c)?,
            "site" => site(ctx)?,
            "types" => return super::types::get(ctx, &c, args),
            _ => unreachable!("filtered below"),
        };
        Ok(json(StatusCode::OK, &body))
    };
    matches!(
        name,
        "breadcrumbs"
            | "navigation"
            | "navroot"
            | "actions"
            | "workflow"
            | "inherit"
            | "contextnavigation"
            | "site"
            | "types"
    )
    .then(run)
}

fn site(ctx: &Ctx) -> ApiResult<serde_json::Value> {
    use cairn_core::records::{strings, text};
    let site = &ctx.site;
    let sizes: Vec<String> = site
        .settings
        .scales
        .iter()
        .map(|(n, w, h)| format!("{n} {w}:{h}"))
        .collect();
    Ok(json!({
        "@id": format!("{}/@site", ctx.base),
        "features": {"filter_aliases_by_date": true, "multilingual": site.settings.multilingual},
        "plone.allowed_sizes": sizes,
        "plone.available_languages": strings(site, "plone.available_languages")?,
        "plone.default_language": text(site, "plone.default_language")?,
        "plone.portal_timezone": text(site, "plone.portal_timezone")?,
        "plone.robots_txt": "Sitemap: {portal_url}/sitemap.xml.gz\n\nUser-agent: *\nDisallow:\n",
        "plone.site_logo": logo_url(ctx)?,
        "plone.site_title": text(site, "plone.site_title")?,
    }))
}

/// Where the site's logo is served, if it has one.
fn logo_url(ctx: &Ctx) -> ApiResult<serde_json::Value> {
    let logo = cairn_core::records::value(&ctx.site, "plone.site_logo")?;
    Ok(match logo.get("filename").and_then(serde_json::Value::as_str) {
        Some(name) => json!(format!(
            "{}/@@site-logo/{}",
            ctx.base,
            percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC)
        )),
        None => serde_json::Value::Null,
    })
}

/// POST `@workflow/{transition}` with optional `comment` and `include_children`.
pub fn workflow_transition(ctx: &Ctx, path: &ContentPath, args: &[String], body: &[u8]) -> ApiResult<Response> {
    let body = super::body_object(body).map_err(ApiError::wrapped)?;
    let Some(transition) = args.first() else {
        return Err(ApiError::new(Code::WorkflowException, "Missing transition"));
    };
    if ctx.who.is_anonymous() {
        return Err(ApiError::unauthorized(
            "You are not allowed to change the state of this object",
        ));
    }
    let comment = body.get("comment").and_then(serde_json::Value::as_str).unwrap_or("");
    let include_children = body
        .get("include_children")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false);
    let entry = cairn_core::repo::workflow::transition(
        &ctx.site,
        path,
        &cairn_core::repo::workflow::Transition {
            id: transition,
            comment,
            include_children,
            effective: body.get("effective").and_then(serde_json::Value::as_str),
            expires: body.get("expires").and_then(serde_json::Value::as_str),
        },
        &ctx.who,
    )
    .map_err(|e| match e {
        cairn_core::CoreError::BadRequest(m) => ApiError::new(Code::WorkflowException, m),
        other => other.into(),
    })?;
    Ok(json(StatusCode::OK, &entry))
}

/// `@lock`: GET the lock, POST to lock (`stealable`, `timeout`), PATCH to
/// renew, DELETE to unlock (`force` to take over someone else's).
pub fn lock(ctx: &Ctx, path: &ContentPath, method: &axum::http::Method, body: &[u8]) -> ApiResult<Response> {
    use axum::http::Method;
    use cairn_core::repo::lock;
    let body = super::body_object(body)?;
    let c = match *method {
        Method::GET => cairn_core::repo::get_visible(&ctx.site, path, &ctx.who)?,
        Method::POST => {
            let stealable = body
                .get("stealable")
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(true);
            let timeout = body.get("timeout").and_then(serde_json::Value::as_u64);
            lock::lock(&ctx.site, path, &ctx.who, stealable, timeout).map_err(wrap_forbidden)?
        }
        Method::PATCH => lock::refresh(&ctx.site, path, &ctx.who).map_err(wrap_forbidden)?,
        Method::DELETE => {
            let force = body.get("force").and_then(serde_json::Value::as_bool).unwrap_or(false);
            lock::unlock(&ctx.site, path, &ctx.who, force).map_err(wrap_forbidden)?
        }
        _ => return Err(ApiError::method_not_allowed()),
    };
    let info =
        crate::serialize::full::lock_info(ctx, &c)?.unwrap_or_else(|| json!({"locked": false, "stealable": true}));
    Ok(json(StatusCode::OK, &info))
}

fn wrap_forbidden(e: cairn_core::CoreError) -> ApiError {
    match e {
        cairn_core::CoreError::Forbidden(m) => ApiError::new(Code::Forbidden, m),
        other => other.into(),
    }
}

/// POST `<target>/@copy` or `@move` with `{"source": ref | [refs]}`; a ref is
/// an absolute URL, a path from the site root or a UID.
pub fn copy_or_move(
    ctx: &Ctx,
    target: &ContentPath,
    body: &[u8],
    mode: cairn_core::repo::copymove::Mode,
) -> ApiResult<Response> {
    let body = super::body_object(body)?;
    let refs: Vec<String> = match body.get("source") {
        Some(serde_json::Value::String(s)) => vec![s.clone()],
        Some(serde_json::Value::Array(a)) => a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
        _ => return Err(ApiError::bad_request("Property 'source' is required")),
    };
    let sources = refs
        .iter()
        .map(|r| resolve_ref(ctx, r))
        .collect::<ApiResult<Vec<_>>>()?;
    let moved =
        cairn_core::repo::copymove::transfer(&ctx.site, &sources, target, mode, &ctx.who).map_err(wrap_forbidden)?;
    let out: Vec<_> = moved
        .iter()
        .map(|(from, to)| json!({"source": ctx.url(from), "target": ctx.url(to)}))
        .collect();
    Ok(json(StatusCode::OK, &json!(out)))
}

/// A path below the site from an absolute URL, a `/path` or a UID.
pub(crate) fn resolve_ref(ctx: &Ctx, r: &str) -> ApiResult<ContentPath> {
    let bad = || ApiError::bad_request(format!("'{r}' does not name an object"));
    if let Ok(uid) = cairn_model::Uid::parse(r) {
        // A UID the reader may not see names nothing, exactly as an unknown one.
        let found = ctx.searcher().visible_by_uids(&[uid])?;
        return found.into_iter().next().map(|c| c.path).ok_or_else(bad);
    }
    cairn_core::repo::path_of_ref(&ctx.site, r, Some(&ctx.base)).ok_or_else(bad)
}

/// POST `<object>/@invalidate` `{"scope": "item" | "subtree" | "site"}`:
/// purges the object's answers (default), everything at or below it, or
/// the whole site from the configured HTTP caches, through a job.
pub fn invalidate(ctx: &Ctx, path: &ContentPath, body: &[u8], purges: bool) -> ApiResult<Response> {
    use cairn_core::caching::Scope;
    let body = super::body_object(body)?;
    let scope = match body.get("scope").map(|v| v.as_str()) {
        None | Some(Some("item")) => Scope::Item,
        Some(Some("subtree")) => Scope::Subtree,
        Some(Some("site")) => Scope::Site,
        Some(_) => return Err(ApiError::bad_request("'scope' must be one of item, subtree, site")),
    };
    if !purges && ctx.who.is_admin() {
        return Err(ApiError::bad_request(
            "No HTTP cache is configured to purge (caching.varnish or caching.cloudflare)",
        ));
    }
    cairn_core::caching::invalidate(&ctx.site, &ctx.who, path, scope)?;
    let name = match scope {
        Scope::Item => "item",
        Scope::Subtree => "subtree",
        Scope::Site => "site",
    };
    Ok(json(
        StatusCode::ACCEPTED,
        &serde_json::json!({"@id": format!("{}/@invalidate", ctx.url(path)), "scope": name}),
    ))
}
