//! `@sharing`: granting local roles to users and groups on one object, and
//! blocking their acquisition from above. A role is delegated by someone with
//! its delegation permission who holds it there themselves (see
//! [`crate::security::delegation`]). Every change reindexes the view
//! permissions of the whole subtree in one transaction.

use std::collections::{BTreeMap, BTreeSet};

use cairn_model::ContentPath;
use serde_json::{Value, json};

use super::read::get_visible;
use crate::content::Content;
use crate::error::{CoreError, CoreResult};
use crate::ports::PrincipalQuery;
use crate::security::delegation::may_delegate;
use crate::security::{
    Access, LocalRoles, Principal, chain, effective_on_chain, inherits, own_local_roles, reindex_subtree, set_inherits,
    set_own_local_roles,
};
use crate::site::Site;

/// The roles the sharing tab offers: id, title, the permission to delegate it.
pub const SHARING_ROLES: [(&str, &str, &str); 4] = [
    ("Contributor", "Can add", "Sharing page: Delegate Contributor role"),
    ("Editor", "Can edit", "Sharing page: Delegate Editor role"),
    ("Reader", "Can view", "Sharing page: Delegate Reader role"),
    ("Reviewer", "Can review", "Sharing page: Delegate Reviewer role"),
];

const DELEGATE: &str = "Sharing page: Delegate roles";
/// The virtual group every logged-in user belongs to.
pub const AUTHENTICATED_USERS: &str = "AuthenticatedUsers";

/// One row of the sharing tab.
#[derive(Debug, Clone)]
pub struct Entry {
    pub id: String,
    pub title: String,
    pub is_group: bool,
    /// Per sharing role: `true`/`false` granted here, `"acquired"`, or `"global"`.
    pub roles: BTreeMap<String, Value>,
}

/// The sharing state of one object.
#[derive(Debug, Clone)]
pub struct Sharing {
    pub entries: Vec<Entry>,
    pub inherit: bool,
    /// The sharing roles the caller may grant and revoke here.
    pub available_roles: Vec<&'static str>,
}

/// May `access` grant and revoke `role` on `c`: the role's delegation
/// permission, and the role itself (or one that includes it) held there.
fn may_share(access: &Access, c: &Content, role: &str, permission: &str) -> bool {
    access.has(c, permission) && may_delegate(access.roles(), role)
}

/// A change sent by the client: principal id and roles to grant or revoke.
#[derive(Debug, Clone)]
pub struct Change {
    pub id: String,
    pub roles: BTreeMap<String, bool>,
}

fn sharing_only(local: &LocalRoles) -> LocalRoles {
    let shareable = |r: &String| SHARING_ROLES.iter().any(|(id, _, _)| id == r);
    local
        .iter()
        .map(|(p, roles)| {
            (
                p.clone(),
                roles.iter().filter(|r| shareable(r)).cloned().collect::<BTreeSet<_>>(),
            )
        })
        .filter(|(_, roles)| !roles.is_empty())
        .collect()
}

/// Title, group-ness and global roles of a principal, `None` when unknown.
fn describe(site: &Site, id: &str) -> CoreResult<Option<(String, bool, Vec<String>)>> {
    if id == AUTHENTICATED_USERS {
        return Ok(Some(("Logged-in users".into(), true, Vec::new())));
    }
    if let Some(g) = site.principals.group(&site.id, id)? {
        return Ok(Some((g.title, true, g.roles)));
    }
    Ok(site.principals.user(&site.id, id)?.map(|u| {
        let title = if u.fullname.is_empty() {
            u.id.clone()
        } else {
            u.fullname
        };
        (title, false, u.roles)
    }))
}

