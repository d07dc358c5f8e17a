//! The components embeddable with `expand` and served as `@breadcrumbs`,
//! `@navigation`, `@navroot`, `@actions`, `@types` and `@workflow`. Each is
//! answered with at most one content query.

use cairn_core::{Content, CoreResult};
use cairn_model::ContentPath;
use serde_json::{Map, Value, json};

use crate::ctx::Ctx;

/// Every component a content GET lists in `@components`.
const COMPONENTS: [&str; 8] = [
    "actions",
    "aliases",
    "breadcrumbs",
    "contextnavigation",
    "navigation",
    "navroot",
    "types",
    "workflow",
];

/// The `@components` object: expanded bodies for `expand`, links otherwise.
pub fn components(ctx: &Ctx, c: &Content, expand: &[String]) -> CoreResult<Value> {
    let url = ctx.url(&c.path);
    let mut o = Map::new();
    for name in COMPONENTS {
        let wanted = expand.iter().any(|e| e == name);
        let body = match name {
            "actions" if wanted => Some(actions(ctx, c)),
            "breadcrumbs" if wanted => Some(breadcrumbs(ctx, c)?),
            "navigation" if wanted => {
                let depth = ctx
                    .params
                    .get("expand.navigation.depth")
                    .and_then(|d| d.parse().ok())
                    .unwrap_or(1);
                Some(super::navigation::navigation(ctx, c, depth)?)
            }
            "navroot" if wanted => Some(navroot(ctx, c)?),
            // Anonymous users may not list types; Volto drops the expander for them.
            "types" if wanted && !ctx.who.is_anonymous() => Some(json!(types(ctx, c))),
            "workflow" if wanted => Some(workflow(ctx, c)?),
            "contextnavigation" if wanted => Some(super::navigation::contextnavigation(ctx, c)?),
            _ => None,
        };
        o.insert(
            name.into(),
            body.unwrap_or_else(|| json!({"@id": format!("{url}/@{name}")})),
        );
    }
    // On a multilingual site, as plone.app.multilingual adds it.
    if ctx.site.settings.multilingual {
        let wanted = expand.iter().any(|e| e == "translations");
        let body = if wanted {
            translations(ctx, c)?
        } else {
            json!({"@id": format!("{url}/@translations")})
        };
        o.insert("translations".into(), body);
    }
    // `inherit` only shows up when asked for, as in plone.restapi.
    if expand.iter().any(|e| e == "inherit") {
        o.insert("inherit".into(), inherit(ctx, c)?);
    }
    Ok(Value::Object(o))
}

pub(super) fn nav_title(c: &Content) -> &str {
    c.fields
        .get("nav_title")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .unwrap_or(c.title())
}

/// `@breadcrumbs`: the visible ancestors below the root, then the object.
pub fn breadcrumbs(ctx: &Ctx, c: &Content) -> CoreResult<Value> {
    ctx.depends_on(cairn_core::caching::NAV);
    let chain = ctx.searcher().ancestors(&c.path)?;
    // They start below the navigation root (a language's root folder).
    let root = nav_root_in(ctx, c, &chain)?;
    let items: Vec<Value> = chain
        .iter()
        .chain((!c.is_root()).then_some(c))
        .filter(|a| a.path.depth() > root.path.depth())
        .map(|a| json!({"@id": ctx.url(&a.path), "title": nav_title(a)}))
        .collect();
    Ok(json!({"@id": format!("{}/@breadcrumbs", ctx.url(&c.path)), "items": items, "root": ctx.url(&root.path)}))
}

/// Whether `c` is a navigation root: the site, or an object whose type has
/// `plone.navigationroot` (a Language Root Folder).
fn is_nav_root(ctx: &Ctx, c: &Content) -> bool {
    c.is_root()
        || ctx
            .site
            .types()
            .get(&c.portal_type)
            .is_some_and(|t| t.has_behavior("plone.navigationroot"))
}

/// The navigation root of `c`: it or its nearest visible ancestor that is
/// one, else the site root.
pub fn nav_root(ctx: &Ctx, c: &Content) -> CoreResult<Content> {
    if is_nav_root(ctx, c) {
        return Ok(c.clone());
    }
    // Sites without such types (all but multilingual ones) need no lookup.
    if !ctx.site.types().all().any(|t| t.has_behavior("plone.navigationroot")) {
        return cairn_core::repo::get(&ctx.site, &ContentPath::root());
    }
    let chain = ctx.searcher().ancestors(&c.path)?;
    nav_root_in(ctx, c, &chain)
}

