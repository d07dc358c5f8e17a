//! The SQLite store: content rows with their catalog columns, the view-permission
//! table, the change outbox, users and settings, in one WAL-mode file.
//!
//! The content and catalog statements are the shared ones of `cairn-sql`
//! (the PostgreSQL adapter runs the same); this module runs them on pooled
//! connections, keeps SQLite's schema and its one-writer discipline.

mod blob_refs;
mod checkpoint;
mod jobs;
mod principals;
mod schema;
mod sql;

use std::path::Path;

use cairn_core::{CoreError, CoreResult, StorageError, StorageKind};
use r2d2::{Pool, PooledConnection};
use r2d2_sqlite::SqliteConnectionManager;

/// Version of the table layout; a database of another version is refused,
/// except for the steps [`upgrade`] knows.
const SCHEMA_VERSION: i64 = 8;

/// The embedded store: a pool of connections to one SQLite file. Clones share
/// the pool and the writer queue.
#[derive(Clone)]
pub struct SqliteStore {
    pool: Pool<SqliteConnectionManager>,
    /// SQLite has one writer at a time; queueing writers here is cheaper than
    /// letting them spin in SQLite's busy handler.
    write_lock: std::sync::Arc<std::sync::Mutex<()>>,
    /// Bumped by every change to users, groups or memberships.
    principals_changed: std::sync::Arc<std::sync::atomic::AtomicU64>,
    checkpointer: checkpoint::Checkpointer,
}

