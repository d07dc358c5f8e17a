//! Credentials: argon2 password hashes and plone.restapi-compatible JWTs
//! (HS256 with `sub`, `fullname` and `exp`).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::error::{CoreError, CoreResult};
use crate::ports::UserRecord;
use crate::security::Principal;
use crate::site::Site;

/// Hashes a password for storage.
pub fn hash_password(password: &str) -> CoreResult<String> {
    let salt =
        SaltString::encode_b64(&rand::random::<[u8; 16]>()).map_err(|e| CoreError::Internal(format!("salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| CoreError::Internal(format!("hashing: {e}")))
}

pub(crate) fn verify(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// The groups `member` (a user or a group) belongs to, directly or through
/// groups inside groups, sorted.
fn enclosing_groups(site: &Site, member: &str) -> CoreResult<Vec<String>> {
    let mut groups: Vec<String> = Vec::new();
    let mut pending = site.principals.groups_of(&site.id, member)?;
    while let Some(g) = pending.pop() {
        if groups.contains(&g) || groups.len() > 100 {
            continue;
        }
        pending.extend(site.principals.groups_of(&site.id, &g)?);
        groups.push(g);
    }
    groups.sort();
    Ok(groups)
}

/// `own` plus the roles of `groups`, sorted and without duplicates.
fn with_group_roles(site: &Site, mut own: Vec<String>, groups: &[String]) -> CoreResult<Vec<String>> {
    for g in groups {
        if let Some(group) = site.principals.group(&site.id, g)? {
            own.extend(group.roles.into_iter().filter(|r| r != "Authenticated"));
        }
    }
    own.sort();
    own.dedup();
    Ok(own)
}

/// The principal a stored user acts as: their roles plus their groups' roles.
pub fn principal(site: &Site, u: UserRecord) -> CoreResult<Principal> {
    let groups = enclosing_groups(site, &u.id)?;
    let roles = with_group_roles(site, u.roles, &groups)?;
    Ok(Principal {
        id: Some(u.id),
        fullname: u.fullname,
        roles,
        groups,
    })
}

/// The roles every member of group `id` receives: its own and those of the
/// groups it belongs to (empty for an unknown group).
pub fn group_roles(site: &Site, id: &str) -> CoreResult<Vec<String>> {
    let own = match site.principals.group(&site.id, id)? {
        Some(g) => g.roles.into_iter().filter(|r| r != "Authenticated").collect(),
        None => Vec::new(),
    };
    with_group_roles(site, own, &enclosing_groups(site, id)?)
}

/// The user with this login and password, or `None`.
pub fn check_password(site: &Site, login: &str, password: &str) -> CoreResult<Option<Principal>> {
    let user = match site.principals.user(&site.id, login)? {
        Some(u) => Some(u),
        None => by_email(site, login)?,
    };
    let Some(user) = user else {
        // Hash anyway so an unknown login takes as long as a wrong password.
        let _ = verify(
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$8mzmL0Ckp9/5Tz/9vPjAJwG8VbcvFVyYqJmDqjmkqP8",
            password,
        );
        return Ok(None);
    };
    if !verify(&user.password_hash, password) {
        return Ok(None);
    }
    principal(site, user).map(Some)
}

/// With "Use email address as login name" on (Security panel), the one user
/// whose e-mail address is `login` (an address two accounts share names none).
fn by_email(site: &Site, login: &str) -> CoreResult<Option<crate::ports::UserRecord>> {
    if !login.contains('@') || crate::records::value(site, "plone.use_email_as_login")?.as_bool() != Some(true) {
        return Ok(None);
    }
    let mut found = site.principals.users_by_email(&site.id, login, 2)?;
    Ok(if found.len() == 1 { found.pop() } else { None })
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    fullname: String,
    exp: u64,
    /// A fingerprint of the password the token was issued under: changing the
    /// password ends every token issued before (clients ignore the claim).
    pwv: String,
}

/// A short, one-way fingerprint of a stored password hash.
fn fingerprint(password_hash: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(&Sha256::digest(password_hash.as_bytes())[..6])
}

/// Issues a token for `who`.
pub fn issue_token(site: &Site, who: &Principal) -> CoreResult<String> {
    let id = who
        .id
        .clone()
        .ok_or_else(|| CoreError::Unauthorized("anonymous".into()))?;
    let exp = jiff::Timestamp::now().as_second() as u64 + site.token_timeout;
    let user = site
        .principals
        .user(&site.id, &id)?
        .ok_or_else(|| CoreError::Unauthorized("unknown user".into()))?;
    let claims = Claims {
        sub: id,
        fullname: who.fullname.clone(),
        exp,
        pwv: fingerprint(&user.password_hash),
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(&site.jwt_secret),
    )
    .map_err(|e| CoreError::Internal(format!("signing: {e}")))
}

/// The user a valid, unexpired token names; only HS256 with the site secret passes.
pub fn check_token(site: &Site, token: &str) -> CoreResult<Option<Principal>> {
    let mut v = Validation::new(Algorithm::HS256);
    v.set_required_spec_claims(&["exp", "sub"]);
    v.leeway = 0;
    // The current secret first; previous ones keep tokens valid through a rotation.
    let secrets = std::iter::once(&site.jwt_secret).chain(site.jwt_previous_secrets.iter());
    let Some(data) = secrets
        .filter_map(|secret| jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(secret), &v).ok())
        .next()
    else {
        return Ok(None);
    };
    match site.principals.user(&site.id, &data.claims.sub)? {
        Some(u) if fingerprint(&u.password_hash) == data.claims.pwv => principal(site, u).map(Some),
        _ => Ok(None),
    }
}
