//! `_search` in the fake cluster: the query DSL the adapter uses (`bool`,
//! `term`, `multi_match` of type `phrase`, `match_phrase`, `wildcard`,
//! `match_all`, `match_none`), sorting, paging within the result window,
//! and BM25 scores as Lucene computes them (k1 = 1.2, b = 0.75; a phrase
//! scores as its terms' summed IDF with its frequency as TF). Unknown
//! queries, keys and parameters are refused with the cluster's errors.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::Refusal;
use super::docs::{Doc, FieldKind, Index};

const K1: f32 = 1.2;
const B: f32 = 0.75;
/// `index.max_result_window`.
const MAX_WINDOW: u64 = 10_000;
/// `indices.query.bool.max_nested_depth`.
const MAX_DEPTH: usize = 20;
/// Clauses one `bool` may hold (`indices.query.bool.max_clause_count`).
const MAX_CLAUSES: usize = 1024;

enum Q {
    Bool {
        must: Vec<Q>,
        filter: Vec<Q>,
        should: Vec<Q>,
        must_not: Vec<Q>,
        min_should: usize,
    },
    Term(String, String),
    Phrase(Vec<(String, f32)>, String),
    Wildcard(String, regex::Regex),
    All,
    None,
}

fn parsing(reason: String) -> Refusal {
    Refusal::new(400, "parsing_exception", reason)
}

fn single(value: &Value, what: &str) -> Result<(String, Value), Refusal> {
    match value.as_object() {
        Some(m) if m.len() == 1 => {
            let (k, v) = m.iter().next().expect("one entry");
            Ok((k.clone(), v.clone()))
        }
        _ => Err(parsing(format!(
            "[{what}] query malformed, must be an object with one field"
        ))),
    }
}

fn only(map: &Map<String, Value>, query: &str, allowed: &[&str]) -> Result<(), Refusal> {
    match map.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(parsing(format!("[{query}] query does not support [{k}]"))),
        None => Ok(()),
    }
}

