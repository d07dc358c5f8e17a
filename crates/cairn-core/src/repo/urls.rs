//! Internal links that survive moves and renames, as plone.restapi's block
//! and rich-text transforms keep them: on write, a link to an object of the
//! site (its public URL, or a `/path` below the site) in a Link's
//! `remoteUrl`, in rich text (`href`/`src`) or in Volto blocks (`url`,
//! `href`, `@id`) is stored as `resolveuid/<UID>`; on read the serializer
//! writes the object's current URL back ([`uids_in`] finds what to look up).

use std::collections::{BTreeMap, BTreeSet};

use cairn_model::{ContentPath, Uid};
use serde_json::{Map, Value};

use crate::error::CoreResult;
use crate::ports::{WriteBatch, WriteOp};
use crate::site::Site;

/// The stored form of a link to `uid`.
pub fn stored(uid: &Uid) -> String {
    format!("resolveuid/{}", uid.as_str())
}

/// Keys inside Volto blocks whose string values are links.
const BLOCK_KEYS: [&str; 3] = ["url", "href", "@id"];

/// Rewrites the internal links of every object `batch` writes.
pub fn plan(site: &Site, batch: &mut WriteBatch) -> CoreResult<()> {
    // Gather the candidate paths of the whole batch, then look them up at once.
    let mut wanted = BTreeSet::new();
    for op in &batch.ops {
        if let WriteOp::Insert(c) | WriteOp::Update { content: c, .. } = op {
            visit(&c.fields, &mut |s| {
                wanted.extend(internal_path(site, s));
                None
            });
        }
    }
    if wanted.is_empty() {
        return Ok(());
    }
    let paths: Vec<ContentPath> = wanted.into_iter().collect();
    let found: BTreeMap<String, Uid> = site
        .store
        .by_paths(&site.id, &paths)?
        .into_iter()
        .map(|c| (c.path.as_str().to_owned(), c.uid))
        .collect();
    for op in &mut batch.ops {
        if let WriteOp::Insert(c) | WriteOp::Update { content: c, .. } = op {
            let mut fields = std::mem::take(&mut c.fields);
            visit_mut(site, &mut fields, &found);
            c.fields = fields;
        }
    }
    Ok(())
}

/// The site path a link names, when it names one inside the site.
fn internal_path(site: &Site, link: &str) -> Option<ContentPath> {
    let rest = match link.strip_prefix(site.public_url.as_str()) {
        Some(r) if r.is_empty() || r.starts_with('/') => r,
        Some(_) => return None,
        None if link.starts_with('/') && !link.starts_with("//") => link,
        None => return None,
    };
    // A fragment or query belongs to the page, not to its place.
    let path = rest.split(['#', '?']).next().unwrap_or("");
    let path = path.strip_suffix('/').unwrap_or(path);
    if path.contains("/@@") || path.contains("/@") || path.contains("resolveuid") {
        return None;
    }
    if path.is_empty() {
        return Some(ContentPath::root());
    }
    ContentPath::parse(path).ok()
}

/// The stored form of `link` when it is internal and known.
fn replaced(site: &Site, link: &str, found: &BTreeMap<String, Uid>) -> Option<String> {
    let path = internal_path(site, link)?;
    let uid = found.get(path.as_str())?;
    let rest = &link[link.find(['#', '?']).unwrap_or(link.len())..];
    Some(format!("{}{rest}", stored(uid)))
}

/// Calls `f` on every link value; a `Some` answer replaces it.
fn visit(fields: &Map<String, Value>, f: &mut dyn FnMut(&str) -> Option<String>) {
    for (name, v) in fields {
        match (name.as_str(), v) {
            ("remoteUrl", Value::String(s)) => {
                f(s);
            }
            ("blocks", Value::Object(_)) => walk_blocks(v, f),
            (_, Value::Object(o)) if o.get("content-type").is_some() => {
                if let Some(Value::String(html)) = o.get("data") {
                    for link in html_links(html) {
                        f(link);
                    }
                }
            }
            _ => {}
        }
    }
}

fn walk_blocks(v: &Value, f: &mut dyn FnMut(&str) -> Option<String>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                match x {
                    Value::String(s) if BLOCK_KEYS.contains(&k.as_str()) => {
                        f(s);
                    }
                    _ => walk_blocks(x, f),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| walk_blocks(x, f)),
        _ => {}
    }
}

fn walk_blocks_mut(site: &Site, v: &mut Value, found: &BTreeMap<String, Uid>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o.iter_mut() {
                match x {
                    Value::String(s) if BLOCK_KEYS.contains(&k.as_str()) => {
                        if let Some(r) = replaced(site, s, found) {
                            *s = r;
                        }
                    }
                    _ => walk_blocks_mut(site, x, found),
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| walk_blocks_mut(site, x, found)),
        _ => {}
    }
}

fn visit_mut(site: &Site, fields: &mut Map<String, Value>, found: &BTreeMap<String, Uid>) {
    for (name, v) in fields.iter_mut() {
        match (name.as_str(), v) {
            ("remoteUrl", Value::String(s)) => {
                if let Some(r) = replaced(site, s, found) {
                    *s = r;
                }
            }
            ("blocks", v @ Value::Object(_)) => walk_blocks_mut(site, v, found),
            (_, Value::Object(o)) if o.get("content-type").is_some() => {
                if let Some(Value::String(html)) = o.get_mut("data") {
                    // (start, end, stored form), in the order they appear.
                    let mut edits: Vec<(usize, usize, String)> = html_links(html)
                        .filter_map(|link| {
                            let start = link.as_ptr() as usize - html.as_ptr() as usize;
                            Some((start, start + link.len(), replaced(site, link, found)?))
                        })
                        .collect();
                    edits.sort_by_key(|e| e.0);
                    if !edits.is_empty() {
                        let mut out = String::with_capacity(html.len());
                        let mut last = 0;
                        for (start, end, r) in edits {
                            out.push_str(&html[last..start]);
                            out.push_str(&r);
                            last = end;
                        }
                        out.push_str(&html[last..]);
                        *html = out;
                    }
                }
            }
            _ => {}
        }
    }
}

/// The values of `href="..."` and `src="..."` attributes in HTML, as slices
/// of it (sanitized rich text always quotes them with `"`).
fn html_links(html: &str) -> impl Iterator<Item = &str> {
    ["href=\"", "src=\""].into_iter().flat_map(move |attr| {
        html.match_indices(attr).filter_map(move |(i, _)| {
            let start = i + attr.len();
            let end = start + html[start..].find('"')?;
            Some(&html[start..end])
        })
    })
}

/// Every UID a stored value links to by `resolveuid/<UID>`, for the reader
/// to look up the current URLs.
pub fn uids_in(v: &Value, out: &mut BTreeSet<Uid>) {
    match v {
        Value::String(s) => {
            for (i, _) in s.match_indices("resolveuid/") {
                if let Some(uid) = s[i + "resolveuid/".len()..].get(..32).and_then(|u| Uid::parse(u).ok()) {
                    out.insert(uid);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| uids_in(x, out)),
        Value::Object(o) => o.values().for_each(|x| uids_in(x, out)),
        _ => {}
    }
}
