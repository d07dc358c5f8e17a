//! Redirects from old and alias paths (plone.app.redirector's storage).

use cairn_core::CoreResult;
use cairn_core::ports::Redirect;
use cairn_model::ContentPath;
use rusqlite::{Connection, Row};
use sea_query::{Expr, ExprTrait, OnConflict, Order, Query, SqliteQueryBuilder};
use sea_query_rusqlite::RusqliteBinder;

use super::db;
use super::schema::Redirects;
use super::write::exec;

fn row(r: &Row<'_>) -> rusqlite::Result<Redirect> {
    let from: String = r.get(0)?;
    let to: String = r.get(1)?;
    Ok(Redirect {
        from: ContentPath::parse(&from).unwrap_or_else(|_| ContentPath::root()),
        to: ContentPath::parse(&to).unwrap_or_else(|_| ContentPath::root()),
        manual: r.get(2)?,
        created: r.get(3)?,
    })
}

const COLUMNS: [Redirects; 4] = [
    Redirects::FromPath,
    Redirects::ToPath,
    Redirects::Manual,
    Redirects::Created,
];

pub fn add(tx: &Connection, site: &str, r: &Redirect) -> CoreResult<()> {
    let (sql, v) = Query::insert()
        .into_table(Redirects::Table)
        .columns([
            Redirects::Site,
            Redirects::FromPath,
            Redirects::ToPath,
            Redirects::Manual,
            Redirects::Created,
        ])
        .values_panic([
            site.into(),
            r.from.as_str().into(),
            r.to.as_str().into(),
            r.manual.into(),
            r.created.as_str().into(),
        ])
        .on_conflict(
            OnConflict::columns([Redirects::Site, Redirects::FromPath])
                .update_columns([Redirects::ToPath, Redirects::Manual, Redirects::Created])
                .to_owned(),
        )
        .build_rusqlite(SqliteQueryBuilder);
    exec(tx, &sql, &v).map(|_| ())
}

pub fn remove(tx: &Connection, site: &str, from: &ContentPath) -> CoreResult<()> {
    let (sql, v) = Query::delete()
        .from_table(Redirects::Table)
        .and_where(Expr::col(Redirects::Site).eq(site))
        .and_where(Expr::col(Redirects::FromPath).eq(from.as_str()))
        .build_rusqlite(SqliteQueryBuilder);
    exec(tx, &sql, &v).map(|_| ())
}

/// Points redirects into `from`'s subtree at the same place under `to`.
pub fn retarget(tx: &Connection, site: &str, from: &ContentPath, to: &ContentPath) -> CoreResult<()> {
    let (f, t) = (from.as_str(), to.as_str());
    let cut = (f.len() + 1) as i64;
    let (sql, v) = Query::update()
        .table(Redirects::Table)
        .value(
            Redirects::ToPath,
            Expr::cust_with_values("? || substr(to_path, ?)", [sea_query::Value::from(t), cut.into()]),
        )
        .and_where(Expr::col(Redirects::Site).eq(site))
        .and_where(
            Expr::col(Redirects::ToPath).eq(f).or(Expr::col(Redirects::ToPath)
                .gt(format!("{f}/"))
                .and(Expr::col(Redirects::ToPath).lt(format!("{f}0")))),
        )
        .build_rusqlite(SqliteQueryBuilder);
    exec(tx, &sql, &v).map(|_| ())
}

pub fn from_paths(conn: &Connection, site: &str, paths: &[ContentPath]) -> CoreResult<Vec<Redirect>> {
    let (sql, v) = Query::select()
        .columns(COLUMNS)
        .from(Redirects::Table)
        .and_where(Expr::col(Redirects::Site).eq(site))
        .and_where(Expr::col(Redirects::FromPath).is_in(paths.iter().map(|p| p.as_str().to_string())))
        .build_rusqlite(SqliteQueryBuilder);
    let mut stmt = conn.prepare_cached(&sql).map_err(db)?;
    let rows = stmt.query_map(&*v.as_params(), row).map_err(db)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(db)
}

pub fn list(
    conn: &Connection,
    site: &str,
    target: Option<&ContentPath>,
    filter: &cairn_core::ports::RedirectFilter,
    start: usize,
    limit: usize,
) -> CoreResult<(Vec<Redirect>, usize)> {
    let mut q = Query::select();
    q.from(Redirects::Table).and_where(Expr::col(Redirects::Site).eq(site));
    if let Some(t) = target {
        q.and_where(Expr::col(Redirects::ToPath).eq(t.as_str()));
    }
    if let Some(manual) = filter.manual {
        q.and_where(Expr::col(Redirects::Manual).eq(manual));
    }
    if let Some(since) = &filter.since {
        q.and_where(Expr::col(Redirects::Created).gte(since.as_str()));
    }
    if let Some(until) = &filter.until {
        q.and_where(Expr::col(Redirects::Created).lte(until.as_str()));
    }
    if let Some(text) = filter.text.as_deref().filter(|t| !t.is_empty()) {
        let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        q.and_where(Expr::cust_with_values(
            "from_path LIKE ? ESCAPE '\\'",
            [format!("%{escaped}%")],
        ));
    }
    let mut count = q.clone();
    count.expr(Expr::col(Redirects::FromPath).count());
    let (sql, v) = count.build_rusqlite(SqliteQueryBuilder);
    let total: i64 = conn
        .prepare_cached(&sql)
        .and_then(|mut s| s.query_row(&*v.as_params(), |r| r.get(0)))
        .map_err(db)?;
    q.columns(COLUMNS)
        .order_by(Redirects::FromPath, Order::Asc)
        .offset(start as u64)
        .limit(limit.max(1) as u64);
    let (sql, v) = q.build_rusqlite(SqliteQueryBuilder);
    let mut stmt = conn.prepare_cached(&sql).map_err(db)?;
    let rows = stmt.query_map(&*v.as_params(), row).map_err(db)?;
    let items = rows.collect::<Result<Vec<_>, _>>().map_err(db)?;
    Ok((items, total as usize))
}
