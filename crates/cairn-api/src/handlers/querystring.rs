//! `@querystring-search` (POST, or GET with `?query=<JSON body>`): the
//! queries Volto's listing, search and gallery blocks send, in
//! plone.app.querystring's `{"i", "o", "v"}` form, run as one catalog query.

use axum::response::Response;
use cairn_core::catalog::{CatalogQuery, DateIndex, SortOn};
use cairn_model::ContentPath;
use cairn_model::time::format_ts;
use cairn_model::values::parse_datetime;
use jiff::{Timestamp, ToSpan};
use serde_json::{Map, Value};

use cairn_core::Content;

use super::body_object;
use super::search::run;
use crate::batch::Batch;
use crate::ctx::Ctx;
use crate::error::{ApiError, ApiResult};
use crate::serialize::full::Opts;

const PREFIX: &str = "plone.app.querystring.operation.";
/// plone.app.querystring's cap on the result set when the client gives none.
const DEFAULT_LIMIT: usize = 1000;
/// Criteria one listing may combine; Volto's query builder sends a handful.
const MAX_CRITERIA: usize = 64;
const MAX_FULL_PAGE: usize = 100;

fn invalid() -> ApiError {
    ApiError::bad_request("Invalid query.")
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
    }
}

fn number(v: Option<&Value>) -> ApiResult<Option<usize>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_u64().map(|n| n as usize)),
        Some(Value::String(s)) => s
            .parse::<usize>()
            .map(Some)
            .map_err(|_| ApiError::bad_request(format!("Not an integer: {s}"))),
        Some(_) => Err(invalid()),
    }
}

/// Midnight (UTC) `days` days from today.
fn day(days: i64) -> String {
    let today = Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let d = today.checked_add(days.days()).unwrap_or(today);
    d.to_zoned(jiff::tz::TimeZone::UTC)
        .map(|z| format_ts(z.timestamp()))
        .unwrap_or_default()
}

fn date(v: &Value) -> ApiResult<String> {
    let s = v.as_str().ok_or_else(invalid)?;
    parse_datetime(s).map(format_ts).map_err(ApiError::bad_request)
}

/// A path value (`/a/b`, a UID, or relative to `context`) with its `::depth`.
fn path_value(ctx: &Ctx, context: &ContentPath, op: &str, raw: &str) -> ApiResult<(ContentPath, Option<usize>)> {
    let (path, depth) = match raw.rsplit_once("::") {
        Some((p, d)) => (p, d.parse::<i64>().map_err(|_| invalid())?),
        None => (raw, -1),
    };
    let depth = (depth >= 0).then_some(depth as usize);
    let resolved = if op == "string.relativePath" {
        let mut cur = context.clone();
        for seg in path.split('/').filter(|s| !s.is_empty() && *s != ".") {
            cur = if seg == ".." {
                cur.parent().unwrap_or_else(ContentPath::root)
            } else {
                ContentPath::parse(&format!("{cur}/{seg}")).map_err(|_| invalid())?
            };
        }
        cur
    } else if let Ok(uid) = cairn_model::Uid::parse(path) {
        let found = ctx.site.store.by_uids(&ctx.site.id, &[uid])?;
        found.into_iter().next().map(|c| c.path).ok_or_else(invalid)?
    } else {
        let rel = path.strip_prefix(&format!("/{}", ctx.site.id)).unwrap_or(path);
        ContentPath::parse(rel).map_err(|_| invalid())?
    };
    Ok((resolved, depth))
}

/// Applies the criteria to `q` and returns their full text, which the caller
/// ranks only when it wants results (checking a stored query needs no search).
fn criteria(
    ctx: &Ctx,
    context: &ContentPath,
    q: &mut CatalogQuery,
    list: &[Value],
) -> ApiResult<Option<cairn_search::Query>> {
    if list.len() > MAX_CRITERIA {
        return Err(ApiError::bad_request(format!(
            "A query may have at most {MAX_CRITERIA} criteria."
        )));
    }
    let mut texts = Vec::new();
    for c in list {
        texts.extend(criterion(ctx, context, q, c)?);
    }
    // One flat conjunction, bounded as one query: nesting each criterion in
    // the last would let a long list overflow the stack of every walker.
    cairn_search::all_of(texts).map_err(|e| ApiError::bad_request(e.to_string()))
}

