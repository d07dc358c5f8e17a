//! Which users and groups an administrator may change. Managing users is not
//! enough: changing someone (their password, address, roles, memberships, or
//! deleting them) is a way to become them, so an actor may only change a
//! principal whose every role the actor holds too — a Site Administrator never
//! touches a Manager or the group that makes people Managers. The role rule
//! itself lives in [`crate::security::delegation`].

use crate::auth::{group_roles, principal};
use crate::error::{CoreError, CoreResult};
use crate::security::Principal;
use crate::security::delegation::{first_withheld, require_delegable};
use crate::site::Site;

fn withheld_from(who: &Principal, kind: &str, id: &str, roles: &[String]) -> CoreResult<()> {
    match first_withheld(&who.roles, roles.iter().map(String::as_str)) {
        Some(role) => Err(CoreError::Forbidden(format!(
            "You cannot change the {kind} '{id}': it holds the {role} role, which you do not"
        ))),
        None => Ok(()),
    }
}

/// Refuses unless `who` holds every role user `id` holds (their own and
/// their groups'). Unknown users pass: the caller reports them.
pub fn may_change_user(site: &Site, who: &Principal, id: &str) -> CoreResult<()> {
    let Some(user) = site.principals.user(&site.id, id)? else {
        return Ok(());
    };
    withheld_from(who, "user", id, &principal(site, user)?.roles)
}

/// Refuses unless `who` holds every role group `id` gives its members.
pub fn may_change_group(site: &Site, who: &Principal, id: &str) -> CoreResult<()> {
    withheld_from(who, "group", id, &group_roles(site, id)?)
}

/// Refuses unless `who` may change member `id` of a group (a user or a group).
pub fn may_change_member(site: &Site, who: &Principal, id: &str) -> CoreResult<()> {
    if site.principals.group(&site.id, id)?.is_some() {
        may_change_group(site, who, id)
    } else {
        may_change_user(site, who, id)
    }
}

/// Refuses unless `who` holds every role in `roles` (being granted or revoked).
pub fn may_grant<'a>(who: &Principal, roles: impl IntoIterator<Item = &'a String>) -> CoreResult<()> {
    require_delegable(&who.roles, roles.into_iter().map(String::as_str))
}
