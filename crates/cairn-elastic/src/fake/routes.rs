//! The fake cluster's HTTP surface: one handler that checks credentials,
//! content types and parameters, then dispatches on method and path as
//! the cluster's REST API lays them out.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State as Shared;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::docs::{Index, Versioning};
use super::{Refusal, State, dsl};

type Answer = Result<(u16, Value), Refusal>;

pub(crate) fn router(state: Arc<Mutex<State>>) -> axum::Router {
    axum::Router::new().fallback(handle).with_state(state)
}

fn reply(status: u16, body: Value) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (code, axum::Json(body)).into_response()
}

async fn handle(
    Shared(state): Shared<Arc<Mutex<State>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut state = state.lock().expect("the fake's state");
    state.log.push(format!("{method} {uri}"));
    if let Some(key) = &state.api_key {
        let given = headers.get("authorization").and_then(|v| v.to_str().ok());
        if given != Some(format!("ApiKey {key}").as_str()) {
            let r = Refusal::new(
                401,
                "security_exception",
                format!("missing authentication credentials for REST request [{}]", uri.path()),
            );
            return reply(401, r.body());
        }
    }
    let request = format!("{method} {}", uri.path());
    let fail = match &mut state.failing {
        Some((text, n, status)) if *n > 0 && request.contains(text.as_str()) => {
            *n -= 1;
            Some(*status)
        }
        _ => None,
    };
    if let Some(status) = fail {
        let (kind, reason) = if status == 429 {
            (
                "es_rejected_execution_exception",
                "rejected execution: the write queue is full",
            )
        } else {
            (
                "cluster_block_exception",
                "blocked by: [SERVICE_UNAVAILABLE/1/state not recovered]",
            )
        };
        return reply(status, Refusal::new(status, kind, reason.into()).body());
    }
    if !body.is_empty() {
        let kind = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !kind.starts_with("application/json") && !kind.starts_with("application/x-ndjson") {
            return reply(
                406,
                json!({"error": format!("Content-Type header [{kind}] is not supported"), "status": 406}),
            );
        }
    }
    let params: HashMap<String, String> = uri
        .query()
        .map(|q| {
            q.split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (decode(k), decode(v))
                })
                .collect()
        })
        .unwrap_or_default();
    let segments: Vec<String> = uri.path().split('/').filter(|s| !s.is_empty()).map(decode).collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    match dispatch(&mut state, &method, &segments, &params, &body) {
        Ok((status, body)) => reply(status, body),
        Err(r) if r.kind == "alias_missing" => reply(404, json!({"error": r.reason, "status": 404})),
        Err(r) => reply(r.status, r.body()),
    }
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

fn allow(path: &[&str], params: &HashMap<String, String>, allowed: &[&str]) -> Result<(), Refusal> {
    match params.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(Refusal::new(
            400,
            "illegal_argument_exception",
            format!("request [/{}] contains unrecognized parameter: [{k}]", path.join("/")),
        )),
        None => Ok(()),
    }
}

fn json_body(body: &[u8]) -> Result<Value, Refusal> {
    if body.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(body).map_err(|e| Refusal::new(400, "x_content_parse_exception", format!("[1:1] {e}")))
}

/// Whether `refresh` asks the write to be searchable before the answer.
fn refresh_wanted(params: &HashMap<String, String>) -> Result<bool, Refusal> {
    match params.get("refresh").map(String::as_str) {
        None | Some("false") => Ok(false),
        Some("" | "true" | "wait_for") => Ok(true),
        Some(other) => Err(Refusal::new(
            400,
            "illegal_argument_exception",
            format!("Unknown value for refresh: [{other}]."),
        )),
    }
}

