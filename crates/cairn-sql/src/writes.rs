//! The write path: the statements a [`WriteBatch`] becomes. The adapter
//! opens the transaction, calls [`apply`] and then [`append_events`] (so
//! it can take its turn on the outbox in between), adds the batch's jobs
//! and commits; any error rolls everything back.

use std::collections::HashSet;

use cairn_core::ports::{ChangeEvent, OutboxEntry, WriteBatch, WriteOp};
use cairn_core::{Content, CoreError, CoreResult, StorageKind};
use cairn_model::time::format_ts;
use cairn_model::{ContentPath, Uid};
use sea_query::{Expr, ExprTrait, OnConflict, Order, Query, SimpleExpr};
use serde_json::Value;

use crate::content::in_subtree;
use crate::schema::{Allowed, Obj, Outbox, Settings, Subjects};
use crate::{Cell, Db, Dialect, corrupt, integer, query, records, run};

/// Lowercased title with numbers zero-padded, so "Item 10" sorts after "Item 9".
pub fn sortable_title(title: &str) -> String {
    let mut out = String::new();
    let mut digits = String::new();
    for c in title.to_lowercase().chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        if !digits.is_empty() {
            out.push_str(&format!("{digits:0>8}"));
            digits.clear();
        }
        out.push(c);
    }
    if !digits.is_empty() {
        out.push_str(&format!("{digits:0>8}"));
    }
    out.chars().take(40).collect()
}

/// Large values a summary never shows; everything else goes into `meta`.
const NOT_META: [&str; 5] = ["text", "blocks", "blocks_layout", "_workflow_history", "query"];

/// The brain-like subset of the fields, so listings and trees skip big values
/// (serialized from the fields in place, not from a copy of them).
fn meta(c: &Content) -> String {
    struct Meta<'a>(&'a serde_json::Map<String, Value>);
    impl serde::Serialize for Meta<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_map(self.0.iter().filter(|(k, _)| !NOT_META.contains(&k.as_str())))
        }
    }
    serde_json::to_string(&Meta(&c.fields)).unwrap_or_else(|_| "{}".into())
}

/// The catalog columns of a row, derived from the object.
pub(crate) fn row_values(site: &str, c: &Content) -> Vec<(Obj, SimpleExpr)> {
    let s = |v: &str| -> SimpleExpr { v.to_string().into() };
    let opt = |name: &str| -> SimpleExpr { c.fields.get(name).and_then(Value::as_str).map(str::to_string).into() };
    vec![
        (Obj::Site, s(site)),
        (Obj::Uid, s(c.uid.as_str())),
        (Obj::Path, s(c.path.as_str())),
        (Obj::ParentPath, c.path.parent().map(|p| p.as_str().to_string()).into()),
        (Obj::Depth, (c.path.depth() as i64).into()),
        (Obj::Position, c.position.into()),
        (Obj::PortalType, s(&c.portal_type)),
        (Obj::ReviewState, c.review_state.clone().into()),
        (Obj::IsFolderish, c.is_folderish.into()),
        (Obj::Title, s(c.title())),
        (Obj::SortableTitle, s(&sortable_title(c.title()))),
        (Obj::Created, s(&format_ts(c.created))),
        (Obj::Modified, s(&format_ts(c.modified))),
        (Obj::Effective, opt("effective")),
        (Obj::Expires, opt("expires")),
        (Obj::Language, opt("language")),
        (Obj::ExcludeFromNav, c.bool_field("exclude_from_nav").into()),
        (Obj::Layout, c.layout.clone().into()),
        (Obj::Version, c.version.into()),
        (Obj::ParentUid, c.parent.as_ref().map(|u| u.as_str().to_string()).into()),
        (
            Obj::Fields,
            serde_json::to_string(&c.fields).unwrap_or_else(|_| "{}".into()).into(),
        ),
        (Obj::Meta, s(&meta(c))),
        (
            Obj::Allowed,
            s(&serde_json::to_string(&c.allowed).unwrap_or_else(|_| "[]".into())),
        ),
        (Obj::Public, c.allowed.iter().any(|p| p == "Anonymous").into()),
    ]
}

/// Rewrites the Subject keyword rows of `c` (one statement for the rows).
fn set_subjects(db: &impl Db, site: &str, c: &Content) -> CoreResult<()> {
    run(
        db,
        &Query::delete()
            .from_table(Subjects::Table)
            .and_where(Expr::col(Subjects::Site).eq(site))
            .and_where(Expr::col(Subjects::Uid).eq(c.uid.as_str()))
            .to_owned(),
    )?;
    let subjects = c.strings("subjects");
    if subjects.is_empty() {
        return Ok(());
    }
    let mut insert = Query::insert();
    insert
        .into_table(Subjects::Table)
        .columns([Subjects::Site, Subjects::Uid, Subjects::Subject])
        .on_conflict(OnConflict::new().do_nothing().to_owned());
    for subject in subjects {
        insert.values_panic([site.into(), c.uid.as_str().into(), subject.into()]);
    }
    run(db, &insert).map(|_| ())
}

