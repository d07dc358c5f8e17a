//! `@relations`: the relations catalog (relation fields, named free
//! relations and links in text and blocks, recorded on every write)
//! queried both ways, and relations added or removed through it.
//!
//! A relation is always stored on its source's content (the field's value,
//! or `_relations` for a name without a field), so the catalog can be
//! rebuilt from the content alone; adding or removing one is an edit of
//! the source, in one transaction for the whole request.

use std::collections::{BTreeMap, HashMap};

use cairn_model::schema::FieldKind;
use cairn_model::{ContentPath, Uid};
use jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::links::{FREE, REFERENCING};
use crate::content::Content;
use crate::error::{CoreError, CoreResult};
use crate::ports::{Relation, RelationQuery, WriteBatch};
use crate::security::{Principal, can_modify, require_admin, view_filter};
use crate::site::Site;

/// Most relations one query reads; an answer lists and counts at most these.
pub const MAX_SCAN: usize = 10_000;
/// Most relations one POST or DELETE may name.
pub const MAX_ITEMS: usize = 1_000;

/// What `GET @relations` asks for.
#[derive(Debug, Default, Clone)]
pub struct Ask {
    pub source: Option<String>,
    pub target: Option<String>,
    pub relation: Option<String>,
    /// A search string (part of a title) or a `/path` the source must match.
    pub query_source: Option<String>,
    pub query_target: Option<String>,
    /// Most items listed per relation.
    pub max: usize,
    pub only_broken: bool,
}

/// The relations of one name a reader may see.
#[derive(Debug)]
pub struct Listing {
    /// Source, target UID and target (`None` for a broken relation).
    pub items: Vec<(Content, Uid, Option<Content>)>,
    pub total: usize,
}

/// Relations matching `ask` whose source (and target, unless broken) the
/// reader may see, by relation name.
pub fn query(site: &Site, who: &Principal, ask: &Ask) -> CoreResult<BTreeMap<String, Listing>> {
    let filter = view_filter(site, who);
    let end = |raw: &Option<String>| -> CoreResult<Option<Option<Uid>>> {
        raw.as_deref()
            .map(|r| Ok(resolve(site, r)?.filter(|c| filter.allows(c)).map(|c| c.uid)))
            .transpose()
    };
    let (source, target) = (end(&ask.source)?, end(&ask.target)?);
    // An end the reader cannot see has no relations for them.
    if matches!(source, Some(None)) || matches!(target, Some(None)) {
        return Ok(BTreeMap::new());
    }
    let found = site.store.relations(
        &site.id,
        &RelationQuery {
            source: source.flatten(),
            target: target.flatten(),
            relation: ask.relation.clone(),
            only_broken: ask.only_broken,
            limit: MAX_SCAN,
        },
    )?;
    let mut uids: Vec<Uid> = found
        .iter()
        .flat_map(|r| [r.source.clone(), r.target.clone()])
        .collect();
    uids.sort();
    uids.dedup();
    let objects: HashMap<Uid, Content> = site
        .store
        .by_uids(&site.id, &uids)?
        .into_iter()
        .map(|c| (c.uid.clone(), c))
        .collect();
    let mut out: BTreeMap<String, Listing> = BTreeMap::new();
    for r in found {
        let Some(src) = objects.get(&r.source).filter(|c| filter.allows(c)) else {
            continue;
        };
        let tgt = objects.get(&r.target);
        let shown = match tgt {
            Some(t) => !ask.only_broken && filter.allows(t),
            None => ask.only_broken,
        };
        if !shown || !matches(src, &ask.query_source) || !tgt.is_none_or(|t| matches(t, &ask.query_target)) {
            continue;
        }
        let listing = out.entry(r.relation.clone()).or_insert_with(|| Listing {
            items: Vec::new(),
            total: 0,
        });
        listing.total += 1;
        if listing.items.len() < ask.max {
            listing.items.push((src.clone(), r.target.clone(), tgt.cloned()));
        }
    }
    Ok(out)
}

/// Whether `c` matches a `query_source`/`query_target` string: a `/path`
/// at or above it, or words of its title.
fn matches(c: &Content, q: &Option<String>) -> bool {
    match q.as_deref().map(str::trim) {
        None | Some("") => true,
        Some(p) if p.starts_with('/') => ContentPath::parse(p).is_ok_and(|p| c.path.starts_with(&p)),
        Some(words) => {
            let title = c.title().to_lowercase();
            words.to_lowercase().split_whitespace().all(|w| title.contains(w))
        }
    }
}