fn parse(value: &Value, index: &Index, depth: usize) -> Result<Q, Refusal> {
    if depth > MAX_DEPTH {
        return Err(Refusal::new(
            400,
            "illegal_argument_exception",
            format!(
                "The nested depth of the query exceeds the maximum nested depth for queries set in [indices.query.bool.max_nested_depth] ({MAX_DEPTH})"
            ),
        ));
    }
    let (kind, body) = single(value, "query")?;
    let empty = Map::new();
    let map = body.as_object().unwrap_or(&empty);
    match kind.as_str() {
        "bool" => {
            only(
                map,
                "bool",
                &["must", "filter", "should", "must_not", "minimum_should_match", "boost"],
            )?;
            let list = |key: &str| -> Result<Vec<Q>, Refusal> {
                let items: Vec<Value> = match &map.get(key) {
                    None => Vec::new(),
                    Some(Value::Array(a)) => a.clone(),
                    Some(one) => vec![(*one).clone()],
                };
                if items.len() > MAX_CLAUSES {
                    return Err(Refusal::new(
                        400,
                        "too_many_nested_clauses",
                        format!("Query contains too many nested clauses; maxClauseCount is set to {MAX_CLAUSES}"),
                    ));
                }
                items.iter().map(|q| parse(q, index, depth + 1)).collect()
            };
            let (must, filter, should, must_not) = (list("must")?, list("filter")?, list("should")?, list("must_not")?);
            let min_should = match map.get("minimum_should_match") {
                None => usize::from(must.is_empty() && filter.is_empty() && !should.is_empty()),
                Some(Value::Number(n)) => n.as_u64().unwrap_or(0) as usize,
                Some(Value::String(s)) => s
                    .parse()
                    .map_err(|_| parsing(format!("the fake reads [minimum_should_match] as a count, not [{s}]")))?,
                Some(other) => return Err(parsing(format!("[bool] malformed [minimum_should_match]: {other}"))),
            };
            Ok(Q::Bool {
                must,
                filter,
                should,
                must_not,
                min_should,
            })
        }
        "term" => {
            let (field, v) = single(&body, "term")?;
            let value = match &v {
                Value::Object(m) => {
                    only(m, "term", &["value", "boost"])?;
                    m.get("value").cloned().unwrap_or(Value::Null)
                }
                other => other.clone(),
            };
            let value = match value {
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                _ => return Err(parsing("[term] query needs a value".into())),
            };
            Ok(Q::Term(field, value))
        }
        "multi_match" => {
            only(map, "multi_match", &["query", "type", "fields"])?;
            if map.get("type").and_then(Value::as_str).unwrap_or("best_fields") != "phrase" {
                return Err(parsing("the fake runs [multi_match] of type [phrase] only".into()));
            }
            let query = map
                .get("query")
                .and_then(Value::as_str)
                .ok_or_else(|| parsing("No text specified for multi_match query".into()))?;
            let mut fields = Vec::new();
            for f in map.get("fields").and_then(Value::as_array).into_iter().flatten() {
                let f = f.as_str().unwrap_or_default();
                let (name, boost) = match f.split_once('^') {
                    Some((n, b)) => (n, b.parse::<f32>().map_err(|_| parsing(format!("bad boost in [{f}]")))?),
                    None => (f, 1.0),
                };
                fields.push((name.to_string(), boost));
            }
            Ok(Q::Phrase(fields, query.to_string()))
        }
        "match_phrase" => {
            let (field, v) = single(&body, "match_phrase")?;
            let query = match &v {
                Value::String(s) => s.clone(),
                Value::Object(m) => {
                    only(m, "match_phrase", &["query", "boost"])?;
                    m.get("query").and_then(Value::as_str).unwrap_or_default().to_string()
                }
                _ => return Err(parsing("[match_phrase] malformed".into())),
            };
            let boost = v["boost"].as_f64().unwrap_or(1.0) as f32;
            Ok(Q::Phrase(vec![(field, boost)], query))
        }
        "wildcard" => {
            let (field, v) = single(&body, "wildcard")?;
            let (pattern, insensitive) = match &v {
                Value::String(s) => (s.clone(), false),
                Value::Object(m) => {
                    only(m, "wildcard", &["value", "wildcard", "case_insensitive", "boost"])?;
                    let p = m
                        .get("value")
                        .or(m.get("wildcard"))
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    (p.to_string(), m.get("case_insensitive") == Some(&json!(true)))
                }
                _ => return Err(parsing("[wildcard] malformed".into())),
            };
            let mut re = String::from(if insensitive { "(?i)^" } else { "^" });
            let mut chars = pattern.chars();
            while let Some(c) = chars.next() {
                match c {
                    '*' => re.push_str(".*"),
                    '?' => re.push('.'),
                    '\\' => re.push_str(&regex::escape(&chars.next().map(String::from).unwrap_or_default())),
                    c => re.push_str(&regex::escape(&c.to_string())),
                }
            }
            re.push('$');
            let re = regex::Regex::new(&re).map_err(|e| parsing(format!("bad wildcard [{pattern}]: {e}")))?;
            if !index.fields.contains_key(&field) {
                return Ok(Q::None);
            }
            Ok(Q::Wildcard(field, re))
        }
        "match_all" => Ok(Q::All),
        "match_none" => Ok(Q::None),
        other => Err(parsing(format!("unknown query [{other}]"))),
    }
}

/// Statistics of the searchable documents, gathered as a query needs them.
struct Stats<'a> {
    docs: &'a [&'a Doc],
    /// Per field: documents holding it, and their average length.
    fields: HashMap<&'a str, (f32, f32)>,
    df: HashMap<(String, String), f32>,
}

impl<'a> Stats<'a> {
    fn field(&mut self, field: &'a str) -> (f32, f32) {
        let docs = self.docs;
        *self.fields.entry(field).or_insert_with(|| {
            let lengths: Vec<usize> = docs.iter().filter_map(|d| d.fields.get(field)).map(Vec::len).collect();
            let n = lengths.len() as f32;
            (
                n,
                if n == 0.0 {
                    1.0
                } else {
                    lengths.iter().sum::<usize>() as f32 / n
                },
            )
        })
    }

