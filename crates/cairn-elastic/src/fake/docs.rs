//! The fake cluster's indices: mappings, documents with the documented
//! versioning (internal versions with `if_seq_no`/`if_primary_term`,
//! `op_type=create`, external versions), and near-real-time visibility:
//! a search sees what the last refresh saw, a GET sees every write.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::{Value, json};

use super::Refusal;
use super::analysis::{Analyzer, Token, analyzers};

/// How a field is indexed.
#[derive(Clone)]
pub enum FieldKind {
    Text(String),
    Keyword,
    Long,
}

/// A stored document and what its fields analyzed to.
pub struct Doc {
    pub source: Value,
    pub version: i64,
    pub seq_no: i64,
    /// Text fields: their tokens; keyword fields: the value as one token.
    pub fields: HashMap<String, Vec<Token>>,
}

pub struct Index {
    pub name: String,
    /// Unknown fields are refused (`dynamic: strict`), else mapped on sight.
    pub strict: bool,
    pub fields: HashMap<String, FieldKind>,
    pub analyzers: HashMap<String, Analyzer>,
    pub live: BTreeMap<String, Arc<Doc>>,
    /// What searches see: the documents as of the last refresh.
    pub searchable: BTreeMap<String, Arc<Doc>>,
    /// Versions of deleted documents (the cluster forgets them after
    /// `index.gc_deletes`, 60 s; the fake keeps them).
    pub tombstones: HashMap<String, i64>,
    pub next_seq_no: i64,
}

/// How a write is versioned.
pub struct Versioning {
    pub create_only: bool,
    pub if_seq_no: Option<(i64, i64)>,
    pub external: Option<(i64, bool)>,
}

impl Versioning {
    /// Reads `op_type`, `if_seq_no`, `if_primary_term`, `version` and
    /// `version_type` from request parameters or a bulk action.
    pub fn read(get: impl Fn(&str) -> Option<String>, create_only: bool) -> Result<Self, Refusal> {
        let bad = |reason: &str| Refusal::new(400, "illegal_argument_exception", reason.to_string());
        let number = |key: &str| -> Result<Option<i64>, Refusal> {
            get(key)
                .map(|v| {
                    v.parse::<i64>()
                        .map_err(|_| bad(&format!("[{key}] must be a number, got [{v}]")))
                })
                .transpose()
        };
        let if_seq_no = match (number("if_seq_no")?, number("if_primary_term")?) {
            (Some(s), Some(t)) => Some((s, t)),
            (None, None) => None,
            _ => return Err(bad("if_seq_no and if_primary_term must be given together")),
        };
        let version = number("version")?;
        let external = match (version, get("version_type").as_deref()) {
            (None, None) => None,
            (Some(v), Some("external")) => Some((v, false)),
            (Some(v), Some("external_gte")) => Some((v, true)),
            (Some(_), None | Some("internal")) => {
                return Err(Refusal::new(
                    400,
                    "action_request_validation_exception",
                    "Validation Failed: 1: internal versioning can not be used for optimistic concurrency control. Please use `if_seq_no` and `if_primary_term` instead;".into(),
                ));
            }
            (None, Some(_)) => return Err(bad("[version_type] needs a [version]")),
            (Some(_), Some(t)) => return Err(bad(&format!("No version type match [{t}]"))),
        };
        if external.is_some() && (if_seq_no.is_some() || create_only) {
            return Err(bad(
                "external versioning can not be combined with if_seq_no or op_type create",
            ));
        }
        Ok(Self {
            create_only,
            if_seq_no,
            external,
        })
    }
}

fn conflict(index: &str, id: &str, reason: String) -> Refusal {
    let mut r = Refusal::new(
        409,
        "version_conflict_engine_exception",
        format!("[{id}]: version conflict, {reason}"),
    );
    r.index = Some(index.to_string());
    r
}

/// Index settings the fake knows; any other is refused as the cluster
/// refuses a setting no module registers.
fn settings(given: &Value) -> Result<(), Refusal> {
    let mut flat = Vec::new();
    for (key, value) in given.as_object().into_iter().flatten() {
        match (key.as_str(), value) {
            ("index", Value::Object(inner)) => flat.extend(inner.iter().map(|(k, v)| (k.clone(), v.clone()))),
            _ => flat.push((key.strip_prefix("index.").unwrap_or(key).to_string(), value.clone())),
        }
    }
    for (key, value) in flat {
        match key.as_str() {
            "analysis" | "number_of_shards" | "number_of_replicas" => {}
            "gc_deletes" | "refresh_interval" => {
                let text = value.as_str().unwrap_or_default();
                let unit = text.trim_start_matches(|c: char| c.is_ascii_digit());
                let digits = &text[..text.len() - unit.len()];
                if text != "-1" && (digits.is_empty() || !matches!(unit, "ms" | "s" | "m" | "h" | "d")) {
                    return Err(Refusal::new(
                        400,
                        "illegal_argument_exception",
                        format!(
                            "failed to parse setting [index.{key}] with value [{text}] as a time value: unit is missing or unrecognized"
                        ),
                    ));
                }
            }
            other => {
                return Err(Refusal::new(
                    400,
                    "illegal_argument_exception",
                    format!(
                        "unknown setting [index.{other}] please check that any required plugins are installed, or check the breaking changes documentation for removed settings"
                    ),
                ));
            }
        }
    }
    Ok(())
}