/// Counts per relation name, and of broken relations, for administrators
/// (counts over the whole site would tell others of what they cannot see).
pub fn stats(site: &Site, who: &Principal) -> CoreResult<Vec<(String, u64, u64)>> {
    require_admin(who, "see the relation statistics")?;
    site.store.relation_stats(&site.id)
}

/// One relation named in a POST or DELETE body, as given.
#[derive(Debug, Clone)]
pub struct Item {
    pub source: String,
    pub target: String,
    pub relation: String,
}

/// Adds relations, all or none. Returns the items that failed with why
/// (nothing is written when any did).
pub fn add(site: &Site, who: &Principal, items: &[Item]) -> CoreResult<Vec<(Item, String)>> {
    change(site, who, items, true)
}

/// Removes the relations named, all or none, as [`add`].
pub fn remove(site: &Site, who: &Principal, items: &[Item]) -> CoreResult<Vec<(Item, String)>> {
    change(site, who, items, false)
}

fn change(site: &Site, who: &Principal, items: &[Item], adding: bool) -> CoreResult<Vec<(Item, String)>> {
    if who.is_anonymous() {
        return Err(CoreError::Unauthorized(
            "You are not authorized to access this resource.".into(),
        ));
    }
    if items.len() > MAX_ITEMS {
        return Err(CoreError::BadRequest(format!("At most {MAX_ITEMS} relations at once")));
    }
    let verb = if adding { "creating" } else { "deleting" };
    let filter = view_filter(site, who);
    let mut edited: BTreeMap<Uid, (Content, Content)> = BTreeMap::new();
    let mut failed = Vec::new();
    for item in items {
        let fail = |why: &str| (item.clone(), format!("Failed on {verb} a relation. {why}"));
        let visible =
            |raw: &str| -> CoreResult<Option<Content>> { Ok(resolve(site, raw)?.filter(|c| filter.allows(c))) };
        let Some(source) = visible(&item.source)? else {
            failed.push(fail("Source not found."));
            continue;
        };
        let Some(target) = visible(&item.target)? else {
            failed.push(fail("Target not found."));
            continue;
        };
        if let Err(why) = check_name(&item.relation) {
            failed.push(fail(&why));
            continue;
        }
        if !can_modify(site, who, &source)? {
            failed.push(fail("You are not allowed to edit the source."));
            continue;
        }
        if super::lock::current(&source).is_some_and(|l| l.is_checkout()) {
            failed.push(fail("The source is checked out: change its working copy."));
            continue;
        }
        let (_, next) = edited
            .entry(source.uid.clone())
            .or_insert_with(|| (source.clone(), source.clone()));
        if let Err(why) = set(site, next, &item.relation, &target.uid, adding) {
            failed.push(fail(&why));
        }
    }
    if !failed.is_empty() {
        return Ok(failed);
    }
    write(site, edited.into_values().collect())?;
    Ok(Vec::new())
}

/// Removes every relation matching the filter (`relation`, `source`,
/// `target`, at least one): administrators only, as it reaches across the
/// site. Links in text are left to their text. Returns how many went.
pub fn remove_matching(site: &Site, who: &Principal, ask: &Ask) -> CoreResult<usize> {
    require_admin(who, "delete relations in bulk")?;
    if ask.source.is_none() && ask.target.is_none() && ask.relation.is_none() {
        return Err(CoreError::BadRequest(
            "Name the relations to delete: items, or relation, source or target".into(),
        ));
    }
    if ask.relation.as_deref() == Some(REFERENCING) {
        return Err(CoreError::BadRequest(format!(
            "{REFERENCING} relations are the links in text and blocks: edit the text to remove them"
        )));
    }
    let end = |raw: &Option<String>, what: &str| -> CoreResult<Option<Uid>> {
        raw.as_deref()
            .map(|r| {
                resolve(site, r)?
                    .map(|c| c.uid)
                    .ok_or_else(|| CoreError::BadRequest(format!("{what} not found: {r}")))
            })
            .transpose()
    };
    let q = RelationQuery {
        source: end(&ask.source, "Source")?,
        target: end(&ask.target, "Target")?,
        relation: ask.relation.clone(),
        only_broken: false,
        limit: MAX_SCAN,
    };
    let found: Vec<Relation> = site
        .store
        .relations(&site.id, &q)?
        .into_iter()
        .filter(|r| r.relation != REFERENCING)
        .collect();
    let sources: Vec<Uid> = found.iter().map(|r| r.source.clone()).collect();
    let mut edited: BTreeMap<Uid, (Content, Content)> = site
        .store
        .by_uids(&site.id, &sources)?
        .into_iter()
        .map(|c| (c.uid.clone(), (c.clone(), c)))
        .collect();
    for r in &found {
        if let Some((_, next)) = edited.get_mut(&r.source) {
            // A relation its type no longer declares is dropped with the catalog row.
            let _ = set(site, next, &r.relation, &r.target, false);
        }
    }
    write(site, edited.into_values().collect())?;
    Ok(found.len())
}