    fn idf(&mut self, field: &'a str, term: &str) -> f32 {
        let (n, _) = self.field(field);
        let docs = self.docs;
        let df = *self.df.entry((field.to_string(), term.to_string())).or_insert_with(|| {
            docs.iter()
                .filter(|d| d.fields.get(field).is_some_and(|t| t.iter().any(|(_, w)| w == term)))
                .count() as f32
        });
        (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
    }

    fn bm25(&mut self, field: &'a str, tf: f32, dl: f32, idf: f32) -> f32 {
        let (_, avgdl) = self.field(field);
        idf * tf / (tf + K1 * (1.0 - B + B * dl / avgdl))
    }
}

/// The score of `doc` under `q`, or `None` when it does not match.
fn score<'a>(q: &'a Q, doc: &Doc, index: &Index, stats: &mut Stats<'a>) -> Option<f32> {
    match q {
        Q::All => Some(1.0),
        Q::None => None,
        Q::Bool {
            must,
            filter,
            should,
            must_not,
            min_should,
        } => {
            let mut total = 0.0;
            for c in must {
                total += score(c, doc, index, stats)?;
            }
            for c in filter {
                score(c, doc, index, stats)?;
            }
            if must_not.iter().any(|c| score(c, doc, index, stats).is_some()) {
                return None;
            }
            let mut matched = 0;
            for c in should {
                if let Some(s) = score(c, doc, index, stats) {
                    total += s;
                    matched += 1;
                }
            }
            (matched >= *min_should).then_some(total)
        }
        Q::Term(field, value) => {
            let tokens = doc.fields.get(field)?;
            tokens.iter().any(|(_, t)| t == value).then_some(1.0)
        }
        Q::Wildcard(field, re) => {
            let tokens = doc.fields.get(field)?;
            tokens.iter().any(|(_, t)| re.is_match(t)).then_some(1.0)
        }
        Q::Phrase(fields, text) => {
            let mut best: Option<f32> = None;
            for (field, boost) in fields {
                let Some(FieldKind::Text(analyzer)) = index.fields.get(field) else {
                    continue;
                };
                let wanted = index.analyzers[analyzer].analyze(text);
                let Some((first, _)) = wanted.first() else { continue };
                let Some(tokens) = doc.fields.get(field) else { continue };
                let freq = tokens
                    .iter()
                    .filter(|(p, t)| *t == wanted[0].1 && *p >= *first)
                    .filter(|(p, _)| {
                        let start = p - first;
                        wanted
                            .iter()
                            .all(|(qp, qt)| tokens.iter().any(|(dp, dt)| *dp == start + qp && dt == qt))
                    })
                    .count();
                if freq == 0 {
                    continue;
                }
                let idf: f32 = wanted.iter().map(|(_, t)| stats.idf(field, t)).sum();
                let s = boost * stats.bm25(field, freq as f32, tokens.len() as f32, idf);
                best = Some(best.map_or(s, |b: f32| b.max(s)));
            }
            best
        }
    }
}

enum Sort {
    Score(bool),
    Field(String, bool),
}

fn sorts(value: Option<&Value>, index: &Index) -> Result<Vec<Sort>, Refusal> {
    let Some(value) = value else {
        return Ok(vec![Sort::Score(true)]);
    };
    let items = value.as_array().cloned().unwrap_or_else(|| vec![value.clone()]);
    let mut out = Vec::new();
    for item in items {
        let (field, order) = match &item {
            Value::String(f) => (f.clone(), if f == "_score" { "desc" } else { "asc" }.to_string()),
            Value::Object(_) => {
                let (f, spec) = single(&item, "sort")?;
                let order = match &spec {
                    Value::String(o) => o.clone(),
                    other => other["order"].as_str().unwrap_or("asc").to_string(),
                };
                (f, order)
            }
            _ => return Err(parsing("malformed [sort]".into())),
        };
        let desc = match order.as_str() {
            "desc" => true,
            "asc" => false,
            o => return Err(parsing(format!("Unknown SortOrder [{o}]"))),
        };
        if field == "_score" {
            out.push(Sort::Score(desc));
            continue;
        }
        match index.fields.get(&field) {
            Some(FieldKind::Keyword | FieldKind::Long) => out.push(Sort::Field(field, desc)),
            Some(FieldKind::Text(_)) => {
                return Err(Refusal::in_search(
                    400,
                    "illegal_argument_exception",
                    format!(
                        "Text fields are not optimised for operations that require per-document field data like aggregations and sorting, so these operations are disabled by default. Please use a keyword field instead. Alternatively, set fielddata=true on [{field}] in order to load field data by uninverting the inverted index."
                    ),
                ));
            }
            None => {
                return Err(Refusal::in_search(
                    400,
                    "query_shard_exception",
                    format!("No mapping found for [{field}] in order to sort on"),
                ));
            }
        }
    }
    Ok(out)
}