/// A database failure, classified by SQLite's error code.
pub(crate) fn db(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> CoreError {
    let source = e.into();
    let code = source
        .downcast_ref::<rusqlite::Error>()
        .and_then(rusqlite::Error::sqlite_error)
        .map(|f| (f.code, f.extended_code));
    let kind = match code {
        Some((_, rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)) => {
            StorageKind::Duplicate
        }
        Some((rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked, _)) => StorageKind::Busy,
        _ => StorageKind::Other,
    };
    CoreError::Storage(StorageError::new(kind, source))
}

impl SqliteStore {
    /// Opens (creating if needed) the database file with WAL journaling.
    pub fn open(file: &Path) -> CoreResult<Self> {
        // WAL is a property of the file: switch it once, before the pool opens
        // several connections that would otherwise race for the lock.
        rusqlite::Connection::open(file)
            .and_then(|c| c.query_row("PRAGMA journal_mode=WAL", [], |r| r.get::<_, String>(0)))
            .map_err(db)?;
        let manager = SqliteConnectionManager::file(file).with_init(configure);
        let pool = Pool::builder()
            .max_size(16)
            // None before `migrate`: a connection that read the schema before the
            // start-up ANALYZE would plan with the old statistics until it closed
            // (a freshly generated million-object site served its first listings
            // at 50 ms instead of 3).
            .min_idle(Some(0))
            .build(manager)
            .map_err(db)?;
        Ok(Self {
            pool,
            write_lock: Default::default(),
            principals_changed: Default::default(),
            checkpointer: checkpoint::Checkpointer::start(file).map_err(db)?,
        })
    }

    pub(crate) fn conn(&self) -> CoreResult<PooledConnection<SqliteConnectionManager>> {
        self.pool.get().map_err(db)
    }

    /// Writes a consistent copy of the database into the new file `dest`
    /// while writers go on: `VACUUM INTO` reads one snapshot (in WAL mode
    /// writers do not wait for a reader) and writes it compacted.
    pub fn snapshot_into(&self, dest: &Path) -> CoreResult<()> {
        let dest = dest
            .to_str()
            .ok_or_else(|| CoreError::BadRequest(format!("{} is no UTF-8 path", dest.display())))?;
        self.conn()?.execute("VACUUM INTO ?1", [dest]).map_err(db)?;
        Ok(())
    }
}

/// Settings of every pooled connection.
fn configure(c: &mut rusqlite::Connection) -> rusqlite::Result<()> {
    // Plans that do not depend on the values bound: without this, a
    // statement whose LIMIT or OFFSET is a parameter is planned again on
    // every execution (perf: 13% of an uncached page GET, 8% of a listing),
    // as is one comparing a parameter with sampled statistics.
    c.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    // mmap: every pooled connection reads the one OS page cache in place,
    // instead of copying pages into its own cache (random UID probes from
    // several requests at once would otherwise each pay a read).
    // wal_autocheckpoint: the commit-time checkpoint is only a backstop
    // (256 MiB of log) for the checkpoint thread.
    c.execute_batch(
        "PRAGMA busy_timeout=10000; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; \
         PRAGMA cache_size=-32000; PRAGMA temp_store=MEMORY; PRAGMA wal_autocheckpoint=65536; \
         PRAGMA mmap_size=17179869184;",
    )
}

/// Brings an older database to [`SCHEMA_VERSION`] in one transaction, for
/// the versions it knows; others are left for `migrate` to refuse.
fn upgrade(conn: &rusqlite::Connection, from: i64) -> CoreResult<()> {
    if from == 5 {
        // 5 -> 6: the `public` column, filled from the view-permission table.
        conn.execute_batch(
            "BEGIN IMMEDIATE;
             ALTER TABLE content ADD COLUMN public boolean NOT NULL DEFAULT FALSE;
             UPDATE content SET public = EXISTS (SELECT 1 FROM content_allowed a
                 WHERE a.site = content.site AND a.uid = content.uid AND a.principal = 'Anonymous');
             PRAGMA user_version = 6;
             COMMIT;",
        )
        .map_err(db)?;
    }
    if from == 5 || from == 6 {
        // 6 -> 7: the job tables (created by `migrate`); the full-text
        // indexer's position is kept like every outbox consumer's.
        conn.execute_batch(
            "BEGIN IMMEDIATE;
             UPDATE settings SET key = 'outbox.position.search' WHERE key = 'search.outbox_position';
             PRAGMA user_version = 7;
             COMMIT;",
        )
        .map_err(db)?;
    }
    if (5..=7).contains(&from) {
        // 7 -> 8: links carry their relation's name. The table is rebuilt
        // from the content by the `links.plan` job, which forgetting its
        // done-marker asks for again. Versions may be stored as deltas.
        conn.execute_batch(
            "BEGIN IMMEDIATE;
             DROP TABLE IF EXISTS links;
             DELETE FROM settings WHERE key = 'links.planned';
             ALTER TABLE versions ADD COLUMN delta boolean NOT NULL DEFAULT FALSE;
             PRAGMA user_version = 8;
             COMMIT;",
        )
        .map_err(db)?;
    }
    Ok(())
}

use cairn_core::Content;
use cairn_core::ports::{
    ContentStore, OutboxEntry, Redirect, RedirectFilter, Relation, RelationQuery, TrashEntry, VersionRecord,
    ViewFilter, WriteBatch,
};
use cairn_model::{ContentPath, Uid};
use cairn_sql::{catalog, content, history, records, writes};
use serde_json::Value;
use sql::Sql;

impl ContentStore for SqliteStore {
    fn migrate(&self) -> CoreResult<()> {
        let conn = self.conn()?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(db)?;
        let has_tables: bool = conn
            .query_row(
                "SELECT count(*) > 0 FROM sqlite_master WHERE name = 'content'",
                [],
                |r| r.get(0),
            )
            .map_err(db)?;
        if has_tables && version < SCHEMA_VERSION {
            upgrade(&conn, version)?;
        }
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(db)?;
        if has_tables && version != SCHEMA_VERSION {
            // Before the first release the schema changes without migrations.
            return Err(CoreError::Storage(StorageError::other(format!(
                "this database has schema version {version}, cairn needs {SCHEMA_VERSION}: \
                 start with an empty data folder"
            ))));
        }
        for stmt in schema::ddl() {
            conn.execute_batch(&stmt).map_err(db)?;
        }
        conn.execute_batch(jobs::DDL).map_err(db)?;
        conn.execute_batch(schema::TRASH_DDL).map_err(db)?;
        conn.execute_batch(schema::LINKS_DDL).map_err(db)?;
        conn.execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION}"))
            .map_err(db)?;
        // Statistics for the query planner, refreshed when tables grew a lot
        // since the last run. Without them SQLite guesses, and at scale it
        // walks a whole subtree by path where the type index holds the answer.
        // Not sampled: every index starts with the site column, and a sample
        // of a few thousand rows took it for selective (a million objects
        // "1,001 per site"), which sent a subtree listing through the wrong
        // index at 50 ms instead of 3. A full pass takes 1.5 s at a million
        // objects, and only after such growth.
        conn.execute_batch("PRAGMA analysis_limit = 0; PRAGMA optimize = 0x10002;")
            .map_err(db)?;
        // Only the averages (sqlite_stat1), not the samples ANALYZE also
        // keeps (sqlite_stat4): plans must not depend on bound values (see
        // `configure`), and with the samples but without the values the
        // planner sent a subtree listing at a million objects down the path
        // index (18 req/s) where the averages pick the type index (330).
        conn.execute_batch(
            "DELETE FROM sqlite_stat4 WHERE EXISTS (SELECT 1 FROM sqlite_stat4); ANALYZE sqlite_schema;",
        )
        .or_else(|e| match e {
            // Built without STAT4: there is no such table.
            rusqlite::Error::SqliteFailure(_, Some(ref m)) if m.contains("no such table") => Ok(()),
            e => Err(e),
        })
        .map_err(db)?;
        Ok(())
    }

    fn by_path(&self, site: &str, path: &ContentPath) -> CoreResult<Option<Content>> {
        Ok(content::by_paths(&Sql(&*self.conn()?), site, std::slice::from_ref(path))?.pop())
    }

    fn by_paths(&self, site: &str, paths: &[ContentPath]) -> CoreResult<Vec<Content>> {
        content::by_paths(&Sql(&*self.conn()?), site, paths)
    }

    fn by_uids(&self, site: &str, uids: &[Uid]) -> CoreResult<Vec<Content>> {
        content::by_uids(&Sql(&*self.conn()?), site, uids)
    }

    fn children(
        &self,
        site: &str,
        parent: &ContentPath,
        filter: &ViewFilter,
        page: (usize, usize),
        light: bool,
    ) -> CoreResult<(Vec<Content>, usize)> {
        content::children(&Sql(&*self.conn()?), site, parent, filter, page, light)
    }

    fn neighbours(
        &self,
        site: &str,
        parent: &ContentPath,
        position: i64,
        filter: &ViewFilter,
    ) -> CoreResult<(Option<Content>, Option<Content>)> {
        content::neighbours(&Sql(&*self.conn()?), site, parent, position, filter)
    }

    fn neighbour_uids(
        &self,
        site: &str,
        items: &[(ContentPath, i64)],
        filter: &ViewFilter,
    ) -> CoreResult<Vec<(Option<Uid>, Option<Uid>)>> {
        content::neighbour_uids(&Sql(&*self.conn()?), site, items, filter)
    }

    fn tree(
        &self,
        site: &str,
        root: &ContentPath,
        depth: usize,
        types: &[String],
        filter: &ViewFilter,
    ) -> CoreResult<Vec<Content>> {
        content::tree(&Sql(&*self.conn()?), site, root, depth, types, filter, false)
    }

    fn nav_tree(
        &self,
        site: &str,
        root: &ContentPath,
        depth: usize,
        types: &[String],
        filter: &ViewFilter,
    ) -> CoreResult<std::sync::Arc<Vec<Content>>> {
        content::tree(&Sql(&*self.conn()?), site, root, depth, types, filter, true).map(std::sync::Arc::new)
    }

    fn search(
        &self,
        site: &str,
        query: &cairn_core::catalog::CatalogQuery,
        filter: &ViewFilter,
    ) -> CoreResult<(Vec<Content>, usize)> {
        catalog::search(&Sql(&*self.conn()?), site, query, filter)
    }

    fn redirects_from(&self, site: &str, paths: &[ContentPath]) -> CoreResult<Vec<Redirect>> {
        records::redirects_from(&Sql(&*self.conn()?), site, paths)
    }

    fn redirects(
        &self,
        site: &str,
        target: Option<&ContentPath>,
        filter: &RedirectFilter,
        start: usize,
        limit: usize,
    ) -> CoreResult<(Vec<Redirect>, usize)> {
        records::redirects(&Sql(&*self.conn()?), site, target, filter, start, limit)
    }

    fn trash(
        &self,
        site: &str,
        owner: Option<&str>,
        start: usize,
        limit: usize,
    ) -> CoreResult<(Vec<TrashEntry>, usize)> {
        records::trash(&Sql(&*self.conn()?), site, owner, start, limit)
    }

    fn trash_entry(&self, site: &str, id: i64) -> CoreResult<Option<TrashEntry>> {
        records::trash_entry_by_id(&Sql(&*self.conn()?), site, id)
    }

    fn trash_before(&self, site: &str, before: i64) -> CoreResult<Vec<i64>> {
        records::trash_before(&Sql(&*self.conn()?), site, before)
    }

    fn linking_to(&self, site: &str, targets: &[Uid]) -> CoreResult<Vec<(Uid, Uid)>> {
        records::linking_to(&Sql(&*self.conn()?), site, targets)
    }

    fn relations(&self, site: &str, q: &RelationQuery) -> CoreResult<Vec<Relation>> {
        records::relations(&Sql(&*self.conn()?), site, q)
    }

    fn relation_stats(&self, site: &str) -> CoreResult<Vec<(String, u64, u64)>> {
        records::relation_stats(&Sql(&*self.conn()?), site)
    }

    fn versions(&self, site: &str, uid: &Uid) -> CoreResult<Vec<VersionRecord>> {
        history::list(&Sql(&*self.conn()?), site, uid)
    }

    fn translations(&self, site: &str, group: &str) -> CoreResult<Vec<Content>> {
        content::translations(&Sql(&*self.conn()?), site, group)
    }

    fn facts(&self, site: &str) -> CoreResult<cairn_core::ports::StoreFacts> {
        let conn = self.conn()?;
        let one =
            |sql: &str| -> CoreResult<i64> { conn.query_row(sql, rusqlite::params![site], |r| r.get(0)).map_err(db) };
        let pages = conn
            .query_row("PRAGMA page_count", [], |r| r.get::<_, i64>(0))
            .map_err(db)?;
        let page = conn
            .query_row("PRAGMA page_size", [], |r| r.get::<_, i64>(0))
            .map_err(db)?;
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        Ok(cairn_core::ports::StoreFacts {
            engine: format!("SQLite {}", rusqlite::version()),
            schema_version: conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(db)?,
            schema_required: SCHEMA_VERSION,
            bytes: count(pages * page),
            objects: count(one("SELECT count(*) FROM content WHERE site = ?1")?),
            versions: count(one("SELECT count(*) FROM versions WHERE site = ?1")?),
            trash_entries: count(one("SELECT count(*) FROM trash WHERE site = ?1")?),
        })
    }

    fn type_counts(&self, site: &str) -> CoreResult<Vec<(String, u64)>> {
        content::type_counts(&Sql(&*self.conn()?), site)
    }

    fn last_version(&self, site: &str, uid: &Uid) -> CoreResult<Option<i64>> {
        history::last(&Sql(&*self.conn()?), site, uid)
    }

    fn keywords(&self, site: &str, filter: &ViewFilter) -> CoreResult<Vec<String>> {
        catalog::keywords(&Sql(&*self.conn()?), site, filter)
    }

    fn next_position(&self, site: &str, parent: &ContentPath) -> CoreResult<i64> {
        content::next_position(&Sql(&*self.conn()?), site, parent)
    }

    fn child_ids(&self, site: &str, parent: &ContentPath) -> CoreResult<Vec<(Uid, String, i64)>> {
        content::child_ids(&Sql(&*self.conn()?), site, parent)
    }

    fn write(&self, site: &str, batch: WriteBatch) -> CoreResult<()> {
        let _writer = self
            .write_lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut conn = self.conn()?;
        // IMMEDIATE: the write lock is taken at the start, so a batch that
        // read first never fails to upgrade its lock half-way.
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(db)?;
        // One writer at a time: outbox positions grow in commit order.
        writes::apply(&Sql(&tx), site, &batch)?;
        writes::append_events(&Sql(&tx), site, &batch.events)?;
        if !batch.jobs.is_empty() {
            jobs::insert(&tx, site, &batch.jobs, cairn_core::jobs::now_ms(), None)?;
        }
        let written = tx.commit().map_err(db);
        self.checkpointer.nudge();
        written
    }

    fn setting(&self, site: &str, key: &str) -> CoreResult<Option<Value>> {
        writes::setting(&Sql(&*self.conn()?), site, key)
    }

    fn settings(&self, site: &str) -> CoreResult<Vec<(String, Value)>> {
        writes::settings(&Sql(&*self.conn()?), site)
    }

    fn put_setting(&self, site: &str, key: &str, value: &Value) -> CoreResult<()> {
        writes::put_setting(&Sql(&*self.conn()?), site, key, value)
    }

    fn outbox_len(&self, site: &str) -> CoreResult<u64> {
        writes::outbox_len(&Sql(&*self.conn()?), site)
    }

    fn outbox_head(&self, site: &str) -> CoreResult<i64> {
        writes::outbox_head(&Sql(&*self.conn()?), site)
    }

    fn outbox_after(&self, site: &str, after: i64, limit: usize) -> CoreResult<Vec<OutboxEntry>> {
        writes::outbox_after(&Sql(&*self.conn()?), site, after, limit)
    }

    fn referenced_blobs(&self) -> CoreResult<std::collections::HashSet<String>> {
        blob_refs::referenced(&*self.conn()?)
    }
}

