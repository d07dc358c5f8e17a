//! Who is asking and what they may do.
//!
//! This is the foundation's model: global roles and the creator's ownership.
//! Local roles, groups and per-state permission maps are declared in workflow
//! files by the security issue; every check already goes through these
//! functions so that work replaces their bodies, not their call sites.

use crate::content::Content;
use crate::ports::ViewFilter;

/// The authenticated user (or anonymous) making a request.
#[derive(Debug, Clone, Default)]
pub struct Principal {
    /// `None` for anonymous.
    pub id: Option<String>,
    pub fullname: String,
    pub roles: Vec<String>,
}

/// Roles that see and manage everything in a site.
const ADMIN_ROLES: [&str; 2] = ["Manager", "Site Administrator"];

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

    pub fn is_admin(&self) -> bool {
        ADMIN_ROLES.iter().any(|r| self.has_role(r))
    }

    /// The principals matched against each object's `allowed` set.
    pub fn view_filter(&self) -> ViewFilter {
        if self.is_admin() {
            return ViewFilter::unrestricted();
        }
        let mut p = vec!["Anonymous".to_string()];
        if let Some(id) = &self.id {
            p.push("Authenticated".into());
            p.push(format!("user:{id}"));
            p.extend(self.roles.iter().cloned());
        }
        ViewFilter { principals: Some(p) }
    }

    fn owns(&self, c: &Content) -> bool {
        self.id
            .as_ref()
            .is_some_and(|id| c.strings("creators").first() == Some(id))
    }

    /// May add content inside `container`.
    pub fn can_add(&self, container: &Content) -> bool {
        self.is_admin()
            || self.has_role("Contributor")
            || self.has_role("Editor")
            || (self.owns(container) && self.has_role("Member"))
    }

    /// May edit `c`.
    pub fn can_modify(&self, c: &Content) -> bool {
        self.is_admin() || self.has_role("Editor") || self.owns(c)
    }

    /// May delete `c`.
    pub fn can_delete(&self, c: &Content) -> bool {
        self.can_modify(c)
    }

    /// May read the authoring metadata (`@types`, edit actions).
    pub fn can_author(&self) -> bool {
        self.is_admin() || self.has_role("Contributor") || self.has_role("Editor")
    }
}

/// Roles that may view an object in each state of the shipped workflows
/// (simple_publication_workflow's permission map). `None` state = no workflow,
/// which follows the container.
pub fn view_roles(state: Option<&str>, creator: Option<&str>, parent_allowed: &[String]) -> Vec<String> {
    let mut roles: Vec<String> = match state {
        None => return parent_allowed.to_vec(),
        Some("published") | Some("external") => vec!["Anonymous".into()],
        Some("internally_published") | Some("internal") => vec!["Authenticated".into()],
        Some("pending") => ["Contributor", "Editor", "Reader", "Reviewer"]
            .map(String::from)
            .to_vec(),
        Some(_) => ["Contributor", "Editor", "Reader"].map(String::from).to_vec(),
    };
    roles.extend(ADMIN_ROLES.map(String::from));
    if let Some(c) = creator {
        roles.push(format!("user:{c}"));
    }
    roles
}

/// The initial state of a workflow (`""` means no workflow).
pub fn initial_state(workflow: &str) -> Option<String> {
    match workflow {
        "" => None,
        "one_state_workflow" => Some("published".into()),
        "intranet_workflow" | "intranet_folder_workflow" => Some("internal".into()),
        _ => Some("private".into()),
    }
}
