//! The links catalog: which object points to which (relation fields and
//! `resolveuid` links), replaced on every write of the source, dropped when
//! the source leaves the site.

use cairn_core::CoreResult;
use cairn_model::{ContentPath, Uid};
use rusqlite::{Connection, params};

use super::db;

pub const DDL: &str = "
CREATE TABLE IF NOT EXISTS links (
    site TEXT NOT NULL,
    source TEXT NOT NULL,
    target TEXT NOT NULL,
    PRIMARY KEY (site, source, target)
);
CREATE INDEX IF NOT EXISTS links_by_target ON links (site, target);
";

pub fn set(tx: &Connection, site: &str, source: &Uid, targets: &[Uid]) -> CoreResult<()> {
    tx.prepare_cached("DELETE FROM links WHERE site = ?1 AND source = ?2")
        .and_then(|mut s| s.execute(params![site, source.as_str()]))
        .map_err(db)?;
    let mut insert = tx
        .prepare_cached("INSERT OR IGNORE INTO links (site, source, target) VALUES (?1, ?2, ?3)")
        .map_err(db)?;
    for t in targets {
        insert.execute(params![site, source.as_str(), t.as_str()]).map_err(db)?;
    }
    Ok(())
}

/// Drops the links of every object at or below `path` (before it leaves).
pub fn drop_subtree(tx: &Connection, site: &str, path: &ContentPath) -> CoreResult<()> {
    let p = path.as_str();
    tx.prepare_cached(
        "DELETE FROM links WHERE site = ?1 AND source IN
            (SELECT uid FROM content WHERE site = ?1 AND (path = ?2 OR (path > ?3 AND path < ?4)))",
    )
    .and_then(|mut s| s.execute(params![site, p, format!("{p}/"), format!("{p}0")]))
    .map(|_| ())
    .map_err(db)
}

pub fn to(c: &Connection, site: &str, targets: &[Uid]) -> CoreResult<Vec<(Uid, Uid)>> {
    let list = serde_json::to_string(&targets.iter().map(Uid::as_str).collect::<Vec<_>>()).map_err(db)?;
    c.prepare_cached("SELECT source, target FROM links WHERE site = ?1 AND target IN (SELECT value FROM json_each(?2))")
        .and_then(|mut s| {
            s.query_map(params![site, list], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()
        })
        .map_err(db)
        .map(|rows| {
            rows.into_iter()
                .filter_map(|(s, t)| Some((Uid::parse(&s).ok()?, Uid::parse(&t).ok()?)))
                .collect()
        })
}
