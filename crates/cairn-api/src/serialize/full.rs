//! The full serialization of an object (content GET), with its items.

use cairn_core::{Content, CoreResult};
use cairn_model::time::format_ts;
use serde_json::{Map, Value, json};

use super::components::components;
use super::fields::{relation_uids, value};
use super::summary::{summary, type_title};
use crate::batch::{Batch, batching};
use crate::ctx::Ctx;

/// What to include besides the object's own data.
#[derive(Debug, Clone, Default)]
pub struct Opts {
    pub include_items: bool,
    pub fullobjects: bool,
    pub expand: Vec<String>,
    pub metadata_fields: Vec<String>,
    pub batch: Batch,
}

fn lock(c: &Content, ctx: &Ctx) -> CoreResult<Value> {
    if let Some(info) = lock_info(ctx, c)? {
        return Ok(info);
    }
    let lockable = ctx
        .site
        .registry
        .get(&c.portal_type)
        .is_some_and(|t| t.has_behavior("plone.locking"));
    Ok(if lockable || c.is_root() {
        json!({"locked": false, "stealable": true})
    } else {
        json!({})
    })
}

/// The lock in force on `c` as plone.restapi shows it, with the holder only
/// for those who may edit and the token only for the holder.
pub fn lock_info(ctx: &Ctx, c: &Content) -> CoreResult<Option<Value>> {
    let Some(seen) = cairn_core::repo::lock::seen_by(&ctx.site, c, &ctx.who)? else {
        return Ok(None);
    };
    let l = &seen.lock;
    let mut v = json!({
        "created": cairn_model::time::format_ts(l.created),
        "locked": true,
        "name": "plone.locking.stealable",
        "stealable": l.stealable,
        "time": l.created.as_second() as f64,
        "timeout": l.timeout,
    });
    if seen.holder_visible {
        v["creator"] = json!(l.creator);
        v["creator_name"] = json!(l.creator);
        v["creator_url"] = json!(format!("{}/author/{}", ctx.base, l.creator));
    }
    if seen.own {
        v["token"] = json!(l.token);
    }
    Ok(Some(v))
}

fn neighbour(ctx: &Ctx, n: Option<Content>) -> Value {
    n.map_or_else(
        || json!({}),
        |n| {
            json!({"@id": ctx.url(&n.path), "@type": n.portal_type, "description": n.description(), "title": n.title()})
        },
    )
}

/// Serializes `c`; `parent` is passed when the caller already has it.
pub fn full(ctx: &Ctx, c: &Content, parent: Option<&Content>, opts: &Opts) -> CoreResult<Value> {
    let searcher = ctx.searcher();
    let site = &ctx.site.id;
    let url = ctx.url(&c.path);
    let ty = ctx.site.registry.get(&c.portal_type);
    let mut o = Map::new();
    o.insert("@components".into(), components(ctx, c, &opts.expand)?);
    o.insert("@id".into(), json!(url));
    o.insert("@type".into(), json!(c.portal_type));
    o.insert("UID".into(), json!(c.uid));
    o.insert(
        "allow_discussion".into(),
        json!(
            c.fields
                .get("allow_discussion")
                .and_then(Value::as_bool)
                .unwrap_or(false)
        ),
    );
    if let Some(ty) = ty {
        let related = match relation_uids(c, &ty.fields) {
            uids if uids.is_empty() => Vec::new(),
            uids => searcher.visible_by_uids(&uids)?,
        };
        for f in &ty.fields {
            if f.name == "id" || f.name == "allow_discussion" {
                continue;
            }
            o.insert(f.name.clone(), value(ctx, c, &url, f, &related));
        }
    }
    o.insert("id".into(), json!(if c.is_root() { site.as_str() } else { c.id() }));
    o.insert("is_folderish".into(), json!(c.is_folderish));
    o.insert("layout".into(), json!(c.layout));
    o.insert("lock".into(), lock(c, ctx)?);
    o.insert("review_state".into(), json!(c.review_state));
    o.insert("type_title".into(), json!(type_title(ctx, c)));
    o.insert("working_copy".into(), Value::Null);
    o.insert("working_copy_of".into(), Value::Null);
    if c.is_root() {
        o.insert("parent".into(), json!({}));
    } else {
        let fetched;
        let parent = match parent {
            Some(p) => Some(p),
            None => {
                fetched = c
                    .path
                    .parent()
                    .map(|p| cairn_core::repo::find(&ctx.site, &p))
                    .transpose()?
                    .flatten();
                fetched.as_ref()
            }
        };
        o.insert("created".into(), json!(format_ts(c.created)));
        o.insert("modified".into(), json!(format_ts(c.modified)));
        o.insert("version".into(), json!("current"));
        let (prev, next) = match parent {
            Some(p) if p.bool_field("nextPreviousEnabled") => searcher.neighbours(&p.path, c.position)?,
            _ => (None, None),
        };
        o.insert("previous_item".into(), neighbour(ctx, prev));
        o.insert("next_item".into(), neighbour(ctx, next));
        // A published page may sit in a private folder: its reader learns
        // where the parent is (its URL is a prefix of the page's), not what.
        let parent = match parent {
            Some(p) if ctx.filter.allows(p) => summary(ctx, p, &[]),
            Some(p) => json!({"@id": ctx.url(&p.path)}),
            None => json!({}),
        };
        o.insert("parent".into(), parent);
    }
    if c.is_folderish && opts.include_items {
        let b = &opts.batch;
        let (children, total) = searcher.children(&c.path, b.start, b.size)?;
        let child_opts = Opts {
            include_items: false,
            ..Default::default()
        };
        let items = children
            .iter()
            .map(|child| {
                if opts.fullobjects {
                    full(ctx, child, Some(c), &child_opts)
                } else {
                    Ok(summary(ctx, child, &opts.metadata_fields))
                }
            })
            .collect::<CoreResult<Vec<_>>>()?;
        o.insert("items".into(), json!(items));
        o.insert("items_total".into(), json!(total));
        if let Some(batching) = batching(ctx, &url, b, total) {
            o.insert("batching".into(), batching);
        }
    }
    Ok(Value::Object(o))
}
