//! The full serialization of an object (content GET), with its items.

use cairn_core::repo::Surroundings;
use cairn_core::repo::lock::LockView;
use cairn_core::{Content, CoreResult};
use cairn_model::time::format_ts;
use serde_json::{Map, Value, json};

use super::components::components;
use super::fields::value;
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

fn lock(ctx: &Ctx, c: &Content, around: &Surroundings) -> Value {
    if let Some(seen) = around.lock(c) {
        return lock_value(ctx, seen);
    }
    let lockable = ctx
        .site
        .types()
        .get(&c.portal_type)
        .is_some_and(|t| t.has_behavior("plone.locking"));
    if lockable || c.is_root() {
        json!({"locked": false, "stealable": true})
    } else {
        json!({})
    }
}

/// The lock in force on `c` as plone.restapi shows it, with the holder only
/// for those who may edit and the token only for the holder.
pub fn lock_info(ctx: &Ctx, c: &Content) -> CoreResult<Option<Value>> {
    Ok(cairn_core::repo::lock::seen_by(&ctx.site, c, &ctx.who)?.map(|seen| lock_value(ctx, &seen)))
}

fn lock_value(ctx: &Ctx, seen: &LockView) -> Value {
    let l = &seen.lock;
    let mut v = json!({
        "created": cairn_model::time::format_ts(l.created),
        "locked": true,
        "name": l.name,
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
    v
}

fn neighbour(ctx: &Ctx, n: Option<&Content>) -> Value {
    n.map_or_else(
        || json!({}),
        |n| {
            ctx.shows(n);
            json!({"@id": ctx.url(&n.path), "@type": n.portal_type, "description": n.description(), "title": n.title()})
        },
    )
}

/// Serializes `c`; `parent` is passed when the caller already has it.
pub fn full(ctx: &Ctx, c: &Content, parent: Option<&Content>, opts: &Opts) -> CoreResult<Value> {
    let around = Surroundings::load(&ctx.site, &ctx.who, &ctx.filter, std::slice::from_ref(c), parent)?;
    full_in(ctx, c, &around, opts)
}

/// Serializes a page of objects (no items of their own), their surroundings
/// loaded for all of them at once; `parent` is their container when known.
pub fn full_page(ctx: &Ctx, items: &[Content], parent: Option<&Content>) -> CoreResult<Vec<Value>> {
    let around = Surroundings::load(&ctx.site, &ctx.who, &ctx.filter, items, parent)?;
    let opts = Opts {
        include_items: false,
        ..Default::default()
    };
    items.iter().map(|c| full_in(ctx, c, &around, &opts)).collect()
}

fn full_in(ctx: &Ctx, c: &Content, around: &Surroundings, opts: &Opts) -> CoreResult<Value> {
    ctx.shows(c);
    let site = &ctx.site.id;
    let url = ctx.url(&c.path);
    let types = ctx.site.types();
    let ty = types.get(&c.portal_type);
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
        for f in &ty.fields {
            if f.name == "id" || f.name == "allow_discussion" {
                continue;
            }
            o.insert(f.name.clone(), value(ctx, c, &url, f, around));
        }
        super::links::render(ctx, &mut o);
    }
    o.insert("id".into(), json!(if c.is_root() { site.as_str() } else { c.id() }));
    o.insert("is_folderish".into(), json!(c.is_folderish));
    o.insert("layout".into(), json!(c.layout));
    o.insert("lock".into(), lock(ctx, c, around));
    o.insert("review_state".into(), json!(c.review_state));
    o.insert("type_title".into(), json!(type_title(ctx, c)));
    let (copy, of) = super::pair::pair_json(ctx, c)?;
    o.insert("working_copy".into(), copy);
    o.insert("working_copy_of".into(), of);
    if c.is_root() {
        o.insert("parent".into(), json!({}));
    } else {
        o.insert("created".into(), json!(format_ts(c.created)));
        o.insert("modified".into(), json!(format_ts(c.modified)));
        o.insert("version".into(), json!("current"));
        let (prev, next) = around.neighbours(c);
        // Its neighbours (when its folder shows them) change with the folder's list.
        if let Some(parent) = around
            .parent(c)
            .filter(|p| p.bool_field("nextPreviousEnabled") && ctx.filter.allows(p))
        {
            ctx.depends_on(&cairn_core::caching::listing_tag(&parent.uid));
        }
        o.insert("previous_item".into(), neighbour(ctx, prev));
        o.insert("next_item".into(), neighbour(ctx, next));
        // A published page may sit in a private folder: its reader learns
        // where the parent is (its URL is a prefix of the page's), not what.
        let parent = match around.parent(c) {
            Some(p) if ctx.filter.allows(p) => summary(ctx, p, &[]),
            Some(p) => json!({"@id": ctx.url(&p.path)}),
            None => json!({}),
        };
        o.insert("parent".into(), parent);
    }
    if c.is_folderish && opts.include_items {
        ctx.depends_on(&cairn_core::caching::listing_tag(&c.uid));
        let b = &opts.batch;
        // Summaries come from the stored summary fields; only full objects
        // decode the whole of each child.
        let (children, total) = ctx.searcher().children(&c.path, b.start, b.size, !opts.fullobjects)?;
        let items = if opts.fullobjects {
            full_page(ctx, &children, Some(c))?
        } else {
            children
                .iter()
                .map(|child| summary(ctx, child, &opts.metadata_fields))
                .collect()
        };
        o.insert("items".into(), json!(items));
        o.insert("items_total".into(), json!(total));
        if let Some(batching) = batching(ctx, &url, b, total) {
            o.insert("batching".into(), batching);
        }
    }
    Ok(Value::Object(o))
}