/// Rewrites the view-permission rows of `c` (one statement for the rows).
fn set_allowed(db: &impl Db, site: &str, c: &Content) -> CoreResult<()> {
    run(
        db,
        &Query::delete()
            .from_table(Allowed::Table)
            .and_where(Expr::col(Allowed::Site).eq(site))
            .and_where(Expr::col(Allowed::Uid).eq(c.uid.as_str()))
            .to_owned(),
    )?;
    if c.allowed.is_empty() {
        return Ok(());
    }
    let mut insert = Query::insert();
    insert
        .into_table(Allowed::Table)
        .columns([Allowed::Site, Allowed::Uid, Allowed::Principal])
        .on_conflict(OnConflict::new().do_nothing().to_owned());
    for p in &c.allowed {
        insert.values_panic([site.into(), c.uid.as_str().into(), p.as_str().into()]);
    }
    run(db, &insert).map(|_| ())
}

fn update(db: &impl Db, site: &str, c: &Content, expected: i64) -> CoreResult<()> {
    let changed = run(
        db,
        &Query::update()
            .table(Obj::Table)
            .values(row_values(site, c))
            .and_where(Expr::col(Obj::Site).eq(site))
            .and_where(Expr::col(Obj::Uid).eq(c.uid.as_str()))
            .and_where(Expr::col(Obj::Version).eq(expected))
            .to_owned(),
    )?;
    if changed == 0 {
        return Err(CoreError::Conflict(
            "The object was changed by someone else; reload and try again".into(),
        ));
    }
    set_allowed(db, site, c)?;
    set_subjects(db, site, c)
}

fn delete_subtree(db: &impl Db, site: &str, path: &ContentPath) -> CoreResult<()> {
    let p = path.as_str();
    let uids = Query::select()
        .column(Obj::Uid)
        .from(Obj::Table)
        .and_where(Expr::col(Obj::Site).eq(site))
        .and_where(in_subtree(Obj::Path, p))
        .to_owned();
    run(
        db,
        &Query::delete()
            .from_table(Allowed::Table)
            .and_where(Expr::col(Allowed::Site).eq(site))
            .and_where(Expr::col(Allowed::Uid).in_subquery(uids.clone()))
            .to_owned(),
    )?;
    run(
        db,
        &Query::delete()
            .from_table(Subjects::Table)
            .and_where(Expr::col(Subjects::Site).eq(site))
            .and_where(Expr::col(Subjects::Uid).in_subquery(uids))
            .to_owned(),
    )?;
    run(
        db,
        &Query::delete()
            .from_table(Obj::Table)
            .and_where(Expr::col(Obj::Site).eq(site))
            .and_where(in_subtree(Obj::Path, p))
            .to_owned(),
    )?;
    Ok(())
}

fn reposition(db: &impl Db, site: &str, moves: &[(Uid, i64)]) -> CoreResult<()> {
    for (uid, pos) in moves {
        run(
            db,
            &Query::update()
                .table(Obj::Table)
                .value(Obj::Position, *pos)
                .and_where(Expr::col(Obj::Site).eq(site))
                .and_where(Expr::col(Obj::Uid).eq(uid.as_str()))
                .to_owned(),
        )?;
    }
    Ok(())
}

/// `column` with its first `cut - 1` characters replaced by `to`. `||` and
/// substr() are the same on both backends; the cut is a 32-bit integer,
/// as PostgreSQL's substr() takes.
pub(crate) fn reprefix(d: Dialect, column: &str, to: &str, cut: usize) -> SimpleExpr {
    let cut = i32::try_from(cut).unwrap_or(i32::MAX);
    d.cust(
        &format!("? || substr({column}, ?)"),
        [sea_query::Value::from(to), cut.into()],
    )
}