fn dispatch(
    state: &mut State,
    method: &Method,
    path: &[&str],
    params: &HashMap<String, String>,
    body: &[u8],
) -> Answer {
    let m = method.as_str();
    let reads_body = matches!(
        (m, path),
        (
            "POST" | "PUT",
            ["_bulk"] | [_, "_bulk"] | ["_aliases"] | [_] | [_, "_doc", _]
        ) | ("POST" | "GET", [_, "_search"])
    );
    if !body.is_empty() && !reads_body {
        return Err(Refusal::new(
            400,
            "illegal_argument_exception",
            format!("request [{m} /{}] does not support having a body", path.join("/")),
        ));
    }
    match (m, path) {
        ("GET", []) => Ok((
            200,
            json!({
                "name": "fake-node", "cluster_name": "cairn-fake",
                "version": {"number": "8.15.0", "build_flavor": "default", "lucene_version": "9.11.1"},
                "tagline": "You Know, for Search",
            }),
        )),
        ("POST" | "PUT", ["_bulk"]) => {
            allow(path, params, &["refresh", "require_alias"])?;
            bulk(state, None, params, body)
        }
        ("POST" | "PUT", [index, "_bulk"]) => {
            allow(path, params, &["refresh", "require_alias"])?;
            bulk(state, Some(index), params, body)
        }
        ("POST", ["_aliases"]) => {
            allow(path, params, &[])?;
            aliases(state, &json_body(body)?)
        }
        ("GET", ["_alias", name]) => {
            allow(path, params, &[])?;
            let found: serde_json::Map<String, Value> = state
                .aliases
                .get(*name)
                .into_iter()
                .flatten()
                .map(|index| (index.clone(), json!({"aliases": {*name: {}}})))
                .collect();
            if found.is_empty() {
                return Err(Refusal::new(404, "alias_missing", format!("alias [{name}] missing")));
            }
            Ok((200, Value::Object(found)))
        }
        ("PUT", [index]) => {
            allow(path, params, &[])?;
            create(state, index, &json_body(body)?)
        }
        ("GET", [name]) => {
            allow(path, params, &[])?;
            let concrete = read_target(state, name)?;
            let index = &state.indices[&concrete];
            let aliases: serde_json::Map<String, Value> = state
                .aliases
                .iter()
                .filter(|(_, members)| members.contains(&concrete))
                .map(|(alias, _)| (alias.clone(), json!({})))
                .collect();
            let fields: serde_json::Map<String, Value> = index
                .fields
                .iter()
                .map(|(f, kind)| {
                    let def = match kind {
                        super::docs::FieldKind::Text(a) => json!({"type": "text", "analyzer": a}),
                        super::docs::FieldKind::Keyword => json!({"type": "keyword"}),
                        super::docs::FieldKind::Long => json!({"type": "long"}),
                    };
                    (f.clone(), def)
                })
                .collect();
            Ok((
                200,
                json!({ concrete.clone(): {
                    "aliases": aliases,
                    "mappings": {"properties": fields},
                    "settings": {"index": {"provided_name": concrete, "number_of_shards": "1"}},
                }}),
            ))
        }
        ("DELETE", [index]) => {
            allow(path, params, &[])?;
            if state.aliases.contains_key(*index) {
                return Err(Refusal::new(
                    400,
                    "illegal_argument_exception",
                    format!(
                        "The provided expression [{index}] matches an alias, specify the corresponding concrete indices instead."
                    ),
                ));
            }
            if state.indices.remove(*index).is_none() {
                return Err(missing(index));
            }
            for members in state.aliases.values_mut() {
                members.retain(|i| i != index);
            }
            state.aliases.retain(|_, members| !members.is_empty());
            Ok((200, json!({"acknowledged": true})))
        }
        ("POST" | "GET", [index, "_refresh"]) => {
            allow(path, params, &[])?;
            let name = read_target(state, index)?;
            state.indices.get_mut(&name).expect("resolved").refresh();
            Ok((200, json!({"_shards": {"total": 1, "successful": 1, "failed": 0}})))
        }
        ("POST" | "GET", [index, "_search"]) => {
            allow(path, params, &[])?;
            let name = read_target(state, index)?;
            Ok((200, dsl::search(&state.indices[&name], &json_body(body)?)?))
        }
        ("GET", [index, "_doc", id]) => {
            allow(path, params, &[])?;
            let name = read_target(state, index)?;
            Ok(state.indices[&name].get(id))
        }
        ("PUT" | "POST", [index, "_doc", id]) => {
            allow(
                path,
                params,
                &[
                    "op_type",
                    "if_seq_no",
                    "if_primary_term",
                    "version",
                    "version_type",
                    "refresh",
                    "require_alias",
                ],
            )?;
            let create_only = match params.get("op_type").map(String::as_str) {
                None | Some("index") => false,
                Some("create") => true,
                Some(other) => {
                    return Err(Refusal::new(
                        400,
                        "illegal_argument_exception",
                        format!("opType must be 'create' or 'index', found: [{other}]"),
                    ));
                }
            };
            let versioning = Versioning::read(|k| params.get(k).cloned(), create_only)?;
            let refresh = refresh_wanted(params)?;
            let name = write_target(state, index, params.get("require_alias").is_some_and(|v| v != "false"))?;
            let source = json_body(body)?;
            let index = state.indices.get_mut(&name).expect("resolved");
            let answer = index.put(id, source, &versioning)?;
            if refresh {
                index.refresh();
            }
            Ok(answer)
        }
        ("DELETE", [index, "_doc", id]) => {
            allow(
                path,
                params,
                &["if_seq_no", "if_primary_term", "version", "version_type", "refresh"],
            )?;
            let versioning = Versioning::read(|k| params.get(k).cloned(), false)?;
            let refresh = refresh_wanted(params)?;
            let name = read_target(state, index)?;
            let index = state.indices.get_mut(&name).expect("resolved");
            let answer = index.delete(id, &versioning)?;
            if refresh {
                index.refresh();
            }
            Ok(answer)
        }
        _ => Err(Refusal::new(
            400,
            "illegal_argument_exception",
            format!("no handler found for uri [/{}] and method [{m}]", path.join("/")),
        )),
    }
}

