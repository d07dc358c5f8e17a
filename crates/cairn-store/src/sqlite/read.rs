//! Read queries: objects by path/UID, children by position, neighbours and
//! subtrees, each one SQL statement with the view filter applied in SQL.

use cairn_core::ports::ViewFilter;
use cairn_core::{Content, CoreResult};
use cairn_model::{ContentPath, Uid};
use rusqlite::{Connection, Row};
use sea_query::{Cond, Expr, ExprTrait, Order, Query, SelectStatement, SqliteQueryBuilder};
use sea_query_rusqlite::RusqliteBinder;

use super::db;
use super::schema::{Allowed, CONTENT_COLUMNS, Obj};

/// A SELECT of every content column for one site.
pub fn select(site: &str) -> SelectStatement {
    let mut q = Query::select();
    q.columns(CONTENT_COLUMNS)
        .from(Obj::Table)
        .and_where(Expr::col(Obj::Site).eq(site));
    q
}

/// Like [`select`], but loads the summary fields (`meta`) in place of all fields.
pub fn select_light(site: &str) -> SelectStatement {
    let mut cols = CONTENT_COLUMNS;
    cols[11] = Obj::Meta;
    let mut q = Query::select();
    q.columns(cols)
        .from(Obj::Table)
        .and_where(Expr::col(Obj::Site).eq(site));
    q
}

/// Restricts `q` to objects one of the filter's principals may view.
pub fn visible(q: &mut SelectStatement, site: &str, filter: &ViewFilter) {
    if let Some(principals) = &filter.principals {
        let anonymous = principals.iter().any(|p| p == "Anonymous");
        if anonymous && principals.len() == 1 {
            // Exactly what the column records: no per-row lookup at all.
            q.and_where(Expr::col(Obj::Public).eq(true));
            return window(q, filter);
        }
        // A correlated EXISTS probes the (site, uid) index per candidate row;
        // `uid IN (subquery)` would materialize every object a role may see.
        // LIMIT 1: the bundled SQLite turns an unlimited EXISTS into a join,
        // which repeats a row once per matching principal (the query-model
        // test catches it).
        let sub = Query::select()
            .expr(Expr::val(1))
            .from(Allowed::Table)
            .and_where(Expr::col((Allowed::Table, Allowed::Site)).eq(site))
            .and_where(Expr::col((Allowed::Table, Allowed::Uid)).equals((Obj::Table, Obj::Uid)))
            .and_where(Expr::col((Allowed::Table, Allowed::Principal)).is_in(principals.iter().map(String::as_str)))
            .limit(1)
            .to_owned();
        if anonymous {
            // Public rows pass without the lookup.
            q.and_where(Expr::col(Obj::Public).eq(true).or(Expr::exists(sub)));
        } else {
            q.and_where(Expr::exists(sub));
        }
    }
    window(q, filter);
}

/// Anonymous readers see content only between its effective and expiry dates.
fn window(q: &mut SelectStatement, filter: &ViewFilter) {
    if let Some(now) = &filter.active_at {
        q.and_where(
            Expr::col(Obj::Effective)
                .is_null()
                .or(Expr::col(Obj::Effective).lte(now.as_str())),
        );
        q.and_where(
            Expr::col(Obj::Expires)
                .is_null()
                .or(Expr::col(Obj::Expires).gt(now.as_str())),
        );
    }
}

/// Objects strictly below `root`: a path range, so the unique path index serves it.
pub fn below(q: &mut SelectStatement, root: &ContentPath) {
    if !root.is_root() {
        let p = root.as_str();
        q.and_where(Expr::col(Obj::Path).gt(format!("{p}/")));
        q.and_where(Expr::col(Obj::Path).lt(format!("{p}0")));
    } else {
        q.and_where(Expr::col(Obj::Path).ne(""));
    }
}

fn parse_ts(s: String) -> rusqlite::Result<jiff::Timestamp> {
    s.parse()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e)))
}

fn json<T: serde::de::DeserializeOwned>(s: String) -> rusqlite::Result<T> {
    serde_json::from_str(&s)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e)))
}

fn row_to_content(r: &Row<'_>) -> rusqlite::Result<Content> {
    let path: String = r.get(1)?;
    let parent: Option<String> = r.get(2)?;
    Ok(Content {
        uid: Uid::parse(&r.get::<_, String>(0)?).unwrap_or_default(),
        path: ContentPath::parse(&path).unwrap_or_else(|_| ContentPath::root()),
        parent: parent.and_then(|p| Uid::parse(&p).ok()),
        position: r.get(3)?,
        portal_type: r.get(4)?,
        review_state: r.get(5)?,
        is_folderish: r.get(6)?,
        created: parse_ts(r.get(7)?)?,
        modified: parse_ts(r.get(8)?)?,
        version: r.get(9)?,
        layout: r.get(10)?,
        fields: json(r.get(11)?)?,
        allowed: json(r.get(12)?)?,
    })
}

