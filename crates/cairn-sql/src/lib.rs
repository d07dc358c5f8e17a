//! The catalog's SQL, written once. Both database adapters (SQLite in
//! `cairn-store`, PostgreSQL in `cairn-postgres`) build their content and
//! catalog statements here with sea-query, so a listing, a search or a
//! subtree move means the same rows on either; what differs between the
//! two (JSON functions, placeholders, the row key) is named in [`Dialect`].
//! The adapters run the statements, map rows and own their transactions.

pub mod catalog;
pub mod content;
pub mod history;
mod inserts;
pub mod records;
pub mod schema;
pub mod writes;

use cairn_core::{Content, CoreResult};
use sea_query::{
    Expr, PostgresQueryBuilder, QueryStatementWriter, SelectStatement, SimpleExpr, SqliteQueryBuilder, Values,
};

/// The SQL dialect a statement is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// The statement's text and its bound values.
    pub fn build<S: QueryStatementWriter>(self, s: &S) -> (String, Values) {
        match self {
            Self::Sqlite => s.build(SqliteQueryBuilder),
            Self::Postgres => s.build(PostgresQueryBuilder),
        }
    }

    /// A custom expression whose `?` marks take `values` in order (written
    /// as `$` for PostgreSQL, whose builder numbers them).
    pub fn cust<V: Into<sea_query::Value>>(self, template: &str, values: impl IntoIterator<Item = V>) -> SimpleExpr {
        let template = match self {
            Self::Sqlite => template.to_string(),
            Self::Postgres => template.replace('?', "$"),
        };
        Expr::cust_with_values(template, values)
    }

    /// The text at top-level `key` of an object's fields (JSON in a text column).
    pub fn field_text(self, key: &'static str) -> SimpleExpr {
        match self {
            Self::Sqlite => Expr::cust(format!("json_extract(fields, '$.{key}')")),
            Self::Postgres => Expr::cust(format!("(fields::json ->> '{key}')")),
        }
    }

    /// `column` is one of the strings of `list`, a JSON array bound as one
    /// value (not thousands of bound values).
    pub fn in_json_list(self, column: &'static str, list: &[impl AsRef<str>]) -> SimpleExpr {
        let json = json_list(list);
        match self {
            Self::Sqlite => self.cust(&format!("{column} IN (SELECT value FROM json_each(?))"), [json]),
            Self::Postgres => self.cust(
                &format!("{column} IN (SELECT json_array_elements_text(?::json))"),
                [json],
            ),
        }
    }

    /// The array at top-level `key` of the fields shares a string with `list`.
    pub fn field_array_meets(self, key: &'static str, list: &[impl AsRef<str>]) -> SimpleExpr {
        let json = json_list(list);
        match self {
            Self::Sqlite => self.cust(
                &format!(
                    "EXISTS (SELECT 1 FROM json_each(fields, '$.{key}') c \
                     WHERE c.value IN (SELECT value FROM json_each(?)))"
                ),
                [json],
            ),
            // A value that is not an array holds no strings (and must not
            // make json_array_elements_text fail the whole query).
            Self::Postgres => self.cust(
                &format!(
                    "EXISTS (SELECT 1 FROM json_array_elements_text(CASE WHEN \
                     json_typeof(fields::json -> '{key}') = 'array' THEN fields::json -> '{key}' END) c(v) \
                     WHERE c.v IN (SELECT json_array_elements_text(?::json)))"
                ),
                [json],
            ),
        }
    }

    /// A column that names one row of the content table within a site:
    /// SQLite's rowid (the cheapest), PostgreSQL's UID.
    pub fn row_key(self) -> &'static str {
        match self {
            Self::Sqlite => "rowid",
            Self::Postgres => "uid",
        }
    }
}

fn json_list(list: &[impl AsRef<str>]) -> String {
    serde_json::to_string(&list.iter().map(AsRef::as_ref).collect::<Vec<_>>()).unwrap_or_else(|_| "[]".into())
}

/// One value of a result row, as both backends give it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Bool(bool),
    Text(String),
}

