//! Managing users and groups (`@users`, `@groups`): validation, permission
//! checks and password handling. Storage is the [`PrincipalStore`] port;
//! who may change whom is decided in [`guard`].

mod guard;
pub mod reset;

use serde_json::{Map, Value};

use crate::auth::hash_password;
use crate::error::{CoreError, CoreResult, FieldError};
use crate::images;
use crate::ports::{GroupRecord, PrincipalQuery, UserRecord};
use crate::security::Principal;
use crate::site::Site;

/// The global roles a site offers, with their titles (`@roles`).
pub const ROLES: [&str; 7] = [
    "Contributor",
    "Editor",
    "Member",
    "Reader",
    "Reviewer",
    "Site Administrator",
    "Manager",
];

/// The virtual group every logged-in user belongs to.
pub const AUTHENTICATED_USERS: &str = "AuthenticatedUsers";

const MANAGE_USERS: &str = "Plone Site Setup: Users and Groups";
const MIN_PASSWORD: usize = 8;
/// Member properties stored besides the fixed columns.
const PROPS: [&str; 3] = ["description", "location", "home_page"];

/// May manage users and groups (a site-wide permission).
pub fn may_manage(site: &Site, who: &Principal) -> bool {
    who.has_role("Manager") || site.workflows.site_roles(MANAGE_USERS).iter().any(|r| who.has_role(r))
}

/// The global roles `who` may list (`@roles`): the users and groups control
/// panel's permission, as plone.restapi guards it.
pub fn roles(site: &Site, who: &Principal) -> CoreResult<&'static [&'static str]> {
    require_manager(site, who)?;
    Ok(&ROLES)
}

fn require_manager(site: &Site, who: &Principal) -> CoreResult<()> {
    if may_manage(site, who) {
        Ok(())
    } else {
        Err(CoreError::Unauthorized(
            "You are not allowed to manage users and groups".into(),
        ))
    }
}

fn invalid(field: &str, message: impl Into<String>) -> CoreError {
    CoreError::Validation(vec![FieldError::new(field, message)])
}

/// Ids of users and groups: letters, digits and `._@-`, as Plone's default policy.
fn check_id(field: &str, id: &str) -> CoreResult<()> {
    let ok = !id.is_empty()
        && id.len() <= 100
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '-' | ' '))
        && !id.starts_with(' ');
    if ok {
        Ok(())
    } else {
        Err(invalid(field, format!("'{id}' is not a valid id")))
    }
}

/// With e-mail addresses as login names an address names one account: no
/// other account (`except` aside) may have it, as its address or its id.
fn address_free(site: &Site, email: &str, except: Option<&str>) -> CoreResult<()> {
    if email.is_empty() {
        return Ok(());
    }
    let others = site.principals.users_by_email(&site.id, email, 2)?;
    let named = site.principals.user(&site.id, &email.to_lowercase())?;
    let taken = others.iter().chain(named.iter()).any(|u| Some(u.id.as_str()) != except);
    if taken {
        return Err(invalid("email", "This e-mail address is already in use."));
    }
    Ok(())
}

fn check_email(email: &str) -> CoreResult<()> {
    let ok = email.is_empty()
        || email
            .split_once('@')
            .is_some_and(|(u, d)| !u.is_empty() && d.contains('.'));
    if ok {
        Ok(())
    } else {
        Err(invalid("email", format!("'{email}' is not a valid email address")))
    }
}

fn check_password(password: &str) -> CoreResult<()> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(invalid(
            "password",
            format!("Passwords must contain at least {MIN_PASSWORD} characters."),
        ));
    }
    Ok(())
}

fn check_roles(roles: &[String]) -> CoreResult<()> {
    match roles
        .iter()
        .find(|r| !ROLES.contains(&r.as_str()) && r.as_str() != "Authenticated")
    {
        Some(r) => Err(invalid("roles", format!("Unknown role '{r}'"))),
        None => Ok(()),
    }
}

fn str_of<'a>(body: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    body.get(key).and_then(Value::as_str)
}

fn strings(body: &Map<String, Value>, key: &str) -> CoreResult<Option<Vec<String>>> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| invalid(key, "A list of strings is expected"))
            })
            .collect::<CoreResult<Vec<_>>>()
            .map(Some),
        Some(_) => Err(invalid(key, "A list of strings is expected")),
    }
}

