//! Local roles: roles granted on one object (through `@sharing`, and `Owner`
//! for the creator) that its subtree acquires unless inheritance is blocked.

use std::collections::{BTreeMap, BTreeSet};

use cairn_model::ContentPath;
use serde_json::{Map, Value, json};

use crate::content::Content;
use crate::error::CoreResult;
use crate::site::Site;

/// Principal id → roles held locally.
pub type LocalRoles = BTreeMap<String, BTreeSet<String>>;

const FIELD: &str = "_local_roles";
const BLOCK: &str = "_block_inherit";
const OWNER: &str = "_owner";

/// The roles granted on `c` itself (not acquired), the creator's Owner included.
pub fn own_local_roles(c: &Content) -> LocalRoles {
    let mut out = LocalRoles::new();
    if let Some(Value::Object(m)) = c.fields.get(FIELD) {
        for (principal, roles) in m {
            let set: BTreeSet<String> = roles
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r.as_str().map(str::to_string))
                .collect();
            if !set.is_empty() {
                out.insert(principal.clone(), set);
            }
        }
    }
    if let Some(owner) = owner(c) {
        out.entry(owner).or_default().insert("Owner".into());
    }
    out
}

/// Who owns `c` (holds Owner on it): fixed when it is created. `creators` is
/// only a byline any editor may change, so it names the owner only of
/// objects stored before ownership was kept apart.
pub fn owner(c: &Content) -> Option<String> {
    match c.fields.get(OWNER) {
        Some(Value::String(id)) => Some(id.clone()),
        _ => c.strings("creators").first().cloned(),
    }
}

/// Makes `id` the owner of `c`.
pub fn set_owner(c: &mut Map<String, Value>, id: &str) {
    c.insert(OWNER.into(), Value::String(id.into()));
}

/// Stores the roles granted on `c` through sharing (Owner is implicit).
pub fn set_own_local_roles(c: &mut Content, roles: &LocalRoles) {
    let map: serde_json::Map<String, Value> = roles
        .iter()
        .map(|(p, r)| {
            (
                p.clone(),
                r.iter().filter(|x| *x != "Owner").cloned().collect::<Vec<_>>(),
            )
        })
        .filter(|(_, r)| !r.is_empty())
        .map(|(p, r)| (p, json!(r)))
        .collect();
    if map.is_empty() {
        c.fields.remove(FIELD);
    } else {
        c.fields.insert(FIELD.into(), Value::Object(map));
    }
}

/// Whether `c` acquires local roles from its container.
pub fn inherits(c: &Content) -> bool {
    !c.bool_field(BLOCK)
}

pub fn set_inherits(c: &mut Content, inherit: bool) {
    if inherit {
        c.fields.remove(BLOCK);
    } else {
        c.fields.insert(BLOCK.into(), json!(true));
    }
}

/// The local roles in effect on `c`, given those in effect on its container.
pub fn effective(container: &LocalRoles, c: &Content) -> LocalRoles {
    let mut out = if inherits(c) {
        container.clone()
    } else {
        LocalRoles::new()
    };
    for (p, roles) in own_local_roles(c) {
        out.entry(p).or_default().extend(roles);
    }
    out
}

/// The objects from the root down to `c`, in order, in one query.
pub fn chain(site: &Site, c: &Content) -> CoreResult<Vec<Content>> {
    let paths: Vec<ContentPath> = c.path.ancestors();
    let mut found = site.store.by_paths(&site.id, &paths)?;
    found.sort_by_key(|a| a.path.depth());
    found.push(c.clone());
    Ok(found)
}

/// The local roles in effect on the last object of `chain` (root first).
pub fn effective_on_chain(chain: &[Content]) -> LocalRoles {
    chain.iter().fold(LocalRoles::new(), |acc, c| effective(&acc, c))
}