/// One criterion; a SearchableText one gives back its parsed words.
fn criterion(
    ctx: &Ctx,
    context: &ContentPath,
    q: &mut CatalogQuery,
    c: &Value,
) -> ApiResult<Option<cairn_search::Query>> {
    let index = c.get("i").and_then(Value::as_str).ok_or_else(invalid)?;
    let op = c.get("o").and_then(Value::as_str).ok_or_else(invalid)?;
    let op = op.strip_prefix(PREFIX).unwrap_or(op);
    let v = c.get("v").cloned().unwrap_or(Value::Null);
    match (index, op) {
        ("SearchableText", "string.contains") => {
            // A search block sends the criterion before anything is typed: no words, no filter.
            let text = v.as_str().ok_or_else(invalid)?;
            return super::search::parse_text(text);
        }
        ("portal_type", "selection.any" | "selection.is" | "string.is") => q.portal_types.extend(strings(&v)),
        ("portal_type", "selection.none" | "string.isNot") => q.not_portal_types.extend(strings(&v)),
        ("review_state", "selection.any" | "selection.is" | "string.is") => q.review_states.extend(strings(&v)),
        ("review_state", "selection.none" | "string.isNot") => q.not_review_states.extend(strings(&v)),
        ("UID", "string.is" | "selection.any" | "reference.is") => q.uids.extend(strings(&v)),
        ("Subject", "selection.any" | "selection.is" | "string.is") => q.subjects.extend(strings(&v)),
        ("Subject", "selection.all") => {
            q.subjects.extend(strings(&v));
            q.subjects_all = true;
        }
        ("getId" | "id", "string.is" | "selection.any") => q.ids.extend(strings(&v)),
        ("Creator", "string.is" | "selection.any") => q.creators.extend(strings(&v)),
        // Anonymous created nothing: an id no user has matches nothing.
        ("Creator", "string.currentUser") => q.creators.push(ctx.who.id.clone().unwrap_or_default()),
        ("Language", "selection.any" | "string.is") => q.languages.extend(strings(&v)),
        ("isFolderish" | "is_folderish", "boolean.isTrue") => q.is_folderish = Some(true),
        ("isFolderish" | "is_folderish", "boolean.isFalse") => q.is_folderish = Some(false),
        ("exclude_from_nav", "boolean.isTrue") => q.exclude_from_nav = Some(true),
        ("exclude_from_nav", "boolean.isFalse") => q.exclude_from_nav = Some(false),
        ("path", "string.absolutePath" | "string.path" | "string.relativePath") => {
            for raw in strings(&v) {
                let (path, depth) = path_value(ctx, context, op, &raw)?;
                q.paths.push(path);
                q.depth = depth;
            }
        }
        (index, op) if op.starts_with("date.") => {
            let index = DateIndex::parse(index).ok_or_else(invalid)?;
            let days = || {
                v.as_str()
                    .and_then(|s| s.parse::<i64>().ok())
                    .or(v.as_i64())
                    .ok_or_else(invalid)
            };
            let (min, max) = match op {
                "date.lessThan" => (None, Some(date(&v)?)),
                "date.largerThan" => (Some(date(&v)?), None),
                "date.between" => {
                    let pair = v.as_array().filter(|a| a.len() == 2).ok_or_else(invalid)?;
                    (Some(date(&pair[0])?), Some(date(&pair[1])?))
                }
                "date.today" => (Some(day(0)), Some(day(1))),
                "date.beforeToday" => (None, Some(day(0))),
                "date.afterToday" => (Some(day(1)), None),
                "date.lessThanRelativeDate" => (Some(day(0)), Some(day(days()? + 1))),
                "date.largerThanRelativeDate" => (Some(day(-days()?)), Some(day(1))),
                "date.beforeRelativeDate" => (None, Some(day(-days()?))),
                "date.afterRelativeDate" => (Some(day(days()?)), None),
                _ => return Err(invalid()),
            };
            q.date_ranges.push((index, min, max));
        }
        _ => return Err(invalid()),
    }
    Ok(None)
}