fn missing(index: &str) -> Refusal {
    let mut r = Refusal::new(404, "index_not_found_exception", format!("no such index [{index}]"));
    r.index = Some(index.to_string());
    r
}

/// The one index `name` means for reading: itself, or its alias's index.
fn read_target(state: &State, name: &str) -> Result<String, Refusal> {
    if let Some(members) = state.aliases.get(name) {
        return match members.as_slice() {
            [one] => Ok(one.clone()),
            _ => Err(Refusal::new(
                400,
                "illegal_argument_exception",
                format!("alias [{name}] has more than one index associated with it, can't execute a single index op"),
            )),
        };
    }
    if state.indices.contains_key(name) {
        Ok(name.to_string())
    } else {
        Err(missing(name))
    }
}

/// The index a write to `name` goes to; a missing one is made on the spot
/// (dynamic mapping) unless the write requires an alias.
fn write_target(state: &mut State, name: &str, require_alias: bool) -> Result<String, Refusal> {
    if require_alias && !state.aliases.contains_key(name) {
        let mut r = Refusal::new(
            404,
            "index_not_found_exception",
            format!("no such index [{name}] and [require_alias] request flag is [true] and [{name}] is not an alias"),
        );
        r.index = Some(name.to_string());
        return Err(r);
    }
    if state.aliases.contains_key(name) || state.indices.contains_key(name) {
        return read_target(state, name);
    }
    valid_name(name)?;
    state.indices.insert(name.to_string(), Index::dynamic(name));
    Ok(name.to_string())
}

