//! `@translations` (plone.app.multilingual): `GET` lists an item's
//! translations, `POST {"id": <URL, path or UID>}` links an item as one,
//! `DELETE {"language"}` unlinks the translation into that language;
//! `@translation-locator` names the folder a new translation belongs in.

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cairn_core::repo::{get_visible, translations};
use cairn_model::ContentPath;
use serde_json::{Value, json};

use super::{body_object, json};
use crate::ctx::Ctx;
use crate::error::{ApiError, ApiResult};

pub fn handle(ctx: &Ctx, path: &ContentPath, method: &Method, body: &[u8]) -> ApiResult<Response> {
    if !ctx.site.settings.multilingual {
        return Err(ApiError::not_found(&format!("{}/@translations", ctx.url(path))));
    }
    match *method {
        Method::GET => {
            let c = get_visible(&ctx.site, path, &ctx.who)?;
            Ok(json(
                StatusCode::OK,
                &crate::serialize::components::translations(ctx, &c)?,
            ))
        }
        Method::POST => {
            let body = body_object(body)?;
            let raw = body
                .get("id")
                .and_then(Value::as_str)
                .ok_or_else(|| ApiError::bad_request("'id' (the translation's URL, path or UID) is required"))?;
            let target_path = super::services::resolve_ref(ctx, raw)?;
            let target = get_visible(&ctx.site, &target_path, &ctx.who)?;
            translations::link(&ctx.site, &ctx.who, path, &target)?;
            let mut r = json(StatusCode::CREATED, &json!({}));
            if let Ok(v) = HeaderValue::from_str(&ctx.url(path)) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            Ok(r)
        }
        Method::DELETE => {
            let body = body_object(body)?;
            let lang = body
                .get("language")
                .and_then(Value::as_str)
                .ok_or_else(|| ApiError::bad_request("'language' is required"))?;
            translations::unlink(&ctx.site, &ctx.who, path, lang)?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        _ => Err(ApiError::method_not_allowed()),
    }
}

/// `GET <obj>/@translation-locator?target_language=<code>`: the folder a
/// translation into that language belongs in.
pub fn locator(ctx: &Ctx, path: &ContentPath) -> ApiResult<Response> {
    if !ctx.site.settings.multilingual {
        return Err(ApiError::not_found(&format!("{}/@translation-locator", ctx.url(path))));
    }
    let lang = ctx
        .params
        .get("target_language")
        .ok_or_else(|| ApiError::bad_request("'target_language' is required"))?;
    let c = get_visible(&ctx.site, path, &ctx.who)?;
    let at = translations::locate(&ctx.site, &ctx.who, &c, lang)?;
    Ok(json(StatusCode::OK, &json!({"@id": ctx.url(&at)})))
}