#[cfg(test)]
mod tests {
    use cairn_core::StorageKind;
    use rusqlite::ffi;

    fn kind_of(code: i32) -> bool {
        let e = rusqlite::Error::SqliteFailure(ffi::Error::new(code), None);
        super::db(e).is_storage(match code {
            ffi::SQLITE_BUSY | ffi::SQLITE_LOCKED => StorageKind::Busy,
            ffi::SQLITE_CONSTRAINT_UNIQUE => StorageKind::Duplicate,
            _ => StorageKind::Other,
        })
    }

    #[test]
    fn a_statement_with_a_bound_limit_is_planned_once() {
        let mut c = rusqlite::Connection::open_in_memory().unwrap();
        super::configure(&mut c).unwrap();
        c.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1), (2), (3);")
            .unwrap();
        let mut stmt = c.prepare("SELECT x FROM t ORDER BY x LIMIT ? OFFSET ?").unwrap();
        for (limit, offset) in [(1, 0), (2, 1), (3, 2)] {
            let rows: Vec<i64> = stmt
                .query_map([limit, offset], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            assert_eq!(rows.len(), (3 - offset).min(limit) as usize);
        }
        assert_eq!(stmt.get_status(rusqlite::StatementStatus::RePrepare), 0);
    }

    #[test]
    fn database_errors_are_classified_by_code_not_text() {
        for code in [
            ffi::SQLITE_BUSY,
            ffi::SQLITE_LOCKED,
            ffi::SQLITE_CONSTRAINT_UNIQUE,
            ffi::SQLITE_FULL,
        ] {
            assert!(kind_of(code), "code {code}");
        }
        assert!(super::db(std::io::Error::other("x")).is_storage(StorageKind::Other));
    }
}
