//! The trash: a deleted subtree is kept whole (every object as it was, as
//! JSON) in one row, and leaves the content tables in the same transaction,
//! so it is gone from every listing, search and count at once while nothing
//! of it is lost; its kept versions stay where they were, keyed by UID.

use cairn_core::ports::TrashEntry;
use cairn_core::{Content, CoreResult};
use cairn_model::{ContentPath, Uid};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::db;

/// Table and indexes (created by `migrate`).
pub const DDL: &str = "
CREATE TABLE IF NOT EXISTS trash (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    site TEXT NOT NULL,
    uid TEXT NOT NULL,
    path TEXT NOT NULL,
    title TEXT NOT NULL,
    portal_type TEXT NOT NULL,
    owner TEXT,
    deleted_by TEXT NOT NULL,
    deleted_at INTEGER NOT NULL,
    items INTEGER NOT NULL,
    objects TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS trash_by_site ON trash (site, deleted_at);
";

const META: &str = "id, uid, path, title, portal_type, owner, deleted_by, deleted_at, items";

fn entry(r: &Row<'_>) -> rusqlite::Result<TrashEntry> {
    let text = |i: usize| r.get::<_, String>(i);
    Ok(TrashEntry {
        id: r.get(0)?,
        uid: Uid::parse(&text(1)?).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?,
        path: ContentPath::parse(&text(2)?).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?,
        title: text(3)?,
        portal_type: text(4)?,
        owner: r.get(5)?,
        deleted_by: text(6)?,
        deleted_at: r.get(7)?,
        items: r.get::<_, i64>(8)? as usize,
        objects: Vec::new(),
    })
}

/// Keeps `e` (in the caller's transaction; the caller removes the subtree).
pub fn add(tx: &Connection, site: &str, e: &TrashEntry) -> CoreResult<()> {
    let objects = serde_json::to_string(&e.objects).map_err(db)?;
    tx.prepare_cached(
        "INSERT INTO trash (site, uid, path, title, portal_type, owner, deleted_by, deleted_at, items, objects)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )
    .and_then(|mut s| {
        s.execute(params![
            site,
            e.uid.as_str(),
            e.path.as_str(),
            e.title,
            e.portal_type,
            e.owner,
            e.deleted_by,
            e.deleted_at,
            e.objects.len() as i64,
            objects
        ])
    })
    .map(|_| ())
    .map_err(db)
}

pub fn remove(tx: &Connection, site: &str, id: i64) -> CoreResult<()> {
    tx.execute("DELETE FROM trash WHERE site = ?1 AND id = ?2", params![site, id])
        .map(|_| ())
        .map_err(db)
}

pub fn forget_versions(tx: &Connection, site: &str, uids: &[Uid]) -> CoreResult<()> {
    let mut stmt = tx
        .prepare_cached("DELETE FROM versions WHERE site = ?1 AND uid = ?2")
        .map_err(db)?;
    for uid in uids {
        stmt.execute(params![site, uid.as_str()]).map_err(db)?;
    }
    Ok(())
}

pub fn list(
    c: &Connection,
    site: &str,
    owner: Option<&str>,
    start: usize,
    limit: usize,
) -> CoreResult<(Vec<TrashEntry>, usize)> {
    let filter = "site = ?1 AND (?2 IS NULL OR owner = ?2)";
    let page = c
        .prepare_cached(&format!(
            "SELECT {META} FROM trash WHERE {filter} ORDER BY deleted_at DESC, id DESC LIMIT ?3 OFFSET ?4"
        ))
        .and_then(|mut s| {
            s.query_map(params![site, owner, limit as i64, start as i64], entry)?
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(db)?;
    let total: i64 = c
        .prepare_cached(&format!("SELECT count(*) FROM trash WHERE {filter}"))
        .and_then(|mut s| s.query_row(params![site, owner], |r| r.get(0)))
        .map_err(db)?;
    Ok((page, total as usize))
}

pub fn get(c: &Connection, site: &str, id: i64) -> CoreResult<Option<TrashEntry>> {
    let found = c
        .prepare_cached(&format!(
            "SELECT {META}, objects FROM trash WHERE site = ?1 AND id = ?2"
        ))
        .and_then(|mut s| {
            s.query_row(params![site, id], |r| Ok((entry(r)?, r.get::<_, String>(9)?)))
                .optional()
        })
        .map_err(db)?;
    let Some((mut e, objects)) = found else {
        return Ok(None);
    };
    e.objects = serde_json::from_str::<Vec<Content>>(&objects).map_err(db)?;
    Ok(Some(e))
}

pub fn before(c: &Connection, site: &str, before: i64) -> CoreResult<Vec<i64>> {
    c.prepare_cached("SELECT id FROM trash WHERE site = ?1 AND deleted_at < ?2 ORDER BY id")
        .and_then(|mut s| s.query_map(params![site, before], |r| r.get(0))?.collect())
        .map_err(db)
}
