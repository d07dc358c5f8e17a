//! Objects on their way into the index: `_bulk` requests of NDJSON, each
//! action carrying the outbox position as its external version
//! (`external_gte`), so a replayed or late batch never puts older text
//! over newer.

use cairn_search::indexer::BATCH;
use cairn_search::{IndexerError, SearchableText, Sink};
use serde_json::{Value, json};

use crate::client::{Body, Client, ElasticError};
use crate::index::{LANGUAGES, text_field, title_field};

/// A bulk request is sent once it holds this many bytes (the cluster's
/// default `http.max_content_length` is 100 MB).
const MAX_BYTES: usize = 8 << 20;

pub(crate) struct Bulk<'c> {
    client: &'c Client,
    target: &'c str,
    /// The target is the site's alias, which must stay one: a write never
    /// creates an index of its own (`require_alias`).
    alias: bool,
    version: i64,
    default_lang: &'static str,
    lines: String,
    actions: usize,
}

impl<'c> Bulk<'c> {
    /// Writes into `target` (the site's alias when `alias`, else a
    /// concrete index being filled) as `version`.
    pub(crate) fn new(
        client: &'c Client,
        (target, alias): (&'c str, bool),
        version: i64,
        default_lang: &'static str,
    ) -> Self {
        Self {
            client,
            target,
            alias,
            version,
            default_lang,
            lines: String::new(),
            actions: 0,
        }
    }

    fn push(&mut self, action: Value, source: Option<Value>) -> Result<(), IndexerError> {
        self.lines.push_str(&action.to_string());
        self.lines.push('\n');
        if let Some(source) = source {
            self.lines.push_str(&source.to_string());
            self.lines.push('\n');
        }
        self.actions += 1;
        if self.actions >= BATCH || self.lines.len() >= MAX_BYTES {
            self.send(false)?;
        }
        Ok(())
    }

    /// Sends what is left; with `visible`, returns once it is searchable.
    pub(crate) fn finish(mut self, visible: bool) -> Result<(), IndexerError> {
        self.send(visible)?;
        Ok(())
    }

    fn send(&mut self, visible: bool) -> Result<(), ElasticError> {
        if self.actions == 0 {
            return Ok(());
        }
        let refresh = if visible { "wait_for" } else { "false" };
        let path = format!("/{}/_bulk?refresh={refresh}&require_alias={}", self.target, self.alias);
        let answer = self
            .client
            .expect("POST", &path, Some(Body::Ndjson(&self.lines)), &[])?;
        self.lines.clear();
        self.actions = 0;
        if answer.body["errors"] != json!(true) {
            return Ok(());
        }
        for item in answer.body["items"].as_array().into_iter().flatten() {
            let Some((op, result)) = item.as_object().and_then(|o| o.iter().next()) else {
                continue;
            };
            let status = result["status"].as_u64().unwrap_or(0) as u16;
            // A newer version is there already, or a deleted object was
            // never indexed (not a missing index: that is an error).
            let gone =
                op == "delete" && status == 404 && result["result"] == "not_found" && result.get("error").is_none();
            let fine = status < 300 || status == 409 || gone;
            if !fine {
                return Err(ElasticError::Refused {
                    what: format!("a bulk {op} of {}", result["_id"].as_str().unwrap_or("?")),
                    status,
                    kind: result["error"]["type"].as_str().unwrap_or("unknown").to_string(),
                    reason: result["error"]["reason"].as_str().unwrap_or_default().to_string(),
                });
            }
        }
        Ok(())
    }
}

impl Sink for Bulk<'_> {
    fn upsert(&mut self, uid: &str, language: &str, text: &SearchableText) -> Result<(), IndexerError> {
        let lang = cairn_search::engine::language_slot(language).map_or(self.default_lang, |i| LANGUAGES[i]);
        let (title, rest) = text.title_and_rest();
        let mut source = serde_json::Map::new();
        source.insert("uid".into(), json!(uid));
        source.insert("lang".into(), json!(lang));
        source.insert("words".into(), json!(format!("{title}\n{rest}")));
        source.insert(title_field(lang), json!(title));
        source.insert(text_field(lang), json!(rest));
        self.push(
            json!({"index": {"_id": uid, "version": self.version, "version_type": "external_gte"}}),
            Some(Value::Object(source)),
        )
    }

    fn delete(&mut self, uid: &str) -> Result<(), IndexerError> {
        self.push(
            json!({"delete": {"_id": uid, "version": self.version, "version_type": "external_gte"}}),
            None,
        )
    }
}