/// Users matching `q`, for managers only.
/// Users matching `q` (one page) and how many match in all, for managers only.
pub fn list_users(site: &Site, who: &Principal, q: &PrincipalQuery) -> CoreResult<(Vec<UserRecord>, usize)> {
    require_manager(site, who)?;
    Ok((
        site.principals.find_users(&site.id, q)?,
        site.principals.count_users(&site.id, q)?,
    ))
}

/// One user: their own record, or any for managers.
pub fn get_user(site: &Site, who: &Principal, id: &str) -> CoreResult<UserRecord> {
    if who.id.as_deref() != Some(id) {
        require_manager(site, who)?;
    }
    site.principals.user(&site.id, id)?.ok_or(CoreError::NotFound)
}

/// Creates a user from `@users` POST; roles default to `Member`.
pub fn create_user(site: &Site, who: &Principal, body: &Map<String, Value>) -> CoreResult<UserRecord> {
    let registering = self_registration(site, who)?;
    if !registering {
        require_manager(site, who)?;
    } else if body.contains_key("roles") || body.contains_key("groups") {
        return Err(CoreError::BadRequest(
            "Who registers cannot choose roles or groups".into(),
        ));
    }
    // With e-mail addresses as login names the address is the account's name.
    let email_login = crate::records::value(site, "plone.use_email_as_login")?.as_bool() == Some(true);
    let lowered;
    let id = if email_login {
        let email = str_of(body, "email")
            .ok_or_else(|| invalid("email", "An e-mail address is required: it is the login name"))?;
        // Login names by address are kept in one case, so `Anna@x.ch` and
        // `anna@x.ch` are one name.
        lowered = email.to_lowercase();
        lowered.as_str()
    } else {
        str_of(body, "username")
            .or_else(|| str_of(body, "email"))
            .ok_or_else(|| CoreError::BadRequest("Property 'username' is required".into()))?
    };
    check_id("username", id)?;
    if site.principals.user(&site.id, id)?.is_some() || site.principals.group(&site.id, id)?.is_some() {
        return Err(invalid("username", format!("The login name '{id}' is already in use.")));
    }
    let reset = body.get("sendPasswordReset").and_then(Value::as_bool).unwrap_or(false);
    let choosing = crate::records::value(site, "plone.enable_user_pwd_choice")?.as_bool() == Some(true);
    if registering && !choosing && body.contains_key("password") {
        return Err(CoreError::BadRequest(
            "Passwords are chosen through the link mailed to the new account".into(),
        ));
    }
    if registering && str_of(body, "email").is_none() {
        return Err(invalid("email", "An e-mail address is required to register"));
    }
    let password = match str_of(body, "password") {
        Some(p) => {
            check_password(p)?;
            p.to_string()
        }
        // Unguessable until the mailed reset link sets one (the caller sends it).
        None if reset || registering => crate::bootstrap::random_secret(24),
        None => {
            return Err(CoreError::BadRequest(
                "You have to either send a password or sendPasswordReset".into(),
            ));
        }
    };
    let email = str_of(body, "email").unwrap_or("");
    check_email(email)?;
    if email_login {
        address_free(site, email, None)?;
    }
    let roles = strings(body, "roles")?.unwrap_or_else(|| vec!["Member".into()]);
    check_roles(&roles)?;
    // Who registers gets Member, which nobody granted them by hand.
    if !registering {
        guard::may_grant(who, &roles)?;
    }
    let groups = strings(body, "groups")?.unwrap_or_default();
    for g in &groups {
        site.principals
            .group(&site.id, g)?
            .ok_or_else(|| invalid("groups", format!("Unknown group '{g}'")))?;
        // Joining a group grants its roles.
        guard::may_change_group(site, who, g)?;
    }
    let props: Map<String, Value> = PROPS
        .iter()
        .filter_map(|k| body.get(*k).map(|v| (k.to_string(), v.clone())))
        .collect();
    let user = UserRecord {
        id: id.to_string(),
        password_hash: hash_password(&password)?,
        fullname: str_of(body, "fullname").unwrap_or("").to_string(),
        email: email.to_string(),
        roles,
        props,
    };
    site.principals.put_user(&site.id, &user)?;
    for g in &groups {
        site.principals.set_member(&site.id, g, id, true)?;
    }
    Ok(user)
}

