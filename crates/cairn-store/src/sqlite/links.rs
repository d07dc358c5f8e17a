//! The links catalog: which object points to which (relation fields and
//! `resolveuid` links), replaced on every write of the source, dropped when
//! the source leaves the site.

use cairn_core::CoreResult;
use cairn_core::ports::{Link, Relation, RelationQuery};
use cairn_model::{ContentPath, Uid};
use rusqlite::{Connection, params};

use super::db;

pub const DDL: &str = "
CREATE TABLE IF NOT EXISTS links (
    site TEXT NOT NULL,
    source TEXT NOT NULL,
    relation TEXT NOT NULL,
    target TEXT NOT NULL,
    PRIMARY KEY (site, source, relation, target)
);
CREATE INDEX IF NOT EXISTS links_by_target ON links (site, target);
CREATE INDEX IF NOT EXISTS links_by_relation ON links (site, relation);
";

pub fn set(tx: &Connection, site: &str, source: &Uid, targets: &[Link]) -> CoreResult<()> {
    tx.prepare_cached("DELETE FROM links WHERE site = ?1 AND source = ?2")
        .and_then(|mut s| s.execute(params![site, source.as_str()]))
        .map_err(db)?;
    let mut insert = tx
        .prepare_cached("INSERT OR IGNORE INTO links (site, source, relation, target) VALUES (?1, ?2, ?3, ?4)")
        .map_err(db)?;
    for l in targets {
        insert
            .execute(params![site, source.as_str(), l.relation, l.target.as_str()])
            .map_err(db)?;
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
    c.prepare_cached(
        "SELECT DISTINCT source, target FROM links WHERE site = ?1 AND target IN (SELECT value FROM json_each(?2))",
    )
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

/// Relations matching `q`. Criteria left out match anything: the SQL
/// compares a criterion with itself when it is NULL.
pub fn relations(c: &Connection, site: &str, q: &RelationQuery) -> CoreResult<Vec<Relation>> {
    let limit = i64::try_from(q.limit).unwrap_or(i64::MAX);
    c.prepare_cached(
        "SELECT l.source, l.relation, l.target FROM links l
         WHERE l.site = ?1
           AND (?2 IS NULL OR l.source = ?2)
           AND (?3 IS NULL OR l.target = ?3)
           AND (?4 IS NULL OR l.relation = ?4)
           AND (NOT ?5 OR NOT EXISTS (SELECT 1 FROM content c WHERE c.site = l.site AND c.uid = l.target))
         ORDER BY l.relation, l.rowid
         LIMIT ?6",
    )
    .and_then(|mut s| {
        s.query_map(
            params![
                site,
                q.source.as_ref().map(Uid::as_str),
                q.target.as_ref().map(Uid::as_str),
                q.relation,
                q.only_broken,
                limit
            ],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)),
        )?
        .collect::<Result<Vec<_>, _>>()
    })
    .map_err(db)
    .map(|rows| {
        rows.into_iter()
            .filter_map(|(s, relation, t)| {
                Some(Relation {
                    source: Uid::parse(&s).ok()?,
                    relation,
                    target: Uid::parse(&t).ok()?,
                })
            })
            .collect()
    })
}

/// Per relation name: how many, and how many point at nothing in the site.
pub fn stats(c: &Connection, site: &str) -> CoreResult<Vec<(String, u64, u64)>> {
    c.prepare_cached(
        "SELECT l.relation, count(*),
                sum(NOT EXISTS (SELECT 1 FROM content c WHERE c.site = l.site AND c.uid = l.target))
         FROM links l WHERE l.site = ?1 GROUP BY l.relation ORDER BY l.relation",
    )
    .and_then(|mut s| {
        s.query_map(params![site], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<Vec<_>, _>>()
    })
    .map_err(db)
}