impl Index {
    /// An index as `PUT /{name}` defines it.
    pub fn create(name: &str, body: &Value) -> Result<Self, Refusal> {
        let bad = |reason: String| Refusal::new(400, "mapper_parsing_exception", reason);
        for key in body.as_object().into_iter().flatten().map(|(k, _)| k) {
            if !matches!(key.as_str(), "settings" | "mappings" | "aliases") {
                return Err(Refusal::new(
                    400,
                    "parse_exception",
                    format!("unknown key [{key}] for create index"),
                ));
            }
        }
        settings(&body["settings"])?;
        let analyzers = analyzers(&body["settings"]["analysis"])?;
        let mappings = &body["mappings"];
        let strict = mappings["dynamic"] == json!("strict") || mappings["dynamic"] == json!(false);
        let mut fields = HashMap::new();
        for (field, def) in mappings["properties"].as_object().into_iter().flatten() {
            let kind = match def["type"].as_str() {
                Some("text") => {
                    let analyzer = def["analyzer"].as_str().unwrap_or("standard");
                    if !analyzers.contains_key(analyzer) {
                        return Err(bad(format!(
                            "analyzer [{analyzer}] has not been configured in mappings"
                        )));
                    }
                    FieldKind::Text(analyzer.to_string())
                }
                Some("keyword") => FieldKind::Keyword,
                Some("long") => FieldKind::Long,
                other => {
                    return Err(bad(format!(
                        "No handler for type [{}] declared on field [{field}]",
                        other.unwrap_or("")
                    )));
                }
            };
            fields.insert(field.clone(), kind);
        }
        Ok(Self::new(name, strict, fields, analyzers))
    }

    /// An index the cluster makes on its own for a write to a missing name.
    pub fn dynamic(name: &str) -> Self {
        Self::new(
            name,
            false,
            HashMap::new(),
            HashMap::from([("standard".into(), Analyzer::standard())]),
        )
    }

    fn new(name: &str, strict: bool, fields: HashMap<String, FieldKind>, analyzers: HashMap<String, Analyzer>) -> Self {
        Self {
            name: name.to_string(),
            strict,
            fields,
            analyzers,
            live: BTreeMap::new(),
            searchable: BTreeMap::new(),
            tombstones: HashMap::new(),
            next_seq_no: 0,
        }
    }

    /// The version an externally versioned write of `id` gets: `given`,
    /// unless the document (or its deletion) holds a newer one (`gte`: or
    /// the same), which is a conflict.
    fn external(&self, id: &str, current: Option<&Doc>, given: i64, gte: bool) -> Result<i64, Refusal> {
        let known = current.map(|d| d.version).or(self.tombstones.get(id).copied());
        match known {
            Some(known) if (if gte { given < known } else { given <= known }) => Err(conflict(
                &self.name,
                id,
                format!("current version [{known}] is higher than the one provided [{given}]"),
            )),
            _ => Ok(given),
        }
    }

    pub fn refresh(&mut self) {
        self.searchable = self.live.clone();
    }

    /// The fields of `source` analyzed, or the mapping's refusal.
    fn analyze(&mut self, source: &Value) -> Result<HashMap<String, Vec<Token>>, Refusal> {
        let Some(object) = source.as_object() else {
            return Err(Refusal::new(
                400,
                "document_parsing_exception",
                "the source is not an object".into(),
            ));
        };
        let mut out = HashMap::new();
        for (field, value) in object {
            let kind = match self.fields.get(field) {
                Some(kind) => kind.clone(),
                None if self.strict => {
                    return Err(Refusal::new(
                        400,
                        "strict_dynamic_mapping_exception",
                        format!(
                            "[1:2] mapping set to strict, dynamic introduction of [{field}] within [_doc] is not allowed"
                        ),
                    ));
                }
                None => {
                    let kind = match value {
                        Value::Number(_) => FieldKind::Long,
                        _ => FieldKind::Text("standard".into()),
                    };
                    self.fields.insert(field.clone(), kind.clone());
                    kind
                }
            };
            let parse = |what: &str| {
                Refusal::new(
                    400,
                    "document_parsing_exception",
                    format!("failed to parse field [{field}] of type [{what}]"),
                )
            };
            let tokens = match (kind, value) {
                (_, Value::Null) => Vec::new(),
                (FieldKind::Text(analyzer), Value::String(text)) => self.analyzers[&analyzer].analyze(text),
                (FieldKind::Text(_), _) => return Err(parse("text")),
                (FieldKind::Keyword, Value::String(s)) => vec![(0, s.clone())],
                (FieldKind::Keyword, _) => return Err(parse("keyword")),
                (FieldKind::Long, Value::Number(n)) if n.is_i64() => vec![(0, n.to_string())],
                (FieldKind::Long, _) => return Err(parse("long")),
            };
            out.insert(field.clone(), tokens);
        }
        Ok(out)
    }

