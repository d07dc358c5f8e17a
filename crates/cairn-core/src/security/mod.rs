//! Who is asking and what they may do: Plone's roles and permissions.
//!
//! A permission on an object is granted to roles by the object's workflow
//! state (for the permissions that workflow manages) or else by the site's
//! rolemap. A principal holds its global roles everywhere and `Owner` on what
//! it created. Objects without a workflow acquire View from their container.
//! Every handler checks through these functions; none decides on its own.

pub mod delegation;
mod local_roles;
mod reindex;

use std::borrow::Cow;

pub use local_roles::{
    LocalRoles, chain, effective, effective_on_chain, inherits, own_local_roles, owner, set_inherits,
    set_own_local_roles, set_owner,
};
pub use reindex::reindex_subtree;

use crate::content::Content;
use crate::error::{CoreError, CoreResult};
use crate::ports::ViewFilter;
use crate::site::Site;

pub const VIEW: &str = "View";
pub const MODIFY: &str = "Modify portal content";
pub const ADD: &str = "Add portal content";
pub const DELETE: &str = "Delete objects";
pub const REVIEW: &str = "Review portal content";
pub const REQUEST_REVIEW: &str = "Request review";
pub const INACTIVE: &str = "Access inactive portal content";

/// The authenticated user (or anonymous) making a request.
#[derive(Debug, Clone, Default)]
pub struct Principal {
    /// `None` for anonymous.
    pub id: Option<String>,
    pub fullname: String,
    /// Global roles (from the user and their groups).
    pub roles: Vec<String>,
    /// Groups the user belongs to.
    pub groups: Vec<String>,
}

impl Principal {
    pub fn anonymous() -> Self {
        Self::default()
    }

    pub fn is_anonymous(&self) -> bool {
        self.id.is_none()
    }

    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    /// Managers and Site Administrators administer the site.
    pub fn is_admin(&self) -> bool {
        self.has_role("Manager") || self.has_role("Site Administrator")
    }

    /// May see authoring information (`@types`) at all.
    pub fn can_author(&self) -> bool {
        !self.is_anonymous()
    }
}

/// Refuses anyone but Managers and Site Administrators: 401 for anonymous
/// visitors, 403 for other users; `what` completes "You are not allowed to".
pub fn require_admin(who: &Principal, what: &str) -> CoreResult<()> {
    let why = format!("You are not allowed to {what}");
    match () {
        _ if who.is_anonymous() => Err(CoreError::Unauthorized(why)),
        _ if !who.is_admin() => Err(CoreError::Forbidden(why)),
        _ => Ok(()),
    }
}

/// What `who` may see in listings and by URL: the principals matched against
/// each object's `allowed` set, and the publication window unless the user
/// may access inactive content. Managers are not filtered at all.
pub fn view_filter(site: &Site, who: &Principal) -> ViewFilter {
    if who.has_role("Manager") {
        return ViewFilter::unrestricted();
    }
    let mut p = vec!["Anonymous".to_string()];
    if let Some(id) = &who.id {
        p.push("Authenticated".into());
        p.push(format!("user:{id}"));
        p.push("user:AuthenticatedUsers".into());
        p.extend(who.groups.iter().map(|g| format!("user:{g}")));
        p.extend(who.roles.iter().cloned());
    }
    let inactive_ok = site.workflows.site_roles(INACTIVE).iter().any(|r| who.has_role(r));
    let active_at = (!inactive_ok).then(|| cairn_model::time::format_ts(jiff::Timestamp::now()));
    ViewFilter {
        principals: Some(p),
        active_at,
    }
}

/// What `who` may do on one object: the roles they hold there, computed once.
pub struct Access<'a> {
    site: &'a Site,
    roles: Vec<String>,
    manager: bool,
}

impl<'a> Access<'a> {
    /// Roles on `c` given the local roles in effect there.
    pub fn with_local(site: &'a Site, who: &Principal, local: &LocalRoles) -> Self {
        let mut roles = vec!["Anonymous".to_string()];
        if let Some(id) = &who.id {
            roles.push("Authenticated".into());
            roles.extend(who.roles.iter().cloned());
            let mine = std::iter::once(id.as_str())
                .chain(who.groups.iter().map(String::as_str))
                .chain(std::iter::once("AuthenticatedUsers"));
            for p in mine {
                roles.extend(local.get(p).into_iter().flatten().cloned());
            }
        }
        roles.sort();
        roles.dedup();
        Self {
            site,
            roles,
            manager: who.has_role("Manager"),
        }
    }

