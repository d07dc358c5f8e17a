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

/// A user as plone.restapi shows it; `req_url` is the `@id` of embedded batches.
fn user_json(ctx: &Ctx, u: &UserRecord, req_url: &str) -> CoreResult<Value> {
    let mut groups = vec![("AuthenticatedUsers".to_string(), "AuthenticatedUsers".to_string())];
    for g in ctx.site.principals.groups_of(&ctx.site.id, &u.id)? {
        let title = ctx
            .site
            .principals
            .group(&ctx.site.id, &g)?
            .map(|g| g.title)
            .unwrap_or_else(|| g.clone());
        groups.push((g, title));
    }
    groups.sort_by(|a, b| a.1.cmp(&b.1));
    let groups: Vec<Value> = groups
        .into_iter()
        .map(|(id, title)| json!({"id": id, "title": title}))
        .collect();
    // Roles as the user holds them: their own and their groups'.
    let roles = cairn_core::auth::principal(&ctx.site, u.clone())?.roles;
    let prop = |k: &str| u.props.get(k).cloned().unwrap_or(Value::Null);
    Ok(json!({
        "@id": format!("{}/@users/{}", ctx.base, u.id),
        "description": prop("description"),
        "email": u.email,
        "fullname": if u.fullname.is_empty() { Value::Null } else { json!(u.fullname) },
        "groups": {"@id": req_url, "items_total": groups.len(), "items": groups},
        "home_page": prop("home_page"),
        "id": u.id,
        "location": prop("location"),
        "portrait": if u.props.contains_key("portrait") { json!(format!("{}/@portrait/{}", ctx.base, u.id)) } else { Value::Null },
        "roles": roles,
        "username": u.id,
    }))
}

/// A group; `members` (with `req_url` as its `@id`) only when asked for.
fn group_json(ctx: &Ctx, g: &GroupRecord, members_url: Option<&str>) -> CoreResult<Value> {
    let mut roles = g.roles.clone();
    if g.id != svc::AUTHENTICATED_USERS && !roles.iter().any(|r| r == "Authenticated") {
        roles.push("Authenticated".into());
    }
    let mut o = json!({
        "@id": format!("{}/@groups/{}", ctx.base, g.id), "description": g.description, "email": g.email,
        "groupname": g.id, "id": g.id, "roles": roles, "title": g.title,
    });
    if let Some(url) = members_url {
        let members = ctx.site.principals.members(&ctx.site.id, &g.id)?;
        o["members"] = json!({"@id": url, "items_total": members.len(), "items": members});
    }
    Ok(o)
}

/// The URL the client asked for (the `@id` of list answers).
fn request_url(ctx: &Ctx, service: &str, args: &[String]) -> String {
    let mut url = format!("{}/@{service}", ctx.base);
    for a in args {
        url.push('/');
        url.push_str(a);
    }
    if !ctx.params.raw().is_empty() {
        url.push('?');
        url.push_str(ctx.params.raw());
    }
    url
}

