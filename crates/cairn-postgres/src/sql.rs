//! A PostgreSQL client (or open transaction) as the shared statements'
//! [`Db`]. Every statement goes out with its parameter types named
//! (`query_typed`): one round trip, no prepare step, and no guessing of a
//! bare mark's type by the server.

use std::cell::RefCell;

use cairn_core::{CoreError, CoreResult};
use cairn_sql::{Cell, Db, Dialect};
use r2d2_postgres::postgres::types::{ToSql, Type};
use r2d2_postgres::postgres::{GenericClient, Row};
use sea_query::{Value, Values};

use crate::db;

/// A client or transaction borrowed for the shared statements.
pub(crate) struct Pg<'a, C: GenericClient>(RefCell<&'a mut C>);

impl<'a, C: GenericClient> Pg<'a, C> {
    pub(crate) fn new(c: &'a mut C) -> Self {
        Self(RefCell::new(c))
    }
}

type Param = (Box<dyn ToSql + Sync>, Type);

/// A bound value with the type PostgreSQL is told it has.
fn param(v: Value) -> CoreResult<Param> {
    Ok(match v {
        Value::Bool(b) => (Box::new(b), Type::BOOL),
        Value::Int(n) => (Box::new(n), Type::INT4),
        Value::BigInt(n) => (Box::new(n), Type::INT8),
        Value::Unsigned(n) => (Box::new(n.map(i64::from)), Type::INT8),
        Value::BigUnsigned(n) => (Box::new(n.map(|n| i64::try_from(n).unwrap_or(i64::MAX))), Type::INT8),
        Value::String(s) => (Box::new(s), Type::TEXT),
        other => return Err(CoreError::Internal(format!("no PostgreSQL type for {other:?}"))),
    })
}

fn params(values: Values) -> CoreResult<Vec<Param>> {
    values.0.into_iter().map(param).collect()
}

fn typed(params: &[Param]) -> Vec<(&(dyn ToSql + Sync), Type)> {
    params.iter().map(|(v, t)| (v.as_ref(), t.clone())).collect()
}

fn cells(row: &Row) -> CoreResult<Vec<Cell>> {
    (0..row.len())
        .map(|i| {
            let t = row.columns()[i].type_();
            let cell = if *t == Type::INT8 {
                row.try_get::<_, Option<i64>>(i)
                    .map(|v| v.map_or(Cell::Null, Cell::Int))
            } else if *t == Type::INT4 {
                row.try_get::<_, Option<i32>>(i)
                    .map(|v| v.map_or(Cell::Null, |n| Cell::Int(n.into())))
            } else if *t == Type::BOOL {
                row.try_get::<_, Option<bool>>(i)
                    .map(|v| v.map_or(Cell::Null, Cell::Bool))
            } else if *t == Type::JSON || *t == Type::JSONB {
                row.try_get::<_, Option<serde_json::Value>>(i)
                    .map(|v| v.map_or(Cell::Null, |v| Cell::Text(v.to_string())))
            } else {
                row.try_get::<_, Option<String>>(i)
                    .map(|v| v.map_or(Cell::Null, Cell::Text))
            };
            cell.map_err(db)
        })
        .collect()
}

impl<C: GenericClient> Db for Pg<'_, C> {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn rows(&self, sql: &str, values: Values) -> CoreResult<Vec<Vec<Cell>>> {
        let params = params(values)?;
        let rows = self.0.borrow_mut().query_typed(sql, &typed(&params)).map_err(db)?;
        rows.iter().map(cells).collect()
    }

    fn execute(&self, sql: &str, values: Values) -> CoreResult<usize> {
        let params = params(values)?;
        let n = self.0.borrow_mut().execute_typed(sql, &typed(&params)).map_err(db)?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }
}