/// Rewrites the path prefix of an object and its subtree in one statement.
fn move_subtree(db: &impl Db, site: &str, from: &ContentPath, to: &ContentPath) -> CoreResult<()> {
    let (f, t) = (from.as_str(), to.as_str());
    let cut = f.len() + 1;
    let new_parent = to.parent().map(|p| p.as_str().to_string()).unwrap_or_default();
    let d = db.dialect();
    let moved = run(
        db,
        &Query::update()
            .table(Obj::Table)
            .value(Obj::Path, reprefix(d, "path", t, cut))
            .value(
                Obj::ParentPath,
                Expr::case(Expr::col(Obj::Path).eq(f), Expr::val(new_parent)).finally(reprefix(
                    d,
                    "parent_path",
                    t,
                    cut,
                )),
            )
            .and_where(Expr::col(Obj::Site).eq(site))
            .and_where(in_subtree(Obj::Path, f))
            .to_owned(),
    );
    match moved {
        Err(e) if e.is_storage(StorageKind::Duplicate) => {
            Err(CoreError::Conflict(format!("An object already exists at {to}")))
        }
        other => other.map(|_| ()),
    }
}

/// Applies a batch's operations (not its events or jobs) in the caller's
/// transaction. A run of inserts, with the first versions of the objects
/// it inserts, is written together (see [`crate::inserts`]); any other
/// operation waits until that run is stored, so the order that matters is kept.
pub fn apply(db: &impl Db, site: &str, batch: &WriteBatch) -> CoreResult<()> {
    let mut fresh: Vec<&Content> = Vec::new();
    let mut uids: HashSet<&str> = HashSet::new();
    let mut first: Vec<&cairn_core::ports::VersionRecord> = Vec::new();
    let store = |fresh: &mut Vec<&Content>, first: &mut Vec<_>, uids: &mut HashSet<&str>| -> CoreResult<()> {
        crate::inserts::insert_all(db, site, fresh)?;
        crate::inserts::first_versions(db, site, first)?;
        fresh.clear();
        first.clear();
        uids.clear();
        Ok(())
    };
    for op in &batch.ops {
        match op {
            WriteOp::Insert(c) => {
                fresh.push(c);
                uids.insert(c.uid.as_str());
                continue;
            }
            WriteOp::AddVersion(v) if v.version == 0 && uids.contains(v.uid.as_str()) => {
                first.push(v);
                continue;
            }
            _ => store(&mut fresh, &mut first, &mut uids)?,
        }
        match op {
            WriteOp::Insert(_) => unreachable!("inserts are gathered above"),
            WriteOp::Update { content, expected } => update(db, site, content, *expected)?,
            WriteOp::DeleteSubtree(p) => {
                records::drop_links_below(db, site, p)?;
                delete_subtree(db, site, p)?;
            }
            WriteOp::Reposition(moves) => reposition(db, site, moves)?,
            WriteOp::Move { from, to } => move_subtree(db, site, from, to)?,
            WriteOp::AddRedirect(r) => records::add_redirect(db, site, r)?,
            WriteOp::RemoveRedirect(from) => records::remove_redirect(db, site, from)?,
            WriteOp::RetargetRedirects { from, to } => records::retarget_redirects(db, site, from, to)?,
            WriteOp::AddVersion(v) => crate::history::add(db, site, v)?,
            WriteOp::MoveToTrash(e) => {
                records::add_trash(db, site, e)?;
                records::drop_links_below(db, site, &e.path)?;
                delete_subtree(db, site, &e.path)?;
            }
            WriteOp::SetLinks { source, targets } => records::set_links(db, site, source, targets)?,
            WriteOp::PutSetting { key, value } => put_setting(db, site, key, value)?,
            WriteOp::RemoveTrash(id) => records::remove_trash(db, site, *id)?,
            WriteOp::KeepTrash(e) => records::add_trash(db, site, e)?,
            WriteOp::ForgetVersions(uids) => crate::history::forget(db, site, uids)?,
        }
    }
    store(&mut fresh, &mut first, &mut uids)
}

/// Appends a batch's change events to the site's outbox, in their order
/// (a multi-row insert numbers its rows in the order given).
pub fn append_events(db: &impl Db, site: &str, events: &[ChangeEvent]) -> CoreResult<()> {
    let at = format_ts(jiff::Timestamp::now());
    for chunk in events.chunks(2000) {
        let mut insert = Query::insert();
        insert
            .into_table(Outbox::Table)
            .columns([Outbox::Site, Outbox::Kind, Outbox::Uid, Outbox::Path, Outbox::At]);
        for e in chunk {
            insert.values_panic([
                site.into(),
                e.kind.into(),
                e.uid.as_str().into(),
                e.path.as_str().into(),
                at.as_str().into(),
            ]);
        }
        run(db, &insert)?;
    }
    Ok(())
}

/// The settings value as stored: JSON text (PostgreSQL keeps it as jsonb).
fn setting_value(d: Dialect, value: &Value) -> SimpleExpr {
    match d {
        Dialect::Sqlite => value.to_string().into(),
        Dialect::Postgres => d.cust("CAST(? AS jsonb)", [value.to_string()]),
    }
}

