//! `@types`: the JSON Schema of each content type, and for administrators
//! the schema editor (POST a field or fieldset, PATCH, PUT, DELETE), plus
//! the dexterity-types control panel that adds, changes and removes types.
//! The work is in `cairn_core::types`; this module speaks plone.restapi.

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cairn_core::types as core_types;
use cairn_model::ContentPath;
use cairn_model::schema::editing;
use serde_json::{Map, Value, json};

use super::{body_object, json, json_typed};
use crate::ctx::Ctx;
use crate::error::{ApiError, ApiResult};
use crate::serialize::components;

/// GET `@types` (the types addable here) and `@types/{name}[/{field-or-fieldset}]`.
pub fn get(ctx: &Ctx, c: &cairn_core::Content, args: &[String]) -> ApiResult<Response> {
    if ctx.who.is_anonymous() {
        return Err(ApiError::unauthorized("You are not allowed to list content types"));
    }
    let Some(name) = args.first() else {
        return Ok(json(StatusCode::OK, &json!(components::types(ctx, c))));
    };
    let schema = schema(ctx, name)?;
    match args.get(1) {
        None => Ok(json_typed(StatusCode::OK, &schema, "application/json+schema")),
        Some(part) => part_of(&schema, part)
            .map(|v| json(StatusCode::OK, &v))
            .ok_or_else(|| ApiError::not_found(&format!("{}/@types/{name}/{part}", ctx.base))),
    }
}

fn schema(ctx: &Ctx, name: &str) -> ApiResult<Value> {
    let types = ctx.site.types();
    let ty = types
        .get(name)
        .ok_or_else(|| ApiError::not_found(&format!("{}/@types/{name}", ctx.base)))?;
    Ok(ty.json_schema(&types, &ctx.base))
}

/// A field's property or a fieldset of a type's schema.
fn part_of(schema: &Value, part: &str) -> Option<Value> {
    if let Some(prop) = schema["properties"].get(part) {
        return Some(prop.clone());
    }
    schema["fieldsets"]
        .as_array()
        .and_then(|fs| fs.iter().find(|f| f["id"] == json!(part)))
        .cloned()
}

/// POST, PATCH, PUT and DELETE of `@types/{name}[/{field-or-fieldset}]` (site root only).
pub fn write(ctx: &Ctx, path: &ContentPath, method: &Method, args: &[String], body: &[u8]) -> ApiResult<Response> {
    let base = format!("{}/@types", ctx.url(path));
    if !path.is_root() || args.is_empty() || args.len() > 2 {
        return Err(ApiError::not_found(&format!("{base}/{}", args.join("/"))));
    }
    cairn_core::security::require_admin(&ctx.who, "manage content types")?;
    let (site, who, name) = (&ctx.site, &ctx.who, args[0].as_str());
    let part = args.get(1).map(String::as_str);
    let missing = || ApiError::not_found(&format!("{base}/{}", args.join("/")));
    let done = || Ok(StatusCode::NO_CONTENT.into_response());
    match (method, part) {
        (&Method::POST, None) => {
            let body = body_object(body)?;
            let added = core_types::edit(site, who, name, |ty, def| editing::add(ty, def, &body))?;
            let shown = part_of(&schema(ctx, name)?, &added).ok_or_else(ApiError::internal)?;
            Ok(json(StatusCode::CREATED, &shown))
        }
        (&Method::PATCH, None) => {
            let body = body_object(body)?;
            core_types::edit(site, who, name, |ty, def| editing::patch(ty, def, &body))?;
            done()
        }
        (&Method::PUT, None) => {
            let body = body_object(body)?;
            core_types::edit(site, who, name, |ty, def| editing::put(ty, def, &body))?;
            done()
        }
        (&Method::PATCH, Some(part)) => {
            let body = body_object(body)?;
            let is_field = site.types().get(name).is_some_and(|t| t.field(part).is_some());
            core_types::edit(site, who, name, |ty, def| {
                if is_field {
                    editing::update_field(ty, def, part, &body)
                } else {
                    editing::update_fieldset(ty, def, part, &body)
                }
            })
            .map_err(|e| not_found_as(e, missing))?;
            done()
        }
        (&Method::DELETE, Some(part)) => {
            core_types::edit(site, who, name, |ty, def| editing::delete(ty, def, part))
                .map_err(|e| not_found_as(e, missing))?;
            done()
        }
        _ => Err(ApiError::method_not_allowed()),
    }
}

/// A missing field or type is reported with the URL that was asked for.
fn not_found_as(e: cairn_core::CoreError, missing: impl Fn() -> ApiError) -> ApiError {
    match e {
        cairn_core::CoreError::NotFound => missing(),
        e => e.into(),
    }
}

