//! The write path: one IMMEDIATE transaction per batch that updates content
//! rows, their catalog columns and view permissions, and appends the outbox.

use cairn_core::ports::{ChangeEvent, OutboxEntry, WriteBatch, WriteOp};
use cairn_core::{Content, CoreError, CoreResult, StorageKind};
use cairn_model::time::format_ts;
use cairn_model::{ContentPath, Uid};
use rusqlite::{Connection, Transaction, TransactionBehavior};
use sea_query::{Expr, ExprTrait, OnConflict, Order, Query, SimpleExpr, SqliteQueryBuilder};
use sea_query_rusqlite::RusqliteBinder;
use serde_json::Value;

use super::db;
use super::schema::{Allowed, Obj, Outbox, Settings, Subjects};

pub(crate) fn exec(tx: &Connection, sql: &str, values: &sea_query_rusqlite::RusqliteValues) -> CoreResult<usize> {
    tx.prepare_cached(sql)
        .and_then(|mut s| s.execute(&*values.as_params()))
        .map_err(db)
}

/// Lowercased title with numbers zero-padded, so "Item 10" sorts after "Item 9".
fn sortable_title(title: &str) -> String {
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
fn row_values(site: &str, c: &Content) -> Vec<(Obj, SimpleExpr)> {
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

/// Rewrites the Subject keyword rows of `c`.
fn set_subjects(tx: &Transaction<'_>, site: &str, c: &Content) -> CoreResult<()> {
    let (sql, v) = Query::delete()
        .from_table(Subjects::Table)
        .and_where(Expr::col(Subjects::Site).eq(site))
        .and_where(Expr::col(Subjects::Uid).eq(c.uid.as_str()))
        .build_rusqlite(SqliteQueryBuilder);
    exec(tx, &sql, &v)?;
    for subject in c.strings("subjects") {
        let (sql, v) = Query::insert()
            .into_table(Subjects::Table)
            .columns([Subjects::Site, Subjects::Uid, Subjects::Subject])
            .values_panic([site.into(), c.uid.as_str().into(), subject.into()])
            .on_conflict(OnConflict::new().do_nothing().to_owned())
            .build_rusqlite(SqliteQueryBuilder);
        exec(tx, &sql, &v)?;
    }
    Ok(())
}

fn set_allowed(tx: &Transaction<'_>, site: &str, c: &Content) -> CoreResult<()> {
    let (sql, v) = Query::delete()
        .from_table(Allowed::Table)
        .and_where(Expr::col(Allowed::Site).eq(site))
        .and_where(Expr::col(Allowed::Uid).eq(c.uid.as_str()))
        .build_rusqlite(SqliteQueryBuilder);
    exec(tx, &sql, &v)?;
    for p in &c.allowed {
        let (sql, v) = Query::insert()
            .into_table(Allowed::Table)
            .columns([Allowed::Site, Allowed::Uid, Allowed::Principal])
            .values_panic([site.into(), c.uid.as_str().into(), p.as_str().into()])
            .on_conflict(OnConflict::new().do_nothing().to_owned())
            .build_rusqlite(SqliteQueryBuilder);
        exec(tx, &sql, &v)?;
    }
    Ok(())
}

fn insert(tx: &Transaction<'_>, site: &str, c: &Content) -> CoreResult<()> {
    let (cols, vals): (Vec<Obj>, Vec<SimpleExpr>) = row_values(site, c).into_iter().unzip();
    let (sql, v) = Query::insert()
        .into_table(Obj::Table)
        .columns(cols)
        .values_panic(vals)
        .build_rusqlite(SqliteQueryBuilder);
    match exec(tx, &sql, &v) {
        Err(e) if e.is_storage(StorageKind::Duplicate) => {
            // Two constraints can refuse it: say which.
            let uid_taken: bool = tx
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM content WHERE site = ?1 AND uid = ?2)",
                    rusqlite::params![site, c.uid.as_str()],
                    |r| r.get(0),
                )
                .map_err(db)?;
            return Err(CoreError::Conflict(if uid_taken {
                format!("An object with the UID {} already exists", c.uid.as_str())
            } else {
                format!("An object already exists at {}", c.path)
            }));
        }
        other => other?,
    };
    set_allowed(tx, site, c)?;
    set_subjects(tx, site, c)
}

fn update(tx: &Transaction<'_>, site: &str, c: &Content, expected: i64) -> CoreResult<()> {
    let (sql, v) = Query::update()
        .table(Obj::Table)
        .values(row_values(site, c))
        .and_where(Expr::col(Obj::Site).eq(site))
        .and_where(Expr::col(Obj::Uid).eq(c.uid.as_str()))
        .and_where(Expr::col(Obj::Version).eq(expected))
        .build_rusqlite(SqliteQueryBuilder);
    if exec(tx, &sql, &v)? == 0 {
        return Err(CoreError::Conflict(
            "The object was changed by someone else; reload and try again".into(),
        ));
    }
    set_allowed(tx, site, c)?;
    set_subjects(tx, site, c)
}

