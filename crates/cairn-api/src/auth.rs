//! Request authentication: Basic for scripts, Bearer JWT for clients, and the
//! `auth_token` cookie Volto sets — accepted on GET/HEAD only, so a cookie can
//! never authorize a write sent from another site.

use axum::http::{HeaderMap, Method, header};
use base64::Engine;
use cairn_core::{Principal, Site, auth};
use sha2_free_key::cache_key;

use crate::AppState;
use crate::error::{ApiError, ApiResult};

/// Cache keys for verified Basic credentials: never the password itself.
mod sha2_free_key {
    use std::hash::{BuildHasher, Hasher};

    /// A keyed hash of site and header value; the random key lives per process.
    pub fn cache_key(state: &std::collections::hash_map::RandomState, site: &str, header: &str) -> u64 {
        let mut h = state.build_hasher();
        h.write(site.as_bytes());
        h.write(&[0]);
        h.write(header.as_bytes());
        h.finish()
    }
}

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            (k == "auth_token" && !v.is_empty()).then(|| v.to_string())
        })
}

/// Who sent the request. Credentials that are present but wrong are a 401,
/// never a silent fall-back to anonymous.
pub fn authenticate(
    app: &AppState,
    site: &Site,
    method: &Method,
    headers: &HeaderMap,
    client: std::net::IpAddr,
) -> ApiResult<Principal> {
    let invalid = || ApiError::unauthorized("Invalid or expired authentication credentials");
    if let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
        return match scheme.to_ascii_lowercase().as_str() {
            "bearer" => auth::check_token(site, rest.trim())?.ok_or_else(invalid),
            "basic" => {
                let key = cache_key(&app.hasher, &site.id, rest);
                // Read before checking: a change made meanwhile leaves the
                // entry stale at once rather than trusted.
                let generation = site.principals.principals_generation();
                if let Some((seen, p)) = app.auth_cache.get(&key)
                    && seen == generation
                {
                    return Ok(p);
                }
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(rest.trim())
                    .map_err(|_| invalid())?;
                let text = String::from_utf8(decoded).map_err(|_| invalid())?;
                let (login, password) = text.split_once(':').ok_or_else(invalid)?;
                let p = checked_login(app, site, login, password, client)?.ok_or_else(invalid)?;
                app.auth_cache.insert(key, (generation, p.clone()));
                Ok(p)
            }
            _ => Err(invalid()),
        };
    }
    if matches!(*method, Method::GET | Method::HEAD)
        && let Some(token) = cookie_token(headers)
    {
        // An expired cookie is treated as logged out, as Volto expects.
        return Ok(auth::check_token(site, &token)?.unwrap_or_else(Principal::anonymous));
    }
    Ok(Principal::anonymous())
}

/// Checks a password under brute-force protection: refused with 429 while
/// this account at this address (or the address) must wait, failures and
/// successes recorded.
pub fn checked_login(
    app: &AppState,
    site: &Site,
    login: &str,
    password: &str,
    client: std::net::IpAddr,
) -> ApiResult<Option<Principal>> {
    if let Some(wait) = app.throttle.wait(&site.id, login, client) {
        return Err(ApiError::too_many_attempts(wait.as_secs().max(1)));
    }
    let found = auth::check_password(site, login, password)?;
    match &found {
        Some(_) => app.throttle.succeeded(&site.id, login, client),
        None => app.throttle.failed(&site.id, login, client),
    }
    Ok(found)
}