pub fn setting(db: &impl Db, site: &str, key: &str) -> CoreResult<Option<Value>> {
    let column = match db.dialect() {
        Dialect::Sqlite => "value",
        Dialect::Postgres => "value::text",
    };
    let q = Query::select()
        .expr(Expr::cust(column))
        .from(Settings::Table)
        .and_where(Expr::col(Settings::Site).eq(site))
        .and_where(Expr::col(Settings::Key).eq(key))
        .to_owned();
    match crate::texts(db, &q)?.into_iter().next() {
        Some(s) => serde_json::from_str(&s).map(Some).map_err(|e| corrupt("setting", e)),
        None => Ok(None),
    }
}

/// Every setting of a site, by key.
pub fn settings(db: &impl Db, site: &str) -> CoreResult<Vec<(String, Value)>> {
    let value = match db.dialect() {
        Dialect::Sqlite => "value",
        Dialect::Postgres => "value::text",
    };
    let q = Query::select()
        .column(Settings::Key)
        .expr(Expr::cust(value))
        .from(Settings::Table)
        .and_where(Expr::col(Settings::Site).eq(site))
        .order_by(Settings::Key, Order::Asc)
        .to_owned();
    query(db, &q)?
        .into_iter()
        .map(|row| {
            let [key, value]: [Cell; 2] = row.try_into().map_err(|_| corrupt("setting", "columns"))?;
            let value = serde_json::from_str(&value.text().unwrap_or_default()).map_err(|e| corrupt("setting", e))?;
            Ok((key.text().unwrap_or_default(), value))
        })
        .collect()
}

pub fn put_setting(db: &impl Db, site: &str, key: &str, value: &Value) -> CoreResult<()> {
    run(
        db,
        &Query::insert()
            .into_table(Settings::Table)
            .columns([Settings::Site, Settings::Key, Settings::Value])
            .values_panic([site.into(), key.into(), setting_value(db.dialect(), value)])
            .on_conflict(
                OnConflict::columns([Settings::Site, Settings::Key])
                    .update_column(Settings::Value)
                    .to_owned(),
            )
            .to_owned(),
    )
    .map(|_| ())
}

pub fn outbox_len(db: &impl Db, site: &str) -> CoreResult<u64> {
    let q = Query::select()
        .expr(Expr::col(Outbox::Seq).count())
        .from(Outbox::Table)
        .and_where(Expr::col(Outbox::Site).eq(site))
        .to_owned();
    Ok(u64::try_from(integer(db, &q)?.unwrap_or(0)).unwrap_or(0))
}

/// The newest change's position: the newest one kept, or when every
/// change was pruned, the last one pruned (positions never go back, so a
/// rebuilt index and a waiting reader agree on where the feed stands).
pub fn outbox_head(db: &impl Db, site: &str) -> CoreResult<i64> {
    let q = Query::select()
        .expr(Expr::col(Outbox::Seq).max())
        .from(Outbox::Table)
        .and_where(Expr::col(Outbox::Site).eq(site))
        .to_owned();
    // Pruning keeps every change past the point it records, so the mark
    // matters (and is read) only when nothing is kept.
    if let Some(kept) = integer(db, &q)? {
        return Ok(kept);
    }
    Ok(setting(db, site, cairn_core::ports::OUTBOX_PRUNED_KEY)?
        .and_then(|v| v.as_i64())
        .unwrap_or_default())
}

pub fn outbox_after(db: &impl Db, site: &str, after: i64, limit: usize) -> CoreResult<Vec<OutboxEntry>> {
    let q = Query::select()
        .columns([Outbox::Seq, Outbox::Kind, Outbox::Uid, Outbox::Path])
        .from(Outbox::Table)
        .and_where(Expr::col(Outbox::Site).eq(site))
        .and_where(Expr::col(Outbox::Seq).gt(after))
        .order_by(Outbox::Seq, Order::Asc)
        .limit(limit as u64)
        .to_owned();
    let mut out = Vec::new();
    for row in query(db, &q)? {
        let [seq, kind, uid, path]: [Cell; 4] = row.try_into().map_err(|_| corrupt("change", "columns"))?;
        out.push(OutboxEntry {
            seq: seq.int().unwrap_or(0),
            kind: kind.text().unwrap_or_default(),
            uid: Uid::parse(&uid.text().unwrap_or_default()).unwrap_or_default(),
            path: ContentPath::parse(&path.text().unwrap_or_default()).unwrap_or_else(|_| ContentPath::root()),
        });
    }
    Ok(out)
}
