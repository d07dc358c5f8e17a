//! `@navigation`: "Home" plus the tree below the root, `depth` levels deep,
//! from one (cached) query, serialized straight from typed nodes because a
//! sitemap-deep tree is the largest answer the API gives.

use std::collections::HashMap;

use cairn_core::{Content, CoreResult};
use cairn_model::ContentPath;
use serde::Serialize;
use serde_json::Value;

use super::components::nav_title;
use crate::ctx::Ctx;

/// One navigation entry.
#[derive(Serialize)]
struct Node<'a> {
    #[serde(rename = "@id")]
    id: String,
    description: &'a str,
    items: Vec<Node<'a>>,
    review_state: Option<&'a str>,
    title: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    use_view_action_in_listings: Option<bool>,
}

#[derive(Serialize)]
struct Navigation<'a> {
    #[serde(rename = "@id")]
    id: String,
    items: Vec<Node<'a>>,
}

fn build<'a>(ctx: &Ctx, parent: &str, by_parent: &HashMap<&str, Vec<&'a Content>>) -> Vec<Node<'a>> {
    let Some(kids) = by_parent.get(parent) else {
        return Vec::new();
    };
    kids.iter()
        .map(|n| Node {
            id: ctx.url(&n.path),
            description: n.description(),
            items: build(ctx, n.path.as_str(), by_parent),
            review_state: n.review_state.as_deref(),
            title: nav_title(n),
            // Below the tabs, entries come from the navtree builder, which adds this flag.
            use_view_action_in_listings: (n.path.depth() > 1)
                .then_some(matches!(n.portal_type.as_str(), "File" | "Image")),
        })
        .collect()
}

/// Builds the navigation of `c` and hands it to `f` (the tree borrows the cached rows).
fn with_navigation<R>(ctx: &Ctx, c: &Content, depth: usize, f: impl FnOnce(&Navigation<'_>) -> R) -> CoreResult<R> {
    let depth = depth.clamp(1, 10);
    let nodes = ctx.site.store.nav_tree(
        &ctx.site.id,
        &ContentPath::root(),
        depth,
        &ctx.site.settings.displayed_types,
        &ctx.filter,
    )?;
    // Group once by container (rows arrive ordered by depth, then position).
    // Excluded items still show when they are on the current object's path.
    let mut by_parent: HashMap<&str, Vec<&Content>> = HashMap::new();
    for n in nodes
        .iter()
        .filter(|n| !n.bool_field("exclude_from_nav") || c.path.starts_with(&n.path))
    {
        let parent = n.path.as_str().rsplit_once('/').map_or("", |(p, _)| p);
        by_parent.entry(parent).or_default().push(n);
    }
    let home = Node {
        id: ctx.base.clone(),
        description: "",
        items: Vec::new(),
        review_state: None,
        title: "Home",
        use_view_action_in_listings: None,
    };
    let mut items = vec![home];
    items.extend(build(ctx, "", &by_parent));
    let nav = Navigation {
        id: format!("{}/@navigation", ctx.url(&c.path)),
        items,
    };
    Ok(f(&nav))
}

/// The navigation as a JSON value (for `expand=navigation`).
pub fn navigation(ctx: &Ctx, c: &Content, depth: usize) -> CoreResult<Value> {
    with_navigation(ctx, c, depth, |n| serde_json::to_value(n).unwrap_or(Value::Null))
}

/// The navigation serialized to bytes (for `GET @navigation`).
pub fn navigation_bytes(ctx: &Ctx, c: &Content, depth: usize) -> CoreResult<Vec<u8>> {
    with_navigation(ctx, c, depth, |n| serde_json::to_vec(n).unwrap_or_default())
}
