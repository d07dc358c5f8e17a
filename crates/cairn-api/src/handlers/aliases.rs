//! `@aliases` (GET, POST, DELETE) and the redirects old paths answer with.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cairn_core::repo::aliases;
use cairn_model::ContentPath;
use serde_json::{Value, json};

use super::{body_object, json};
use crate::ctx::Ctx;
use crate::error::{ApiError, ApiResult};

fn paths(body: &serde_json::Map<String, Value>) -> ApiResult<Vec<aliases::NewAlias>> {
    let items = body
        .get("items")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::bad_request("'items' is required"))?;
    items
        .iter()
        .map(|i| {
            let path = i
                .get("path")
                .and_then(Value::as_str)
                .ok_or_else(|| ApiError::bad_request("Each item needs a 'path'"))?;
            let text = |k: &str| i.get(k).and_then(Value::as_str).map(str::to_string);
            Ok(aliases::NewAlias {
                path: path.to_string(),
                redirect_to: text("redirect-to"),
                datetime: text("datetime"),
            })
        })
        .collect()
}

/// GET, POST or DELETE `<object>/@aliases`.
pub fn handle(ctx: &Ctx, path: &ContentPath, method: &axum::http::Method, body: &[u8]) -> ApiResult<Response> {
    use axum::http::Method;
    match *method {
        Method::GET => {
            let p = &ctx.params;
            let (start, size) = (
                p.usize("b_start")?.unwrap_or(0),
                p.usize("b_size")?.unwrap_or(1000).clamp(1, 10_000),
            );
            let (items, total) = aliases::list(&ctx.site, &ctx.who, path, p.get("query"), start, size)?;
            let items: Vec<Value> = items
                .iter()
                .map(|r| {
                    json!({
                        "datetime": r.created.trim_end_matches("+00:00"),
                        "manual": r.manual,
                        "path": r.from.as_str(),
                        "redirect-to": r.to.as_str(),
                    })
                })
                .collect();
            let id = format!("{}/@aliases", ctx.url(path));
            Ok(json(
                StatusCode::OK,
                &json!({"@id": id, "items": items, "items_total": total}),
            ))
        }
        Method::POST => {
            aliases::add(&ctx.site, &ctx.who, path, &paths(&body_object(body)?)?)?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        Method::DELETE => {
            let items: Vec<String> = paths(&body_object(body)?)?.into_iter().map(|a| a.path).collect();
            aliases::remove(&ctx.site, &ctx.who, path, &items)?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        _ => Err(ApiError::method_not_allowed()),
    }
}

/// A redirect for a request to a path that no longer exists: 302 for reads,
/// 307 for writes (the method is kept), to the same view of the new path.
pub fn redirect(ctx: &Ctx, target: &ContentPath, rest: &str, api: bool, method: &axum::http::Method) -> Response {
    let base = if api {
        format!("{}/++api++", ctx.base)
    } else {
        ctx.base.clone()
    };
    let query = if ctx.params.raw().is_empty() {
        String::new()
    } else {
        format!("?{}", ctx.params.raw())
    };
    let location = format!("{base}{target}{rest}{query}");
    let status = if matches!(*method, axum::http::Method::GET | axum::http::Method::HEAD) {
        StatusCode::FOUND
    } else {
        StatusCode::TEMPORARY_REDIRECT
    };
    let mut r = status.into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}
