//! A site's index on the cluster: its name, its analysis and mapping, and
//! the lease that lets one node at a time write to it.
//!
//! Each site has an alias (`{prefix}{site}`) pointing at one concrete
//! index (`{alias}-{n}`); a rebuild fills a new concrete index and moves
//! the alias in one `_aliases` call, so searches keep their answers while
//! it runs. Text is analyzed as the embedded index analyzes it: words split
//! at anything not a letter or digit, long words dropped, lowercased,
//! stemmed by the language's Snowball stemmer, accents folded. (The
//! embedded index drops words of 40 bytes or more, the `length` filter
//! counts UTF-16 units: a word of 30 to 39 letters with accents is kept
//! here and dropped there.)

use serde_json::{Value, json};

use crate::client::{Body, Client, ElasticError};

/// The embedded index's languages, in its order.
pub const LANGUAGES: [&str; 4] = cairn_search::engine::LANGUAGES;
/// Snowball's name of each language, as the `snowball` token filter takes it.
const SNOWBALL: [&str; 4] = ["German", "French", "Italian", "English"];
/// The document holding the outbox position the index reaches.
pub const POSITION_ID: &str = "cairn-position";

/// The index and alias names of one site.
#[derive(Clone, Debug)]
pub struct Names {
    /// The alias every search and write goes through.
    pub alias: String,
    /// The small index of write leases, shared by every site.
    pub leases: String,
}

/// The longest index name a cluster takes, in bytes.
const MAX_NAME: usize = 255;

impl Names {
    /// The names of `site` under `prefix`; refused when the prefix is no
    /// valid start of an index name or the names would be too long.
    pub fn new(prefix: &str, site: &str) -> Result<Self, String> {
        check_prefix(prefix)?;
        let alias = format!("{prefix}{}", encode(site));
        // Room for `-` and a generation of 20 digits.
        if alias.len() + 21 > MAX_NAME {
            return Err(format!(
                "the index names of site {site:?} would be longer than {MAX_NAME} bytes; choose a shorter site id or prefix"
            ));
        }
        Ok(Self {
            alias,
            // An encoded site id never starts with `-`, so no site's alias is this.
            leases: format!("{prefix}-leases"),
        })
    }

    /// The concrete index of generation `n`.
    pub fn concrete(&self, n: u64) -> String {
        format!("{}-{n}", self.alias)
    }

    /// The generation of a concrete index of this site.
    pub fn generation(&self, concrete: &str) -> Option<u64> {
        concrete.strip_prefix(&self.alias)?.strip_prefix('-')?.parse().ok()
    }
}

/// A prefix must start an index name on its own: lowercase letters,
/// digits, `-`, `_` and `.`, not starting with `-`, `_`, `+` or `.`.
pub fn check_prefix(prefix: &str) -> Result<(), String> {
    let fine = prefix
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.'));
    if prefix.is_empty() || !fine || prefix.starts_with(['-', '_', '+', '.']) || prefix.len() > 100 {
        return Err(format!(
            "the index prefix {prefix:?} must be 1 to 100 lowercase letters, digits, '-', '_' or '.', starting with a letter or digit"
        ));
    }
    Ok(())
}

/// A site id as part of an index name: lowercase letters and digits stay,
/// every other byte becomes `_` and two hex digits (so `Plone` and `plone`
/// stay apart, and `-` is left to separate the generation).
pub fn encode(site: &str) -> String {
    let mut out = String::with_capacity(site.len());
    for b in site.bytes() {
        if b.is_ascii_lowercase() || b.is_ascii_digit() {
            out.push(b as char);
        } else {
            out.push_str(&format!("_{b:02x}"));
        }
    }
    out
}

/// The field holding an object's title in `lang`.
pub fn title_field(lang: &str) -> String {
    format!("title_{lang}")
}

/// The field holding the rest of an object's text in `lang`.
pub fn text_field(lang: &str) -> String {
    format!("text_{lang}")
}

