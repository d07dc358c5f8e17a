//! `@aliases` (GET, POST, DELETE) and the redirects old paths answer with.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cairn_core::ports::RedirectFilter;
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

/// `manual=true|false` (also `1`/`0`).
fn flag(v: &str) -> ApiResult<bool> {
    match v {
        "true" | "True" | "1" => Ok(true),
        "false" | "False" | "0" => Ok(false),
        _ => Err(ApiError::bad_request("manual must be true or false")),
    }
}

/// A `start`/`end` filter as a stored moment: a date alone means the start
/// of that day (or its end, for `end`); a date and time is read as UTC
/// unless it names its offset.
fn moment(raw: &str, end_of_day: bool) -> ApiResult<String> {
    let bad = || ApiError::bad_request(format!("'{raw}' is not a date (YYYY-MM-DD or an ISO date and time)"));
    let ts = if let Ok(d) = raw.parse::<jiff::civil::Date>() {
        let time = if end_of_day {
            jiff::civil::Time::constant(23, 59, 59, 0)
        } else {
            jiff::civil::Time::midnight()
        };
        d.to_datetime(time)
            .to_zoned(jiff::tz::TimeZone::UTC)
            .map_err(|_| bad())?
            .timestamp()
    } else if let Ok(t) = raw.parse::<jiff::Timestamp>() {
        t
    } else {
        let dt = raw.parse::<jiff::civil::DateTime>().map_err(|_| bad())?;
        dt.to_zoned(jiff::tz::TimeZone::UTC).map_err(|_| bad())?.timestamp()
    };
    Ok(cairn_model::time::format_ts(ts))
}

fn wants_csv(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|a| a.contains("text/csv"))
}

/// The list as plone.app.redirector exports it.
fn csv(items: &[cairn_core::ports::Redirect]) -> Response {
    let mut out = String::from("old path,new path,datetime,manual\r\n");
    for r in items {
        let field = |s: &str| {
            if s.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_owned()
            }
        };
        out.push_str(&format!(
            "{},{},{},{}\r\n",
            field(r.from.as_str()),
            field(r.to.as_str()),
            r.created.trim_end_matches("+00:00"),
            if r.manual { "True" } else { "False" }
        ));
    }
    let mut resp = (StatusCode::OK, out).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    resp.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=redirects.csv"),
    );
    resp
}

/// GET, POST or DELETE `<object>/@aliases`.
pub fn handle(
    ctx: &Ctx,
    path: &ContentPath,
    method: &axum::http::Method,
    headers: &HeaderMap,
    body: &[u8],
) -> ApiResult<Response> {
    use axum::http::Method;
    match *method {
        Method::GET => {
            let p = &ctx.params;
            let (start, size) = (
                p.usize("b_start")?.unwrap_or(0),
                // Volto asks for b_size=99999999999: all of them, within the cap.
                p.get("b_size")
                    .map(|s| {
                        s.parse::<u64>()
                            .map_err(|_| ApiError::bad_request("b_size must be a number"))
                    })
                    .transpose()?
                    .map_or(1000, |n| n.clamp(1, 10_000) as usize),
            );
            let filter = RedirectFilter {
                text: p.get("query").or_else(|| p.get("q")).map(str::to_owned),
                manual: p.get("manual").map(flag).transpose()?,
                since: p.get("start").map(|d| moment(d, false)).transpose()?,
                until: p.get("end").map(|d| moment(d, true)).transpose()?,
            };
            let (items, total) = aliases::list(&ctx.site, &ctx.who, path, &filter, start, size)?;
            if wants_csv(headers) {
                return Ok(csv(&items));
            }
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
            let items = match super::alias_upload::parse(headers, body)? {
                Some(items) => items,
                None => paths(&body_object(body)?)?,
            };
            aliases::add(&ctx.site, &ctx.who, path, &items)?;
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