/// Asks for the catalog to be rebuilt from the content (a background job).
pub fn rebuild(site: &Site, who: &Principal) -> CoreResult<()> {
    require_admin(who, "rebuild the relations catalog")?;
    site.store
        .put_setting(&site.id, super::links::BACKFILLED, &Value::Null)?;
    crate::upgrade::run(site).map(|_| ())
}

/// Records (or drops) `relation` to `target` in `c`: in the relation field
/// of that name, or among its free relations.
fn set(site: &Site, c: &mut Content, relation: &str, target: &Uid, adding: bool) -> Result<(), String> {
    if relation == REFERENCING {
        return Err(format!(
            "{REFERENCING} relations are the links in text and blocks: edit the text instead."
        ));
    }
    if *target == c.uid {
        return Err("An object cannot be related to itself.".into());
    }
    let types = site.types();
    let field = types
        .get(&c.portal_type)
        .and_then(|t| t.fields.iter().find(|f| f.name == relation));
    let uid = json!(target.as_str());
    match field.map(|f| &f.kind) {
        Some(FieldKind::Relation) => {
            if adding {
                c.fields.insert(relation.into(), uid);
            } else if c.fields.get(relation) == Some(&uid) {
                c.fields.remove(relation);
            }
        }
        Some(FieldKind::RelationList) => {
            let list = c.fields.entry(relation).or_insert_with(|| json!([]));
            toggle(list, uid, adding);
        }
        Some(_) => return Err(format!("{relation} is a field of {} but no relation.", c.portal_type)),
        None => {
            let free = c.fields.entry(FREE).or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(free) = free {
                let list = free.entry(relation).or_insert_with(|| json!([]));
                toggle(list, uid, adding);
                free.retain(|_, v| v.as_array().is_some_and(|a| !a.is_empty()));
            }
            if c.fields.get(FREE).and_then(Value::as_object).is_some_and(Map::is_empty) {
                c.fields.remove(FREE);
            }
        }
    }
    Ok(())
}

fn toggle(list: &mut Value, uid: Value, adding: bool) {
    if !list.is_array() {
        *list = json!([]);
    }
    if let Value::Array(a) = list {
        a.retain(|v| *v != uid);
        if adding {
            a.push(uid);
        }
    }
}

/// Writes the sources that changed, in one transaction.
fn write(site: &Site, edited: Vec<(Content, Content)>) -> CoreResult<()> {
    let now = Timestamp::now();
    let mut batch = WriteBatch::default();
    for (before, mut next) in edited {
        if next.fields == before.fields {
            continue;
        }
        next.version = before.version + 1;
        next.modified = now.max(before.modified);
        batch.update(&before, next, "modified");
    }
    if batch.ops.is_empty() {
        return Ok(());
    }
    site.write(batch)
}

/// A relation's name: what a field name may be.
fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && name.chars().all(|ch| ch.is_ascii_alphanumeric() || "_.-:".contains(ch));
    if ok {
        Ok(())
    } else {
        Err("A relation name is 1 to 100 letters, digits, '_', '.', '-' or ':'.".into())
    }
}

/// The object a UID or a `/path` below the site names, if there is one.
pub fn resolve(site: &Site, raw: &str) -> CoreResult<Option<Content>> {
    let raw = raw.trim();
    if !raw.starts_with('/')
        && let Ok(uid) = Uid::parse(raw)
    {
        return Ok(site.store.by_uids(&site.id, &[uid])?.pop());
    }
    match ContentPath::parse(raw) {
        Ok(p) => site.store.by_path(&site.id, &p),
        Err(_) => Ok(None),
    }
}
