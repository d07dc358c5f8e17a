//! Redirects and aliases (`@aliases`): old paths of moved or renamed objects
//! keep working, and editors can add paths of their own.

use cairn_model::ContentPath;
use cairn_model::time::format_ts;
use jiff::Timestamp;

use super::read::get_visible;
use crate::content::Content;
use crate::error::{CoreError, CoreResult};
use crate::ports::{Redirect, WriteBatch, WriteOp};
use crate::security::{Access, Principal};
use crate::site::Site;

const MANAGE_CONTEXT: &str = "Manage Context Aliases";
const MANAGE_PORTAL: &str = "Manage Portal Aliases";

/// The ops a move or rename of `from` to `to` adds to its batch: a redirect
/// from the old path, older redirects re-pointed, none left at the new path.
pub fn on_move(from: &ContentPath, to: &ContentPath) -> Vec<WriteOp> {
    vec![
        WriteOp::RetargetRedirects {
            from: from.clone(),
            to: to.clone(),
        },
        WriteOp::RemoveRedirect(to.clone()),
        WriteOp::AddRedirect(Redirect {
            from: from.clone(),
            to: to.clone(),
            manual: false,
            created: format_ts(Timestamp::now()),
        }),
    ]
}

/// Where a missing `path` now lives: its own redirect, or its closest
/// redirected ancestor with the rest of the path appended.
pub fn resolve(site: &Site, path: &ContentPath) -> CoreResult<Option<ContentPath>> {
    if path.is_root() {
        return Ok(None);
    }
    let mut candidates = path.ancestors();
    candidates.retain(|p| !p.is_root());
    candidates.push(path.clone());
    let found = site.store.redirects_from(&site.id, &candidates)?;
    let Some(best) = found.into_iter().max_by_key(|r| r.from.depth()) else {
        return Ok(None);
    };
    let rest = &path.as_str()[best.from.as_str().len()..];
    Ok(ContentPath::parse(&format!("{}{rest}", best.to)).ok())
}

fn require(site: &Site, who: &Principal, c: &Content, permission: &str) -> CoreResult<()> {
    if who.is_anonymous() {
        return Err(CoreError::Unauthorized("You are not allowed to manage aliases".into()));
    }
    if Access::of(site, who, c)?.has(c, permission) {
        Ok(())
    } else {
        Err(CoreError::Forbidden("You are not allowed to manage aliases".into()))
    }
}

/// Aliases of the object at `path` (or every redirect of the site, filtered
/// by `query`, when `path` is the root).
pub fn list(
    site: &Site,
    who: &Principal,
    path: &ContentPath,
    filter: &crate::ports::RedirectFilter,
    start: usize,
    limit: usize,
) -> CoreResult<(Vec<Redirect>, usize)> {
    let c = get_visible(site, path, who)?;
    let (permission, target) = if c.is_root() {
        (MANAGE_PORTAL, None)
    } else {
        (MANAGE_CONTEXT, Some(&c.path))
    };
    require(site, who, &c, permission)?;
    site.store.redirects(&site.id, target, filter, start, limit)
}

/// One alias to add: its path, its target (site root only) and optionally
/// the date it is recorded with.
#[derive(Debug, Clone, Default)]
pub struct NewAlias {
    pub path: String,
    pub redirect_to: Option<String>,
    pub datetime: Option<String>,
}

/// Adds aliases: on an object, each path leads to it; on the site root,
/// each names its own target.
pub fn add(site: &Site, who: &Principal, path: &ContentPath, items: &[NewAlias]) -> CoreResult<()> {
    let c = get_visible(site, path, who)?;
    let root = c.is_root();
    require(site, who, &c, if root { MANAGE_PORTAL } else { MANAGE_CONTEXT })?;
    let mut batch = WriteBatch::default();
    for item in items {
        let from = ContentPath::parse(&item.path).map_err(|e| CoreError::BadRequest(e.to_string()))?;
        let to = match (root, &item.redirect_to) {
            (false, _) => c.path.clone(),
            (true, Some(t)) => ContentPath::parse(t).map_err(|e| CoreError::BadRequest(e.to_string()))?,
            (true, None) => return Err(CoreError::BadRequest("Each alias needs 'redirect-to'".into())),
        };
        if from.is_root() || site.store.by_path(&site.id, &from)?.is_some() {
            return Err(CoreError::BadRequest(format!(
                "{from} is in use by an object and cannot be an alias"
            )));
        }
        if site.store.by_path(&site.id, &to)?.is_none() {
            return Err(CoreError::BadRequest(format!("The alias target {to} does not exist")));
        }
        let created = match &item.datetime {
            Some(d) => format_ts(cairn_model::values::parse_datetime(d).map_err(CoreError::BadRequest)?),
            None => format_ts(Timestamp::now()),
        };
        batch.ops.push(WriteOp::AddRedirect(Redirect {
            from,
            to,
            manual: true,
            created,
        }));
    }
    site.write(batch)
}

/// Removes aliases by their paths.
pub fn remove(site: &Site, who: &Principal, path: &ContentPath, paths: &[String]) -> CoreResult<()> {
    let c = get_visible(site, path, who)?;
    require(site, who, &c, if c.is_root() { MANAGE_PORTAL } else { MANAGE_CONTEXT })?;
    let mut batch = WriteBatch::default();
    for p in paths {
        let from = ContentPath::parse(p).map_err(|e| CoreError::BadRequest(e.to_string()))?;
        batch.ops.push(WriteOp::RemoveRedirect(from));
    }
    site.write(batch)
}
