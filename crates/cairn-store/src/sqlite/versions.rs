//! Kept versions of objects (history). A version is stored as a patch of
//! the one before it (`cairn_model::delta`) when that is less than half
//! the size of its fields, with a whole copy at least every
//! [`KEYFRAME_EVERY`] versions, so reading one costs a bounded replay and
//! 1,000 small edits of a page keep 1,000 small patches.

use cairn_core::ports::VersionRecord;
use cairn_core::{CoreError, CoreResult};
use cairn_model::Uid;
use cairn_model::delta::{self, Patch};
use rusqlite::{Connection, params};
use serde_json::{Map, Value};

use super::db;

/// Most patches between two whole copies.
pub const KEYFRAME_EVERY: i64 = 50;

pub fn add(tx: &Connection, site: &str, v: &VersionRecord) -> CoreResult<()> {
    let whole = serde_json::to_string(&v.fields).map_err(db)?;
    let (data, is_delta) = match since_keyframe(tx, site, &v.uid)? {
        Some(n) if n.version + 1 == v.version && n.patches + 1 < KEYFRAME_EVERY => {
            let patch = serde_json::to_string(&delta::diff(&n.fields, &v.fields)).map_err(db)?;
            if patch.len() * 2 < whole.len() {
                (patch, true)
            } else {
                (whole, false)
            }
        }
        _ => (whole, false),
    };
    tx.prepare_cached(
        "INSERT INTO versions (site, uid, version, actor, time, comment, data, delta)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .and_then(|mut s| {
        s.execute(params![
            site,
            v.uid.as_str(),
            v.version,
            v.actor,
            v.time,
            v.comment,
            data,
            is_delta
        ])
    })
    .map(|_| ())
    .map_err(db)
}

/// The newest version: its number, its fields, and how many patches lead
/// to it from the last whole copy.
struct Newest {
    version: i64,
    fields: Map<String, Value>,
    patches: i64,
}

fn since_keyframe(c: &Connection, site: &str, uid: &Uid) -> CoreResult<Option<Newest>> {
    let rows = rows(
        c,
        "SELECT version, delta, data FROM versions WHERE site = ?1 AND uid = ?2 AND version >=
             (SELECT coalesce(max(version), 0) FROM versions WHERE site = ?1 AND uid = ?2 AND NOT delta)
         ORDER BY version",
        site,
        uid,
    )?;
    let patches = rows.iter().filter(|r| r.1).count() as i64;
    let mut fields = Map::new();
    let mut last = None;
    for (version, is_delta, data) in rows {
        fields = decode(&fields, is_delta, &data)?;
        last = Some(version);
    }
    Ok(last.map(|version| Newest {
        version,
        fields,
        patches,
    }))
}

fn decode(before: &Map<String, Value>, is_delta: bool, data: &str) -> CoreResult<Map<String, Value>> {
    if !is_delta {
        return serde_json::from_str(data).map_err(db);
    }
    let patch: Patch = serde_json::from_str(data).map_err(db)?;
    delta::apply(before, &patch).map_err(|e| CoreError::Internal(e.to_string()))
}

type Row = (i64, bool, String);

fn rows(c: &Connection, sql: &str, site: &str, uid: &Uid) -> CoreResult<Vec<Row>> {
    c.prepare_cached(sql)
        .and_then(|mut s| {
            s.query_map(params![site, uid.as_str()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(db)
}

pub fn list(conn: &Connection, site: &str, uid: &Uid) -> CoreResult<Vec<VersionRecord>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT version, actor, time, comment, delta, data FROM versions
             WHERE site = ?1 AND uid = ?2 ORDER BY version",
        )
        .map_err(db)?;
    let rows = stmt
        .query_map(params![site, uid.as_str()], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, bool>(4)?,
                r.get::<_, String>(5)?,
            ))
        })
        .map_err(db)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db)?;
    let mut out: Vec<VersionRecord> = Vec::with_capacity(rows.len());
    for (version, actor, time, comment, is_delta, data) in rows {
        let empty = Map::new();
        let before = out.last().map_or(&empty, |v| &v.fields);
        let fields = decode(before, is_delta, &data)?;
        out.push(VersionRecord {
            uid: uid.clone(),
            version,
            actor,
            time,
            comment,
            fields,
        });
    }
    Ok(out)
}

pub fn last(conn: &Connection, site: &str, uid: &Uid) -> CoreResult<Option<i64>> {
    conn.prepare_cached("SELECT max(version) FROM versions WHERE site = ?1 AND uid = ?2")
        .and_then(|mut s| s.query_row(params![site, uid.as_str()], |r| r.get(0)))
        .map_err(db)
}
