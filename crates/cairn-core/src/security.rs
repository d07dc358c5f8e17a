//! Who is asking and what they may do: Plone's roles and permissions.
//!
//! A permission on an object is granted to roles by the object's workflow
//! state (for the permissions that workflow manages) or else by the site's
//! rolemap. A principal holds its global roles everywhere and `Owner` on what
//! it created. Objects without a workflow acquire View from their container.
//! Every handler checks through these functions; none decides on its own.

use std::borrow::Cow;

use crate::content::Content;
use crate::ports::ViewFilter;
use crate::site::Site;

pub const VIEW: &str = "View";
pub const MODIFY: &str = "Modify portal content";
pub const ADD: &str = "Add portal content";
pub const DELETE: &str = "Delete objects";
pub const REVIEW: &str = "Review portal content";
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
        p.extend(who.roles.iter().cloned());
    }
    let inactive_ok = site.workflows.site_roles(INACTIVE).iter().any(|r| who.has_role(r));
    let active_at = (!inactive_ok).then(|| cairn_model::time::format_ts(jiff::Timestamp::now()));
    ViewFilter {
        principals: Some(p),
        active_at,
    }
}

/// The roles `who` holds on `c`: implicit, global and local (Owner).
pub fn roles_on(who: &Principal, c: &Content) -> Vec<String> {
    let mut roles = vec!["Anonymous".to_string()];
    if let Some(id) = &who.id {
        roles.push("Authenticated".into());
        roles.extend(who.roles.iter().cloned());
        if c.strings("creators").first() == Some(id) {
            roles.push("Owner".into());
        }
    }
    roles
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
        // Stored when the object was written: the container's View roles.
        return Cow::Owned(c.allowed.iter().filter(|a| !a.starts_with("user:")).cloned().collect());
    }
    Cow::Borrowed(site.workflows.site_roles(permission))
}

/// Whether `who` holds `permission` on `c`.
pub fn has_permission(site: &Site, who: &Principal, c: &Content, permission: &str) -> bool {
    if who.has_role("Manager") {
        return true;
    }
    let granted = permission_roles(site, c, permission);
    roles_on(who, c).iter().any(|r| granted.contains(r))
}

/// May add an object of `type_id` inside `container`.
pub fn can_add(site: &Site, who: &Principal, container: &Content, type_id: &str) -> bool {
    let type_permission = site
        .registry
        .get(type_id)
        .map(|t| t.def.add_permission.as_str())
        .unwrap_or("");
    has_permission(site, who, container, ADD)
        && (type_permission.is_empty() || has_permission(site, who, container, type_permission))
}

/// May add anything at all inside `container` (the toolbar's add menu).
pub fn can_add_any(site: &Site, who: &Principal, container: &Content) -> bool {
    has_permission(site, who, container, ADD)
}

/// May edit `c`.
pub fn can_modify(site: &Site, who: &Principal, c: &Content) -> bool {
    !who.is_anonymous() && has_permission(site, who, c, MODIFY)
}

/// May delete `c` (Zope checks "Delete objects" on the object being removed).
pub fn can_delete(site: &Site, who: &Principal, c: &Content) -> bool {
    !who.is_anonymous() && has_permission(site, who, c, DELETE)
}

/// The `allowed` set stored with `c` (Plone's allowedRolesAndUsers): the roles
/// with View, plus `user:<id>` for each user holding such a role locally.
pub fn allowed_to_view(site: &Site, c: &Content, container_allowed: &[String]) -> Vec<String> {
    let workflow = site.workflow_for(&c.portal_type);
    let mut roles: Vec<String> = match (workflow, c.review_state.as_deref()) {
        (Some(wf), Some(state)) => match wf.roles_for(state, VIEW) {
            Some(r) => r.to_vec(),
            None => site.workflows.site_roles(VIEW).to_vec(),
        },
        _ => container_allowed
            .iter()
            .filter(|a| !a.starts_with("user:"))
            .cloned()
            .collect(),
    };
    if !roles.iter().any(|r| r == "Manager") {
        roles.push("Manager".into());
    }
    if roles.iter().any(|r| r == "Owner")
        && let Some(creator) = c.strings("creators").first()
    {
        roles.push(format!("user:{creator}"));
    }
    roles
}