/// [`nav_root`] when `c`'s visible ancestors (top down) are at hand.
fn nav_root_in(ctx: &Ctx, c: &Content, chain: &[Content]) -> CoreResult<Content> {
    if is_nav_root(ctx, c) {
        return Ok(c.clone());
    }
    match chain.iter().rev().find(|a| is_nav_root(ctx, a)) {
        Some(a) => Ok(a.clone()),
        None => cairn_core::repo::get(&ctx.site, &ContentPath::root()),
    }
}

/// `@inherit`: for each behavior in `expand.inherit.behaviors`, the closest
/// object from `c` upwards that has it and that the reader may view, with that
/// behavior's field values.
pub fn inherit(ctx: &Ctx, c: &Content) -> CoreResult<Value> {
    let wanted = ctx.params.list("expand.inherit.behaviors");
    let mut chain = cairn_core::security::chain(&ctx.site, c)?;
    chain.reverse();
    let query = wanted.join(",");
    let mut o = Map::new();
    o.insert(
        "@id".into(),
        json!(format!(
            "{}/@inherit?expand.inherit.behaviors={query}",
            ctx.url(&c.path)
        )),
    );
    for behavior in &wanted {
        let provides = |obj: &Content| {
            // The site root is always a navigation root.
            (obj.is_root() && behavior == "plone.navigationroot")
                || ctx
                    .site
                    .types()
                    .get(&obj.portal_type)
                    .is_some_and(|t| t.has_behavior(behavior))
        };
        let Some(from) = chain.iter().find(|obj| ctx.filter.allows(obj) && provides(obj)) else {
            continue;
        };
        let data: Map<String, Value> = ctx
            .site
            .types()
            .get(&from.portal_type)
            .map(|t| {
                t.fields
                    .iter()
                    .filter(|f| &f.behavior == behavior)
                    .map(|f| {
                        (
                            f.name.clone(),
                            from.fields.get(&f.name).cloned().unwrap_or_else(|| f.missing_value()),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        o.insert(
            behavior.clone(),
            json!({"data": data, "from": {"@id": ctx.url(&from.path), "title": from.title()}}),
        );
    }
    Ok(Value::Object(o))
}

/// `@navroot`: the navigation root (the site, or a language's root folder)
/// serialized in full, without items.
pub fn navroot(ctx: &Ctx, c: &Content) -> CoreResult<Value> {
    let root = nav_root(ctx, c)?;
    let opts = super::full::Opts::default();
    let mut body = super::full::full(ctx, &root, None, &opts)?;
    if let Some(o) = body.as_object_mut() {
        o.remove("@components");
    }
    Ok(json!({"@id": format!("{}/@navroot", ctx.url(&c.path)), "navroot": body}))
}

fn action(id: &str, title: &str, icon: &str, url: String) -> Value {
    json!({"icon": icon, "id": id, "title": title, "url": url})
}

/// `@actions`: the standard categories, holding only what this user may do.
pub fn actions(ctx: &Ctx, c: &Content) -> Value {
    let url = ctx.url(&c.path);
    let base = &ctx.base;
    let can_edit = cairn_core::security::can_modify(&ctx.site, &ctx.who, c).unwrap_or(false);
    let mut object = vec![action("view", "View", "toolbar-action/view", url.clone())];
    let mut buttons = Vec::new();
    if can_edit {
        object.push(action("edit", "Edit", "toolbar-action/edit", format!("{url}/edit")));
        let contents = if c.is_folderish {
            url.clone()
        } else {
            c.path.parent().map(|p| ctx.url(&p)).unwrap_or_default()
        };
        object.push(action(
            "folderContents",
            "Contents",
            "toolbar-action/folderContents",
            format!("{contents}/folder_contents"),
        ));
        object.push(action(
            "history",
            "History",
            "toolbar-action/history",
            format!("{url}/@@historyview"),
        ));
        object.push(action(
            "local_roles",
            "Sharing",
            "toolbar-action/sharing",
            format!("{url}/@@sharing"),
        ));
        if !c.is_root() {
            buttons.push(action("cut", "Cut", "plone-cut", format!("{url}/object_cut")));
            buttons.push(action("copy", "Copy", "plone-copy", format!("{url}/object_copy")));
            buttons.push(action(
                "delete",
                "Delete",
                "plone-delete",
                format!("{url}/delete_confirmation"),
            ));
            buttons.push(action(
                "rename",
                "Rename",
                "plone-rename",
                format!("{url}/object_rename"),
            ));
        }
        buttons.push(action(
            "redirection",
            "URL Management",
            "plone-redirection",
            format!("{url}/@@manage-aliases"),
        ));
    }
    let user = if ctx.who.is_anonymous() {
        vec![action("login", "Log in", "plone-login", format!("{base}/login"))]
    } else {
        let mut u = vec![
            action(
                "preferences",
                "Preferences",
                "plone-user",
                format!("{base}/@@personal-preferences"),
            ),
            action("dashboard", "Dashboard", "plone-dashboard", format!("{base}/dashboard")),
        ];
        if ctx.who.is_admin() {
            u.push(action(
                "plone_setup",
                "Site Setup",
                "plone-controlpanel",
                format!("{base}/@@overview-controlpanel"),
            ));
        }
        u.push(action("logout", "Log out", "plone-logout", format!("{base}/logout")));
        u
    };
    let categories: Vec<String> = ctx.params.list("categories");
    let all = json!({
        "document_actions": [],
        "object": object,
        "object_buttons": buttons,
        "portal_tabs": [action("index_html", "Home", "plone-home", base.clone())],
        "site_actions": [
            action("sitemap", "Site Map", "plone-sitemap", format!("{base}/sitemap")),
            action("accessibility", "Accessibility", "plone-accessibility", format!("{base}/accessibility-info")),
            action("contact", "Contact", "plone-contact-info", format!("{base}/contact-info")),
        ],
        "user": user,
    });
    match all {
        Value::Object(m) if !categories.is_empty() => {
            Value::Object(m.into_iter().filter(|(k, _)| categories.contains(k)).collect())
        }
        other => other,
    }
}

/// `@types`: every type with whether it may be added here by this user.
pub fn types(ctx: &Ctx, c: &Content) -> Vec<Value> {
    use cairn_core::security::{ADD, Access};
    let types = ctx.site.types();
    let container_ty = types.get(&c.portal_type);
    // One role computation for all types: the add permissions differ, the roles do not.
    let access = (c.is_folderish && !ctx.who.is_anonymous())
        .then(|| Access::of(&ctx.site, &ctx.who, c).ok())
        .flatten();
    let may_add = access.as_ref().is_some_and(|a| a.has(c, ADD));
    ctx.site
        .types()
        .all()
        .filter(|t| t.def.id != "Plone Site")
        .map(|t| {
            let allowed = match container_ty {
                Some(ct) if ct.def.filter_content_types => ct.def.allowed_types.contains(&t.def.id),
                _ => t.def.global_allow,
            };
            let type_permission = t.def.add_permission.as_str();
            let addable = may_add
                && allowed
                && (type_permission.is_empty() || access.as_ref().is_some_and(|a| a.has(c, type_permission)));
            json!({
                "@id": format!("{}/@types/{}", ctx.base, t.def.id),
                "addable": addable,
                "id": t.def.id,
                "immediately_addable": addable,
                "title": t.def.title,
            })
        })
        .collect()
}

/// `@workflow`: current state, the transitions this user may fire, and the
/// history for those allowed to read it (see `review_history`).
pub fn workflow(ctx: &Ctx, c: &Content) -> CoreResult<Value> {
    use cairn_core::repo::workflow::{available, review_history, state_title};
    let url = format!("{}/@workflow", ctx.url(&c.path));
    let Some(state) = &c.review_state else {
        return Ok(json!({"@id": url, "history": [], "transitions": []}));
    };
    if ctx.site.workflow_for(&c.portal_type).is_none() {
        return Ok(json!({"@id": url, "history": [], "transitions": []}));
    }
    let transitions: Vec<Value> = available(&ctx.site, c, &ctx.who)?
        .into_iter()
        .map(|(id, title)| json!({"@id": format!("{url}/{id}"), "title": title}))
        .collect();
    Ok(json!({
        "@id": url,
        "history": review_history(&ctx.site, c, &ctx.who)?,
        "state": {"id": state, "title": state_title(&ctx.site, c, state)},
        "transitions": transitions,
    }))
}

/// `@translations`: the other members of the item's translation group the
/// reader may see, and the site's language roots.
pub fn translations(ctx: &Ctx, c: &Content) -> CoreResult<Value> {
    let url = ctx.url(&c.path);
    let others = cairn_core::repo::translations::of(&ctx.site, &ctx.who, c)?;
    // Its translations' titles and places show here: their changes make this stale.
    for t in &others {
        ctx.depends_on(&cairn_core::caching::reference_tag(&t.uid));
    }
    let items: Vec<Value> = others
        .iter()
        .map(|t| json!({"@id": ctx.url(&t.path), "language": t.str_field("language")}))
        .collect();
    let mut root = Map::new();
    for lang in cairn_core::records::strings(&ctx.site, "plone.available_languages")? {
        let folder = cairn_model::ContentId::parse(&lang)
            .ok()
            .map(|id| cairn_model::ContentPath::root().child(&id));
        let at = match folder {
            Some(p) if cairn_core::repo::find(&ctx.site, &p)?.is_some() => p,
            _ => cairn_model::ContentPath::root(),
        };
        root.insert(lang, json!(ctx.url(&at)));
    }
    Ok(json!({"@id": format!("{url}/@translations"), "items": items, "root": root}))
}