/// Updates properties; roles (`{"Role": bool}`) only by managers, and
/// someone else only when `who` holds every role they hold.
pub fn update_user(site: &Site, who: &Principal, id: &str, body: &Map<String, Value>) -> CoreResult<()> {
    let mut user = get_user(site, who, id)?;
    if who.id.as_deref() != Some(id) {
        guard::may_change_user(site, who, id)?;
    }
    if let Some(v) = str_of(body, "fullname") {
        user.fullname = v.to_string();
    }
    if let Some(v) = str_of(body, "email") {
        check_email(v)?;
        if crate::records::value(site, "plone.use_email_as_login")?.as_bool() == Some(true) {
            address_free(site, v, Some(id))?;
        }
        user.email = v.to_string();
    }
    // Dropped on every early return below: a refused update leaves no portrait blob.
    let mut uploads = site.uploads.begin();
    if let Some(p) = body.get("portrait") {
        set_portrait(site, &mut user, p, &mut uploads)?;
    }
    for k in PROPS {
        if let Some(v) = body.get(k) {
            user.props.insert(k.to_string(), v.clone());
        }
    }
    if let Some(roles) = body.get("roles") {
        require_manager(site, who)?;
        let map = roles
            .as_object()
            .ok_or_else(|| invalid("roles", "A map of role to true/false is expected"))?;
        for (role, on) in map {
            check_roles(std::slice::from_ref(role))?;
            let on = on.as_bool() == Some(true);
            // Clients send the whole map: only what changes needs the role.
            if user.roles.contains(role) == on {
                continue;
            }
            guard::may_grant(who, [role])?;
            user.roles.retain(|r| r != role);
            if on {
                user.roles.push(role.clone());
            }
        }
    }
    if let Some(pw) = str_of(body, "password") {
        require_manager(site, who)?;
        check_password(pw)?;
        user.password_hash = hash_password(pw)?;
    }
    site.principals.put_user(&site.id, &user)?;
    uploads.commit();
    Ok(())
}

/// Stores a portrait sent as Volto sends files (`{"data", "encoding",
/// "content-type", "filename"}`), or removes it on `null`. The upload must be
/// an image within the pixel limit; it is shrunk into [`images::PORTRAIT_BOX`]
/// and encoded anew, so what anonymous visitors get is an image cairn wrote.
fn set_portrait(
    site: &Site,
    user: &mut UserRecord,
    value: &Value,
    uploads: &mut crate::blobs::Pending<'_>,
) -> CoreResult<()> {
    if value.is_null() {
        user.props.remove("portrait");
        return Ok(());
    }
    let field: cairn_model::FieldDef = serde_json::from_value(serde_json::json!({"name": "portrait", "kind": "image"}))
        .map_err(|e| CoreError::Internal(e.to_string()))?;
    match cairn_model::values::validate(&field, value) {
        Ok(cairn_model::values::FieldInput::Blob(up)) => {
            let (bw, bh) = images::PORTRAIT_BOX;
            let (bytes, kind) = images::reencode_within(&up.data, site.settings.max_image_pixels, bw, bh)
                .map_err(|e| invalid("portrait", format!("The portrait is not accepted: {e}")))?;
            let key = uploads.put(&bytes)?;
            let ext = cairn_model::mime::image_extension(kind.content_type());
            user.props.insert(
                "portrait".into(),
                serde_json::json!({"blob": key, "content-type": kind.content_type(), "filename": format!("portrait.{ext}")}),
            );
            Ok(())
        }
        Ok(_) => Ok(()),
        Err(m) => Err(invalid("portrait", m)),
    }
}

/// The portrait of user `id`: bytes and content type, if there is one. The
/// type is read from the bytes: portraits stored before uploads were checked
/// carry whatever type the client claimed, and a non-image keeps its stored
/// type, which the API then only offers as a download.
pub fn portrait(site: &Site, id: &str) -> CoreResult<Option<(Vec<u8>, String)>> {
    let Some(user) = site.principals.user(&site.id, id)? else {
        return Ok(None);
    };
    let Some(p) = user.props.get("portrait") else {
        return Ok(None);
    };
    let key = p.get("blob").and_then(Value::as_str).unwrap_or("");
    let stored = p
        .get("content-type")
        .and_then(Value::as_str)
        .unwrap_or("application/octet-stream");
    let Some(bytes) = site.blobs.get(key)? else {
        return Ok(None);
    };
    let ct = images::ImageKind::sniff(&bytes).map_or(stored, |k| k.content_type());
    let ct = ct.to_string();
    Ok(Some((bytes, ct)))
}

