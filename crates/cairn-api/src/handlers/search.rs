//! `@search` with plone.restapi's catalog query syntax: the parameters are
//! parsed into a catalog query (and SearchableText into a full-text query),
//! which the core's read side ranks and runs; the page is serialized here.

use axum::http::StatusCode;
use axum::response::Response;
use cairn_core::Content;
use cairn_core::catalog::{CatalogQuery, DateIndex, DateRange, SortOn};
use cairn_core::repo;
use cairn_model::ContentPath;
use cairn_model::time::format_ts;
use cairn_model::values::parse_datetime;
use serde_json::{Value, json};

use super::json;
use crate::batch::{Batch, batching};
use crate::ctx::Ctx;
use crate::error::{ApiError, ApiResult};
use crate::query::encode;
use crate::serialize::full::full_page;
use crate::serialize::summary::summary;

/// Full objects are heavy: at most this many per page.
const MAX_FULL_PAGE: usize = 100;

/// A client path (physical `/<site>/a/b` or site-relative `/a/b`) below the site.
fn site_path(ctx: &Ctx, raw: &str) -> ApiResult<ContentPath> {
    let raw = raw.strip_prefix(&ctx.base).unwrap_or(raw);
    let prefix = format!("/{}", ctx.site.id);
    let rel = if raw == prefix {
        ""
    } else {
        raw.strip_prefix(&format!("{prefix}/")).map_or(raw, |r| r)
    };
    ContentPath::parse(rel).map_err(|e| ApiError::bad_request(e.to_string()))
}

fn query(ctx: &Ctx, context: &ContentPath, max_batch: usize) -> ApiResult<CatalogQuery> {
    let p = &ctx.params;
    let mut paths: Vec<String> = p.list("path.query");
    paths.extend(p.list("path").into_iter().filter(|s| s.starts_with('/')));
    let paths = if paths.is_empty() {
        vec![context.clone()]
    } else {
        paths.iter().map(|s| site_path(ctx, s)).collect::<ApiResult<Vec<_>>>()?
    };
    let depth = match p.get("path.depth") {
        None => None,
        Some(d) => match d.parse::<i64>() {
            Ok(n) if n < 0 => None,
            Ok(n) => Some(n as usize),
            Err(_) => return Err(ApiError::bad_request(format!("Invalid path.depth: {d}"))),
        },
    };
    let orders = p.list("sort_order");
    let mut sort = Vec::new();
    for (i, name) in p.list("sort_on").iter().enumerate() {
        if name == "relevance" {
            continue;
        }
        let key = SortOn::parse(name).ok_or_else(|| ApiError::bad_request(format!("Unknown sort index: {name}")))?;
        let order = orders
            .get(i)
            .or(orders.first())
            .map(String::as_str)
            .unwrap_or("ascending");
        sort.push((key, matches!(order, "descending" | "reverse")));
    }
    let b = Batch::from_params(p, max_batch)?;
    let fullobjects = p.has("fullobjects");
    // `index` and `index.query` both name the values; `index.not` excludes.
    let values = |index: &str| [p.list(index), p.list(&format!("{index}.query"))].concat();
    let mut q = CatalogQuery {
        paths,
        depth,
        portal_types: values("portal_type"),
        review_states: values("review_state"),
        not_portal_types: p.list("portal_type.not"),
        not_review_states: p.list("review_state.not"),
        not_uids: p.list("UID.not"),
        uids: values("UID"),
        ids: [values("id"), values("getId")].concat(),
        subjects: values("Subject"),
        subjects_all: p.get("Subject.operator") == Some("and"),
        creators: values("Creator"),
        languages: values("Language"),
        is_folderish: p.bool("is_folderish")?,
        exclude_from_nav: p.bool("exclude_from_nav")?,
        sort,
        start: b.start,
        limit: if fullobjects { b.size.min(MAX_FULL_PAGE) } else { b.size },
        light: !fullobjects,
        max_results: match p.get("sort_limit") {
            None => None,
            Some(n) => Some(
                n.parse::<usize>()
                    .map_err(|_| ApiError::bad_request(format!("Invalid sort_limit: {n}")))?,
            ),
        },
        ..Default::default()
    };
    for name in ["created", "modified", "effective", "expires", "start", "end"] {
        if let Some(range) = date_range(p, name)? {
            q.date_ranges.push(range);
        }
    }
    for iface in values("object_provides") {
        provides(&mut q, &iface)?;
    }
    Ok(q)
}

