//! Structured catalog queries (`@search`, listings) as one SQL statement,
//! plus a count when the page cannot tell the total.

use std::collections::{HashMap, HashSet};

use cairn_core::catalog::{CatalogQuery, DateIndex, SortOn};
use cairn_core::ports::ViewFilter;
use cairn_core::{Content, CoreResult};
use cairn_model::ContentPath;
use sea_query::{Cond, Expr, ExprTrait, NullOrdering, Order, Query, SelectStatement};

use crate::content::{count, page_total, select_as, visible};
use crate::schema::{Obj, Subjects};
use crate::{Db, Dialect};

/// The path part of a query; `None` when it is the whole site.
fn path_condition(q: &CatalogQuery) -> Option<Cond> {
    if q.paths.is_empty() || (q.depth.is_none() && q.paths.iter().any(ContentPath::is_root)) {
        return None;
    }
    let mut any = Cond::any();
    for root in &q.paths {
        let p = root.as_str();
        // One range [p, p0) that an index can walk, then `p` itself or below
        // `p/` (which leaves out siblings such as `p-2`). Written as
        // `p OR range` SQLite would take two index passes and count by row.
        let subtree = Expr::col(Obj::Path)
            .gte(p)
            .and(Expr::col(Obj::Path).lt(format!("{p}0")))
            .and(Expr::col(Obj::Path).eq(p).or(Expr::col(Obj::Path).gt(format!("{p}/"))));
        let subtree = if root.is_root() {
            Expr::col(Obj::Path).gte("")
        } else {
            subtree
        };
        any = match q.depth {
            None => any.add(subtree),
            Some(0) => any.add(Expr::col(Obj::Path).eq(p)),
            // Children: the (parent, position) index serves both the match and
            // the usual order by position, where a path range would sort.
            Some(1) => any.add(Expr::col(Obj::ParentPath).eq(p)),
            // As ExtendedPathIndex answers a deeper search: the root itself too.
            Some(n) => any.add(subtree.and(Expr::col(Obj::Depth).lte((root.depth() + n) as i64))),
        };
    }
    Some(any)
}

fn sort_column(s: SortOn) -> Obj {
    match s {
        SortOn::Position => Obj::Position,
        SortOn::SortableTitle => Obj::SortableTitle,
        SortOn::Created => Obj::Created,
        SortOn::Modified => Obj::Modified,
        SortOn::Effective => Obj::Effective,
        SortOn::Expires => Obj::Expires,
        SortOn::Id | SortOn::Path => Obj::Path,
        SortOn::PortalType => Obj::PortalType,
        SortOn::ReviewState => Obj::ReviewState,
    }
}