/// Refused without saying whether the user exists: anonymous callers are
/// asked to log in, others are forbidden.
fn not_allowed_to_change_password(who: &Principal) -> CoreError {
    if who.is_anonymous() {
        CoreError::Unauthorized("Not allowed to change this password".into())
    } else {
        CoreError::Forbidden("You are not allowed to change this password".into())
    }
}

/// `reset-password`: the user with their old password, or a manager
/// directly. Whether `id` exists is only revealed to managers: everyone
/// else gets the same answer for an unknown user as for someone else's
/// account. `check_old` verifies the old password (the API wraps it in the
/// login throttle, so this is no way around it).
pub fn change_password<E: From<CoreError>>(
    site: &Site,
    who: &Principal,
    id: &str,
    body: &Map<String, Value>,
    check_old: impl FnOnce(&str, &str) -> Result<bool, E>,
) -> Result<(), E> {
    let new = str_of(body, "new_password").ok_or_else(|| CoreError::BadRequest("new_password is required".into()))?;
    match str_of(body, "old_password") {
        Some(old) if who.id.as_deref() == Some(id) => {
            if !check_old(id, old)? {
                return Err(CoreError::Forbidden("Incorrect value for current password".into()).into());
            }
        }
        Some(_) => return Err(not_allowed_to_change_password(who).into()),
        None if may_manage(site, who) => guard::may_change_user(site, who, id)?,
        None => return Err(not_allowed_to_change_password(who).into()),
    }
    let mut user = site.principals.user(&site.id, id)?.ok_or(CoreError::NotFound)?;
    check_password(new)?;
    user.password_hash = hash_password(new)?;
    Ok(site.principals.put_user(&site.id, &user)?)
}

/// Whether `who` is an anonymous visitor creating their own account, which
/// the Security control panel allows or not.
pub fn self_registration(site: &Site, who: &Principal) -> CoreResult<bool> {
    Ok(who.is_anonymous() && crate::records::value(site, "plone.enable_self_reg")?.as_bool() == Some(true))
}

/// Deletes a user; `admin` cannot delete itself out of the site.
pub fn delete_user(site: &Site, who: &Principal, id: &str) -> CoreResult<()> {
    require_manager(site, who)?;
    if who.id.as_deref() == Some(id) {
        return Err(CoreError::BadRequest("You cannot delete your own account".into()));
    }
    guard::may_change_user(site, who, id)?;
    if site.principals.delete_user(&site.id, id)? {
        Ok(())
    } else {
        Err(CoreError::NotFound)
    }
}

/// Groups matching `q` (managers only).
pub fn list_groups(site: &Site, who: &Principal, q: &PrincipalQuery) -> CoreResult<Vec<GroupRecord>> {
    require_manager(site, who)?;
    let mut groups = site.principals.find_groups(&site.id, q)?;
    let virtual_group = GroupRecord {
        id: AUTHENTICATED_USERS.into(),
        title: "Authenticated Users (Virtual Group)".into(),
        description: "Automatic Group Provider".into(),
        ..Default::default()
    };
    let wanted = q.id_contains.as_ref().or(q.text.as_ref()).map(|t| t.to_lowercase());
    let matches = |g: &GroupRecord| {
        wanted
            .as_ref()
            .is_none_or(|t| g.id.to_lowercase().contains(t) || g.title.to_lowercase().contains(t))
    };
    // Plone lists the virtual group after the stored ones.
    if matches(&virtual_group) {
        groups.push(virtual_group);
    }
    Ok(groups)
}

pub fn get_group(site: &Site, who: &Principal, id: &str) -> CoreResult<GroupRecord> {
    require_manager(site, who)?;
    site.principals.group(&site.id, id)?.ok_or(CoreError::NotFound)
}

