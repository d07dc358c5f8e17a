//! plone.app.querystring's criteria (`{"i", "o", "v"}`), as Volto's listing,
//! search and gallery blocks and Collections store them, applied to a
//! [`CatalogQuery`]. A SearchableText criterion gives back its words for the
//! caller to rank when it wants results.

use cairn_model::ContentPath;
use cairn_model::fulltext::Query;
use cairn_model::time::format_ts;
use cairn_model::values::parse_datetime;
use jiff::{Timestamp, ToSpan};
use serde_json::Value;

use super::Searcher;
use crate::catalog::{CatalogQuery, DateIndex};
use crate::{CoreError, CoreResult};

/// The prefix of every operation's full name.
pub const PREFIX: &str = "plone.app.querystring.operation.";
/// Criteria one listing may combine; Volto's query builder sends a handful.
pub const MAX_CRITERIA: usize = 64;

fn invalid() -> CoreError {
    CoreError::BadRequest("Invalid query.".into())
}

/// A criterion's value as a list: a string, or the strings of an array.
pub fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
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

fn date(v: &Value) -> CoreResult<String> {
    let s = v.as_str().ok_or_else(invalid)?;
    parse_datetime(s).map(format_ts).map_err(CoreError::BadRequest)
}

impl Searcher<'_> {
    /// Applies the criteria to `q` and returns their full text, which the
    /// caller ranks only when it wants results (checking a stored query
    /// needs no search).
    pub fn criteria(&self, context: &ContentPath, q: &mut CatalogQuery, list: &[Value]) -> CoreResult<Option<Query>> {
        if list.len() > MAX_CRITERIA {
            return Err(CoreError::BadRequest(format!(
                "A query may have at most {MAX_CRITERIA} criteria."
            )));
        }
        let mut texts = Vec::new();
        for c in list {
            texts.extend(self.criterion(context, q, c)?);
        }
        // One flat conjunction, bounded as one query: nesting each criterion in
        // the last would let a long list overflow the stack of every walker.
        cairn_model::fulltext::all_of(texts).map_err(|e| CoreError::BadRequest(e.to_string()))
    }

    /// One criterion; a SearchableText one gives back its parsed words.
    fn criterion(&self, context: &ContentPath, q: &mut CatalogQuery, c: &Value) -> CoreResult<Option<Query>> {
        let index = c.get("i").and_then(Value::as_str).ok_or_else(invalid)?;
        let op = c.get("o").and_then(Value::as_str).ok_or_else(invalid)?;
        let op = op.strip_prefix(PREFIX).unwrap_or(op);
        let v = c.get("v").cloned().unwrap_or(Value::Null);
        match (index, op) {
            ("SearchableText", "string.contains") => {
                // A search block sends the criterion before anything is typed: no words, no filter.
                let text = v.as_str().ok_or_else(invalid)?;
                return super::parse_text(text);
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
            ("Creator", "string.currentUser") => q.creators.push(self.who.id.clone().unwrap_or_default()),
            ("Language", "selection.any" | "string.is") => q.languages.extend(strings(&v)),
            ("isFolderish" | "is_folderish", "boolean.isTrue") => q.is_folderish = Some(true),
            ("isFolderish" | "is_folderish", "boolean.isFalse") => q.is_folderish = Some(false),
            ("exclude_from_nav", "boolean.isTrue") => q.exclude_from_nav = Some(true),
            ("exclude_from_nav", "boolean.isFalse") => q.exclude_from_nav = Some(false),
            ("path", "string.absolutePath" | "string.path" | "string.relativePath") => {
                for raw in strings(&v) {
                    let (path, depth) = self.path_value(context, op, &raw)?;
                    q.paths.push(path);
                    q.depth = depth;
                }
            }
            (index, op) if op.starts_with("date.") => {
                let index = DateIndex::parse(index).ok_or_else(invalid)?;
                q.date_ranges.push(date_range(index, op, &v)?);
            }
            _ => return Err(invalid()),
        }
        Ok(None)
    }

    /// A path value (`/a/b`, a UID, or relative to `context`) with its `::depth`.
    fn path_value(&self, context: &ContentPath, op: &str, raw: &str) -> CoreResult<(ContentPath, Option<usize>)> {
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
            let found = self.site.store.by_uids(&self.site.id, &[uid])?;
            found.into_iter().next().map(|c| c.path).ok_or_else(invalid)?
        } else {
            let rel = path.strip_prefix(&format!("/{}", self.site.id)).unwrap_or(path);
            ContentPath::parse(rel).map_err(|_| invalid())?
        };
        Ok((resolved, depth))
    }
}

/// A `date.*` operation on `index` as inclusive bounds.
fn date_range(index: DateIndex, op: &str, v: &Value) -> CoreResult<crate::catalog::DateRange> {
    let days = || {
        v.as_str()
            .and_then(|s| s.parse::<i64>().ok())
            .or(v.as_i64())
            .ok_or_else(invalid)
    };
    let (min, max) = match op {
        "date.lessThan" => (None, Some(date(v)?)),
        "date.largerThan" => (Some(date(v)?), None),
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
    Ok((index, min, max))
}
