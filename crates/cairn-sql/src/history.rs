//! Kept versions of objects (history). A version is stored as a patch of
//! the one before it (`cairn_model::delta`) when that is less than half
//! the size of its fields, with a whole copy at least every
//! [`KEYFRAME_EVERY`] versions, so reading one costs a bounded replay and
//! 1,000 small edits of a page keep 1,000 small patches.

use cairn_core::ports::VersionRecord;
use cairn_core::{CoreError, CoreResult};
use cairn_model::Uid;
use cairn_model::delta::{self, Patch};
use serde_json::{Map, Value};

use crate::{Cell, Db, corrupt, raw, raw_execute, raw_integer};

/// Most patches between two whole copies.
pub const KEYFRAME_EVERY: i64 = 50;

pub fn add(db: &impl Db, site: &str, v: &VersionRecord) -> CoreResult<()> {
    let whole = serde_json::to_string(&v.fields).map_err(|e| corrupt("version", e))?;
    let (data, is_delta) = match since_keyframe(db, site, &v.uid)? {
        Some(n) if n.version + 1 == v.version && n.patches + 1 < KEYFRAME_EVERY => {
            let patch = serde_json::to_string(&delta::diff(&n.fields, &v.fields)).map_err(|e| corrupt("version", e))?;
            if patch.len() * 2 < whole.len() {
                (patch, true)
            } else {
                (whole, false)
            }
        }
        _ => (whole, false),
    };
    insert_rows(db, site, &[(v, data, is_delta)])
}

/// Inserts versions as stored (each its data and whether that is a patch)
/// in one statement.
pub(crate) fn insert_rows(db: &impl Db, site: &str, rows: &[(&VersionRecord, String, bool)]) -> CoreResult<()> {
    let mut text = String::from("INSERT INTO versions (site, uid, version, actor, time, comment, data, delta) VALUES ");
    let mut values: Vec<sea_query::Value> = Vec::with_capacity(rows.len() * 8);
    for (i, (v, data, is_delta)) in rows.iter().enumerate() {
        if i > 0 {
            text.push_str(", ");
        }
        let marks: Vec<String> = (1..=8).map(|k| format!("?{}", i * 8 + k)).collect();
        text.push_str(&format!("({})", marks.join(", ")));
        values.extend([
            site.into(),
            v.uid.as_str().into(),
            v.version.into(),
            v.actor.as_str().into(),
            v.time.as_str().into(),
            v.comment.as_str().into(),
            data.as_str().into(),
            (*is_delta).into(),
        ]);
    }
    raw_execute(db, &text, values).map(|_| ())
}

/// Forgets the kept versions of objects purged for good.
pub fn forget(db: &impl Db, site: &str, uids: &[Uid]) -> CoreResult<()> {
    for uid in uids {
        raw_execute(
            db,
            "DELETE FROM versions WHERE site = ?1 AND uid = ?2",
            vec![site.into(), uid.as_str().into()],
        )?;
    }
    Ok(())
}

/// The newest version: its number, its fields, and how many patches lead
/// to it from the last whole copy.
struct Newest {
    version: i64,
    fields: Map<String, Value>,
    patches: i64,
}

fn since_keyframe(db: &impl Db, site: &str, uid: &Uid) -> CoreResult<Option<Newest>> {
    let rows = rows(
        db,
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
        return serde_json::from_str(data).map_err(|e| corrupt("version", e));
    }
    let patch: Patch = serde_json::from_str(data).map_err(|e| corrupt("version", e))?;
    delta::apply(before, &patch).map_err(|e| CoreError::Internal(e.to_string()))
}

/// (version, is a patch, data)
type Row = (i64, bool, String);

fn rows(db: &impl Db, sql: &str, site: &str, uid: &Uid) -> CoreResult<Vec<Row>> {
    raw(db, sql, vec![site.into(), uid.as_str().into()])?
        .into_iter()
        .map(|r| {
            let [version, is_delta, data]: [Cell; 3] = r.try_into().map_err(|_| corrupt("version", "columns"))?;
            Ok((
                version.int().unwrap_or(0),
                is_delta.bool(),
                data.text().unwrap_or_default(),
            ))
        })
        .collect()
}

pub fn list(db: &impl Db, site: &str, uid: &Uid) -> CoreResult<Vec<VersionRecord>> {
    let rows = raw(
        db,
        "SELECT version, actor, time, comment, delta, data FROM versions
         WHERE site = ?1 AND uid = ?2 ORDER BY version",
        vec![site.into(), uid.as_str().into()],
    )?;
    let mut out: Vec<VersionRecord> = Vec::with_capacity(rows.len());
    for row in rows {
        let [version, actor, time, comment, is_delta, data]: [Cell; 6] =
            row.try_into().map_err(|_| corrupt("version", "columns"))?;
        let empty = Map::new();
        let before = out.last().map_or(&empty, |v| &v.fields);
        let fields = decode(before, is_delta.bool(), &data.text().unwrap_or_default())?;
        out.push(VersionRecord {
            uid: uid.clone(),
            version: version.int().unwrap_or(0),
            actor: actor.text().unwrap_or_default(),
            time: time.text().unwrap_or_default(),
            comment: comment.text().unwrap_or_default(),
            fields,
        });
    }
    Ok(out)
}

pub fn last(db: &impl Db, site: &str, uid: &Uid) -> CoreResult<Option<i64>> {
    raw_integer(
        db,
        "SELECT max(version) FROM versions WHERE site = ?1 AND uid = ?2",
        vec![site.into(), uid.as_str().into()],
    )
}