/// Creates a group from `@groups` POST (with optional initial `users`).
pub fn create_group(site: &Site, who: &Principal, body: &Map<String, Value>) -> CoreResult<GroupRecord> {
    require_manager(site, who)?;
    let id =
        str_of(body, "groupname").ok_or_else(|| CoreError::BadRequest("Property 'groupname' is required".into()))?;
    check_id("groupname", id)?;
    if site.principals.group(&site.id, id)?.is_some() || site.principals.user(&site.id, id)?.is_some() {
        return Err(invalid(
            "groupname",
            format!("The group name '{id}' is already in use."),
        ));
    }
    let email = str_of(body, "email").unwrap_or("");
    check_email(email)?;
    let roles = strings(body, "roles")?.unwrap_or_default();
    check_roles(&roles)?;
    guard::may_grant(who, &roles)?;
    let users = strings(body, "users")?.unwrap_or_default();
    let nested = strings(body, "groups")?.unwrap_or_default();
    // Members receive the new group's roles, so they must be people `who` may change.
    for member in users.iter().chain(&nested) {
        guard::may_change_member(site, who, member)?;
    }
    let group = GroupRecord {
        id: id.to_string(),
        title: str_of(body, "title").unwrap_or(id).to_string(),
        description: str_of(body, "description").unwrap_or("").to_string(),
        email: email.to_string(),
        roles,
    };
    site.principals.put_group(&site.id, &group)?;
    for u in &users {
        site.principals.set_member(&site.id, id, u, true)?;
    }
    for member in &nested {
        add_group_member(site, id, member)?;
    }
    Ok(group)
}

/// Updates a group; `users` is a map `{"userid": true|false}`. Only someone
/// holding every role the group gives may change it or its members.
pub fn update_group(site: &Site, who: &Principal, id: &str, body: &Map<String, Value>) -> CoreResult<()> {
    let mut group = get_group(site, who, id)?;
    guard::may_change_group(site, who, id)?;
    for (key, slot) in [("title", &mut group.title), ("description", &mut group.description)] {
        if let Some(v) = str_of(body, key) {
            *slot = v.to_string();
        }
    }
    if let Some(v) = str_of(body, "email") {
        check_email(v)?;
        group.email = v.to_string();
    }
    if let Some(roles) = strings(body, "roles")? {
        check_roles(&roles)?;
        // Clients send the whole list: only added and removed roles need holding.
        let changed = roles
            .iter()
            .filter(|r| !group.roles.contains(r))
            .chain(group.roles.iter().filter(|r| !roles.contains(r)));
        guard::may_grant(who, changed)?;
        group.roles = roles;
    }
    if let Some(users) = body.get("users") {
        let map = users
            .as_object()
            .ok_or_else(|| invalid("users", "A map of user id to true/false is expected"))?;
        let members = site.principals.members(&site.id, id)?;
        for (member, on) in map {
            let on = on.as_bool() == Some(true);
            if on && site.principals.user(&site.id, member)?.is_none() {
                return Err(invalid("users", format!("Unknown user '{member}'")));
            }
            if members.contains(member) != on {
                guard::may_change_user(site, who, member)?;
            }
            site.principals.set_member(&site.id, id, member, on)?;
        }
    }
    if let Some(groups) = strings(body, "groups")? {
        for member in &groups {
            guard::may_change_member(site, who, member)?;
            add_group_member(site, id, member)?;
        }
    }
    site.principals.put_group(&site.id, &group)
}

/// Makes group `member` a member of group `id`: `groups` in a group body lists
/// groups to nest inside it, as plone.restapi's answers show.
fn add_group_member(site: &Site, id: &str, member: &str) -> CoreResult<()> {
    if member == id || site.principals.group(&site.id, member)?.is_none() {
        return Err(invalid("groups", format!("Cannot add the group '{member}' to '{id}'")));
    }
    site.principals.set_member(&site.id, id, member, true)
}

/// Deletes a group, when `who` holds every role it gives.
pub fn delete_group(site: &Site, who: &Principal, id: &str) -> CoreResult<()> {
    require_manager(site, who)?;
    guard::may_change_group(site, who, id)?;
    if site.principals.delete_group(&site.id, id)? {
        Ok(())
    } else {
        Err(CoreError::NotFound)
    }
}