/// The sharing tab of the object at `path`, with `search` matches added.
pub fn get(site: &Site, who: &Principal, path: &ContentPath, search: Option<&str>) -> CoreResult<Sharing> {
    let c = get_visible(site, path, who)?;
    let objects = chain(site, &c)?;
    let access = Access::with_local(site, who, &effective_on_chain(&objects));
    if !access.has(&c, DELEGATE) {
        return Err(CoreError::Forbidden(
            "You are not allowed to manage sharing here".into(),
        ));
    }
    let own = sharing_only(&own_local_roles(&c));
    let acquired = if inherits(&c) {
        sharing_only(&effective_on_chain(&objects[..objects.len() - 1]))
    } else {
        LocalRoles::new()
    };
    let mut ids: BTreeSet<String> = own.keys().chain(acquired.keys()).cloned().collect();
    ids.insert(AUTHENTICATED_USERS.into());
    if let Some(text) = search.filter(|s| !s.trim().is_empty()) {
        let q = PrincipalQuery {
            text: Some(text.to_string()),
            limit: 50,
            ..Default::default()
        };
        ids.extend(site.principals.find_users(&site.id, &q)?.into_iter().map(|u| u.id));
        ids.extend(site.principals.find_groups(&site.id, &q)?.into_iter().map(|g| g.id));
    }
    let mut entries = Vec::new();
    for id in ids {
        let Some((title, is_group, global)) = describe(site, &id)? else {
            continue;
        };
        let roles = SHARING_ROLES
            .iter()
            .map(|(role, _, _)| {
                let has = |m: &LocalRoles| m.get(&id).is_some_and(|r| r.contains(*role));
                let v = if has(&own) {
                    json!(true)
                } else if has(&acquired) {
                    json!("acquired")
                } else if global.iter().any(|g| g == role) {
                    json!("global")
                } else {
                    json!(false)
                };
                (role.to_string(), v)
            })
            .collect();
        entries.push(Entry {
            id,
            title,
            is_group,
            roles,
        });
    }
    entries.sort_by(|a, b| (!a.is_group, &a.title).cmp(&(!b.is_group, &b.title)));
    let available_roles = SHARING_ROLES
        .iter()
        .filter(|(role, _, permission)| may_share(&access, &c, role, permission))
        .map(|(role, _, _)| *role)
        .collect();
    Ok(Sharing {
        entries,
        inherit: inherits(&c),
        available_roles,
    })
}

/// Applies sharing changes (and optionally the inheritance switch) on the
/// object at `path`; each role needs its own delegation permission.
pub fn set(
    site: &Site,
    who: &Principal,
    path: &ContentPath,
    changes: &[Change],
    inherit: Option<bool>,
) -> CoreResult<()> {
    let c = get_visible(site, path, who)?;
    let access = Access::of(site, who, &c)?;
    if !access.has(&c, DELEGATE) {
        return Err(CoreError::Forbidden(
            "You are not allowed to manage sharing here".into(),
        ));
    }
    let mut own = sharing_only(&own_local_roles(&c));
    for change in changes {
        if describe(site, &change.id)?.is_none() {
            return Err(CoreError::BadRequest(format!("Unknown user or group '{}'", change.id)));
        }
        for (role, on) in &change.roles {
            let Some((_, _, permission)) = SHARING_ROLES.iter().find(|(id, _, _)| id == role) else {
                return Err(CoreError::BadRequest(format!(
                    "'{role}' cannot be granted through sharing"
                )));
            };
            let current = own.get(&change.id).is_some_and(|r| r.contains(role));
            if current == *on {
                continue;
            }
            if !may_share(&access, &c, role, permission) {
                return Err(CoreError::Forbidden(format!(
                    "You are not allowed to delegate the {role} role"
                )));
            }
            let set = own.entry(change.id.clone()).or_default();
            if *on {
                set.insert(role.clone());
            } else {
                set.remove(role);
            }
        }
    }
    own.retain(|_, r| !r.is_empty());
    let batch = reindex_subtree(site, &c, "sharing_changed", |obj, _, is_root| {
        if is_root {
            set_own_local_roles(obj, &own);
            if let Some(inherit) = inherit {
                set_inherits(obj, inherit);
            }
        }
        Ok(is_root)
    })?;
    site.write(batch)
}