/// The dexterity-types control panel: `GET` lists the types with their
/// counts, `GET/PATCH/DELETE {id}` shows, changes or removes one, `POST`
/// adds one. Administrators only (checked by the caller).
pub fn panel(ctx: &Ctx, base: &str, method: &Method, args: &[String], body: &[u8]) -> ApiResult<Response> {
    let base = format!("{base}/{PANEL}");
    let (site, who) = (&ctx.site, &ctx.who);
    match (method, args) {
        (&Method::GET, []) => {
            let counts = core_types::counts(site)?;
            let items: Vec<Value> = site
                .types()
                .all()
                .map(|t| {
                    json!({
                        "@id": format!("{base}/{}", t.def.id),
                        "@type": t.def.id,
                        "id": t.def.id,
                        "title": t.def.title,
                        "description": t.def.description,
                        "count": counts.get(&t.def.id).copied().unwrap_or(0),
                        "meta_type": "Dexterity FTI",
                    })
                })
                .collect();
            Ok(json(
                StatusCode::OK,
                &json!({"@id": base, "group": "Content", "title": TITLE, "items": items}),
            ))
        }
        (&Method::GET, [id]) => Ok(json(StatusCode::OK, &type_panel(ctx, &base, id)?)),
        (&Method::POST, []) => {
            let id = core_types::create(site, who, &body_object(body)?)?;
            let shown = type_panel(ctx, &base, &id)?;
            let mut resp = json(StatusCode::CREATED, &shown);
            if let Ok(v) = HeaderValue::from_str(&format!("{base}/{id}")) {
                resp.headers_mut().insert(header::LOCATION, v);
            }
            Ok(resp)
        }
        (&Method::PATCH, [id]) => {
            let body = body_object(body)?;
            let types = site.types();
            core_types::edit(site, who, id, |_, def| editing::update_settings(&types, def, &body))
                .map_err(|e| not_found_as(e, || ApiError::not_found(&format!("{base}/{id}"))))?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        (&Method::DELETE, [id]) => {
            core_types::remove(site, who, id)
                .map_err(|e| not_found_as(e, || ApiError::not_found(&format!("{base}/{id}"))))?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        (&Method::GET | &Method::PATCH | &Method::DELETE, _) => {
            Err(ApiError::not_found(&format!("{base}/{}", args.join("/"))))
        }
        _ => Err(ApiError::method_not_allowed()),
    }
}

/// The panel's id and title in `@controlpanels`.
pub const PANEL: &str = "dexterity-types";
pub const TITLE: &str = "Content Types";

/// One type as the panel edits it: its settings and a switch per behavior.
fn type_panel(ctx: &Ctx, base: &str, id: &str) -> ApiResult<Value> {
    let types = ctx.site.types();
    let ty = types
        .get(id)
        .ok_or_else(|| ApiError::not_found(&format!("{base}/{id}")))?;
    let mut data = Map::new();
    data.insert("title".into(), json!(ty.def.title));
    data.insert("description".into(), json!(ty.def.description));
    data.insert("allowed_content_types".into(), json!(ty.def.allowed_types));
    data.insert("filter_content_types".into(), json!(ty.def.filter_content_types));
    let mut properties = Map::new();
    properties.insert(
        "title".into(),
        json!({"type": "string", "title": "Type Name", "description": "", "factory": "Text line (String)"}),
    );
    properties.insert(
        "description".into(),
        json!({"type": "string", "title": "Description", "description": "", "factory": "Text", "widget": "textarea"}),
    );
    properties.insert(
        "allowed_content_types".into(),
        json!({
            "type": "array", "title": "Allowed Content Types", "description": "", "factory": "Multiple Choice",
            "uniqueItems": true, "additionalItems": true,
            "items": {"type": "string", "title": "", "description": "", "factory": "Choice",
                      "vocabulary": {"@id": format!("{}/@vocabularies/plone.app.vocabularies.ReallyUserFriendlyTypes", ctx.base)}},
        }),
    );
    properties.insert(
        "filter_content_types".into(),
        json!({
            "type": "boolean", "title": "Filter Contained Types", "factory": "Yes/No",
            "description": "Items of this type can act as a folder containing other items. Only the allowed content types may be added inside when this is on.",
        }),
    );
    let mut behaviors = Vec::new();
    for b in &types.behaviors {
        data.insert(b.name.clone(), json!(ty.def.behaviors.contains(&b.name)));
        properties.insert(
            b.name.clone(),
            json!({"type": "boolean", "title": b.title, "description": b.description, "factory": "Yes/No"}),
        );
        behaviors.push(b.name.clone());
    }
    Ok(json!({
        "@id": format!("{base}/{id}"),
        "title": ty.def.title,
        "description": ty.def.description,
        "group": "Content",
        "items": [],
        "data": data,
        "schema": {
            "type": "object",
            "fieldsets": [
                {"id": "default", "title": "Default", "behavior": "plone",
                 "fields": ["title", "description", "allowed_content_types", "filter_content_types"]},
                {"id": "behaviors", "title": "Behaviors", "behavior": "plone", "fields": behaviors},
            ],
            "properties": properties,
            "required": ["title"],
        },
    }))
}
