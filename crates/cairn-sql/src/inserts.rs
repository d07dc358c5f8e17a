//! New objects written in few statements: the inserts of a write (an API
//! create, a bulk load of a thousand pages) become one multi-row INSERT
//! per table and chunk instead of several statements per object, which on
//! PostgreSQL are as many round trips. The checks stay those of a single
//! insert: a taken UID or path is a conflict naming the first object that
//! could not be stored, and the whole transaction is rolled back.

use std::collections::HashSet;

use cairn_core::ports::VersionRecord;
use cairn_core::{Content, CoreError, CoreResult};
use sea_query::{Expr, ExprTrait, OnConflict, Query, SimpleExpr};

use crate::schema::{Allowed, Obj, Subjects};
use crate::{Cell, Db, integer, query, run};

/// Rows per statement: 26 catalog columns each stays under SQLite's
/// default limit of 32,766 bound values (PostgreSQL allows 65,535).
const ROWS: usize = 500;

/// Inserts `fresh` (objects not stored yet) with their permission and
/// keyword rows.
pub(crate) fn insert_all(db: &impl Db, site: &str, fresh: &[&Content]) -> CoreResult<()> {
    for chunk in fresh.chunks(ROWS) {
        let mut insert = Query::insert();
        insert.into_table(Obj::Table);
        // DO NOTHING rather than an error: PostgreSQL would abort the whole
        // transaction on one, and the next query must tell which place is taken.
        insert.on_conflict(OnConflict::new().do_nothing().to_owned());
        insert.returning_col(Obj::Uid);
        for (i, c) in chunk.iter().enumerate() {
            let (cols, vals): (Vec<Obj>, Vec<SimpleExpr>) = crate::writes::row_values(site, c).into_iter().unzip();
            if i == 0 {
                insert.columns(cols);
            }
            insert.values_panic(vals);
        }
        let stored: HashSet<String> = query(db, &insert)?
            .into_iter()
            .filter_map(|row| row.into_iter().next().and_then(Cell::text))
            .collect();
        if stored.len() < chunk.len() {
            let refused = chunk
                .iter()
                .find(|c| !stored.contains(c.uid.as_str()))
                .expect("an object was not stored");
            return Err(conflict(db, site, refused)?);
        }
        let uids: Vec<&str> = chunk.iter().map(|c| c.uid.as_str()).collect();
        replace_rows(
            db,
            (Allowed::Table, Allowed::Site, Allowed::Uid, Allowed::Principal),
            site,
            &uids,
            chunk
                .iter()
                .flat_map(|c| c.allowed.iter().map(|p| (c.uid.as_str(), p.clone()))),
        )?;
        replace_rows(
            db,
            (Subjects::Table, Subjects::Site, Subjects::Uid, Subjects::Subject),
            site,
            &uids,
            chunk
                .iter()
                .flat_map(|c| c.strings("subjects").into_iter().map(|s| (c.uid.as_str(), s))),
        )?;
    }
    Ok(())
}

/// The conflict a refused insert of `c` is: its UID or its path is taken.
fn conflict(db: &impl Db, site: &str, c: &Content) -> CoreResult<CoreError> {
    let uid_taken = integer(
        db,
        &Query::select()
            .expr(Expr::cust("count(*)"))
            .from(Obj::Table)
            .and_where(Expr::col(Obj::Site).eq(site))
            .and_where(Expr::col(Obj::Uid).eq(c.uid.as_str()))
            .to_owned(),
    )? != Some(0);
    Ok(CoreError::Conflict(if uid_taken {
        format!("An object with the UID {} already exists", c.uid.as_str())
    } else {
        format!("An object already exists at {}", c.path)
    }))
}

/// Replaces the (site, uid, value) rows of a side table for `uids` with `rows`.
fn replace_rows<T: sea_query::Iden + Copy + 'static>(
    db: &impl Db,
    (table, site_col, uid_col, value_col): (T, T, T, T),
    site: &str,
    uids: &[&str],
    rows: impl Iterator<Item = (impl Into<String>, String)>,
) -> CoreResult<()> {
    run(
        db,
        &Query::delete()
            .from_table(table)
            .and_where(Expr::col(site_col).eq(site))
            .and_where(Expr::col(uid_col).is_in(uids.iter().map(|u| u.to_string())))
            .to_owned(),
    )?;
    let rows: Vec<(String, String)> = rows.map(|(u, v)| (u.into(), v)).collect();
    // Three values a row: well within both databases' limits per statement.
    for chunk in rows.chunks(ROWS * 4) {
        let mut insert = Query::insert();
        insert
            .into_table(table)
            .columns([site_col, uid_col, value_col])
            .on_conflict(OnConflict::new().do_nothing().to_owned());
        for (uid, value) in chunk {
            insert.values_panic([site.into(), uid.clone().into(), value.clone().into()]);
        }
        run(db, &insert)?;
    }
    Ok(())
}

/// Stores the first versions (version 0) of new objects: whole, with no
/// earlier version to be a patch of.
pub(crate) fn first_versions(db: &impl Db, site: &str, versions: &[&VersionRecord]) -> CoreResult<()> {
    for chunk in versions.chunks(ROWS) {
        let rows = chunk
            .iter()
            .map(|v| {
                let whole = serde_json::to_string(&v.fields).map_err(|e| crate::corrupt("version", e))?;
                Ok((*v, whole, false))
            })
            .collect::<CoreResult<Vec<_>>>()?;
        crate::history::insert_rows(db, site, &rows)?;
    }
    Ok(())
}
