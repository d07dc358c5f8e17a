//! What sits beside the content rows: redirects from old and alias paths
//! (plone.app.redirector's storage), the links catalog (which object
//! points to which), and the trash (a deleted subtree kept whole as JSON
//! in one row, gone from every listing at once while nothing is lost).

use cairn_core::ports::{Link, Redirect, RedirectFilter, Relation, RelationQuery, TrashEntry};
use cairn_core::{Content, CoreResult};
use cairn_model::{ContentPath, Uid};
use sea_query::{Expr, ExprTrait, OnConflict, Order, Query};

use crate::content::in_subtree;
use crate::schema::Redirects;
use crate::writes::reprefix;
use crate::{Cell, Db, Dialect, corrupt, integer, query, raw, raw_execute, raw_integer, run};

fn path(c: Cell) -> ContentPath {
    ContentPath::parse(&c.text().unwrap_or_default()).unwrap_or_else(|_| ContentPath::root())
}

fn uid(c: Cell) -> Option<Uid> {
    Uid::parse(&c.text()?).ok()
}

// ---- redirects

const REDIRECT_COLUMNS: [Redirects; 4] = [
    Redirects::FromPath,
    Redirects::ToPath,
    Redirects::Manual,
    Redirects::Created,
];

fn redirect(row: Vec<Cell>) -> CoreResult<Redirect> {
    let [from, to, manual, created]: [Cell; 4] = row.try_into().map_err(|_| corrupt("redirect", "columns"))?;
    Ok(Redirect {
        from: path(from),
        to: path(to),
        manual: manual.bool(),
        created: created.text().unwrap_or_default(),
    })
}

pub fn add_redirect(db: &impl Db, site: &str, r: &Redirect) -> CoreResult<()> {
    run(
        db,
        &Query::insert()
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
            .to_owned(),
    )
    .map(|_| ())
}

pub fn remove_redirect(db: &impl Db, site: &str, from: &ContentPath) -> CoreResult<()> {
    run(
        db,
        &Query::delete()
            .from_table(Redirects::Table)
            .and_where(Expr::col(Redirects::Site).eq(site))
            .and_where(Expr::col(Redirects::FromPath).eq(from.as_str()))
            .to_owned(),
    )
    .map(|_| ())
}

/// Points redirects into `from`'s subtree at the same place under `to`.
pub fn retarget_redirects(db: &impl Db, site: &str, from: &ContentPath, to: &ContentPath) -> CoreResult<()> {
    let f = from.as_str();
    run(
        db,
        &Query::update()
            .table(Redirects::Table)
            .value(
                Redirects::ToPath,
                reprefix(db.dialect(), "to_path", to.as_str(), f.len() + 1),
            )
            .and_where(Expr::col(Redirects::Site).eq(site))
            .and_where(in_subtree(Redirects::ToPath, f))
            .to_owned(),
    )
    .map(|_| ())
}

pub fn redirects_from(db: &impl Db, site: &str, paths: &[ContentPath]) -> CoreResult<Vec<Redirect>> {
    let q = Query::select()
        .columns(REDIRECT_COLUMNS)
        .from(Redirects::Table)
        .and_where(Expr::col(Redirects::Site).eq(site))
        .and_where(Expr::col(Redirects::FromPath).is_in(paths.iter().map(|p| p.as_str().to_string())))
        .to_owned();
    query(db, &q)?.into_iter().map(redirect).collect()
}

pub fn redirects(
    db: &impl Db,
    site: &str,
    target: Option<&ContentPath>,
    filter: &RedirectFilter,
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
        q.and_where(
            db.dialect()
                .cust("from_path LIKE ? ESCAPE '\\'", [format!("%{escaped}%")]),
        );
    }
    let mut count = q.clone();
    count.expr(Expr::col(Redirects::FromPath).count());
    let total = usize::try_from(integer(db, &count)?.unwrap_or(0)).unwrap_or(0);
    q.columns(REDIRECT_COLUMNS)
        .order_by(Redirects::FromPath, Order::Asc)
        .offset(start as u64)
        .limit(limit.max(1) as u64);
    let items = query(db, &q)?.into_iter().map(redirect).collect::<CoreResult<_>>()?;
    Ok((items, total))
}

// ---- links

