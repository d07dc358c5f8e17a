//! Deltas between two versions of an object's fields, so that history
//! grows with the size of each change rather than with the size of the
//! page: an object's keys are patched one by one, a long text by the
//! characters that changed (a character diff, `similar` with a deadline), anything
//! else replaced whole.
//!
//! Encoded compactly in JSON: `{"s": v}` sets a value, `{"t": [ops]}`
//! edits a text (a positive number keeps that many bytes, a negative one
//! drops them, a string is inserted), `{"o": {key: patch}, "r": [keys]}`
//! patches an object's keys and removes others.

use std::collections::BTreeMap;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use similar::utils::TextDiffRemapper;
use similar::{ChangeTag, TextDiff};

/// Texts shorter than this are replaced whole (an edit script would not be smaller).
const SHORT_TEXT: usize = 64;
/// Longest a write spends finding the edits of one text: past it the diff
/// is approximated (bigger, still exact), so two long unrelated texts
/// cannot hold a write up.
const STORE_TIMEOUT: Duration = Duration::from_millis(20);
/// Longest a comparison for a reader spends on one text.
const COMPARE_TIMEOUT: Duration = Duration::from_millis(200);

/// How one value becomes the next.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Patch {
    /// The new value, whole.
    #[serde(rename = "s")]
    Set(Value),
    /// Edits of a text.
    #[serde(rename = "t")]
    Text(Vec<Value>),
    /// Changed keys of an object, and keys it no longer has.
    #[serde(untagged)]
    Object {
        #[serde(rename = "o", default, skip_serializing_if = "BTreeMap::is_empty")]
        changed: BTreeMap<String, Patch>,
        #[serde(rename = "r", default, skip_serializing_if = "Vec::is_empty")]
        removed: Vec<String>,
    },
}

/// A delta that does not fit the value it is applied to (a corrupt row).
#[derive(Debug, thiserror::Error)]
#[error("the stored delta does not fit the version before it")]
pub struct Mismatch;

/// The patch taking the fields `old` to `new`.
pub fn diff(old: &Map<String, Value>, new: &Map<String, Value>) -> Patch {
    let mut changed = BTreeMap::new();
    for (k, v) in new {
        match old.get(k) {
            Some(o) if o == v => {}
            Some(o) => {
                changed.insert(k.clone(), value_patch(o, v));
            }
            None => {
                changed.insert(k.clone(), Patch::Set(v.clone()));
            }
        }
    }
    let removed = old.keys().filter(|k| !new.contains_key(*k)).cloned().collect();
    Patch::Object { changed, removed }
}

fn value_patch(old: &Value, new: &Value) -> Patch {
    match (old, new) {
        (Value::Object(o), Value::Object(n)) => diff(o, n),
        (Value::String(o), Value::String(n)) if o.len() >= SHORT_TEXT && n.len() >= SHORT_TEXT => {
            Patch::Text(text_edits(o, n))
        }
        _ => Patch::Set(new.clone()),
    }
}

fn text_edits(old: &str, new: &str) -> Vec<Value> {
    let diff = TextDiff::configure().timeout(STORE_TIMEOUT).diff_chars(old, new);
    let mut ops: Vec<Value> = Vec::new();
    for (tag, s) in slices(&diff, old, new) {
        match tag {
            ChangeTag::Equal => ops.push(Value::from(s.len())),
            ChangeTag::Delete => ops.push(Value::from(-(s.len() as i64))),
            ChangeTag::Insert => ops.push(Value::from(s)),
        }
    }
    ops
}

/// The pieces of a text diff as slices of the two texts.
fn slices<'a>(diff: &TextDiff<'a, 'a, '_, str>, old: &'a str, new: &'a str) -> Vec<(ChangeTag, &'a str)> {
    let remap = TextDiffRemapper::from_text_diff(diff, old, new);
    diff.ops().iter().flat_map(|op| remap.iter_slices(op)).collect()
}

/// The fields `patch` (from [`diff`]) makes of `old`.
pub fn apply(old: &Map<String, Value>, patch: &Patch) -> Result<Map<String, Value>, Mismatch> {
    match apply_value(&Value::Object(old.clone()), patch)? {
        Value::Object(m) => Ok(m),
        _ => Err(Mismatch),
    }
}

fn apply_value(old: &Value, patch: &Patch) -> Result<Value, Mismatch> {
    match patch {
        Patch::Set(v) => Ok(v.clone()),
        Patch::Text(ops) => {
            let Value::String(s) = old else { return Err(Mismatch) };
            apply_text(s, ops).map(Value::String)
        }
        Patch::Object { changed, removed } => {
            let Value::Object(o) = old else { return Err(Mismatch) };
            let mut next = o.clone();
            for k in removed {
                next.remove(k);
            }
            for (k, p) in changed {
                let v = match (next.get(k), p) {
                    (_, Patch::Set(v)) => v.clone(),
                    (Some(cur), p) => apply_value(cur, p)?,
                    (None, _) => return Err(Mismatch),
                };
                next.insert(k.clone(), v);
            }
            Ok(Value::Object(next))
        }
    }
}

