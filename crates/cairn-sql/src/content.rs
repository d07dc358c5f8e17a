//! Content reads: objects by path or UID, children by position, neighbours
//! and subtrees, each one statement with the reader's view filter applied
//! in SQL (never by loading rows and dropping them).

use cairn_core::ports::ViewFilter;
use cairn_core::{Content, CoreResult};
use cairn_model::{ContentPath, Uid};
use sea_query::{Cond, Expr, ExprTrait, Order, Query, SelectStatement};

use crate::schema::{Allowed, CONTENT_COLUMNS, Obj};
use crate::{Cell, Db, corrupt, query};

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

/// [`select_light`] when `light`, else [`select`].
pub fn select_as(site: &str, light: bool) -> SelectStatement {
    if light { select_light(site) } else { select(site) }
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
        // contract catches it).
        let sub = Query::select()
            .expr(Expr::cust("1"))
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

/// `path` (a column) is `p` or below it: the range `[p/, p0)` an index walks
/// (paths compare byte-wise on every backend; PostgreSQL's columns use the
/// "C" collation), which leaves out siblings such as `p-2`.
pub fn in_subtree<C>(path: C, p: &str) -> sea_query::SimpleExpr
where
    C: sea_query::IntoColumnRef + Clone,
{
    Expr::col(path.clone()).eq(p).or(Expr::col(path.clone())
        .gt(format!("{p}/"))
        .and(Expr::col(path).lt(format!("{p}0"))))
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

/// The statement counting what a content SELECT matches (columns, order and page dropped).
pub fn counting(q: &SelectStatement) -> SelectStatement {
    let mut count = q.clone();
    // count(*), not count(uid): a covering index answers it without the rows.
    count.clear_selects().clear_order_by().expr(Expr::cust("count(*)"));
    count
}

/// How many rows a content SELECT matches.
pub fn count(db: &impl Db, q: &SelectStatement) -> CoreResult<usize> {
    Ok(usize::try_from(crate::integer(db, &counting(q))?.unwrap_or(0)).unwrap_or(0))
}

/// The total a page of `found` rows (asked from `start`, at most `limit`)
/// tells by itself: a page that is not full is the last one, so only a full
/// page, or an empty one past the start, needs a count. Most folders, and
/// every folderish page without children, then cost one query, not two.
pub fn page_total(start: usize, limit: usize, found: usize) -> Option<usize> {
    (found < limit && (found > 0 || start == 0)).then_some(start + found)
}

pub fn by_paths(db: &impl Db, site: &str, paths: &[ContentPath]) -> CoreResult<Vec<Content>> {
    let mut q = select(site);
    q.and_where(Expr::col(Obj::Path).is_in(paths.iter().map(|p| p.as_str().to_string())));
    crate::contents(db, &q)
}

pub fn by_uids(db: &impl Db, site: &str, uids: &[Uid]) -> CoreResult<Vec<Content>> {
    let mut q = select(site);
    q.and_where(Expr::col(Obj::Uid).is_in(uids.iter().map(|u| u.as_str().to_string())));
    crate::contents(db, &q)
}

/// The members of translation group `group` (an index on `_tg` serves it).
pub fn translations(db: &impl Db, site: &str, group: &str) -> CoreResult<Vec<Content>> {
    let mut q = select(site);
    q.and_where(db.dialect().field_text("_tg").eq(group));
    crate::contents(db, &q)
}

pub fn children(
    db: &impl Db,
    site: &str,
    parent: &ContentPath,
    filter: &ViewFilter,
    (start, limit): (usize, usize),
    light: bool,
) -> CoreResult<(Vec<Content>, usize)> {
    let mut q = select_as(site, light);
    q.and_where(Expr::col(Obj::ParentPath).eq(parent.as_str()));
    visible(&mut q, site, filter);
    if limit == 0 {
        return Ok((Vec::new(), count(db, &q)?));
    }
    let mut page = q.clone();
    page.order_by(Obj::Position, Order::Asc)
        .offset(start as u64)
        .limit(limit.min(i64::MAX as usize) as u64);
    let rows = crate::contents(db, &page)?;
    let total = match page_total(start, limit, rows.len()) {
        Some(total) => total,
        None => count(db, &q)?,
    };
    Ok((rows, total))
}

pub fn neighbours(
    db: &impl Db,
    site: &str,
    parent: &ContentPath,
    position: i64,
    filter: &ViewFilter,
) -> CoreResult<(Option<Content>, Option<Content>)> {
    let side = |before: bool| {
        let mut q = select(site);
        q.and_where(Expr::col(Obj::ParentPath).eq(parent.as_str()));
        if before {
            q.and_where(Expr::col(Obj::Position).lt(position))
                .order_by(Obj::Position, Order::Desc);
        } else {
            q.and_where(Expr::col(Obj::Position).gt(position))
                .order_by(Obj::Position, Order::Asc);
        }
        q.limit(1);
        visible(&mut q, site, filter);
        q
    };
    Ok((
        crate::contents(db, &side(true))?.pop(),
        crate::contents(db, &side(false))?.pop(),
    ))
}

/// For each `(parent, position)`, the UIDs of the visible siblings just
/// before and after it, in one statement: the pairs come in as a list and
/// each side is a correlated `LIMIT 1` probe of the (site, parent,
/// position) index.
pub fn neighbour_uids(
    db: &impl Db,
    site: &str,
    items: &[(ContentPath, i64)],
    filter: &ViewFilter,
) -> CoreResult<Vec<(Option<Uid>, Option<Uid>)>> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
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
    let mut q = Query::select();
    q.expr(item("column1")).expr(side(true)).expr(side(false));
    let rows = items
        .iter()
        .enumerate()
        .map(|(i, (parent, position))| (i as i64, parent.as_str().to_string(), *position));
    // Both name the columns of a VALUES list columnN (PostgreSQL learns
    // the marks' types from the adapter, which names them).
    q.from_values(rows, "item");
    let uid = |c: Cell| c.text().and_then(|s| Uid::parse(&s).ok());
    let mut out = vec![(None, None); items.len()];
    for row in query(db, &q)? {
        let mut cells = row.into_iter();
        let (Some(i), Some(prev), Some(next)) = (cells.next(), cells.next(), cells.next()) else {
            continue;
        };
        if let Some(slot) = i.int().and_then(|i| out.get_mut(i as usize)) {
            *slot = (uid(prev), uid(next));
        }
    }
    Ok(out)
}

pub fn tree(
    db: &impl Db,
    site: &str,
    root: &ContentPath,
    depth: usize,
    types: &[String],
    filter: &ViewFilter,
    light: bool,
) -> CoreResult<Vec<Content>> {
    let mut q = select_as(site, light);
    below(&mut q, root);
    q.and_where(Expr::col(Obj::Depth).lte((root.depth() + depth) as i64));
    if !types.is_empty() {
        q.cond_where(Cond::all().add(Expr::col(Obj::PortalType).is_in(types.iter().map(String::as_str))));
    }
    visible(&mut q, site, filter);
    // Sorted here, not in SQL: an ORDER BY depth, position lures SQLite onto
    // the (depth, position) index, which scans every object of the site
    // above that depth instead of the subtree's path range.
    let mut found = crate::contents(db, &q)?;
    found.sort_by_key(|c| (c.path.depth(), c.position));
    Ok(found)
}

/// Every child's UID, id and position, in order.
pub fn child_ids(db: &impl Db, site: &str, parent: &ContentPath) -> CoreResult<Vec<(Uid, String, i64)>> {
    let q = Query::select()
        .columns([Obj::Uid, Obj::Path, Obj::Position])
        .from(Obj::Table)
        .and_where(Expr::col(Obj::Site).eq(site))
        .and_where(Expr::col(Obj::ParentPath).eq(parent.as_str()))
        .order_by(Obj::Position, Order::Asc)
        .to_owned();
    let mut out = Vec::new();
    for row in query(db, &q)? {
        let [uid, path, position]: [Cell; 3] = row.try_into().map_err(|_| corrupt("child", "columns"))?;
        let path = path.text().unwrap_or_default();
        let id = path.rsplit('/').next().unwrap_or("").to_string();
        out.push((
            Uid::parse(&uid.text().unwrap_or_default()).unwrap_or_default(),
            id,
            position.int().unwrap_or(0),
        ));
    }
    Ok(out)
}

pub fn next_position(db: &impl Db, site: &str, parent: &ContentPath) -> CoreResult<i64> {
    let q = Query::select()
        .expr(Expr::col(Obj::Position).max())
        .from(Obj::Table)
        .and_where(Expr::col(Obj::Site).eq(site))
        .and_where(Expr::col(Obj::ParentPath).eq(parent.as_str()))
        .to_owned();
    Ok(crate::integer(db, &q)?.map_or(0, |m| m + 1))
}

/// The object count of each type in a site (answered from the type index).
pub fn type_counts(db: &impl Db, site: &str) -> CoreResult<Vec<(String, u64)>> {
    let q = Query::select()
        .column(Obj::PortalType)
        .expr(Expr::cust("count(*)"))
        .from(Obj::Table)
        .and_where(Expr::col(Obj::Site).eq(site))
        .group_by_col(Obj::PortalType)
        .to_owned();
    Ok(query(db, &q)?
        .into_iter()
        .filter_map(|row| {
            let mut cells = row.into_iter();
            let name = cells.next()?.text()?;
            let n = cells.next()?.int()?;
            Some((name, u64::try_from(n).unwrap_or(0)))
        })
        .collect())
}

/// One content row (columns in [`CONTENT_COLUMNS`] order) as an object.
pub fn decode(row: Vec<Cell>) -> CoreResult<Content> {
    let [
        uid,
        path,
        parent,
        position,
        portal_type,
        review_state,
        folderish,
        created,
        modified,
        version,
        layout,
        fields,
        allowed,
        ..,
    ]: [Cell; 18] = row.try_into().map_err(|_| corrupt("object", "columns"))?;
    let text = |c: Cell, what: &str| c.text().ok_or_else(|| corrupt(what, "empty"));
    let ts =
        |c: Cell, what: &str| -> CoreResult<jiff::Timestamp> { text(c, what)?.parse().map_err(|e| corrupt(what, e)) };
    let path = text(path, "path")?;
    Ok(Content {
        uid: Uid::parse(&text(uid, "uid")?).unwrap_or_default(),
        path: ContentPath::parse(&path).unwrap_or_else(|_| ContentPath::root()),
        parent: parent.text().and_then(|p| Uid::parse(&p).ok()),
        position: position.int().unwrap_or(0),
        portal_type: text(portal_type, "portal_type")?,
        review_state: review_state.text(),
        is_folderish: folderish.bool(),
        created: ts(created, "created")?,
        modified: ts(modified, "modified")?,
        version: version.int().unwrap_or(0),
        layout: layout.text(),
        fields: serde_json::from_str(&text(fields, "fields")?).map_err(|e| corrupt("fields", e))?,
        allowed: serde_json::from_str(&text(allowed, "allowed")?).map_err(|e| corrupt("allowed", e))?,
    })
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