fn delete_subtree(tx: &Transaction<'_>, site: &str, path: &ContentPath) -> CoreResult<()> {
    let p = path.as_str();
    let in_subtree = Expr::col(Obj::Path).eq(p).or(Expr::col(Obj::Path)
        .gt(format!("{p}/"))
        .and(Expr::col(Obj::Path).lt(format!("{p}0"))));
    let uids = Query::select()
        .column(Obj::Uid)
        .from(Obj::Table)
        .and_where(Expr::col(Obj::Site).eq(site))
        .and_where(in_subtree.clone())
        .to_owned();
    let (sql, v) = Query::delete()
        .from_table(Allowed::Table)
        .and_where(Expr::col(Allowed::Site).eq(site))
        .and_where(Expr::col(Allowed::Uid).in_subquery(uids.clone()))
        .build_rusqlite(SqliteQueryBuilder);
    exec(tx, &sql, &v)?;
    let (sql, v) = Query::delete()
        .from_table(Subjects::Table)
        .and_where(Expr::col(Subjects::Site).eq(site))
        .and_where(Expr::col(Subjects::Uid).in_subquery(uids))
        .build_rusqlite(SqliteQueryBuilder);
    exec(tx, &sql, &v)?;
    let (sql, v) = Query::delete()
        .from_table(Obj::Table)
        .and_where(Expr::col(Obj::Site).eq(site))
        .and_where(in_subtree)
        .build_rusqlite(SqliteQueryBuilder);
    exec(tx, &sql, &v)?;
    Ok(())
}

fn reposition(tx: &Transaction<'_>, site: &str, moves: &[(cairn_model::Uid, i64)]) -> CoreResult<()> {
    for (uid, pos) in moves {
        let (sql, v) = Query::update()
            .table(Obj::Table)
            .value(Obj::Position, *pos)
            .and_where(Expr::col(Obj::Site).eq(site))
            .and_where(Expr::col(Obj::Uid).eq(uid.as_str()))
            .build_rusqlite(SqliteQueryBuilder);
        exec(tx, &sql, &v)?;
    }
    Ok(())
}

fn prefix(to: &str, cut: i64) -> [sea_query::Value; 2] {
    [to.into(), cut.into()]
}

/// Rewrites the path prefix of an object and its subtree in one statement.
fn move_subtree(tx: &Transaction<'_>, site: &str, from: &ContentPath, to: &ContentPath) -> CoreResult<()> {
    let (f, t) = (from.as_str(), to.as_str());
    let cut = (f.len() + 1) as i64;
    let new_parent = to.parent().map(|p| p.as_str().to_string()).unwrap_or_default();
    let (sql, v) = Query::update()
        .table(Obj::Table)
        // `||` and substr() are the same in SQLite and PostgreSQL.
        .value(
            Obj::Path,
            Expr::cust_with_values("? || substr(path, ?)", prefix(t, cut)),
        )
        .value(
            Obj::ParentPath,
            Expr::case(Expr::col(Obj::Path).eq(f), Expr::val(new_parent))
                .finally(Expr::cust_with_values("? || substr(parent_path, ?)", prefix(t, cut))),
        )
        .and_where(Expr::col(Obj::Site).eq(site))
        .and_where(
            Expr::col(Obj::Path).eq(f).or(Expr::col(Obj::Path)
                .gt(format!("{f}/"))
                .and(Expr::col(Obj::Path).lt(format!("{f}0")))),
        )
        .build_rusqlite(SqliteQueryBuilder);
    match exec(tx, &sql, &v) {
        Err(e) if e.is_storage(StorageKind::Duplicate) => {
            Err(CoreError::Conflict(format!("An object already exists at {to}")))
        }
        other => other.map(|_| ()),
    }
}

fn append_event(tx: &Transaction<'_>, site: &str, e: &ChangeEvent, at: &str) -> CoreResult<()> {
    let (sql, v) = Query::insert()
        .into_table(Outbox::Table)
        .columns([Outbox::Site, Outbox::Kind, Outbox::Uid, Outbox::Path, Outbox::At])
        .values_panic([
            site.into(),
            e.kind.into(),
            e.uid.as_str().into(),
            e.path.as_str().into(),
            at.into(),
        ])
        .build_rusqlite(SqliteQueryBuilder);
    exec(tx, &sql, &v).map(|_| ())
}

