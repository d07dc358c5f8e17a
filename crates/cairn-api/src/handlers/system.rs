//! Site Setup's facts, for administrators: `@system` (what runs: cairn's
//! version, the database and its schema), `@database` (how big), `@upgrade`
//! (the one-time passes an older site still needs, and running them) and
//! `@addons` (the profiles cairn ships and which one the site uses).

use axum::http::{Method, StatusCode};
use axum::response::Response;
use cairn_core::upgrade;
use cairn_model::ContentPath;
use serde_json::{Value, json};

use super::{body_object, json};
use crate::ctx::Ctx;
use crate::error::{ApiError, ApiResult};

/// The profiles a site can be built with; `classic` is Plone's own.
const PROFILES: [(&str, &str, &str); 2] = [
    (
        "plone.app.contenttypes",
        "classic",
        "Plone's content types (classic Plone)",
    ),
    (
        "plone.volto",
        "volto",
        "Volto: folderish pages, news items and events with blocks",
    ),
];

pub fn handle(
    ctx: &Ctx,
    path: &ContentPath,
    name: &str,
    method: &Method,
    args: &[String],
    body: &[u8],
) -> ApiResult<Response> {
    let base = format!("{}/@{name}", ctx.url(path));
    if !path.is_root() || !args.is_empty() && name != "addons" {
        return Err(ApiError::not_found(&base));
    }
    cairn_core::security::require_admin(&ctx.who, &format!("use @{name}"))?;
    let facts = ctx.site.store.facts(&ctx.site.id)?;
    let body = match (name, method, args) {
        ("system", &Method::GET, []) => json!({
            "@id": base,
            "cairn_version": env!("CARGO_PKG_VERSION"),
            "plone_version": format!("cairn {}", env!("CARGO_PKG_VERSION")),
            "plone_restapi_version": Value::Null,
            "python_version": Value::Null,
            "zope_version": Value::Null,
            "cmf_version": Value::Null,
            "pil_version": Value::Null,
            "database": facts.engine,
            "debug_mode": if cfg!(debug_assertions) { "Yes" } else { "No" },
            "plone_gs_metadata_version_file_system": facts.schema_required.to_string(),
            "plone_gs_metadata_version_installed": facts.schema_version.to_string(),
            "upgrade": facts.schema_version != facts.schema_required || !upgrade::pending(&ctx.site)?.is_empty(),
        }),
        ("database", &Method::GET, []) => json!({
            "@id": base,
            "db_name": ctx.site.id,
            "db_storage": facts.engine,
            "db_size": facts.bytes,
            "database_size": facts.bytes,
            "objects": facts.objects,
            "versions": facts.versions,
            "trash_entries": facts.trash_entries,
            "outbox": ctx.site.store.outbox_len(&ctx.site.id)?,
        }),
        ("upgrade", &Method::GET, []) => {
            let steps = upgrade::pending(&ctx.site)?;
            json!({"@id": base, "upgrade_steps": steps_json(&facts, &steps), "versions": versions(&facts)})
        }
        ("upgrade", &Method::POST, []) => {
            let dry_run = match body_object(body)?.get("dry_run") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(b)) => *b,
                Some(_) => return Err(ApiError::bad_request("'dry_run' must be true or false")),
            };
            let steps = if dry_run {
                upgrade::pending(&ctx.site)?
            } else {
                upgrade::run(&ctx.site)?
            };
            let verb = if dry_run { "Would queue" } else { "Queued" };
            let mut report: Vec<String> = steps
                .iter()
                .map(|s| format!("{verb} upgrade step: {}", s.title))
                .collect();
            if report.is_empty() {
                report.push("Nothing to upgrade: the site is up to date.".into());
            }
            json!({
                "@id": base, "dry_run": dry_run, "report": report.join("\n"),
                "upgraded": !dry_run && !steps.is_empty(), "versions": versions(&facts),
            })
        }
        ("addons", &Method::GET, []) => {
            let items: Vec<Value> = PROFILES
                .iter()
                .map(|(id, profile, title)| {
                    json!({
                        "@id": format!("{base}/{id}"), "id": id, "title": title, "description": title,
                        "is_installed": ctx.site.settings.profile == *profile,
                        "profile_type": "default", "version": env!("CARGO_PKG_VERSION"),
                        "install_profile_id": format!("{id}:default"), "uninstall_profile_id": Value::Null,
                        "upgrade_info": {}, "other_profiles": [],
                    })
                })
                .collect();
            json!({"@id": base, "items_total": items.len(), "items": items})
        }
        ("addons", &Method::POST, [id, _]) => {
            return Err(ApiError::bad_request(format!(
                "{id} cannot be installed or removed while the site runs: a site's profile is chosen in \
                 cairn's settings (`sites[].profile`, `classic` or `volto`) when it is created"
            )));
        }
        (_, &Method::GET | &Method::POST, _) => return Err(ApiError::not_found(&base)),
        _ => return Err(ApiError::method_not_allowed()),
    };
    Ok(json(StatusCode::OK, &body))
}

fn versions(f: &cairn_core::ports::StoreFacts) -> Value {
    json!({"fs": f.schema_required.to_string(), "instance": f.schema_version.to_string()})
}

fn steps_json(f: &cairn_core::ports::StoreFacts, steps: &[upgrade::Step]) -> Value {
    if steps.is_empty() {
        return json!({});
    }
    let list: Vec<Value> = steps.iter().map(|s| json!({"id": s.id, "title": s.title})).collect();
    json!({ format!("{}-{}", f.schema_version, f.schema_required): list })
}
