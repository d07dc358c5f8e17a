//! Kept versions of objects (history).

use cairn_core::CoreResult;
use cairn_core::ports::VersionRecord;
use cairn_model::Uid;
use rusqlite::Connection;
use sea_query::{Expr, ExprTrait, Order, Query, SqliteQueryBuilder};
use sea_query_rusqlite::RusqliteBinder;

use super::db;
use super::schema::Versions;
use super::write::exec;

pub fn add(tx: &Connection, site: &str, v: &VersionRecord) -> CoreResult<()> {
    let data = serde_json::to_string(&v.fields).unwrap_or_else(|_| "{}".into());
    let (sql, values) = Query::insert()
        .into_table(Versions::Table)
        .columns([
            Versions::Site,
            Versions::Uid,
            Versions::Version,
            Versions::Actor,
            Versions::Time,
            Versions::Comment,
            Versions::Data,
        ])
        .values_panic([
            site.into(),
            v.uid.as_str().into(),
            v.version.into(),
            v.actor.as_str().into(),
            v.time.as_str().into(),
            v.comment.as_str().into(),
            data.into(),
        ])
        .build_rusqlite(SqliteQueryBuilder);
    exec(tx, &sql, &values).map(|_| ())
}

pub fn list(conn: &Connection, site: &str, uid: &Uid) -> CoreResult<Vec<VersionRecord>> {
    let (sql, values) = Query::select()
        .columns([
            Versions::Version,
            Versions::Actor,
            Versions::Time,
            Versions::Comment,
            Versions::Data,
        ])
        .from(Versions::Table)
        .and_where(Expr::col(Versions::Site).eq(site))
        .and_where(Expr::col(Versions::Uid).eq(uid.as_str()))
        .order_by(Versions::Version, Order::Asc)
        .build_rusqlite(SqliteQueryBuilder);
    let mut stmt = conn.prepare_cached(&sql).map_err(db)?;
    let rows = stmt
        .query_map(&*values.as_params(), |r| {
            let data: String = r.get(4)?;
            Ok(VersionRecord {
                uid: uid.clone(),
                version: r.get(0)?,
                actor: r.get(1)?,
                time: r.get(2)?,
                comment: r.get(3)?,
                fields: serde_json::from_str(&data).unwrap_or_default(),
            })
        })
        .map_err(db)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(db)
}
