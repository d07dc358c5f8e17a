//! What the full serialization of objects shows besides the objects
//! themselves (parent, relation targets, next/previous siblings, the lock as
//! the reader sees it), loaded for a whole page at once: a page of full
//! objects costs a fixed number of store round trips, whatever its size.

use std::collections::{HashMap, HashSet};

use cairn_model::{ContentPath, FieldKind, Uid};
use serde_json::Value;

use super::lock::{self, LockView};
use crate::content::Content;
use crate::error::CoreResult;
use crate::ports::ViewFilter;
use crate::security::{Access, MODIFY, Principal, effective_on_chain};
use crate::site::Site;

/// The surroundings of a page of objects, see the module docs.
#[derive(Debug, Default)]
pub struct Surroundings {
    parents: HashMap<ContentPath, Content>,
    /// Relation targets the reader may view.
    related: HashMap<Uid, Content>,
    /// Previous and next visible sibling, by the object's UID, for objects
    /// whose container has next/previous navigation on.
    neighbours: HashMap<Uid, (Option<Content>, Option<Content>)>,
    locks: HashMap<Uid, LockView>,
}

impl Surroundings {
    /// Loads the surroundings of `items` as `who` (reading with `filter`)
    /// sees them; `parent` is their container when the caller has it.
    /// At most four round trips: parents, relation targets, neighbours (two)
    /// and the ancestors of locked objects, each only when needed.
    pub fn load(
        site: &Site,
        who: &Principal,
        filter: &ViewFilter,
        items: &[Content],
        parent: Option<&Content>,
    ) -> CoreResult<Self> {
        let mut out = Self::default();
        if let Some(p) = parent {
            out.parents.insert(p.path.clone(), p.clone());
        }
        let missing: Vec<ContentPath> = distinct(items.iter().filter_map(|c| c.path.parent()))
            .into_iter()
            .filter(|p| !out.parents.contains_key(p))
            .collect();
        if !missing.is_empty() {
            for p in site.store.by_paths(&site.id, &missing)? {
                out.parents.insert(p.path.clone(), p);
            }
        }
        let targets = distinct(items.iter().flat_map(|c| relation_uids(site, c)));
        if !targets.is_empty() {
            for r in site.store.by_uids(&site.id, &targets)? {
                if filter.allows(&r) {
                    out.related.insert(r.uid.clone(), r);
                }
            }
        }
        out.load_neighbours(site, filter, items)?;
        out.locks = locks(site, who, items)?;
        Ok(out)
    }

    fn load_neighbours(&mut self, site: &Site, filter: &ViewFilter, items: &[Content]) -> CoreResult<()> {
        let wanted: Vec<&Content> = items
            .iter()
            .filter(|c| !c.is_root())
            .filter(|c| self.parent(c).is_some_and(|p| p.bool_field("nextPreviousEnabled")))
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        let keys: Vec<(ContentPath, i64)> = wanted
            .iter()
            .filter_map(|c| Some((c.path.parent()?, c.position)))
            .collect();
        let found = site.store.neighbour_uids(&site.id, &keys, filter)?;
        let uids = distinct(found.iter().flat_map(|(a, b)| a.iter().chain(b).cloned()));
        let by_uid: HashMap<Uid, Content> = match uids.is_empty() {
            true => HashMap::new(),
            false => site
                .store
                .by_uids(&site.id, &uids)?
                .into_iter()
                .map(|c| (c.uid.clone(), c))
                .collect(),
        };
        let get = |u: &Option<Uid>| u.as_ref().and_then(|u| by_uid.get(u)).cloned();
        for (c, (prev, next)) in wanted.iter().zip(&found) {
            self.neighbours.insert(c.uid.clone(), (get(prev), get(next)));
        }
        Ok(())
    }

    /// The container of `c`, if it exists.
    pub fn parent(&self, c: &Content) -> Option<&Content> {
        self.parents.get(&c.path.parent()?)
    }

    /// A relation target the reader may view.
    pub fn related(&self, uid: &str) -> Option<&Content> {
        Uid::parse(uid).ok().and_then(|u| self.related.get(&u))
    }

    /// The visible siblings before and after `c` when its container shows them.
    pub fn neighbours(&self, c: &Content) -> (Option<&Content>, Option<&Content>) {
        self.neighbours
            .get(&c.uid)
            .map_or((None, None), |(p, n)| (p.as_ref(), n.as_ref()))
    }

    /// The lock in force on `c` as the reader sees it.
    pub fn lock(&self, c: &Content) -> Option<&LockView> {
        self.locks.get(&c.uid)
    }
}

/// Each value once, in first-seen order.
fn distinct<T: Clone + Eq + std::hash::Hash>(values: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut seen = HashSet::new();
    values.into_iter().filter(|v| seen.insert(v.clone())).collect()
}

/// UIDs referenced by the relation fields of `c`.
pub fn relation_uids(site: &Site, c: &Content) -> Vec<Uid> {
    relation_fields(site, c).into_iter().map(|(_, uid)| uid).collect()
}

/// Each relation field value of `c` with its field's name, in field order.
pub fn relation_fields(site: &Site, c: &Content) -> Vec<(String, Uid)> {
    let types = site.types();
    let Some(ty) = types.get(&c.portal_type) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for f in ty
        .fields
        .iter()
        .filter(|f| matches!(f.kind, FieldKind::Relation | FieldKind::RelationList))
    {
        let name = || f.name.clone();
        match c.fields.get(&f.name) {
            Some(Value::String(s)) => out.extend(Uid::parse(s).ok().map(|u| (name(), u))),
            Some(Value::Array(a)) => out.extend(
                a.iter()
                    .filter_map(Value::as_str)
                    .filter_map(|s| Uid::parse(s).ok())
                    .map(|u| (name(), u)),
            ),
            _ => {}
        }
    }
    out
}

/// The locks in force on `items` as `who` sees them; the ancestors that
/// decide whether `who` may edit a locked object are read in one query.
fn locks(site: &Site, who: &Principal, items: &[Content]) -> CoreResult<HashMap<Uid, LockView>> {
    let locked: Vec<(&Content, lock::Lock)> = items.iter().filter_map(|c| Some((c, lock::current(c)?))).collect();
    if locked.is_empty() {
        return Ok(HashMap::new());
    }
    // Only a signed-in reader who does not hold the lock needs their roles.
    let needs_roles = |l: &lock::Lock| !who.is_anonymous() && who.id.as_deref() != Some(l.creator.as_str());
    let paths = distinct(
        locked
            .iter()
            .filter(|(_, l)| needs_roles(l))
            .flat_map(|(c, _)| c.path.ancestors()),
    );
    let ancestors: HashMap<ContentPath, Content> = match paths.is_empty() {
        true => HashMap::new(),
        false => site
            .store
            .by_paths(&site.id, &paths)?
            .into_iter()
            .map(|a| (a.path.clone(), a))
            .collect(),
    };
    let mut out = HashMap::new();
    for (c, l) in locked {
        let own = who.id.as_deref() == Some(l.creator.as_str());
        let holder_visible = own
            || (!who.is_anonymous() && {
                // The same chain `security::chain` reads, root first.
                let mut chain: Vec<Content> = c
                    .path
                    .ancestors()
                    .iter()
                    .filter_map(|p| ancestors.get(p).cloned())
                    .collect();
                chain.sort_by_key(|a| a.path.depth());
                chain.push(c.clone());
                Access::with_local(site, who, &effective_on_chain(&chain)).has(c, MODIFY)
            });
        out.insert(
            c.uid.clone(),
            LockView {
                lock: l,
                holder_visible,
                own,
            },
        );
    }
    Ok(out)
}
