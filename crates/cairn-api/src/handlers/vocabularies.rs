//! `@vocabularies` and `@vocabularies/{name}` with `title`/`token`/`tokens`
//! filters, `sort_on=title` and batching (`b_size=-1` for everything);
//! `<obj>/@sources/{field}` and `<obj>/@querysources/{field}?query=` give
//! the choices of one field of the object's type the same way.

use axum::http::StatusCode;
use axum::response::Response;
use cairn_core::CoreError;
use cairn_core::repo::get_visible;
use cairn_core::vocabularies::{NAMES, Term, terms};
use cairn_model::ContentPath;
use serde_json::{Value, json};

use super::json;
use crate::batch::batching;
use crate::ctx::Ctx;
use crate::error::{ApiError, ApiResult, Code};
use crate::query::encode;

/// The content vocabulary (relation widgets): what the reader may view.
const CATALOG: &str = "plone.app.vocabularies.Catalog";

/// GET `<context>/@vocabularies[/{name}]`.
pub fn get(ctx: &Ctx, path: &ContentPath, args: &[String], max_batch: usize) -> ApiResult<Response> {
    let Some(name) = args.first() else {
        let list: Vec<Value> = NAMES
            .iter()
            .chain(std::iter::once(&CATALOG))
            .map(|n| json!({"@id": format!("{}/@vocabularies/{n}", ctx.base), "title": n}))
            .collect();
        return Ok(json(StatusCode::OK, &json!(list)));
    };
    let context = get_visible(&ctx.site, path, &ctx.who)?;
    if name == CATALOG {
        return catalog(ctx, max_batch);
    }
    let editor = cairn_core::security::may_write(&ctx.site, &ctx.who, &context, false)?;
    let items = terms(&ctx.site, &ctx.who, name, editor).map_err(|e| match e {
        CoreError::NotFound => ApiError::new(
            Code::NoSuchVocabulary,
            format!("No vocabulary named '{name}' was found."),
        )
        .wrapped(),
        CoreError::Forbidden(m) => ApiError::new(Code::Forbidden, m),
        other => other.into(),
    })?;
    listing(ctx, &format!("{}/@vocabularies/{name}", ctx.base), items)
}

/// The choices of `field` on the object at `path`: inline choices, or the
/// named vocabulary the field declares.
fn field_terms(ctx: &Ctx, path: &ContentPath, service: &str, args: &[String]) -> ApiResult<(String, Vec<Term>)> {
    let c = get_visible(&ctx.site, path, &ctx.who)?;
    let base = format!("{}/@{service}", ctx.url(path));
    let [name] = args else {
        return Err(ApiError::not_found(&base));
    };
    let url = format!("{base}/{name}");
    let types = ctx.site.types();
    let field = types
        .get(&c.portal_type)
        .and_then(|t| t.fields.iter().find(|f| &f.name == name))
        .ok_or_else(|| ApiError::not_found(&url))?;
    let items = if !field.choices.is_empty() {
        field
            .choices
            .iter()
            .map(|(token, title)| Term {
                token: token.clone(),
                title: title.clone(),
            })
            .collect()
    } else if let Some(v) = &field.vocabulary {
        terms(
            &ctx.site,
            &ctx.who,
            v,
            cairn_core::security::may_write(&ctx.site, &ctx.who, &c, false)?,
        )?
    } else {
        return Err(ApiError::bad_request(format!(
            "The field '{name}' has no source of choices"
        )));
    };
    Ok((url, items))
}

/// GET `<obj>/@sources/{field}`.
pub fn sources(ctx: &Ctx, path: &ContentPath, args: &[String]) -> ApiResult<Response> {
    let (url, items) = field_terms(ctx, path, "sources", args)?;
    listing(ctx, &url, items)
}

/// GET `<obj>/@querysources/{field}?query=`: the choices whose title holds `query`.
pub fn querysources(ctx: &Ctx, path: &ContentPath, args: &[String]) -> ApiResult<Response> {
    let (url, mut items) = field_terms(ctx, path, "querysources", args)?;
    let query = ctx
        .params
        .get("query")
        .ok_or_else(|| ApiError::bad_request("'query' is required"))?
        .to_lowercase();
    items.retain(|t| t.title.to_lowercase().contains(&query) || t.token.to_lowercase() == query);
    listing(ctx, &url, items)
}

