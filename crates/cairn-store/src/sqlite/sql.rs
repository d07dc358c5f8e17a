//! A SQLite connection as the shared statements' [`Db`]: statements are
//! prepared once per connection (`prepare_cached`) and rows come back as
//! cells.

use cairn_sql::{Cell, Db, Dialect};
use rusqlite::Connection;
use rusqlite::types::ValueRef;
use sea_query::Values;
use sea_query_rusqlite::{RusqliteValue, RusqliteValues};

use super::db;

/// A connection or an open transaction (which derefs to one).
pub struct Sql<'a>(pub &'a Connection);

fn params(values: Values) -> RusqliteValues {
    RusqliteValues(values.0.into_iter().map(RusqliteValue).collect())
}

impl Db for Sql<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn rows(&self, sql: &str, values: Values) -> cairn_core::CoreResult<Vec<Vec<Cell>>> {
        let values = params(values);
        let mut stmt = self.0.prepare_cached(sql).map_err(db)?;
        let width = stmt.column_count();
        let rows = stmt
            .query_map(&*values.as_params(), |r| {
                (0..width)
                    .map(|i| {
                        Ok(match r.get_ref(i)? {
                            ValueRef::Null => Cell::Null,
                            ValueRef::Integer(n) => Cell::Int(n),
                            ValueRef::Real(f) => Cell::Int(f as i64),
                            ValueRef::Text(t) | ValueRef::Blob(t) => {
                                Cell::Text(String::from_utf8_lossy(t).into_owned())
                            }
                        })
                    })
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(db)?;
        rows.collect::<Result<_, _>>().map_err(db)
    }

    fn execute(&self, sql: &str, values: Values) -> cairn_core::CoreResult<usize> {
        let values = params(values);
        self.0
            .prepare_cached(sql)
            .and_then(|mut s| s.execute(&*values.as_params()))
            .map_err(db)
    }
}

/// Runs a sea-query statement built for SQLite (principals, jobs).
pub(crate) fn exec(conn: &Connection, sql: &str, values: &RusqliteValues) -> cairn_core::CoreResult<usize> {
    conn.prepare_cached(sql)
        .and_then(|mut s| s.execute(&*values.as_params()))
        .map_err(db)
}