/// The body that creates a site's concrete index.
pub fn definition() -> Value {
    let mut filters = serde_json::Map::new();
    filters.insert("cairn_length".into(), json!({"type": "length", "max": 39}));
    let mut analyzers = serde_json::Map::new();
    let mut properties = serde_json::Map::new();
    for (lang, snowball) in LANGUAGES.iter().zip(SNOWBALL) {
        filters.insert(
            format!("cairn_stem_{lang}"),
            json!({"type": "snowball", "language": snowball}),
        );
        analyzers.insert(
            format!("cairn_{lang}"),
            json!({
                "type": "custom",
                "tokenizer": "cairn_split",
                "filter": ["cairn_length", "lowercase", format!("cairn_stem_{lang}"), "asciifolding"],
            }),
        );
        let text = json!({"type": "text", "analyzer": format!("cairn_{lang}")});
        properties.insert(title_field(lang), text.clone());
        properties.insert(text_field(lang), text);
    }
    analyzers.insert(
        "cairn_words".into(),
        json!({"type": "custom", "tokenizer": "cairn_split", "filter": ["cairn_length", "lowercase", "asciifolding"]}),
    );
    properties.insert("words".into(), json!({"type": "text", "analyzer": "cairn_words"}));
    properties.insert("uid".into(), json!({"type": "keyword"}));
    properties.insert("lang".into(), json!({"type": "keyword"}));
    properties.insert("position".into(), json!({"type": "long"}));
    json!({
        "settings": {
            // A deleted object's version is remembered this long, so a
            // late write of its text is refused as older (the default is 60 s).
            "index.gc_deletes": "1h",
            "analysis": {
                "tokenizer": {"cairn_split": {"type": "pattern", "pattern": "[^\\p{L}\\p{N}]+"}},
                "filter": filters,
                "analyzer": analyzers,
            }
        },
        "mappings": {"dynamic": "strict", "properties": properties},
    })
}

/// The concrete index the alias points at, if any.
pub fn current(client: &Client, names: &Names) -> Result<Option<String>, ElasticError> {
    let answer = client.expect("GET", &format!("/_alias/{}", names.alias), None, &[404])?;
    if answer.status == 404 {
        return Ok(None);
    }
    Ok(answer.body.as_object().and_then(|m| m.keys().next().cloned()))
}

/// Creates the concrete index of generation `n` (an existing one, left by
/// a rebuild that died, is dropped first).
pub fn create(client: &Client, names: &Names, n: u64) -> Result<String, ElasticError> {
    let name = names.concrete(n);
    client.expect("DELETE", &format!("/{name}"), None, &[404])?;
    client.expect("PUT", &format!("/{name}"), Some(Body::Json(&definition())), &[])?;
    Ok(name)
}

/// Points the alias at `to` and away from `from`, in one step. An index
/// holding the alias's name (a write of another client made it, the
/// cluster creating indices on first write) is dropped in the same step.
pub fn swap(client: &Client, names: &Names, from: Option<&str>, to: &str) -> Result<(), ElasticError> {
    let mut actions = vec![json!({"add": {"index": to, "alias": names.alias}})];
    if let Some(from) = from {
        actions.push(json!({"remove": {"index": from, "alias": names.alias}}));
    } else {
        let found = client.expect("GET", &format!("/{}", names.alias), None, &[404])?;
        if found.status != 404 && found.body.get(&names.alias).is_some() {
            tracing::warn!(index = %names.alias, "an index holds the alias's name; it is replaced");
            actions.insert(0, json!({"remove_index": {"index": names.alias}}));
        }
    }
    client.expect("POST", "/_aliases", Some(Body::Json(&json!({"actions": actions}))), &[])?;
    Ok(())
}

/// The outbox position `index` reaches (0 when it holds none).
pub fn position(client: &Client, index: &str) -> Result<Option<i64>, ElasticError> {
    let answer = client.expect("GET", &format!("/{index}/_doc/{POSITION_ID}"), None, &[404])?;
    if answer.status == 404 || answer.body["found"] != json!(true) {
        // A missing alias or index and a missing document both mean: nothing indexed.
        return Ok(None);
    }
    Ok(answer.body["_source"]["position"].as_i64())
}