fn apply_text(old: &str, ops: &[Value]) -> Result<String, Mismatch> {
    let mut out = String::with_capacity(old.len());
    let mut at = 0usize;
    for op in ops {
        match op {
            Value::String(s) => out.push_str(s),
            Value::Number(n) => {
                let n = n.as_i64().ok_or(Mismatch)?;
                let len = usize::try_from(n.unsigned_abs()).map_err(|_| Mismatch)?;
                let end = at.checked_add(len).filter(|e| *e <= old.len()).ok_or(Mismatch)?;
                let piece = old.get(at..end).ok_or(Mismatch)?;
                if n > 0 {
                    out.push_str(piece);
                }
                at = end;
            }
            _ => return Err(Mismatch),
        }
    }
    if at == old.len() { Ok(out) } else { Err(Mismatch) }
}

/// One piece of a text comparison, for a UI to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "op", content = "text", rename_all = "lowercase")]
pub enum Change {
    Equal(String),
    Delete(String),
    Insert(String),
}

/// The words that changed between two texts (whole words, as a reader
/// compares them).
pub fn compare_text(old: &str, new: &str) -> Vec<Change> {
    let diff = TextDiff::configure().timeout(COMPARE_TIMEOUT).diff_words(old, new);
    slices(&diff, old, new)
        .into_iter()
        .map(|(tag, s)| match tag {
            ChangeTag::Equal => Change::Equal(s.into()),
            ChangeTag::Delete => Change::Delete(s.into()),
            ChangeTag::Insert => Change::Insert(s.into()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn fields(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn a_small_edit_of_a_long_text_is_stored_as_the_edit() {
        let page = "Öffnungszeiten der Verwaltung. ".repeat(150);
        let old = fields(json!({"title": "Amt", "text": {"data": page, "content-type": "text/html"}, "x": 1}));
        let mut new = old.clone();
        new["text"]["data"] = json!(page.replacen("Verwaltung", "Kanzlei", 1));
        new.remove("x");
        let p = diff(&old, &new);
        let stored = serde_json::to_string(&p).unwrap();
        assert!(stored.len() < 100, "{stored}");
        let back: Patch = serde_json::from_str(&stored).unwrap();
        assert_eq!(apply(&old, &back).unwrap(), new);
    }

    #[test]
    fn texts_are_compared_word_by_word() {
        let c = compare_text("<p>Am Montag zu.</p>", "<p>Am Mittwoch zu.</p>");
        assert_eq!(
            c,
            [
                Change::Equal("<p>Am ".into()),
                Change::Delete("Montag".into()),
                Change::Insert("Mittwoch".into()),
                Change::Equal(" zu.</p>".into()),
            ]
        );
    }

    #[test]
    fn a_delta_for_another_version_is_refused() {
        let old = fields(json!({"text": "a".repeat(100)}));
        let new = fields(json!({"text": format!("{}b", "a".repeat(100))}));
        let p = diff(&old, &new);
        assert!(apply(&fields(json!({"text": "short"})), &p).is_err());
    }

    fn text() -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(vec!["a", "b", "ä", " ", "🙂", "<p>", "x"]), 0..120)
            .prop_map(|v| v.concat())
    }

    proptest! {
        #[test]
        fn a_comparison_rebuilds_both_texts(a in text(), b in text()) {
            let c = compare_text(&a, &b);
            let side = |keep: fn(&Change) -> Option<&String>| c.iter().filter_map(keep).cloned().collect::<String>();
            prop_assert_eq!(side(|c| match c { Change::Equal(s) | Change::Delete(s) => Some(s), _ => None }), a);
            prop_assert_eq!(side(|c| match c { Change::Equal(s) | Change::Insert(s) => Some(s), _ => None }), b);
        }

        #[test]
        fn applying_the_diff_gives_the_new_fields(a in text(), b in text(), n in 0i64..3, keep in any::<bool>()) {
            let old = fields(json!({"t": a, "n": n, "o": {"d": a, "k": 1}}));
            let mut new = fields(json!({"t": b, "o": {"d": b}}));
            if keep { new.insert("n".into(), json!(n + 1)); }
            let p = diff(&old, &new);
            let stored: Patch = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
            prop_assert_eq!(apply(&old, &stored).unwrap(), new);
        }
    }
}