/// POST (or GET) `<context>/@querystring-search`.
pub fn search(ctx: &Ctx, context: &ContentPath, body: &[u8], max_batch: usize) -> ApiResult<Response> {
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
    if let Some(text) = self::criteria(ctx, context, &mut q, list)? {
        super::search::rank(ctx, &mut q, &text)?;
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

/// Refuses a Collection `query` cairn could not evaluate when it is written,
/// rather than listing nothing later. `null` or `[]` is an empty query.
pub(crate) fn check_stored_query(ctx: &Ctx, context: &ContentPath, query: &Value) -> ApiResult<()> {
    let list = match query {
        Value::Null => return Ok(()),
        Value::Array(a) => a,
        _ => return Err(invalid()),
    };
    self::criteria(ctx, context, &mut CatalogQuery::default(), list).map(drop)
}

/// A Collection's results, as its GET lists them: its stored criteria, sort
/// and limit, batched like folder items. Criteria are checked when written;
/// one that no longer evaluates (its path is gone) leaves the list empty, and
/// is logged, rather than failing the GET.
pub(crate) fn collection_items(ctx: &Ctx, c: &Content, o: &Opts, body: &mut Value) -> ApiResult<()> {
    let list = c
        .fields
        .get("query")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut q = CatalogQuery {
        start: o.batch.start,
        limit: if o.fullobjects {
            o.batch.size.min(MAX_FULL_PAGE)
        } else {
            o.batch.size
        },
        light: !o.fullobjects,
        max_results: c.fields.get("limit").and_then(Value::as_u64).map(|n| n as usize),
        not_uids: vec![c.uid.to_string()],
        ..Default::default()
    };
    // Without a sort the catalog lists in the order objects were indexed:
    // by creation, and by position among objects created in the same second.
    match c.fields.get("sort_on").and_then(Value::as_str).and_then(SortOn::parse) {
        Some(on) => q.sort.push((on, c.bool_field("sort_reversed"))),
        None => q.sort.extend([(SortOn::Created, false), (SortOn::Position, false)]),
    }
    let built = self::criteria(ctx, &c.path, &mut q, &list);
    let (items, total) = match built {
        // Plone lists nothing for a collection without criteria.
        Ok(_) if list.is_empty() => (Vec::new(), 0),
        Ok(text) => {
            if let Some(text) = text {
                super::search::rank(ctx, &mut q, &text)?;
            }
            super::search::results(ctx, &q, &o.metadata_fields)?
        }
        Err(e) => {
            tracing::warn!(collection = %c.path, error = %e.message, "collection query cannot be evaluated");
            (Vec::new(), 0)
        }
    };
    body["items"] = Value::from(items);
    body["items_total"] = total.into();
    let page = Batch {
        start: q.start,
        size: q.limit.max(1),
    };
    if let Some(b) = crate::batch::batching(ctx, &ctx.url(&c.path), &page, total) {
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
    cairn_core::repo::get_visible(&ctx.site, context, &ctx.who)?;
    let reg: Registry = toml::from_str(REGISTRY).map_err(|e| {
        tracing::error!(error = %e, "querystring registry");
        ApiError::internal()
    })?;
    let mut indexes = Map::new();
    let mut sortable = Map::new();
    for (name, idx) in &reg.indexes {
        let values: Map<String, Value> = match &idx.vocabulary {
            Some(v) => cairn_core::vocabularies::terms(&ctx.site, &ctx.who, v)
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
