//! Forgotten passwords: `@users/{id}/reset-password` with an empty body
//! mails the user a link with a one-time token; the token and a new
//! password then set the password. Only a hash of the token is stored, one
//! per user (a new request replaces it), for a day. The answer never says
//! whether the user exists or has an address, and a user gets at most one
//! mail per five minutes however often someone asks.

use sha2::{Digest, Sha256};

use super::check_password;
use crate::error::{CoreError, CoreResult};
use crate::jobs::now_ms;
use crate::mail::Mail;
use crate::ports::{WriteBatch, WriteOp};
use crate::site::Site;

/// How long a token works.
const VALID_MS: i64 = 24 * 3600 * 1000;
/// Shortest time between two mails to one user.
const QUIET_MS: i64 = 5 * 60 * 1000;

fn key(id: &str) -> String {
    format!("password_reset.{id}")
}

fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Mails `id` a reset link below `site_url` (the frontend's address of the
/// site), unless the user is unknown, has no address or was mailed just now.
pub fn request(site: &Site, id: &str, site_url: &str) -> CoreResult<()> {
    let smtp = crate::mail::smtp(site)?;
    let Some(user) = site.principals.user(&site.id, id)? else {
        return Ok(());
    };
    if user.email.is_empty() {
        return Ok(());
    }
    let now = now_ms();
    let last = site.store.setting(&site.id, &key(id))?;
    if last
        .as_ref()
        .and_then(|v| v.get("sent"))
        .and_then(serde_json::Value::as_i64)
        .is_some_and(|sent| now - sent < QUIET_MS)
    {
        return Ok(());
    }
    let token = crate::bootstrap::random_secret(24);
    let title = crate::records::text(site, "plone.site_title")?;
    let mail = Mail {
        to: vec![user.email.clone()],
        subject: format!("Password reset request for {title}"),
        body: format!(
            "Someone asked to reset the password of the account '{id}' at {title}.\n\n\
             To choose a new password, open this link within 24 hours:\n\n\
             {site_url}/passwordreset/{token}?userid={id}\n\n\
             If you did not ask for this, ignore this message: your password stays as it is.\n\n\
             -- \n{}\n",
            smtp.from_name
        ),
        reply_to: None,
    };
    site.write(WriteBatch {
        ops: vec![WriteOp::PutSetting {
            key: key(id),
            value: serde_json::json!({"hash": digest(&token), "expires": now + VALID_MS, "sent": now}),
        }],
        jobs: vec![mail.job()],
        ..Default::default()
    })
}

/// Sets `id`'s password with a token from [`request`]'s mail; the token is
/// used up. A wrong, used or expired token is a 403, as in Plone.
pub fn with_token(site: &Site, id: &str, token: &str, new_password: &str) -> CoreResult<()> {
    let invalid = || CoreError::Forbidden("The password reset token is invalid or has expired".into());
    let stored = site.store.setting(&site.id, &key(id))?.ok_or_else(invalid)?;
    let hash = stored
        .get("hash")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default();
    let expires = stored.get("expires").and_then(serde_json::Value::as_i64).unwrap_or(0);
    if hash.is_empty() || hash != digest(token) || now_ms() > expires {
        return Err(invalid());
    }
    check_password(new_password)?;
    let mut user = site.principals.user(&site.id, id)?.ok_or_else(invalid)?;
    user.password_hash = crate::auth::hash_password(new_password)?;
    site.principals.put_user(&site.id, &user)?;
    // Used up: a second use of the same link fails.
    site.store
        .put_setting(&site.id, &key(id), &serde_json::json!({"sent": stored.get("sent")}))
}
