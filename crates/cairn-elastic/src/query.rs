//! SearchableText queries in the cluster's query DSL. Each language reads
//! the query with its own analyzer and is held to that language's objects
//! (a `term` filter on `lang`); the four readings are alternatives. A word
//! or phrase is a `multi_match` of type `phrase` over the title (boosted as
//! the embedded index boosts it) and the rest, so a word the analyzer
//! splits (`E-Mail`) needs its parts adjacent; a wildcard is a `wildcard`
//! query over the unstemmed words, folded here as the words were folded
//! when indexed. Every text the user typed is a JSON string value, never
//! query syntax.

use cairn_model::fulltext::Query;
use serde_json::{Value, json};

use crate::index::{LANGUAGES, text_field, title_field};

/// The search body for the best `size` matches of `q`, best first, ties
/// in UID order.
pub fn search_body(q: &Query, size: usize) -> Value {
    let readings: Vec<Value> = LANGUAGES
        .iter()
        .map(|lang| {
            json!({"bool": {
                "filter": [{"term": {"lang": lang}}],
                "must": [reading(q, lang)],
            }})
        })
        .collect();
    json!({
        "size": size,
        "_source": false,
        "track_total_hits": false,
        "track_scores": true,
        "sort": [{"_score": {"order": "desc"}}, {"uid": {"order": "asc"}}],
        "query": {"bool": {"should": readings, "minimum_should_match": 1}},
    })
}

/// `q` read in `lang`.
fn reading(q: &Query, lang: &str) -> Value {
    match q {
        Query::Term(word) => phrase(word, lang),
        Query::Phrase(words) => phrase(&words.join(" "), lang),
        Query::Glob(glob) => json!({"wildcard": {"words": {"value": wildcard(glob)}}}),
        Query::And(parts) => {
            let (no, yes): (Vec<&Query>, Vec<&Query>) = parts.iter().partition(|p| matches!(p, Query::Not(_)));
            if yes.is_empty() {
                // Only exclusions would match everything else: the parser never asks that.
                return json!({"match_none": {}});
            }
            let must: Vec<Value> = yes.iter().map(|p| reading(p, lang)).collect();
            let must_not: Vec<Value> = no
                .iter()
                .filter_map(|p| match p {
                    Query::Not(inner) => Some(reading(inner, lang)),
                    _ => None,
                })
                .collect();
            json!({"bool": {"must": must, "must_not": must_not}})
        }
        Query::Or(parts) => {
            let should: Vec<Value> = parts.iter().map(|p| reading(p, lang)).collect();
            json!({"bool": {"should": should, "minimum_should_match": 1}})
        }
        Query::Not(_) => json!({"match_none": {}}),
    }
}

fn phrase(text: &str, lang: &str) -> Value {
    json!({"multi_match": {
        "query": text,
        "type": "phrase",
        "fields": [format!("{}^{}", title_field(lang), cairn_search::engine::TITLE_BOOST), text_field(lang)],
    }})
}

/// A glob as the `wildcard` query takes it: folded, with the query's own
/// escape character escaped (no indexed word holds one, so it matches
/// nothing, as in the embedded index).
pub fn wildcard(glob: &str) -> String {
    cairn_search::engine::fold(glob).replace('\\', "\\\\")
}