/// `<index>.query` with `<index>.range` (`min`, `max`, `minmax`) as a date
/// range; no range means the exact moment.
fn date_range(p: &crate::query::Params, name: &str) -> ApiResult<Option<DateRange>> {
    let mut dates = Vec::new();
    for raw in [p.list(name), p.list(&format!("{name}.query"))].concat() {
        let ts = parse_datetime(&raw).map_err(|e| ApiError::bad_request(format!("Invalid date for {name}: {e}")))?;
        dates.push(format_ts(ts));
    }
    let Some(first) = dates.first().cloned() else {
        return Ok(None);
    };
    let index = DateIndex::parse(name).expect("a date index name");
    let last = dates.last().cloned();
    Ok(Some(match p.get(&format!("{name}.range")) {
        Some("min") => (index, Some(first), None),
        Some("max") => (index, None, Some(first)),
        Some("minmax") if dates.len() == 2 => (index, Some(first), last),
        None => (index, Some(first.clone()), Some(first)),
        Some(other) => return Err(ApiError::bad_request(format!("Invalid range for {name}: {other}"))),
    }))
}

/// `object_provides` for the interfaces a frontend asks for: the content
/// types' own, and folderish objects. Others are a 400, not silently ignored.
fn provides(q: &mut CatalogQuery, iface: &str) -> ApiResult<()> {
    let name = iface.rsplit('.').next().unwrap_or(iface);
    let ty = match name {
        "IFolderish" => {
            q.is_folderish = Some(true);
            return Ok(());
        }
        "IFolder" => "Folder",
        "IDocument" => "Document",
        "INewsItem" => "News Item",
        "IEvent" => "Event",
        "IImage" => "Image",
        "IFile" => "File",
        "ILink" => "Link",
        "ICollection" => "Collection",
        _ => return Err(ApiError::bad_request(format!("Unsupported object_provides: {iface}"))),
    };
    q.portal_types.push(ty.to_owned());
    Ok(())
}

/// GET `<context>/@search`.
pub fn get(ctx: &Ctx, context: &ContentPath, max_batch: usize) -> ApiResult<Response> {
    ctx.depends_on(cairn_core::caching::SEARCH);
    repo::get_visible(&ctx.site, context, &ctx.who)?;
    let mut q = query(ctx, context, max_batch)?;
    if let Some(text) = ctx.params.get("SearchableText") {
        // The Search panel's types stay out of a full-text search naming no type.
        if q.portal_types.is_empty() {
            let skipped = cairn_core::records::strings(&ctx.site, "plone.types_not_searched")?;
            q.not_portal_types.extend(skipped);
        }
        match cairn_core::search::parse_text(text)? {
            Some(text) => ctx.searcher().rank(&mut q, &text)?,
            // plone.restapi answers an empty text query with a bare empty list.
            None => return Ok(json(StatusCode::OK, &json!([]))),
        }
    }
    let metadata = ctx.params.list("metadata_fields");
    let url = format!("{}/@search", ctx.url(context));
    let canonical = encode(
        &ctx.params
            .without(&["b_start", "b_size", "sort_on", "sort_order", "sort_limit"]),
    );
    let id = if canonical.is_empty() {
        url.clone()
    } else {
        format!("{url}?{canonical}")
    };
    run(ctx, &q, &metadata, &url, id)
}

/// Runs a catalog query and answers as `@search` does: summaries (or full
/// objects), `items_total` and `batching` links based on `url`.
pub fn run(ctx: &Ctx, q: &CatalogQuery, metadata: &[String], url: &str, id: String) -> ApiResult<Response> {
    let (items, total) = results(ctx, q, metadata)?;
    let mut body = json!({"@id": id, "items": items, "items_total": total});
    let page = Batch {
        start: q.start,
        size: q.limit.max(1),
    };
    if let Some(b) = batching(ctx, url, &page, total) {
        body["batching"] = b;
    }
    Ok(json(StatusCode::OK, &body))
}

/// One page of a catalog query as summaries (or full objects), and the total.
fn results(ctx: &Ctx, q: &CatalogQuery, metadata: &[String]) -> ApiResult<(Vec<Value>, usize)> {
    let (found, total) = ctx.searcher().find(q)?;
    Ok((items(ctx, &found, q.light, metadata)?, total))
}

/// Found objects as `@search` lists them: summaries with the `metadata`
/// columns when `light`, else full objects (their surroundings loaded for
/// the whole page at once).
pub(crate) fn items(ctx: &Ctx, found: &[Content], light: bool, metadata: &[String]) -> ApiResult<Vec<Value>> {
    if !light {
        return Ok(full_page(ctx, found, None)?);
    }
    Ok(found
        .iter()
        .map(|c| {
            let mut s = summary(ctx, c, metadata);
            if c.is_root() {
                // The catalog brain of the site root has the column, empty.
                s["review_state"] = Value::Null;
            }
            s
        })
        .collect())
}
