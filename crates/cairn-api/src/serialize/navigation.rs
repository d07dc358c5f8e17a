//! `@navigation`: "Home" plus the tree below the navigation root (the
//! site, or a language's root folder), `depth` levels deep,
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

/// The entries below `parent`; `tabs` is the depth of the top entries (one
/// below the navigation root).
fn build<'a>(ctx: &Ctx, parent: &str, tabs: usize, by_parent: &HashMap<&str, Vec<&'a Content>>) -> Vec<Node<'a>> {
    let Some(kids) = by_parent.get(parent) else {
        return Vec::new();
    };
    kids.iter()
        .map(|n| Node {
            id: ctx.url(&n.path),
            description: n.description(),
            items: build(ctx, n.path.as_str(), tabs, by_parent),
            review_state: n.review_state.as_deref(),
            title: nav_title(n),
            // Below the tabs, entries come from the navtree builder, which adds this flag.
            use_view_action_in_listings: (n.path.depth() > tabs)
                .then_some(matches!(n.portal_type.as_str(), "File" | "Image")),
        })
        .collect()
}

/// Tree rows grouped once by container (rows arrive ordered by depth, then
/// position). Excluded items still show when they are on `current`'s path.
fn by_parent<'a>(nodes: &'a [Content], current: &Content) -> HashMap<&'a str, Vec<&'a Content>> {
    let mut out: HashMap<&str, Vec<&Content>> = HashMap::new();
    for n in nodes
        .iter()
        .filter(|n| !n.bool_field("exclude_from_nav") || current.path.starts_with(&n.path))
    {
        let parent = n.path.as_str().rsplit_once('/').map_or("", |(p, _)| p);
        out.entry(parent).or_default().push(n);
    }
    out
}

/// Builds the navigation of `c` and hands it to `f` (the tree borrows the cached rows).
fn with_navigation<R>(ctx: &Ctx, c: &Content, depth: usize, f: impl FnOnce(&Navigation<'_>) -> R) -> CoreResult<R> {
    ctx.depends_on(cairn_core::caching::NAV);
    let depth = depth.clamp(1, 10);
    // From the navigation root: the site, or a language's root folder.
    let root = super::components::nav_root(ctx, c)?;
    let nodes = ctx.searcher().nav_tree(&root.path, depth)?;
    let by_parent = by_parent(&nodes, c);
    let home = Node {
        id: ctx.url(&root.path),
        description: "",
        items: Vec::new(),
        review_state: None,
        title: "Home",
        use_view_action_in_listings: None,
    };
    let mut items = vec![home];
    items.extend(build(ctx, root.path.as_str(), root.path.depth() + 1, &by_parent));
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

/// One node of `@contextnavigation`.
#[derive(Serialize)]
struct ContextNode<'a> {
    #[serde(rename = "@id")]
    id: String,
    description: &'a str,
    href: String,
    icon: &'static str,
    is_current: bool,
    is_folderish: bool,
    is_in_path: bool,
    items: Vec<ContextNode<'a>>,
    normalized_id: &'a str,
    review_state: Option<&'a str>,
    thumb: &'static str,
    title: &'a str,
    #[serde(rename = "type")]
    kind: String,
}

fn context_node<'a>(ctx: &Ctx, current: &ContentPath, n: &'a Content, items: Vec<ContextNode<'a>>) -> ContextNode<'a> {
    ContextNode {
        id: ctx.url(&n.path),
        description: n.description(),
        href: ctx.url(&n.path),
        icon: "",
        is_current: &n.path == current,
        is_folderish: n.is_folderish,
        is_in_path: current.starts_with(&n.path) && &n.path != current,
        items,
        normalized_id: n.id(),
        review_state: n.review_state.as_deref(),
        thumb: "",
        title: nav_title(n),
        kind: n.portal_type.to_lowercase().replace(' ', "-"),
    }
}

fn context_nodes<'a>(
    ctx: &Ctx,
    current: &ContentPath,
    parent: &str,
    by_parent: &HashMap<&str, Vec<&'a Content>>,
) -> Vec<ContextNode<'a>> {
    let Some(kids) = by_parent.get(parent) else {
        return Vec::new();
    };
    kids.iter()
        .map(|n| context_node(ctx, current, n, context_nodes(ctx, current, n.path.as_str(), by_parent)))
        .collect()
}

/// `@contextnavigation`: the navigation portlet for `c`, with Plone's
/// `expand.contextnavigation.*` options (`name`, `topLevel`, `bottomLevel`,
/// `includeTop`, `currentFolderOnly`, `root_path`).
pub fn contextnavigation(ctx: &Ctx, c: &Content) -> CoreResult<Value> {
    ctx.depends_on(cairn_core::caching::NAV);
    let opt = |k: &str| ctx.params.get(&format!("expand.contextnavigation.{k}"));
    let flag = |k: &str| opt(k).is_some_and(|v| matches!(v, "1" | "true" | "True" | "on" | "yes"));
    let number = |k: &str, default: usize| opt(k).and_then(|v| v.parse::<usize>().ok()).unwrap_or(default);
    let (top, bottom) = (number("topLevel", 1), number("bottomLevel", 0));
    let name = opt("name").filter(|n| !n.is_empty());
    let folder = if c.is_folderish {
        c.path.clone()
    } else {
        c.path.parent().unwrap_or_else(ContentPath::root)
    };
    let root = if flag("currentFolderOnly") {
        Some(folder)
    } else if let Some(r) = opt("root_path").filter(|r| !r.is_empty()) {
        ContentPath::parse(r.strip_prefix(&format!("/{}", ctx.site.id)).unwrap_or(r)).ok()
    } else {
        // The ancestor (or self) at `topLevel`; too shallow a context shows nothing.
        let segs: Vec<&str> = c.path.segments().collect();
        (segs.len() >= top).then(|| ContentPath::parse(&segs[..top].join("/")).unwrap_or_else(|_| ContentPath::root()))
    };
    let mut body = serde_json::json!({
        "@id": format!("{}/@contextnavigation", ctx.url(&c.path)),
        "available": root.is_some(),
        "has_custom_name": name.is_some(),
        "items": [],
        "title": name.unwrap_or("Navigation"),
        "url": format!("{}/sitemap", ctx.base),
    });
    let Some(root) = root else { return Ok(body) };
    // As deep as the navigation's own cap, whatever `bottomLevel` asks.
    let depth = if bottom == 0 {
        10
    } else {
        bottom.saturating_sub(top).clamp(1, 10)
    };
    let nodes = ctx.searcher().nav_tree(&root, depth)?;
    let by_parent = by_parent(&nodes, c);
    let mut items = context_nodes(ctx, &c.path, root.as_str(), &by_parent);
    let top_obj = match flag("includeTop") {
        true => ctx.searcher().visible(&root)?,
        false => None,
    };
    if let Some(top_obj) = &top_obj {
        // The root comes first, its children follow as siblings (Plone's includeTop).
        items.insert(0, context_node(ctx, &c.path, top_obj, Vec::new()));
    }
    body["items"] = serde_json::to_value(&items).unwrap_or_default();
    Ok(body)
}