fn valid_name(name: &str) -> Result<(), Refusal> {
    let bad = |why: &str| {
        Err(Refusal::new(
            400,
            "invalid_index_name_exception",
            format!("Invalid index name [{name}], {why}"),
        ))
    };
    if name != name.to_lowercase() {
        return bad("must be lowercase");
    }
    if name.starts_with(['_', '-', '+']) {
        return bad("must not start with '_', '-', or '+'");
    }
    if name.contains(['\\', '/', '*', '?', '"', '<', '>', '|', ' ', ',', '#', ':']) {
        return bad("must not contain the following characters [ , \", *, \\, <, |, ,, >, /, ?, #, :]");
    }
    if name.len() > 255 || name == "." || name == ".." {
        return bad("index name is too long or reserved");
    }
    Ok(())
}

fn create(state: &mut State, name: &str, body: &Value) -> Answer {
    valid_name(name)?;
    if state.aliases.contains_key(name) {
        return Err(Refusal::new(
            400,
            "invalid_index_name_exception",
            format!("Invalid index name [{name}], already exists as alias"),
        ));
    }
    if state.indices.contains_key(name) {
        let mut r = Refusal::new(
            400,
            "resource_already_exists_exception",
            format!("index [{name}] already exists"),
        );
        r.index = Some(name.to_string());
        return Err(r);
    }
    let index = Index::create(name, body)?;
    state.indices.insert(name.to_string(), index);
    Ok((
        200,
        json!({"acknowledged": true, "shards_acknowledged": true, "index": name}),
    ))
}

fn aliases(state: &mut State, body: &Value) -> Answer {
    let Some(actions) = body["actions"].as_array() else {
        return Err(Refusal::new(
            400,
            "action_request_validation_exception",
            "Validation Failed: 1: no alias actions;".into(),
        ));
    };
    let mut next = state.aliases.clone();
    // Indices a `remove_index` action drops, with the other actions.
    let mut doomed: Vec<String> = Vec::new();
    for action in actions {
        let Some((kind, spec)) = action.as_object().and_then(|o| o.iter().next()) else {
            return Err(Refusal::new(400, "parsing_exception", "malformed alias action".into()));
        };
        let (index, alias) = (
            spec["index"].as_str().unwrap_or_default(),
            spec["alias"].as_str().unwrap_or_default(),
        );
        if !state.indices.contains_key(index) || doomed.iter().any(|d| d == index) {
            return Err(missing(index));
        }
        match kind.as_str() {
            "remove_index" => doomed.push(index.to_string()),
            "add" => {
                valid_name(alias).map_err(|r| Refusal::new(400, "invalid_alias_name_exception", r.reason))?;
                if state.indices.contains_key(alias) && !doomed.iter().any(|d| d == alias) {
                    return Err(Refusal::new(
                        400,
                        "invalid_alias_name_exception",
                        format!(
                            "Invalid alias name [{alias}]: an index or data stream exists with the same name as the alias"
                        ),
                    ));
                }
                let members = next.entry(alias.to_string()).or_default();
                if !members.iter().any(|i| i == index) {
                    members.push(index.to_string());
                }
            }
            "remove" => {
                let members = next.entry(alias.to_string()).or_default();
                if !members.iter().any(|i| i == index) {
                    return Err(Refusal::new(
                        404,
                        "aliases_not_found_exception",
                        format!("aliases [{alias}] missing"),
                    ));
                }
                members.retain(|i| i != index);
            }
            other => {
                return Err(Refusal::new(
                    400,
                    "parsing_exception",
                    format!("Unknown action [{other}]"),
                ));
            }
        }
    }
    for index in &doomed {
        state.indices.remove(index);
        for members in next.values_mut() {
            members.retain(|i| i != index);
        }
    }
    next.retain(|_, members| !members.is_empty());
    state.aliases = next;
    Ok((200, json!({"acknowledged": true})))
}

