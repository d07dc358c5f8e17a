//! `@querystring-search` (POST, or GET with `?query=<JSON body>`): the
//! queries Volto's listing, search and gallery blocks send, in
//! plone.app.querystring's `{"i", "o", "v"}` form. The body is read here; the
//! core's read side applies the criteria, ranks and runs one catalog query.
//! Also `@querystring` (the registry the query builder offers) and a
//! Collection's items.

use axum::response::Response;
use cairn_core::Content;
use cairn_core::catalog::{CatalogQuery, SortOn};
use cairn_core::search::Page;
use cairn_core::search::querystring::{PREFIX, strings};
use cairn_model::ContentPath;
use serde_json::{Map, Value};

use super::body_object;
use super::search::run;
use crate::batch::Batch;
use crate::ctx::Ctx;
use crate::error::{ApiError, ApiResult};
use crate::serialize::full::Opts;

/// plone.app.querystring's cap on the result set when the client gives none.
const DEFAULT_LIMIT: usize = 1000;
/// Full objects are heavy: at most this many per page.
const MAX_FULL_PAGE: usize = 100;

fn number(v: Option<&Value>) -> ApiResult<Option<usize>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_u64().map(|n| n as usize)),
        Some(Value::String(s)) => s
            .parse::<usize>()
            .map(Some)
            .map_err(|_| ApiError::bad_request(format!("Not an integer: {s}"))),
        Some(_) => Err(ApiError::bad_request("Invalid query.")),
    }
}

/// POST (or GET) `<context>/@querystring-search`.
pub fn search(ctx: &Ctx, context: &ContentPath, body: &[u8], max_batch: usize) -> ApiResult<Response> {
    ctx.depends_on(cairn_core::caching::SEARCH);
    let body: Map<String, Value> = match ctx.params.get("query") {
        // The GET form carries the whole body as JSON in `query`.
        // plone.restapi unquotes it once more, so clients (and its own docs) send it
        // percent-encoded twice; plain JSON is accepted too.
        Some(raw) => {
            let unquoted = || {
                percent_encoding::percent_decode_str(raw)
                    .decode_utf8_lossy()
                    .into_owned()
            };
            match serde_json::from_str(raw).or_else(|_| serde_json::from_str(&unquoted())) {
                Ok(Value::Object(m)) => m,
                _ => return Err(ApiError::bad_request("The query parameter must hold a JSON object")),
            }
        }
        None => body_object(body)?,
    };
    let list = body
        .get("query")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::bad_request("No query supplied"))?;
    let c = cairn_core::repo::get_visible(&ctx.site, context, &ctx.who)?;
    let fullobjects = body
        .get("fullobjects")
        .is_some_and(|v| !matches!(v, Value::Bool(false) | Value::Null) && v != 0);
    let size = number(body.get("b_size"))?.unwrap_or(25).clamp(1, max_batch);
    let mut q = CatalogQuery {
        start: number(body.get("b_start"))?.unwrap_or(0),
        limit: if fullobjects { size.min(MAX_FULL_PAGE) } else { size },
        light: !fullobjects,
        max_results: Some(number(body.get("limit"))?.unwrap_or(DEFAULT_LIMIT)),
        ..Default::default()
    };
    let searcher = ctx.searcher();
    if let Some(text) = searcher.criteria(context, &mut q, list)? {
        searcher.rank(&mut q, &text)?;
    }
    if !c.is_root() {
        // A listing never lists the page it sits on.
        q.not_uids.push(c.uid.to_string());
    }
    // Volto's search block sends `relevance` for the full-text order, which is the default.
    let sort_on = body.get("sort_on").and_then(Value::as_str);
    if let Some(on) = sort_on.filter(|s| !s.is_empty() && *s != "relevance") {
        let key = SortOn::parse(on).ok_or_else(|| ApiError::bad_request(format!("Unknown sort index: {on}")))?;
        let desc = match body.get("sort_order") {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s == "descending" || s == "reverse",
            _ => false,
        };
        q.sort.push((key, desc));
    }
    let metadata = match body.get("metadata_fields") {
        Some(v) => strings(v),
        None => Vec::new(),
    };
    let url = format!("{}/@querystring-search", ctx.url(context));
    // A GET names itself with its query string, as received.
    let id = if ctx.params.has("query") {
        format!("{url}?{}", ctx.params.raw())
    } else {
        url.clone()
    };
    run(ctx, &q, &metadata, &url, id)
}