impl Cell {
    pub fn int(&self) -> Option<i64> {
        match self {
            Self::Int(n) => Some(*n),
            Self::Bool(b) => Some(i64::from(*b)),
            _ => None,
        }
    }

    /// SQLite keeps booleans as integers.
    pub fn bool(&self) -> bool {
        match self {
            Self::Bool(b) => *b,
            Self::Int(n) => *n != 0,
            _ => false,
        }
    }

    pub fn text(self) -> Option<String> {
        match self {
            Self::Text(s) => Some(s),
            _ => None,
        }
    }
}

/// What a backend gives the shared statements: a connection (or an open
/// transaction) that runs SQL with bound values. Raw SQL here numbers its
/// marks `?1`, `?2`, ... (see [`Dialect::sql`]).
pub trait Db {
    fn dialect(&self) -> Dialect;
    /// Every row a query gives.
    fn rows(&self, sql: &str, values: Values) -> CoreResult<Vec<Vec<Cell>>>;
    /// Runs a statement; gives back how many rows it changed.
    fn execute(&self, sql: &str, values: Values) -> CoreResult<usize>;
}

impl Dialect {
    /// Raw SQL with numbered marks (`?1`) in this dialect (`$1` for PostgreSQL).
    pub fn sql(self, text: &str) -> std::borrow::Cow<'_, str> {
        match self {
            Self::Sqlite => text.into(),
            Self::Postgres => text.replace('?', "$").into(),
        }
    }
}

/// Runs a built statement.
pub fn run(db: &impl Db, s: &impl QueryStatementWriter) -> CoreResult<usize> {
    let (sql, values) = db.dialect().build(s);
    db.execute(&sql, values)
}

/// The rows of a built query.
pub fn query(db: &impl Db, s: &impl QueryStatementWriter) -> CoreResult<Vec<Vec<Cell>>> {
    let (sql, values) = db.dialect().build(s);
    db.rows(&sql, values)
}

/// Raw SQL (marks `?1`, `?2`, ...) with its values.
pub fn raw(db: &impl Db, text: &str, values: Vec<sea_query::Value>) -> CoreResult<Vec<Vec<Cell>>> {
    let sql = db.dialect().sql(text);
    db.rows(&sql, Values(values))
}

/// The single integer raw SQL gives (a count, a max), if any.
pub fn raw_integer(db: &impl Db, text: &str, values: Vec<sea_query::Value>) -> CoreResult<Option<i64>> {
    Ok(raw(db, text, values)?
        .into_iter()
        .next()
        .and_then(|r| r.into_iter().next())
        .and_then(|c| c.int()))
}

/// Runs raw SQL (marks `?1`, `?2`, ...) with its values.
pub fn raw_execute(db: &impl Db, text: &str, values: Vec<sea_query::Value>) -> CoreResult<usize> {
    let sql = db.dialect().sql(text);
    db.execute(&sql, Values(values))
}

/// The objects a content SELECT (columns in [`schema::CONTENT_COLUMNS`] order) finds.
pub fn contents(db: &impl Db, q: &SelectStatement) -> CoreResult<Vec<Content>> {
    query(db, q)?.into_iter().map(content::decode).collect()
}

/// The single integer a query gives (a count, a max), if any.
pub fn integer(db: &impl Db, q: &SelectStatement) -> CoreResult<Option<i64>> {
    Ok(query(db, q)?
        .into_iter()
        .next()
        .and_then(|r| r.into_iter().next())
        .and_then(|c| c.int()))
}

/// The first column of every row, as text.
pub fn texts(db: &impl Db, q: &SelectStatement) -> CoreResult<Vec<String>> {
    Ok(query(db, q)?
        .into_iter()
        .filter_map(|r| r.into_iter().next().and_then(Cell::text))
        .collect())
}

/// A stored value that does not decode: the database holds what no
/// cairn wrote (an internal error, logged with the detail).
pub(crate) fn corrupt(what: &str, detail: impl std::fmt::Display) -> cairn_core::CoreError {
    cairn_core::CoreError::Internal(format!("stored {what} does not decode: {detail}"))
}
