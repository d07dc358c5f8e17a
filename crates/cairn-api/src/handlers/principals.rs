//! `@users`, `@groups`, `@roles` and `@principals`.

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cairn_core::ports::{GroupRecord, PrincipalQuery, UserRecord};
use cairn_core::{CoreResult, principals as svc};
use serde_json::{Value, json};

use super::{body_object, json};
use crate::ctx::Ctx;
use crate::error::{ApiError, ApiResult};

/// Default and largest number of principals a listing returns.
const DEFAULT_LIMIT: usize = 25;
const MAX_LIMIT: usize = 1000;

fn user_json(ctx: &Ctx, u: &UserRecord) -> CoreResult<Value> {
    let url = format!("{}/@users/{}", ctx.base, u.id);
    let mut groups = vec![json!({"id": "AuthenticatedUsers", "title": "AuthenticatedUsers"})];
    for g in ctx.site.principals.groups_of(&ctx.site.id, &u.id)? {
        let title = ctx
            .site
            .principals
            .group(&ctx.site.id, &g)?
            .map(|g| g.title)
            .unwrap_or_else(|| g.clone());
        groups.push(json!({"id": g, "title": title}));
    }
    let prop = |k: &str| u.props.get(k).cloned().unwrap_or(Value::Null);
    Ok(json!({
        "@id": url,
        "description": prop("description"),
        "email": u.email,
        "fullname": u.fullname,
        "groups": {"@id": url, "items_total": groups.len(), "items": groups},
        "home_page": prop("home_page"),
        "id": u.id,
        "location": prop("location"),
        "portrait": null,
        "roles": u.roles,
        "username": u.id,
    }))
}

fn group_json(ctx: &Ctx, g: &GroupRecord, with_members: bool) -> CoreResult<Value> {
    let url = format!("{}/@groups/{}", ctx.base, g.id);
    let mut roles = g.roles.clone();
    if !roles.iter().any(|r| r == "Authenticated") {
        roles.push("Authenticated".into());
    }
    let mut o = json!({
        "@id": url, "description": g.description, "email": g.email, "groupname": g.id,
        "id": g.id, "roles": roles, "title": g.title,
    });
    if with_members {
        let members = ctx.site.principals.members(&ctx.site.id, &g.id)?;
        o["members"] = json!({"@id": url, "items_total": members.len(), "items": members});
    }
    Ok(o)
}

fn query(ctx: &Ctx) -> ApiResult<PrincipalQuery> {
    let p = &ctx.params;
    Ok(PrincipalQuery {
        id_contains: p.get("query").filter(|s| !s.is_empty()).map(str::to_string),
        text: p.get("search").filter(|s| !s.is_empty()).map(str::to_string),
        in_groups: p.list("groups-filter"),
        limit: p.usize("limit")?.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT),
    })
}

fn created(body: Value) -> Response {
    let mut r = json(StatusCode::CREATED, &body);
    if let Some(loc) = body["@id"].as_str().and_then(|s| HeaderValue::from_str(s).ok()) {
        r.headers_mut().insert(header::LOCATION, loc);
    }
    r
}

fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// `@users[/{id}[/reset-password]]`.
pub fn users(ctx: &Ctx, method: &Method, args: &[String], body: &[u8]) -> ApiResult<Response> {
    let (site, who) = (&ctx.site, &ctx.who);
    match (method.clone(), args) {
        (Method::GET, []) => {
            let list = svc::list_users(site, who, &query(ctx)?)?;
            let items = list.iter().map(|u| user_json(ctx, u)).collect::<CoreResult<Vec<_>>>()?;
            Ok(json(StatusCode::OK, &json!(items)))
        }
        (Method::GET, [id]) => Ok(json(StatusCode::OK, &user_json(ctx, &svc::get_user(site, who, id)?)?)),
        (Method::POST, []) => {
            let user = svc::create_user(site, who, &body_object(body)?)?;
            Ok(created(user_json(ctx, &user)?))
        }
        (Method::POST, [id, action]) if action == "reset-password" => {
            svc::change_password(site, who, id, &body_object(body)?)?;
            Ok(no_content())
        }
        (Method::PATCH, [id]) => svc::update_user(site, who, id, &body_object(body)?)
            .map(|_| no_content())
            .map_err(Into::into),
        (Method::DELETE, [id]) => svc::delete_user(site, who, id)
            .map(|_| no_content())
            .map_err(Into::into),
        _ => Err(ApiError::not_found(&format!("{}/@users/{}", ctx.base, args.join("/")))),
    }
}

/// `@groups[/{id}]`.
pub fn groups(ctx: &Ctx, method: &Method, args: &[String], body: &[u8]) -> ApiResult<Response> {
    let (site, who) = (&ctx.site, &ctx.who);
    match (method.clone(), args) {
        (Method::GET, []) => {
            let list = svc::list_groups(site, who, &query(ctx)?)?;
            let items = list
                .iter()
                .map(|g| group_json(ctx, g, true))
                .collect::<CoreResult<Vec<_>>>()?;
            Ok(json(StatusCode::OK, &json!(items)))
        }
        (Method::GET, [id]) => Ok(json(
            StatusCode::OK,
            &group_json(ctx, &svc::get_group(site, who, id)?, true)?,
        )),
        (Method::POST, []) => {
            let group = svc::create_group(site, who, &body_object(body)?)?;
            Ok(created(group_json(ctx, &group, true)?))
        }
        (Method::PATCH, [id]) => svc::update_group(site, who, id, &body_object(body)?)
            .map(|_| no_content())
            .map_err(Into::into),
        (Method::DELETE, [id]) => svc::delete_group(site, who, id)
            .map(|_| no_content())
            .map_err(Into::into),
        _ => Err(ApiError::not_found(&format!("{}/@groups/{}", ctx.base, args.join("/")))),
    }
}

/// `@roles`: the global roles a user can be given.
pub fn roles(ctx: &Ctx) -> ApiResult<Response> {
    if ctx.who.is_anonymous() {
        return Err(ApiError::unauthorized("You are not allowed to list roles"));
    }
    let items: Vec<Value> = svc::ROLES
        .iter()
        .map(|r| json!({"@id": format!("{}/@roles/{r}", ctx.base), "@type": "role", "id": r, "title": r}))
        .collect();
    Ok(json(StatusCode::OK, &json!(items)))
}

/// `@principals?search=`: users and groups matching a text.
pub fn principals(ctx: &Ctx) -> ApiResult<Response> {
    let text = ctx.params.get("search").unwrap_or("").to_string();
    let q = PrincipalQuery {
        text: Some(text),
        limit: DEFAULT_LIMIT,
        ..Default::default()
    };
    let users = svc::list_users(&ctx.site, &ctx.who, &q)?;
    let groups = svc::list_groups(&ctx.site, &ctx.who, &q)?;
    let users = users
        .iter()
        .map(|u| user_json(ctx, u))
        .collect::<CoreResult<Vec<_>>>()?;
    let groups = groups
        .iter()
        .map(|g| group_json(ctx, g, false))
        .collect::<CoreResult<Vec<_>>>()?;
    Ok(json(StatusCode::OK, &json!({"groups": groups, "users": users})))
}