/// Answers a search body on `index`.
pub fn search(index: &Index, body: &Value) -> Result<Value, Refusal> {
    let empty = Map::new();
    let map = body.as_object().unwrap_or(&empty);
    if let Some(k) = map.keys().find(|k| {
        !matches!(
            k.as_str(),
            "query" | "size" | "from" | "_source" | "sort" | "track_total_hits" | "track_scores"
        )
    }) {
        return Err(parsing(format!("Unknown key for a START_OBJECT in [{k}].")));
    }
    let size = map
        .get("size")
        .map_or(Some(10), Value::as_u64)
        .ok_or_else(|| parsing("[size] must be a number".into()))?;
    let from = map
        .get("from")
        .map_or(Some(0), Value::as_u64)
        .ok_or_else(|| parsing("[from] must be a number".into()))?;
    if from + size > MAX_WINDOW {
        return Err(Refusal::in_search(
            400,
            "illegal_argument_exception",
            format!(
                "Result window is too large, from + size must be less than or equal to: [{MAX_WINDOW}] but was [{}]. See the scroll api for a more efficient way to request large data sets. This limit can be set by changing the [index.max_result_window] index level setting.",
                from + size
            ),
        ));
    }
    let query = match map.get("query") {
        Some(q) => parse(q, index, 0)?,
        None => Q::All,
    };
    let sort = sorts(map.get("sort"), index)?;
    let docs: Vec<(&String, &Doc)> = index.searchable.iter().map(|(id, d)| (id, &**d)).collect();
    let plain: Vec<&Doc> = docs.iter().map(|(_, d)| *d).collect();
    let mut stats = Stats {
        docs: &plain,
        fields: HashMap::new(),
        df: HashMap::new(),
    };
    let mut hits: Vec<(&String, &Doc, f32)> = docs
        .iter()
        .filter_map(|(id, doc)| score(&query, doc, index, &mut stats).map(|s| (*id, *doc, s)))
        .collect();
    let key = |doc: &Doc, field: &str| doc.fields.get(field).and_then(|t| t.first()).map(|(_, v)| v.clone());
    hits.sort_by(|a, b| {
        for s in &sort {
            let ord = match s {
                Sort::Score(desc) => {
                    let o = a.2.total_cmp(&b.2);
                    if *desc { o.reverse() } else { o }
                }
                Sort::Field(f, desc) => {
                    let o = key(a.1, f).cmp(&key(b.1, f));
                    if *desc { o.reverse() } else { o }
                }
            };
            if ord != std::cmp::Ordering::Equal {
                return ord;
            }
        }
        a.0.cmp(b.0)
    });
    let total = hits.len();
    let with_source = map.get("_source") != Some(&json!(false));
    let page: Vec<Value> = hits
        .iter()
        .skip(from as usize)
        .take(size as usize)
        .map(|(id, doc, s)| {
            let mut hit = json!({"_index": index.name, "_id": id, "_score": s});
            if map.contains_key("sort") {
                let values: Vec<Value> = sort
                    .iter()
                    .map(|so| match so {
                        Sort::Score(_) => json!(s),
                        Sort::Field(f, _) => json!(key(doc, f)),
                    })
                    .collect();
                hit["sort"] = json!(values);
            }
            if with_source {
                hit["_source"] = doc.source.clone();
            }
            hit
        })
        .collect();
    let max_score = hits
        .iter()
        .map(|h| h.2)
        .fold(None, |m: Option<f32>, s| Some(m.map_or(s, |m| m.max(s))));
    let mut out_hits = json!({"max_score": max_score, "hits": page});
    if map.get("track_total_hits") != Some(&json!(false)) {
        out_hits["total"] = json!({"value": total, "relation": "eq"});
    }
    Ok(json!({
        "took": 1,
        "timed_out": false,
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": out_hits,
    }))
}