/// How many rows a content SELECT matches (its columns, order and page ignored).
pub fn count(conn: &Connection, q: &SelectStatement) -> CoreResult<usize> {
    let mut count = q.clone();
    // count(*), not count(uid): a covering index answers it without the rows.
    count.clear_selects().expr(Expr::cust("count(*)"));
    let (sql, values) = count.build_rusqlite(SqliteQueryBuilder);
    let n: i64 = conn
        .prepare_cached(&sql)
        .and_then(|mut s| s.query_row(&*values.as_params(), |r| r.get(0)))
        .map_err(db)?;
    Ok(n as usize)
}

/// Runs a content SELECT and maps every row.
pub fn fetch(conn: &Connection, q: &SelectStatement) -> CoreResult<Vec<Content>> {
    let (sql, values) = q.build_rusqlite(SqliteQueryBuilder);
    let mut stmt = conn.prepare_cached(&sql).map_err(db)?;
    let rows = stmt.query_map(&*values.as_params(), row_to_content).map_err(db)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(db)
}

pub fn by_paths(conn: &Connection, site: &str, paths: &[ContentPath]) -> CoreResult<Vec<Content>> {
    let mut q = select(site);
    q.and_where(Expr::col(Obj::Path).is_in(paths.iter().map(|p| p.as_str().to_string())));
    fetch(conn, &q)
}

pub fn by_uids(conn: &Connection, site: &str, uids: &[Uid]) -> CoreResult<Vec<Content>> {
    let mut q = select(site);
    q.and_where(Expr::col(Obj::Uid).is_in(uids.iter().map(|u| u.as_str().to_string())));
    fetch(conn, &q)
}

/// The members of translation group `group` (the partial index on `_tg`).
pub fn translations(conn: &Connection, site: &str, group: &str) -> CoreResult<Vec<Content>> {
    let mut q = select(site);
    q.and_where(Expr::cust_with_values("json_extract(fields, '$._tg') = ?", [group]));
    fetch(conn, &q)
}

pub fn children(
    conn: &Connection,
    site: &str,
    parent: &ContentPath,
    filter: &ViewFilter,
    (start, limit): (usize, usize),
    light: bool,
) -> CoreResult<(Vec<Content>, usize)> {
    let mut q = if light { select_light(site) } else { select(site) };
    q.and_where(Expr::col(Obj::ParentPath).eq(parent.as_str()));
    visible(&mut q, site, filter);
    if limit == 0 {
        return Ok((Vec::new(), count(conn, &q)?));
    }
    let mut page = q.clone();
    page.order_by(Obj::Position, Order::Asc)
        .offset(start as u64)
        .limit(limit.min(i64::MAX as usize) as u64);
    let rows = fetch(conn, &page)?;
    let total = match page_total(start, limit, rows.len()) {
        Some(total) => total,
        None => count(conn, &q)?,
    };
    Ok((rows, total))
}

/// The total a page of `found` rows (asked from `start`, at most `limit`)
/// tells by itself: a page that is not full is the last one, so only a full
/// page, or an empty one past the start, needs a count. Most folders, and
/// every folderish page without children, then cost one query, not two.
pub(crate) fn page_total(start: usize, limit: usize, found: usize) -> Option<usize> {
    (found < limit && (found > 0 || start == 0)).then_some(start + found)
}

pub fn neighbours(
    conn: &Connection,
    site: &str,
    parent: &ContentPath,
    position: i64,
    filter: &ViewFilter,
) -> CoreResult<(Option<Content>, Option<Content>)> {
    let mut prev = select(site);
    prev.and_where(Expr::col(Obj::ParentPath).eq(parent.as_str()))
        .and_where(Expr::col(Obj::Position).lt(position))
        .order_by(Obj::Position, Order::Desc)
        .limit(1);
    visible(&mut prev, site, filter);
    let mut next = select(site);
    next.and_where(Expr::col(Obj::ParentPath).eq(parent.as_str()))
        .and_where(Expr::col(Obj::Position).gt(position))
        .order_by(Obj::Position, Order::Asc)
        .limit(1);
    visible(&mut next, site, filter);
    Ok((fetch(conn, &prev)?.pop(), fetch(conn, &next)?.pop()))
}