    /// Indexes `source` under `id`: the cluster's answer body and status.
    pub fn put(&mut self, id: &str, source: Value, v: &Versioning) -> Result<(u16, Value), Refusal> {
        if id.is_empty() || id.len() > 512 {
            return Err(Refusal::new(
                400,
                "illegal_argument_exception",
                "an id must be 1 to 512 bytes".into(),
            ));
        }
        let current = self.live.get(id).cloned();
        let version = match (&current, v) {
            (Some(doc), Versioning { create_only: true, .. }) => {
                return Err(conflict(
                    &self.name,
                    id,
                    format!("document already exists (current version [{}])", doc.version),
                ));
            }
            (
                _,
                Versioning {
                    external: Some((given, gte)),
                    ..
                },
            ) => self.external(id, current.as_deref(), *given, *gte)?,
            (
                doc,
                Versioning {
                    if_seq_no: Some((seq_no, term)),
                    ..
                },
            ) => match doc {
                Some(doc) if doc.seq_no == *seq_no && *term == 1 => doc.version + 1,
                Some(doc) => {
                    return Err(conflict(
                        &self.name,
                        id,
                        format!(
                            "required seqNo [{seq_no}], primary term [{term}]. current document has seqNo [{}] and primary term [1]",
                            doc.seq_no
                        ),
                    ));
                }
                None => {
                    return Err(conflict(
                        &self.name,
                        id,
                        format!("required seqNo [{seq_no}], primary term [{term}] but no document was found"),
                    ));
                }
            },
            (doc, _) => doc.as_ref().map_or(1, |d| d.version + 1),
        };
        let fields = self.analyze(&source)?;
        let seq_no = self.next_seq_no;
        self.next_seq_no += 1;
        self.tombstones.remove(id);
        let created = current.is_none();
        self.live.insert(
            id.to_string(),
            Arc::new(Doc {
                source,
                version,
                seq_no,
                fields,
            }),
        );
        let status = if created { 201 } else { 200 };
        Ok((
            status,
            self.written(id, version, seq_no, if created { "created" } else { "updated" }),
        ))
    }

    /// Deletes `id`: the answer body and status (404 when it was not there).
    pub fn delete(&mut self, id: &str, v: &Versioning) -> Result<(u16, Value), Refusal> {
        let current = self.live.get(id).cloned();
        let version = match (&current, v) {
            (
                _,
                Versioning {
                    external: Some((given, gte)),
                    ..
                },
            ) => self.external(id, current.as_deref(), *given, *gte)?,
            (
                Some(doc),
                Versioning {
                    if_seq_no: Some((seq_no, term)),
                    ..
                },
            ) => {
                if doc.seq_no != *seq_no || *term != 1 {
                    return Err(conflict(
                        &self.name,
                        id,
                        format!(
                            "required seqNo [{seq_no}], primary term [{term}]. current document has seqNo [{}] and primary term [1]",
                            doc.seq_no
                        ),
                    ));
                }
                doc.version + 1
            }
            (None, Versioning { if_seq_no: Some(_), .. }) => {
                return Err(conflict(&self.name, id, "the document was not found".into()));
            }
            (doc, _) => doc.as_ref().map_or(1, |d| d.version + 1),
        };
        let seq_no = self.next_seq_no;
        self.next_seq_no += 1;
        self.tombstones.insert(id.to_string(), version);
        let found = self.live.remove(id).is_some();
        let status = if found { 200 } else { 404 };
        Ok((
            status,
            self.written(id, version, seq_no, if found { "deleted" } else { "not_found" }),
        ))
    }

    fn written(&self, id: &str, version: i64, seq_no: i64, result: &str) -> Value {
        json!({
            "_index": self.name,
            "_id": id,
            "_version": version,
            "result": result,
            "_shards": {"total": 1, "successful": 1, "failed": 0},
            "_seq_no": seq_no,
            "_primary_term": 1,
        })
    }

    /// `GET /{index}/_doc/{id}`: real time, whatever was refreshed.
    pub fn get(&self, id: &str) -> (u16, Value) {
        match self.live.get(id) {
            Some(doc) => (
                200,
                json!({
                    "_index": self.name, "_id": id, "_version": doc.version,
                    "_seq_no": doc.seq_no, "_primary_term": 1, "found": true, "_source": doc.source,
                }),
            ),
            None => (404, json!({"_index": self.name, "_id": id, "found": false})),
        }
    }
}
