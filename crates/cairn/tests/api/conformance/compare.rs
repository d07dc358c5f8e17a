//! Structural comparison of golden and actual JSON.

use serde_json::Value;

/// One difference between the golden and the actual JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diff {
    /// Where, e.g. `$.parent.title` or `$.items[@id=http://…/doc1].title`.
    pub path: String,
    pub expected: String,
    pub actual: String,
}

impl std::fmt::Display for Diff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: expected {} got {}", self.path, self.expected, self.actual)
    }
}

pub(super) fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 160 {
        format!("{}…", s.chars().take(160).collect::<String>())
    } else {
        s
    }
}

pub(super) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Compares two JSON values: same keys recursively, same JSON types, same values.
/// Lists of objects that all carry a unique `@id` (or `id`) are matched by that
/// key, so one missing entry does not shift every later one.
pub fn diff_json(expected: &Value, actual: &Value) -> Vec<Diff> {
    let mut out = Vec::new();
    walk("$", expected, actual, &mut out);
    out
}

pub(super) fn push(out: &mut Vec<Diff>, path: &str, expected: String, actual: String) {
    out.push(Diff {
        path: path.to_string(),
        expected,
        actual,
    });
}

pub(super) fn walk(path: &str, e: &Value, a: &Value, out: &mut Vec<Diff>) {
    match (e, a) {
        (Value::Object(em), Value::Object(am)) => {
            for (k, ev) in em {
                let p = format!("{path}.{k}");
                match am.get(k) {
                    Some(av) => walk(&p, ev, av, out),
                    None => push(out, &p, short(ev), "<missing key>".into()),
                }
            }
            for (k, av) in am {
                if !em.contains_key(k) {
                    push(out, &format!("{path}.{k}"), "<no such key>".into(), short(av));
                }
            }
        }
        (Value::Array(ea), Value::Array(aa)) => walk_array(path, ea, aa, out),
        _ if kind(e) != kind(a) => push(out, path, short(e), format!("{} ({})", short(a), kind(a))),
        _ if e != a => push(out, path, short(e), short(a)),
        _ => {}
    }
}

/// The key list entries can be matched by, when every entry has a unique one.
pub(super) fn list_key(items: &[Value]) -> Option<&'static str> {
    ["@id", "id"].into_iter().find(|k| {
        let keys: Vec<&str> = items.iter().filter_map(|i| i.get(*k).and_then(Value::as_str)).collect();
        let mut uniq = keys.clone();
        uniq.sort_unstable();
        uniq.dedup();
        !items.is_empty() && keys.len() == items.len() && uniq.len() == keys.len()
    })
}

pub(super) fn walk_array(path: &str, ea: &[Value], aa: &[Value], out: &mut Vec<Diff>) {
    let key = list_key(ea).filter(|k| list_key(aa) == Some(k));
    let Some(key) = key else {
        if ea.len() != aa.len() {
            push(
                out,
                &format!("{path}.length"),
                ea.len().to_string(),
                aa.len().to_string(),
            );
        }
        for (i, (ev, av)) in ea.iter().zip(aa).enumerate() {
            walk(&format!("{path}[{i}]"), ev, av, out);
        }
        for (i, ev) in ea.iter().enumerate().skip(aa.len()) {
            push(out, &format!("{path}[{i}]"), short(ev), "<missing item>".into());
        }
        for (i, av) in aa.iter().enumerate().skip(ea.len()) {
            push(out, &format!("{path}[{i}]"), "<no such item>".into(), short(av));
        }
        return;
    };
    let id = |v: &Value| v[key].as_str().unwrap_or_default().to_string();
    let e_ids: Vec<String> = ea.iter().map(id).collect();
    let a_ids: Vec<String> = aa.iter().map(id).collect();
    for ev in ea {
        let p = format!("{path}[{key}={}]", id(ev));
        match aa.iter().find(|av| id(av) == id(ev)) {
            Some(av) => walk(&p, ev, av, out),
            None => push(out, &p, short(ev), "<missing item>".into()),
        }
    }
    for av in aa {
        if !e_ids.contains(&id(av)) {
            push(
                out,
                &format!("{path}[{key}={}]", id(av)),
                "<no such item>".into(),
                short(av),
            );
        }
    }
    let e_common: Vec<&String> = e_ids.iter().filter(|i| a_ids.contains(i)).collect();
    let a_common: Vec<&String> = a_ids.iter().filter(|i| e_ids.contains(i)).collect();
    if e_common != a_common {
        push(
            out,
            &format!("{path}.order"),
            format!("{e_common:?}"),
            format!("{a_common:?}"),
        );
    }
}