/// For each `(parent, position)`, the UIDs of the visible siblings just
/// before and after it, in one statement: the pairs come in as a VALUES
/// list and each side is a correlated `LIMIT 1` probe of the
/// (site, parent, position) index.
pub fn neighbour_uids(
    conn: &Connection,
    site: &str,
    items: &[(ContentPath, i64)],
    filter: &ViewFilter,
) -> CoreResult<Vec<(Option<Uid>, Option<Uid>)>> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    // SQLite and PostgreSQL both name the columns of a VALUES list columnN.
    let item = |col: &str| Expr::col(("item", col.to_string()));
    let side = |before: bool| {
        let mut q = Query::select();
        q.column((Obj::Table, Obj::Uid))
            .from(Obj::Table)
            .and_where(Expr::col((Obj::Table, Obj::Site)).eq(site))
            .and_where(Expr::col((Obj::Table, Obj::ParentPath)).eq(item("column2")));
        if before {
            q.and_where(Expr::col((Obj::Table, Obj::Position)).lt(item("column3")))
                .order_by((Obj::Table, Obj::Position), Order::Desc);
        } else {
            q.and_where(Expr::col((Obj::Table, Obj::Position)).gt(item("column3")))
                .order_by((Obj::Table, Obj::Position), Order::Asc);
        }
        q.limit(1);
        visible(&mut q, site, filter);
        Expr::SubQuery(None, Box::new(q.into()))
    };
    let rows = items
        .iter()
        .enumerate()
        .map(|(i, (parent, position))| (i as i64, parent.as_str().to_string(), *position));
    let (sql, values) = Query::select()
        .expr(item("column1"))
        .expr(side(true))
        .expr(side(false))
        .from_values(rows, "item")
        .build_rusqlite(SqliteQueryBuilder);
    let mut stmt = conn.prepare_cached(&sql).map_err(db)?;
    let uid = |s: Option<String>| s.and_then(|s| Uid::parse(&s).ok());
    let found = stmt
        .query_map(&*values.as_params(), |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        })
        .map_err(db)?;
    let mut out = vec![(None, None); items.len()];
    for row in found {
        let (i, prev, next) = row.map_err(db)?;
        if let Some(slot) = out.get_mut(i as usize) {
            *slot = (uid(prev), uid(next));
        }
    }
    Ok(out)
}

pub fn tree(
    conn: &Connection,
    site: &str,
    root: &ContentPath,
    depth: usize,
    types: &[String],
    filter: &ViewFilter,
    light: bool,
) -> CoreResult<Vec<Content>> {
    let mut q = if light { select_light(site) } else { select(site) };
    below(&mut q, root);
    q.and_where(Expr::col(Obj::Depth).lte((root.depth() + depth) as i64));
    if !types.is_empty() {
        q.cond_where(Cond::all().add(Expr::col(Obj::PortalType).is_in(types.iter().map(String::as_str))));
    }
    visible(&mut q, site, filter);
    // Sorted here, not in SQL: an ORDER BY depth, position lures SQLite onto
    // the (depth, position) index, which scans every object of the site
    // above that depth instead of the subtree's path range.
    let mut found = fetch(conn, &q)?;
    found.sort_by_key(|c| (c.path.depth(), c.position));
    Ok(found)
}

pub fn child_ids(conn: &Connection, site: &str, parent: &ContentPath) -> CoreResult<Vec<(Uid, String, i64)>> {
    let (sql, values) = Query::select()
        .columns([Obj::Uid, Obj::Path, Obj::Position])
        .from(Obj::Table)
        .and_where(Expr::col(Obj::Site).eq(site))
        .and_where(Expr::col(Obj::ParentPath).eq(parent.as_str()))
        .order_by(Obj::Position, Order::Asc)
        .build_rusqlite(SqliteQueryBuilder);
    let mut stmt = conn.prepare_cached(&sql).map_err(db)?;
    let rows = stmt
        .query_map(&*values.as_params(), |r| {
            let uid: String = r.get(0)?;
            let path: String = r.get(1)?;
            let id = path.rsplit('/').next().unwrap_or("").to_string();
            Ok((Uid::parse(&uid).unwrap_or_default(), id, r.get(2)?))
        })
        .map_err(db)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(db)
}

pub fn next_position(conn: &Connection, site: &str, parent: &ContentPath) -> CoreResult<i64> {
    let (sql, values) = Query::select()
        .expr(Expr::col(Obj::Position).max())
        .from(Obj::Table)
        .and_where(Expr::col(Obj::Site).eq(site))
        .and_where(Expr::col(Obj::ParentPath).eq(parent.as_str()))
        .build_rusqlite(SqliteQueryBuilder);
    let max: Option<i64> = conn
        .prepare_cached(&sql)
        .and_then(|mut s| s.query_row(&*values.as_params(), |r| r.get(0)))
        .map_err(db)?;
    Ok(max.map_or(0, |m| m + 1))
}

#[cfg(test)]
mod tests {
    use super::page_total;

    #[test]
    fn only_a_full_page_or_an_empty_one_past_the_start_needs_a_count() {
        assert_eq!(page_total(0, 25, 0), Some(0), "nothing there");
        assert_eq!(page_total(0, 25, 7), Some(7), "one short page");
        assert_eq!(page_total(50, 25, 3), Some(53), "the last page");
        assert_eq!(page_total(0, 25, 25), None, "there may be more");
        assert_eq!(page_total(100, 25, 0), None, "past the end: how far is unknown");
    }
}