/// `plone.app.vocabularies.Catalog`: the objects the reader may view, by
/// title, token the UID; `title=` finds them by the words of their text
/// (the last one as a prefix). Asked of the catalog one page at a time: a
/// site's whole content is never listed at once.
fn catalog(ctx: &Ctx, max_batch: usize) -> ApiResult<Response> {
    use cairn_core::catalog::{CatalogQuery, SortOn};
    let p = &ctx.params;
    let start = p.usize("b_start")?.unwrap_or(0);
    let size = match p.get("b_size") {
        Some("-1") => max_batch,
        _ => p.usize("b_size")?.unwrap_or(25).clamp(1, max_batch),
    };
    let mut q = CatalogQuery {
        sort: vec![(SortOn::SortableTitle, false)],
        start,
        limit: size,
        // The site root is not in Plone's catalog.
        not_portal_types: vec!["Plone Site".into()],
        ..Default::default()
    };
    if let Some(token) = p.get("token") {
        q.uids = vec![token.to_string()];
    }
    let tokens = p.list("tokens");
    if !tokens.is_empty() {
        q.uids = tokens;
    }
    let searcher = ctx.searcher();
    let text = match p.get("title").filter(|t| !t.trim().is_empty()) {
        Some(title) => Some(cairn_core::search::parse_text(&format!("{}*", title.trim()))?),
        None => None,
    };
    let (found, total) = match text {
        // Words to find, best matches first.
        Some(Some(text)) => {
            q.sort.clear();
            searcher.rank(&mut q, &text)?;
            searcher.find(&q)?
        }
        // Nothing but operators or punctuation: nothing matches.
        Some(None) => (Vec::new(), 0),
        None => searcher.find(&q)?,
    };
    let items: Vec<Value> = found
        .iter()
        .map(|c| json!({"title": c.title(), "token": c.uid.as_str()}))
        .collect();
    let url = format!("{}/@vocabularies/{CATALOG}", ctx.base);
    Ok(page(ctx, &url, items, total, crate::batch::Batch { start, size }))
}

/// A page of terms as plone.restapi answers it: its canonical `@id`
/// (without batching and sorting), the items, the total and batch links.
fn page(ctx: &Ctx, url: &str, items: Vec<Value>, total: usize, batch: crate::batch::Batch) -> Response {
    let canonical = encode(
        &ctx.params
            .without(&["b_start", "b_size", "sort_on", "sort_order", "sort_limit"]),
    );
    let id = if canonical.is_empty() {
        url.to_string()
    } else {
        format!("{url}?{canonical}")
    };
    let mut body = json!({"@id": id, "items": items, "items_total": total});
    if let Some(b) = batching(ctx, url, &batch, total) {
        body["batching"] = b;
    }
    json(StatusCode::OK, &body)
}

/// One filtered, sorted, batched page of terms, as plone.restapi lists them.
fn listing(ctx: &Ctx, url: &str, mut items: Vec<Term>) -> ApiResult<Response> {
    let p = &ctx.params;
    if let Some(title) = p.get("title").or(p.get("q")).filter(|t| !t.is_empty()) {
        let needle = title.to_lowercase();
        items.retain(|t| t.title.to_lowercase().contains(&needle));
    }
    if let Some(token) = p.get("token") {
        items.retain(|t| t.token == token);
    }
    let tokens = p.list("tokens");
    if !tokens.is_empty() {
        items.retain(|t| tokens.contains(&t.token));
    }
    if p.get("sort_on") == Some("title") {
        items.sort_by_key(|t| t.title.to_lowercase());
    }
    let total = items.len();
    let start = p.usize("b_start")?.unwrap_or(0);
    // `b_size=-1` asks for every term; otherwise Plone's default page of 25.
    let size = match p.get("b_size") {
        Some("-1") => total.max(1),
        _ => p.usize("b_size")?.unwrap_or(25).max(1),
    };
    let shown: Vec<Value> = items
        .iter()
        .skip(start)
        .take(size)
        .map(|t| json!({"title": t.title, "token": t.token}))
        .collect();
    Ok(page(ctx, url, shown, total, crate::batch::Batch { start, size }))
}