/// A Collection's results, as its GET lists them: the core evaluates its
/// stored criteria, sort and limit; they are batched like folder items.
pub(crate) fn collection_items(ctx: &Ctx, c: &Content, o: &Opts, body: &mut Value) -> ApiResult<()> {
    let page = Page {
        start: o.batch.start,
        limit: if o.fullobjects {
            o.batch.size.min(MAX_FULL_PAGE)
        } else {
            o.batch.size
        },
        light: !o.fullobjects,
    };
    let (found, total) = ctx.searcher().collection(c, page)?;
    body["items"] = Value::from(super::search::items(ctx, &found, page.light, &o.metadata_fields)?);
    body["items_total"] = total.into();
    let batch = Batch {
        start: page.start,
        size: page.limit.max(1),
    };
    if let Some(b) = crate::batch::batching(ctx, &ctx.url(&c.path), &batch, total) {
        body["batching"] = b;
    }
    Ok(())
}

/// The registry file, compiled in.
static REGISTRY: &str = include_str!("../../data/querystring.toml");

#[derive(serde::Deserialize)]
struct Registry {
    operations: std::collections::BTreeMap<String, Operation>,
    indexes: std::collections::BTreeMap<String, Index>,
}

#[derive(serde::Deserialize)]
struct Operation {
    title: String,
    description: String,
    widget: Option<String>,
}

#[derive(serde::Deserialize)]
struct Index {
    title: String,
    description: String,
    group: String,
    vocabulary: Option<String>,
    operations: Vec<String>,
    #[serde(default)]
    sortable: bool,
}

/// GET `<context>/@querystring`: the indexes and operations the listing
/// block's query builder may offer, with vocabulary values for this user.
pub fn registry(ctx: &Ctx, context: &ContentPath) -> ApiResult<Response> {
    // Asked of a context like every view: a private one answers as missing would.
    let c = cairn_core::repo::get_visible(&ctx.site, context, &ctx.who)?;
    let editor = cairn_core::security::may_write(&ctx.site, &ctx.who, &c, false)?;
    let reg: Registry = toml::from_str(REGISTRY).map_err(|e| {
        tracing::error!(error = %e, "querystring registry");
        ApiError::internal()
    })?;
    let mut indexes = Map::new();
    let mut sortable = Map::new();
    for (name, idx) in &reg.indexes {
        let values: Map<String, Value> = match &idx.vocabulary {
            Some(v) => cairn_core::vocabularies::terms(&ctx.site, &ctx.who, v, editor)
                .unwrap_or_default()
                .into_iter()
                .map(|t| (t.token, serde_json::json!({"title": t.title})))
                .collect(),
            None => Map::new(),
        };
        let operators: Map<String, Value> = idx
            .operations
            .iter()
            .filter_map(|o| reg.operations.get(o).map(|op| (o, op)))
            .map(|(o, op)| {
                let id = format!("{PREFIX}{o}");
                let body = serde_json::json!({"title": op.title, "description": op.description, "operation": id, "widget": op.widget});
                (id, body)
            })
            .collect();
        let entry = serde_json::json!({
            "title": idx.title, "description": idx.description, "group": idx.group, "enabled": true,
            "sortable": idx.sortable, "fetch_vocabulary": idx.vocabulary.is_some(), "vocabulary": idx.vocabulary,
            "values": values, "operations": idx.operations.iter().map(|o| format!("{PREFIX}{o}")).collect::<Vec<_>>(),
            "operators": operators,
        });
        if idx.sortable {
            sortable.insert(name.clone(), entry.clone());
        }
        if !idx.operations.is_empty() {
            indexes.insert(name.clone(), entry);
        }
    }
    let body = serde_json::json!({
        "@id": format!("{}/@querystring", ctx.url(context)),
        "indexes": indexes,
        "sortable_indexes": sortable,
    });
    Ok(super::json(axum::http::StatusCode::OK, &body))
}