fn bulk(state: &mut State, default: Option<&str>, params: &HashMap<String, String>, body: &[u8]) -> Answer {
    let text = std::str::from_utf8(body)
        .map_err(|_| Refusal::new(400, "illegal_argument_exception", "the bulk body is not UTF-8".into()))?;
    if !text.ends_with('\n') {
        return Err(Refusal::new(
            400,
            "illegal_argument_exception",
            "The bulk request must be terminated by a newline [\\n]".into(),
        ));
    }
    let refresh = refresh_wanted(params)?;
    let require_alias = params.get("require_alias").is_some_and(|v| v != "false");
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let mut items = Vec::new();
    let mut errors = false;
    let mut touched = Vec::new();
    while let Some((n, line)) = lines.next() {
        let action: Value = serde_json::from_str(line)
            .map_err(|e| Refusal::new(400, "x_content_parse_exception", format!("[{}:1] {e}", n + 1)))?;
        let Some((op, meta)) = action
            .as_object()
            .filter(|o| o.len() == 1)
            .and_then(|o| o.iter().next())
        else {
            return Err(Refusal::new(
                400,
                "illegal_argument_exception",
                format!("Malformed action/metadata line [{}]", n + 1),
            ));
        };
        if let Some(k) = meta.as_object().into_iter().flatten().map(|(k, _)| k).find(|k| {
            !matches!(
                k.as_str(),
                "_index" | "_id" | "version" | "version_type" | "if_seq_no" | "if_primary_term" | "require_alias"
            )
        }) {
            return Err(Refusal::new(
                400,
                "illegal_argument_exception",
                format!("Action/metadata line [{}] contains an unknown parameter [{k}]", n + 1),
            ));
        }
        let source = match op.as_str() {
            "index" | "create" => {
                let Some((_, source)) = lines.next() else {
                    return Err(Refusal::new(
                        400,
                        "illegal_argument_exception",
                        format!("Validation Failed: 1: no source for the {op} on line [{}];", n + 1),
                    ));
                };
                Some(
                    serde_json::from_str::<Value>(source)
                        .map_err(|e| Refusal::new(400, "x_content_parse_exception", e.to_string()))?,
                )
            }
            "delete" => None,
            other => {
                return Err(Refusal::new(
                    400,
                    "illegal_argument_exception",
                    format!("the fake does not run bulk [{other}] actions"),
                ));
            }
        };
        let target = meta["_index"].as_str().or(default).unwrap_or_default().to_string();
        let id = meta["_id"].as_str().map(str::to_string);
        let get = |k: &str| match &meta[k] {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        };
        let result = (|| {
            let versioning = Versioning::read(get, op == "create")?;
            let name = if source.is_some() {
                write_target(state, &target, require_alias || meta["require_alias"] == json!(true))?
            } else if versioning.external.is_some() {
                // A delete ignores `require_alias`; with an external
                // version, a missing index is created for its tombstone.
                write_target(state, &target, false)?
            } else {
                read_target(state, &target)?
            };
            let index = state.indices.get_mut(&name).expect("resolved");
            touched.push(name.clone());
            match source {
                Some(source) => {
                    let id = id.clone().unwrap_or_else(|| format!("auto-{}", index.next_seq_no));
                    index.put(&id, source, &versioning)
                }
                None => {
                    let Some(id) = &id else {
                        return Err(Refusal::new(
                            400,
                            "action_request_validation_exception",
                            "Validation Failed: 1: id is missing;".into(),
                        ));
                    };
                    index.delete(id, &versioning)
                }
            }
        })();
        let item = match result {
            Ok((status, mut written)) => {
                written["status"] = json!(status);
                written
            }
            Err(r) => {
                errors = true;
                json!({"_index": target, "_id": id, "status": r.status, "error": r.body()["error"].clone()})
            }
        };
        items.push(json!({ op.as_str(): item }));
    }
    if refresh {
        for name in touched {
            if let Some(index) = state.indices.get_mut(&name) {
                index.refresh();
            }
        }
    }
    Ok((200, json!({"took": 1, "errors": errors, "items": items})))
}
