//! `@workingcopy` (plone.app.iterate): `POST` on an item checks it out
//! (201, the copy's URL), `GET` shows the pair, `PATCH` on either end checks
//! in, `DELETE` on either end cancels. The pair also shows in the content
//! GET as `working_copy` / `working_copy_of`, to readers who may see each end.

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cairn_core::repo::{get_visible, workingcopy};
use cairn_model::ContentPath;
use serde_json::{Value, json};

use super::{body_object, json};
use crate::ctx::Ctx;
use crate::error::{ApiError, ApiResult};

pub fn handle(ctx: &Ctx, path: &ContentPath, method: &Method, body: &[u8]) -> ApiResult<Response> {
    let (site, who) = (&ctx.site, &ctx.who);
    match *method {
        Method::GET => {
            let c = get_visible(site, path, who)?;
            let (copy, of) = crate::serialize::pair::pair_json(ctx, &c)?;
            Ok(json(
                StatusCode::OK,
                &json!({"working_copy": copy, "working_copy_of": of}),
            ))
        }
        Method::POST => {
            let copy = workingcopy::check_out(site, path, who)?;
            let mut r = json(StatusCode::CREATED, &json!({"@id": ctx.url(&copy.path)}));
            if let Ok(v) = HeaderValue::from_str(&ctx.url(path)) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            Ok(r)
        }
        Method::PATCH => {
            let body = body_object(body)?;
            let message = match body.get("message") {
                None | Some(Value::Null) => "",
                Some(Value::String(m)) if m.len() <= 10_000 => m,
                Some(_) => {
                    return Err(ApiError::bad_request(
                        "'message' must be a text of at most 10,000 bytes",
                    ));
                }
            };
            workingcopy::check_in(site, path, who, message)?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        Method::DELETE => {
            workingcopy::cancel(site, path, who)?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        _ => Err(ApiError::method_not_allowed()),
    }
}