    /// Roles on `c`, reading its ancestors' local roles (one cached query).
    pub fn of(site: &'a Site, who: &Principal, c: &Content) -> CoreResult<Self> {
        if who.is_anonymous() {
            return Ok(Self::with_local(site, who, &LocalRoles::new()));
        }
        let local = effective_on_chain(&chain(site, c)?);
        Ok(Self::with_local(site, who, &local))
    }

    pub fn roles(&self) -> &[String] {
        &self.roles
    }

    /// Whether the roles include one granted `permission` on `c`.
    pub fn has(&self, c: &Content, permission: &str) -> bool {
        if self.manager {
            return true;
        }
        let granted = permission_roles(self.site, c, permission);
        self.roles.iter().any(|r| granted.contains(r))
    }
}

/// The roles granted `permission` on `c`.
pub fn permission_roles<'a>(site: &'a Site, c: &'a Content, permission: &str) -> Cow<'a, [String]> {
    let workflow = site.workflow_for(&c.portal_type);
    if let (Some(wf), Some(state)) = (workflow, c.review_state.as_deref())
        && let Some(roles) = wf.roles_for(state, permission)
    {
        return Cow::Borrowed(roles);
    }
    let acquired_view = matches!(permission, "View" | "Access contents information");
    if acquired_view && workflow.is_none() {
        if crate::repo::workingcopy::marked_copy(c) {
            return Cow::Owned(crate::repo::workingcopy::PRIVATE_VIEW.map(String::from).to_vec());
        }
        // Stored when the object was written: the container's View roles.
        return Cow::Owned(c.allowed.iter().filter(|a| !a.starts_with("user:")).cloned().collect());
    }
    Cow::Borrowed(site.workflows.site_roles(permission))
}

/// May add an object of `type_id` inside `container`.
pub fn can_add(site: &Site, who: &Principal, container: &Content, type_id: &str) -> CoreResult<bool> {
    if who.is_anonymous() {
        return Ok(false);
    }
    let access = Access::of(site, who, container)?;
    let types = site.types();
    let type_permission = types.get(type_id).map(|t| t.def.add_permission.as_str()).unwrap_or("");
    Ok(access.has(container, ADD) && (type_permission.is_empty() || access.has(container, type_permission)))
}

/// May write to `c` at all: add something inside it (`creating`) or edit
/// it. Asked before a large request body is read, so that only someone the
/// write could succeed for makes the server hold an upload in memory.
pub fn may_write(site: &Site, who: &Principal, c: &Content, creating: bool) -> CoreResult<bool> {
    if who.is_anonymous() {
        return Ok(false);
    }
    let access = Access::of(site, who, c)?;
    Ok(access.has(c, if creating { ADD } else { MODIFY }))
}

/// May edit `c`.
pub fn can_modify(site: &Site, who: &Principal, c: &Content) -> CoreResult<bool> {
    Ok(!who.is_anonymous() && Access::of(site, who, c)?.has(c, MODIFY))
}

/// May delete `c` (Zope checks "Delete objects" on the object being removed).
pub fn can_delete(site: &Site, who: &Principal, c: &Content) -> CoreResult<bool> {
    Ok(!who.is_anonymous() && Access::of(site, who, c)?.has(c, DELETE))
}

/// The `allowed` set stored with `c` (Plone's allowedRolesAndUsers): the roles
/// with View, plus `user:<id>` for every user or group holding such a role
/// locally (the creator's Owner, sharing grants, acquired ones).
pub fn allowed_to_view(site: &Site, c: &Content, container_allowed: &[String], local: &LocalRoles) -> Vec<String> {
    let workflow = site.workflow_for(&c.portal_type);
    let mut roles: Vec<String> = match (workflow, c.review_state.as_deref()) {
        (Some(wf), Some(state)) => match wf.roles_for(state, VIEW) {
            Some(r) => r.to_vec(),
            None => site.workflows.site_roles(VIEW).to_vec(),
        },
        _ if crate::repo::workingcopy::marked_copy(c) => {
            crate::repo::workingcopy::PRIVATE_VIEW.map(String::from).to_vec()
        }
        _ => container_allowed
            .iter()
            .filter(|a| !a.starts_with("user:"))
            .cloned()
            .collect(),
    };
    if !roles.iter().any(|r| r == "Manager") {
        roles.push("Manager".into());
    }
    let viewers: Vec<String> = local
        .iter()
        .filter(|(_, granted)| granted.iter().any(|g| roles.contains(g)))
        .map(|(p, _)| format!("user:{p}"))
        .collect();
    roles.extend(viewers);
    roles
}