/// Applies a whole batch atomically; any error rolls everything back.
pub fn write(conn: &mut Connection, site: &str, batch: WriteBatch) -> CoreResult<()> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db)?;
    for op in &batch.ops {
        match op {
            WriteOp::Insert(c) => insert(&tx, site, c)?,
            WriteOp::Update { content, expected } => update(&tx, site, content, *expected)?,
            WriteOp::DeleteSubtree(p) => {
                super::links::drop_subtree(&tx, site, p)?;
                delete_subtree(&tx, site, p)?;
            }
            WriteOp::Reposition(moves) => reposition(&tx, site, moves)?,
            WriteOp::Move { from, to } => move_subtree(&tx, site, from, to)?,
            WriteOp::AddRedirect(r) => super::redirects::add(&tx, site, r)?,
            WriteOp::RemoveRedirect(from) => super::redirects::remove(&tx, site, from)?,
            WriteOp::RetargetRedirects { from, to } => super::redirects::retarget(&tx, site, from, to)?,
            WriteOp::AddVersion(v) => super::versions::add(&tx, site, v)?,
            WriteOp::MoveToTrash(e) => {
                super::trash::add(&tx, site, e)?;
                super::links::drop_subtree(&tx, site, &e.path)?;
                delete_subtree(&tx, site, &e.path)?;
            }
            WriteOp::SetLinks { source, targets } => super::links::set(&tx, site, source, targets)?,
            WriteOp::PutSetting { key, value } => put_setting(&tx, site, key, value)?,
            WriteOp::RemoveTrash(id) => super::trash::remove(&tx, site, *id)?,
            WriteOp::ForgetVersions(uids) => super::trash::forget_versions(&tx, site, uids)?,
        }
    }
    let at = format_ts(jiff::Timestamp::now());
    for e in &batch.events {
        append_event(&tx, site, e, &at)?;
    }
    if !batch.jobs.is_empty() {
        super::jobs::insert(&tx, site, &batch.jobs, cairn_core::jobs::now_ms(), None)?;
    }
    tx.commit().map_err(db)
}

pub fn setting(conn: &Connection, site: &str, key: &str) -> CoreResult<Option<Value>> {
    let (sql, v) = Query::select()
        .column(Settings::Value)
        .from(Settings::Table)
        .and_where(Expr::col(Settings::Site).eq(site))
        .and_where(Expr::col(Settings::Key).eq(key))
        .build_rusqlite(SqliteQueryBuilder);
    let mut stmt = conn.prepare_cached(&sql).map_err(db)?;
    let mut rows = stmt.query_map(&*v.as_params(), |r| r.get::<_, String>(0)).map_err(db)?;
    match rows.next().transpose().map_err(db)? {
        Some(s) => serde_json::from_str(&s).map(Some).map_err(db),
        None => Ok(None),
    }
}

pub fn put_setting(conn: &Connection, site: &str, key: &str, value: &Value) -> CoreResult<()> {
    let (sql, v) = Query::insert()
        .into_table(Settings::Table)
        .columns([Settings::Site, Settings::Key, Settings::Value])
        .values_panic([site.into(), key.into(), value.to_string().into()])
        .on_conflict(
            OnConflict::columns([Settings::Site, Settings::Key])
                .update_column(Settings::Value)
                .to_owned(),
        )
        .build_rusqlite(SqliteQueryBuilder);
    exec(conn, &sql, &v).map(|_| ())
}

pub fn outbox_len(conn: &Connection, site: &str) -> CoreResult<u64> {
    let (sql, v) = Query::select()
        .expr(Expr::col(Outbox::Seq).count())
        .from(Outbox::Table)
        .and_where(Expr::col(Outbox::Site).eq(site))
        .build_rusqlite(SqliteQueryBuilder);
    conn.prepare_cached(&sql)
        .and_then(|mut s| s.query_row(&*v.as_params(), |r| r.get::<_, i64>(0)))
        .map(|n| n as u64)
        .map_err(db)
}

pub fn outbox_head(conn: &Connection, site: &str) -> CoreResult<i64> {
    let (sql, v) = Query::select()
        .expr(Expr::col(Outbox::Seq).max())
        .from(Outbox::Table)
        .and_where(Expr::col(Outbox::Site).eq(site))
        .build_rusqlite(SqliteQueryBuilder);
    conn.prepare_cached(&sql)
        .and_then(|mut s| s.query_row(&*v.as_params(), |r| r.get::<_, Option<i64>>(0)))
        .map(Option::unwrap_or_default)
        .map_err(db)
}

pub fn outbox_after(conn: &Connection, site: &str, after: i64, limit: usize) -> CoreResult<Vec<OutboxEntry>> {
    let (sql, v) = Query::select()
        .columns([Outbox::Seq, Outbox::Kind, Outbox::Uid, Outbox::Path])
        .from(Outbox::Table)
        .and_where(Expr::col(Outbox::Site).eq(site))
        .and_where(Expr::col(Outbox::Seq).gt(after))
        .order_by(Outbox::Seq, Order::Asc)
        .limit(limit as u64)
        .build_rusqlite(SqliteQueryBuilder);
    let mut stmt = conn.prepare_cached(&sql).map_err(db)?;
    let rows = stmt
        .query_map(&*v.as_params(), |r| {
            let (uid, path): (String, String) = (r.get(2)?, r.get(3)?);
            Ok(OutboxEntry {
                seq: r.get(0)?,
                kind: r.get(1)?,
                uid: Uid::parse(&uid).unwrap_or_default(),
                path: ContentPath::parse(&path).unwrap_or_else(|_| ContentPath::root()),
            })
        })
        .map_err(db)?;
    rows.collect::<Result<_, _>>().map_err(db)
}