fn query(ctx: &Ctx) -> ApiResult<PrincipalQuery> {
    let p = &ctx.params;
    Ok(PrincipalQuery {
        id_contains: p.get("query").filter(|s| !s.is_empty()).map(str::to_string),
        text: p.get("search").filter(|s| !s.is_empty()).map(str::to_string),
        in_groups: p.list("groups-filter"),
        // Plone's `limit`, or Volto's b_start/b_size paging.
        start: p.usize("b_start")?.unwrap_or(0),
        limit: p
            .usize("b_size")?
            .or(p.usize("limit")?)
            .unwrap_or(DEFAULT_LIMIT)
            .clamp(1, MAX_LIMIT),
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

/// `@users[/{id}]` (`reset-password` has its own handler).
pub fn users(ctx: &Ctx, method: &Method, args: &[String], body: &[u8]) -> ApiResult<Response> {
    let (site, who) = (&ctx.site, &ctx.who);
    match (method.clone(), args) {
        (Method::GET, []) => {
            let url = request_url(ctx, "users", args);
            let q = query(ctx)?;
            let (list, total) = svc::list_users(site, who, &q)?;
            let items = list
                .iter()
                .map(|u| user_json(ctx, u, &url))
                .collect::<CoreResult<Vec<_>>>()?;
            let list_id = format!("{}/@users", ctx.base);
            let mut body = json!({"@id": list_id, "items": items, "items_total": total});
            let page = crate::batch::Batch {
                start: q.start,
                size: q.limit,
            };
            if let Some(b) = crate::batch::batching(ctx, &list_id, &page, total) {
                body["batching"] = b;
            }
            Ok(json(StatusCode::OK, &body))
        }
        (Method::GET, [id]) => {
            let user = svc::get_user(site, who, id)?;
            Ok(json(
                StatusCode::OK,
                &user_json(ctx, &user, &request_url(ctx, "users", args))?,
            ))
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

/// POST `@users/{id}/reset-password`; the old password is checked under the
/// login throttle, as a login from `client` would be.
pub fn reset_password(
    ctx: &Ctx,
    id: &str,
    body: &[u8],
    app: &crate::AppState,
    client: std::net::IpAddr,
) -> ApiResult<Response> {
    let body = body_object(body)?;
    let text = |k: &str| body.get(k).and_then(serde_json::Value::as_str);
    match (text("reset_token"), text("new_password")) {
        // Forgotten: mail a link (the answer is the same whoever `id` is).
        _ if body.is_empty() => {
            cairn_core::principals::reset::request(&ctx.site, id, &ctx.base)?;
            return Ok(json(StatusCode::OK, &json!({})));
        }
        (Some(token), Some(new)) => {
            cairn_core::principals::reset::with_token(&ctx.site, id, token, new)?;
            return Ok(json(StatusCode::OK, &json!({})));
        }
        _ => {}
    }
    svc::change_password(&ctx.site, &ctx.who, id, &body, |login, old| {
        crate::auth::checked_login(app, &ctx.site, login, old, client).map(|p| p.is_some())
    })?;
    Ok(no_content())
}

/// `POST @users`: a manager adds an account, or, when the Security panel
/// allows it, a visitor registers (a few an hour per address). Unless the
/// password was given, the account gets the reset mail to choose one.
pub fn create(
    ctx: &Ctx,
    body: &[u8],
    limit: &crate::throttle::MailLimit,
    client: std::net::IpAddr,
) -> ApiResult<Response> {
    let body = body_object(body)?;
    let registering = svc::self_registration(&ctx.site, &ctx.who)?;
    let mails = body.get("sendPasswordReset") == Some(&json!(true)) || (registering && !body.contains_key("password"));
    if mails {
        // Before the account exists: it must not be left without a way in.
        cairn_core::mail::smtp(&ctx.site)?;
    }
    if registering && !limit.allow(client) {
        return Err(ApiError::new(
            crate::error::Code::TooManyRequests,
            "Too many registrations from this address; try again in an hour.",
        ));
    }
    let user = svc::create_user(&ctx.site, &ctx.who, &body)?;
    if mails {
        cairn_core::principals::reset::request(&ctx.site, &user.id, &ctx.base)?;
    }
    Ok(created(user_json(ctx, &user, &request_url(ctx, "users", &[]))?))
}

/// `@groups[/{id}]`.
pub fn groups(ctx: &Ctx, method: &Method, args: &[String], body: &[u8]) -> ApiResult<Response> {
    let (site, who) = (&ctx.site, &ctx.who);
    let url = request_url(ctx, "groups", args);
    match (method.clone(), args) {
        (Method::GET, []) => {
            // A filtered listing gives summaries, the full listing members too.
            let with_members = !ctx.params.has("query");
            let list = svc::list_groups(site, who, &query(ctx)?)?;
            let items = list
                .iter()
                .map(|g| group_json(ctx, g, with_members.then_some(url.as_str())))
                .collect::<CoreResult<Vec<_>>>()?;
            Ok(json(StatusCode::OK, &json!(items)))
        }
        (Method::GET, [id]) => {
            let group = svc::get_group(site, who, id)?;
            Ok(json(StatusCode::OK, &group_json(ctx, &group, Some(&url))?))
        }
        (Method::POST, []) => {
            let group = svc::create_group(site, who, &body_object(body)?)?;
            Ok(created(group_json(ctx, &group, Some(&url))?))
        }
        (Method::PATCH, [id]) => {
            svc::update_group(site, who, id, &body_object(body)?)?;
            Ok(no_content())
        }
        (Method::DELETE, [id]) => {
            svc::delete_group(site, who, id)?;
            Ok(no_content())
        }
        _ => Err(ApiError::not_found(&url)),
    }
}

/// `@roles`: the global roles a user can be given.
pub fn roles(ctx: &Ctx) -> ApiResult<Response> {
    let items: Vec<Value> = svc::roles(&ctx.site, &ctx.who)?
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
    let url = request_url(ctx, "principals", &[]);
    let (users, _) = svc::list_users(&ctx.site, &ctx.who, &q)?;
    let groups = svc::list_groups(&ctx.site, &ctx.who, &q)?;
    let users = users
        .iter()
        .map(|u| user_json(ctx, u, &url))
        .collect::<CoreResult<Vec<_>>>()?;
    let groups = groups
        .iter()
        .map(|g| group_json(ctx, g, None))
        .collect::<CoreResult<Vec<_>>>()?;
    Ok(json(StatusCode::OK, &json!({"groups": groups, "users": users})))
}

/// GET `@portrait[/{user}]`: the portrait image (the caller's own without a name).
pub fn portrait(ctx: &Ctx, args: &[String]) -> ApiResult<Response> {
    let id = match args.first() {
        Some(id) => id.clone(),
        None => ctx.who.id.clone().unwrap_or_default(),
    };
    let not_found = || ApiError::not_found(&format!("{}/@portrait/{id}", ctx.base));
    let (bytes, ct) = svc::portrait(&ctx.site, &id)?.ok_or_else(not_found)?;
    // Anyone may fetch any portrait: it goes out as every other stored blob does.
    Ok(crate::blob::respond(
        bytes,
        &ct,
        None,
        crate::blob::Want::Inline,
        "public, max-age=0, must-revalidate",
    ))
}

#[derive(serde::Deserialize)]
struct UserSchemaFile {
    fields: Vec<cairn_model::FieldDef>,
    registration: Vec<cairn_model::FieldDef>,
}

/// GET `@userschema` (the profile form) and `@userschema/registration`.
pub fn userschema(ctx: &Ctx, args: &[String]) -> ApiResult<Response> {
    let file: UserSchemaFile = toml::from_str(include_str!("../../data/userschema.toml")).map_err(|e| {
        tracing::error!(error = %e, "userschema");
        ApiError::internal()
    })?;
    let fields: Vec<cairn_model::FieldDef> = match args.first().map(String::as_str) {
        None => file.fields,
        Some("registration") => {
            // Registration asks for a name and an address, then the account.
            let mut f: Vec<cairn_model::FieldDef> = file
                .fields
                .into_iter()
                .filter(|x| x.name == "fullname" || x.name == "email")
                .collect();
            f.extend(file.registration);
            // The address is the login name: no separate one is asked for.
            if cairn_core::records::value(&ctx.site, "plone.use_email_as_login")?.as_bool() == Some(true) {
                f.retain(|x| x.name != "username");
            }
            f
        }
        Some(other) => return Err(ApiError::not_found(&format!("{}/@userschema/{other}", ctx.base))),
    };
    let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
    // Member fields belong to no behavior, so their properties carry none.
    let properties: serde_json::Map<String, Value> = fields
        .iter()
        .map(|f| {
            let mut p = f.json_schema(&ctx.base);
            if let Some(o) = p.as_object_mut() {
                o.remove("behavior");
            }
            (f.name.clone(), p)
        })
        .collect();
    let required: Vec<&str> = fields.iter().filter(|f| f.required).map(|f| f.name.as_str()).collect();
    let body = json!({
        "fieldsets": [{"behavior": "plone", "fields": names, "id": "default", "title": "Default"}],
        "properties": properties,
        "required": required,
        "type": "object",
    });
    Ok(json(StatusCode::OK, &body))
}