pub fn set_links(db: &impl Db, site: &str, source: &Uid, targets: &[Link]) -> CoreResult<()> {
    raw_execute(
        db,
        "DELETE FROM links WHERE site = ?1 AND source = ?2",
        vec![site.into(), source.as_str().into()],
    )?;
    if targets.is_empty() {
        return Ok(());
    }
    // One statement, rows in order (their ids keep it).
    let mut insert = Query::insert();
    insert
        .into_table("links")
        .columns(["site", "source", "relation", "target"])
        .on_conflict(OnConflict::new().do_nothing().to_owned());
    for l in targets {
        insert.values_panic([
            site.into(),
            source.as_str().into(),
            l.relation.as_str().into(),
            l.target.as_str().into(),
        ]);
    }
    run(db, &insert).map(|_| ())
}

/// Drops the links of every object at or below `path` (before it leaves).
pub fn drop_links_below(db: &impl Db, site: &str, path: &ContentPath) -> CoreResult<()> {
    let p = path.as_str();
    raw_execute(
        db,
        "DELETE FROM links WHERE site = ?1 AND source IN
            (SELECT uid FROM content WHERE site = ?1 AND (path = ?2 OR (path > ?3 AND path < ?4)))",
        vec![site.into(), p.into(), format!("{p}/").into(), format!("{p}0").into()],
    )
    .map(|_| ())
}

/// (source, target) of every link into `targets`.
pub fn linking_to(db: &impl Db, site: &str, targets: &[Uid]) -> CoreResult<Vec<(Uid, Uid)>> {
    let mut q = Query::select();
    q.distinct()
        .columns(["source", "target"])
        .from("links")
        .and_where(Expr::col("site").eq(site))
        .and_where(
            db.dialect()
                .in_json_list("target", &targets.iter().map(Uid::as_str).collect::<Vec<_>>()),
        );
    Ok(query(db, &q)?
        .into_iter()
        .filter_map(|r| {
            let mut cells = r.into_iter();
            Some((uid(cells.next()?)?, uid(cells.next()?)?))
        })
        .collect())
}

/// Relations matching `q`. Criteria left out match anything: the SQL
/// compares a criterion with itself when it is NULL. In insertion order
/// per relation (the order of a relation list field).
pub fn relations(db: &impl Db, site: &str, q: &RelationQuery) -> CoreResult<Vec<Relation>> {
    let limit = i64::try_from(q.limit).unwrap_or(i64::MAX);
    let order = match db.dialect() {
        Dialect::Sqlite => "l.rowid",
        Dialect::Postgres => "l.id",
    };
    let rows = raw(
        db,
        &format!(
            "SELECT l.source, l.relation, l.target FROM links l
             WHERE l.site = ?1
               AND (?2 IS NULL OR l.source = ?2)
               AND (?3 IS NULL OR l.target = ?3)
               AND (?4 IS NULL OR l.relation = ?4)
               AND (NOT ?5 OR NOT EXISTS (SELECT 1 FROM content c WHERE c.site = l.site AND c.uid = l.target))
             ORDER BY l.relation, {order}
             LIMIT ?6"
        ),
        vec![
            site.into(),
            q.source.as_ref().map(|u| u.as_str().to_string()).into(),
            q.target.as_ref().map(|u| u.as_str().to_string()).into(),
            q.relation.clone().into(),
            q.only_broken.into(),
            limit.into(),
        ],
    )?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let mut cells = r.into_iter();
            Some(Relation {
                source: uid(cells.next()?)?,
                relation: cells.next()?.text()?,
                target: uid(cells.next()?)?,
            })
        })
        .collect())
}

/// Per relation name: how many, and how many point at nothing in the site.
pub fn relation_stats(db: &impl Db, site: &str) -> CoreResult<Vec<(String, u64, u64)>> {
    let rows = raw(
        db,
        "SELECT l.relation, count(*),
                sum(CASE WHEN EXISTS (SELECT 1 FROM content c WHERE c.site = l.site AND c.uid = l.target)
                    THEN 0 ELSE 1 END)
         FROM links l WHERE l.site = ?1 GROUP BY l.relation ORDER BY l.relation",
        vec![site.into()],
    )?;
    let n = |c: Cell| u64::try_from(c.int().unwrap_or(0)).unwrap_or(0);
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let mut cells = r.into_iter();
            Some((cells.next()?.text()?, n(cells.next()?), n(cells.next()?)))
        })
        .collect())
}

