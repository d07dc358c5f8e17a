//! Who may hand out which role. The one rule behind `@users`, `@groups` and
//! `@sharing`: nobody grants or takes away a role they do not hold
//! themselves (where they act), so no one can raise anybody, themselves
//! included, above their own station.

use crate::error::{CoreError, CoreResult};

/// Whether holding `held` counts as holding `role`. A Manager holds every
/// power and a Site Administrator every power but the Manager's (Plone's
/// rolemap); an Owner already holds, on their own content, what the
/// Contributor, Editor and Reader roles give there, and an Editor what a
/// Reader may do. Every other role covers only itself.
fn covers(held: &str, role: &str) -> bool {
    held == role
        || match held {
            "Manager" => true,
            "Site Administrator" => role != "Manager",
            "Owner" => matches!(role, "Contributor" | "Editor" | "Reader"),
            "Editor" => role == "Reader",
            _ => false,
        }
}

/// Whether someone holding the roles `held` may grant or revoke `role`.
pub fn may_delegate(held: &[String], role: &str) -> bool {
    held.iter().any(|h| covers(h, role))
}

/// The first of `roles` that someone holding `held` may not delegate.
pub fn first_withheld<'a>(held: &[String], roles: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    roles.into_iter().find(|r| !may_delegate(held, r))
}

/// Refuses (403) when `roles` include one that `held` does not cover.
pub fn require_delegable<'a>(held: &[String], roles: impl IntoIterator<Item = &'a str>) -> CoreResult<()> {
    match first_withheld(held, roles) {
        Some(role) => Err(CoreError::Forbidden(format!(
            "You cannot grant or revoke the {role} role: you do not hold it yourself"
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(roles: &[&str]) -> Vec<String> {
        roles.iter().map(|r| r.to_string()).collect()
    }

    #[test]
    fn only_a_manager_delegates_manager() {
        assert!(may_delegate(&held(&["Manager"]), "Manager"));
        assert!(!may_delegate(&held(&["Site Administrator", "Member"]), "Manager"));
        assert!(may_delegate(&held(&["Site Administrator"]), "Reviewer"));
    }

    #[test]
    fn other_roles_delegate_what_they_hold() {
        let editor = held(&["Authenticated", "Editor"]);
        assert!(may_delegate(&editor, "Editor") && may_delegate(&editor, "Reader"));
        assert!(!may_delegate(&editor, "Reviewer") && !may_delegate(&editor, "Contributor"));
        assert!(!may_delegate(&held(&["Reviewer"]), "Reader"));
        assert_eq!(first_withheld(&editor, ["Reader", "Reviewer"]), Some("Reviewer"));
    }
}