pub fn search(db: &impl Db, site: &str, q: &CatalogQuery, filter: &ViewFilter) -> CoreResult<(Vec<Content>, usize)> {
    let dialect = db.dialect();
    let mut sel = select_as(site, q.light);
    if let Some(cond) = path_condition(q) {
        sel.cond_where(cond);
    }
    if let Some(after) = &q.after_path {
        sel.and_where(Expr::col(Obj::Path).gt(after.as_str()));
    }
    let lists = [
        (Obj::PortalType, &q.portal_types),
        (Obj::ReviewState, &q.review_states),
        (Obj::Uid, &q.uids),
    ];
    for (col, values) in lists {
        if !values.is_empty() {
            sel.and_where(Expr::col(col).is_in(values.iter().map(String::as_str)));
        }
    }
    // Ranked without another order: the hits are checked in `by_relevance`,
    // and only there (the page's rows need no second check of them all).
    let by_rank = q.ranked.as_ref().filter(|_| q.sort.is_empty());
    if let Some(ranked) = q.ranked.as_ref().filter(|_| by_rank.is_none()) {
        sel.and_where(dialect.in_json_list("uid", ranked));
    }
    if !q.ids.is_empty() {
        let mut any = Cond::any();
        for id in &q.ids {
            // The id is the last path segment; LIKE's wildcards in it are escaped.
            let escaped = id.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            any = any.add(dialect.cust("path LIKE ? ESCAPE '\\'", [format!("%/{escaped}")]));
        }
        sel.cond_where(any);
    }
    let exclusions = [
        (Obj::PortalType, &q.not_portal_types),
        (Obj::ReviewState, &q.not_review_states),
        (Obj::Uid, &q.not_uids),
    ];
    for (col, values) in exclusions {
        if !values.is_empty() {
            sel.and_where(Expr::col(col).is_not_in(values.iter().map(String::as_str)));
        }
    }
    for (index, min, max) in &q.date_ranges {
        let value = match index {
            DateIndex::Created => Expr::col(Obj::Created),
            DateIndex::Modified => Expr::col(Obj::Modified),
            DateIndex::Effective => Expr::col(Obj::Effective),
            DateIndex::Expires => Expr::col(Obj::Expires),
            // Only events have them: read from the fields (a listing of events
            // is narrowed by type first, through the type index).
            DateIndex::Start => dialect.field_text("start"),
            DateIndex::End => dialect.field_text("end"),
        };
        if let Some(min) = min {
            sel.and_where(value.clone().gte(min.as_str()));
        }
        if let Some(max) = max {
            sel.and_where(value.lte(max.as_str()));
        }
    }
    if !q.creators.is_empty() {
        sel.and_where(dialect.field_array_meets("creators", &q.creators));
    }
    if !q.languages.is_empty() {
        sel.and_where(Expr::cust("coalesce(language, '')").is_in(q.languages.iter().map(String::as_str)));
    }
    if !q.subjects.is_empty() {
        let tagged = |subjects: &[String]| {
            Query::select()
                .column(Subjects::Uid)
                .from(Subjects::Table)
                .and_where(Expr::col(Subjects::Site).eq(site))
                .and_where(Expr::col(Subjects::Subject).is_in(subjects.iter().map(String::as_str)))
                .to_owned()
        };
        if q.subjects_all {
            for s in &q.subjects {
                sel.and_where(Expr::col(Obj::Uid).in_subquery(tagged(std::slice::from_ref(s))));
            }
        } else {
            sel.and_where(Expr::col(Obj::Uid).in_subquery(tagged(&q.subjects)));
        }
    }
    if let Some(b) = q.is_folderish {
        sel.and_where(Expr::col(Obj::IsFolderish).eq(b));
    }
    if let Some(b) = q.exclude_from_nav {
        sel.and_where(Expr::col(Obj::ExcludeFromNav).eq(b));
    }
    visible(&mut sel, site, filter);
    if let Some(ranked) = by_rank {
        return by_relevance(db, sel, q, ranked);
    }
    // The matches (capped by `max_results`); unknown for an uncounted walk,
    // and counted after the page when the page may tell it (`page_total`).
    let page_first = !q.uncounted && q.max_results.is_none() && q.limit > 0;
    let total = if q.uncounted || page_first {
        None
    } else {
        let matching = count(db, &sel)?;
        Some(q.max_results.map_or(matching, |max| matching.min(max)))
    };
    let room = total.map_or(q.limit, |t| t.saturating_sub(q.start).min(q.limit));
    if room == 0 {
        return Ok((Vec::new(), total.unwrap_or(0)));
    }
    let order = |s: &mut SelectStatement| {
        for (key, desc) in &q.sort {
            let way = if *desc { Order::Desc } else { Order::Asc };
            match dialect {
                // SQLite's own order: an empty value before every other.
                Dialect::Sqlite => s.order_by(sort_column(*key), way),
                Dialect::Postgres => s.order_by_with_nulls(
                    sort_column(*key),
                    way,
                    if *desc { NullOrdering::Last } else { NullOrdering::First },
                ),
            };
        }
        // A stable tie-breaker, so pages never overlap.
        s.order_by(Obj::Path, Order::Asc);
    };
    // Two steps: the page is chosen on row ids alone (sorted from a covering
    // index where there is one), then only its rows are read. Sorting whole
    // rows would read every match's fields first.
    let mut page = sel.clone();
    page.clear_selects().expr(Expr::cust(dialect.row_key()));
    order(&mut page);
    page.offset(q.start as u64).limit(room as u64);
    let mut rows = select_as(site, q.light);
    rows.and_where(Expr::cust(dialect.row_key()).in_subquery(page));
    order(&mut rows);
    let found = crate::contents(db, &rows)?;
    let total = match total {
        Some(total) => total,
        None if page_first => match page_total(q.start, q.limit, found.len()) {
            Some(total) => total,
            None => count(db, &sel)?,
        },
        None => 0,
    };
    Ok((found, total))
}

/// One page in the order of the full-text ranking: the UIDs that pass every
/// filter are read (at most as many as were ranked), then only the page's rows.
fn by_relevance(
    db: &impl Db,
    mut sel: SelectStatement,
    q: &CatalogQuery,
    ranked: &[String],
) -> CoreResult<(Vec<Content>, usize)> {
    let mut uids = sel.clone();
    uids.clear_selects()
        .column(Obj::Uid)
        .and_where(db.dialect().in_json_list("uid", ranked));
    let matching: HashSet<String> = crate::texts(db, &uids)?.into_iter().collect();
    let ordered: Vec<&String> = ranked.iter().filter(|u| matching.contains(*u)).collect();
    let total = q.max_results.map_or(ordered.len(), |max| ordered.len().min(max));
    let end = q.start.saturating_add(q.limit).min(total);
    if q.start >= end {
        return Ok((Vec::new(), total));
    }
    let page = &ordered[q.start..end];
    sel.and_where(Expr::col(Obj::Uid).is_in(page.iter().map(|u| u.as_str())));
    let mut found = crate::contents(db, &sel)?;
    let rank: HashMap<&str, usize> = page.iter().enumerate().map(|(i, u)| (u.as_str(), i)).collect();
    found.sort_by_key(|c| rank.get(c.uid.as_str()).copied().unwrap_or(usize::MAX));
    Ok((found, total))
}

/// Distinct keywords of the objects `filter` lets the reader see.
pub fn keywords(db: &impl Db, site: &str, filter: &ViewFilter) -> CoreResult<Vec<String>> {
    let mut visible_uids = Query::select();
    visible_uids
        .column(Obj::Uid)
        .from(Obj::Table)
        .and_where(Expr::col(Obj::Site).eq(site));
    visible(&mut visible_uids, site, filter);
    let q = Query::select()
        .distinct()
        .column(Subjects::Subject)
        .from(Subjects::Table)
        .and_where(Expr::col(Subjects::Site).eq(site))
        .and_where(Expr::col(Subjects::Uid).in_subquery(visible_uids))
        .order_by(Subjects::Subject, Order::Asc)
        .to_owned();
    crate::texts(db, &q)
}