// ---- trash

const TRASH_COLUMNS: &str = "id, uid, path, title, portal_type, owner, deleted_by, deleted_at, items";

fn trash_entry(row: Vec<Cell>) -> CoreResult<TrashEntry> {
    let mut cells = row.into_iter();
    let mut next = || cells.next().unwrap_or(Cell::Null);
    let id = next().int().unwrap_or(0);
    let uid = next()
        .text()
        .and_then(|u| Uid::parse(&u).ok())
        .ok_or_else(|| corrupt("trash entry", "uid"))?;
    Ok(TrashEntry {
        id,
        uid,
        path: path(next()),
        title: next().text().unwrap_or_default(),
        portal_type: next().text().unwrap_or_default(),
        owner: next().text(),
        deleted_by: next().text().unwrap_or_default(),
        deleted_at: next().int().unwrap_or(0),
        items: usize::try_from(next().int().unwrap_or(0)).unwrap_or(0),
        objects: match next().text() {
            Some(objects) => serde_json::from_str::<Vec<Content>>(&objects).map_err(|e| corrupt("trash entry", e))?,
            None => Vec::new(),
        },
    })
}

/// Keeps `e` (in the caller's transaction; the caller removes the subtree).
pub fn add_trash(db: &impl Db, site: &str, e: &TrashEntry) -> CoreResult<()> {
    let objects = serde_json::to_string(&e.objects).map_err(|e| corrupt("trash entry", e))?;
    raw_execute(
        db,
        "INSERT INTO trash (site, uid, path, title, portal_type, owner, deleted_by, deleted_at, items, objects)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        vec![
            site.into(),
            e.uid.as_str().into(),
            e.path.as_str().into(),
            e.title.as_str().into(),
            e.portal_type.as_str().into(),
            e.owner.clone().into(),
            e.deleted_by.as_str().into(),
            e.deleted_at.into(),
            (e.objects.len() as i64).into(),
            objects.into(),
        ],
    )
    .map(|_| ())
}

pub fn remove_trash(db: &impl Db, site: &str, id: i64) -> CoreResult<()> {
    raw_execute(
        db,
        "DELETE FROM trash WHERE site = ?1 AND id = ?2",
        vec![site.into(), id.into()],
    )
    .map(|_| ())
}

pub fn trash(
    db: &impl Db,
    site: &str,
    owner: Option<&str>,
    start: usize,
    limit: usize,
) -> CoreResult<(Vec<TrashEntry>, usize)> {
    let filter = "site = ?1 AND (?2 IS NULL OR owner = ?2)";
    let owner: sea_query::Value = owner.map(str::to_string).into();
    let page = raw(
        db,
        &format!(
            "SELECT {TRASH_COLUMNS} FROM trash WHERE {filter} ORDER BY deleted_at DESC, id DESC LIMIT ?3 OFFSET ?4"
        ),
        vec![site.into(), owner.clone(), (limit as i64).into(), (start as i64).into()],
    )?
    .into_iter()
    .map(trash_entry)
    .collect::<CoreResult<Vec<_>>>()?;
    let total = raw_integer(
        db,
        &format!("SELECT count(*) FROM trash WHERE {filter}"),
        vec![site.into(), owner],
    )?
    .unwrap_or(0);
    Ok((page, usize::try_from(total).unwrap_or(0)))
}

pub fn trash_entry_by_id(db: &impl Db, site: &str, id: i64) -> CoreResult<Option<TrashEntry>> {
    raw(
        db,
        &format!("SELECT {TRASH_COLUMNS}, objects FROM trash WHERE site = ?1 AND id = ?2"),
        vec![site.into(), id.into()],
    )?
    .into_iter()
    .next()
    .map(trash_entry)
    .transpose()
}

pub fn trash_before(db: &impl Db, site: &str, before: i64) -> CoreResult<Vec<i64>> {
    Ok(raw(
        db,
        "SELECT id FROM trash WHERE site = ?1 AND deleted_at < ?2 ORDER BY id",
        vec![site.into(), before.into()],
    )?
    .into_iter()
    .filter_map(|r| r.into_iter().next().and_then(|c| c.int()))
    .collect())
}
