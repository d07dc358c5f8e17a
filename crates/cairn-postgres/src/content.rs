//! Content and catalog on PostgreSQL: the shared statements of `cairn-sql`
//! on pooled connections. A write is one transaction; writers of a site
//! take turns only for the outbox insert at its end (an advisory lock held
//! to commit), so positions grow in commit order while the rest of two
//! writes runs side by side. Each write announces itself on
//! the content channel so other nodes' caches drop what it made stale.

use std::collections::HashSet;

use cairn_core::ports::{
    ContentStore, OutboxEntry, Redirect, RedirectFilter, Relation, RelationQuery, StoreFacts, TrashEntry,
    VersionRecord, ViewFilter, WriteBatch,
};
use cairn_core::{Content, CoreResult};
use cairn_model::{ContentPath, Uid};
use cairn_sql::{catalog, content, history, records, writes};
use serde_json::Value;

use crate::sql::Pg;
use crate::{PgStore, db, migrations};

/// Blob keys at any depth of a JSON text column.
const REFERENCED: &str = "
    SELECT jsonb_path_query(fields::jsonb, 'lax $.** ? (@.type() == \"object\").blob ? (@.type() == \"string\")') #>> '{}'
        FROM content
    UNION
    SELECT jsonb_path_query(data::jsonb, 'lax $.** ? (@.type() == \"object\").blob ? (@.type() == \"string\")') #>> '{}'
        FROM versions
    UNION
    SELECT jsonb_path_query(props, 'lax $.** ? (@.type() == \"object\").blob ? (@.type() == \"string\")') #>> '{}'
        FROM users
    UNION
    SELECT jsonb_path_query(objects::jsonb, 'lax $.** ? (@.type() == \"object\").blob ? (@.type() == \"string\")') #>> '{}'
        FROM trash
    UNION
    SELECT jsonb_path_query(value, 'lax $.** ? (@.type() == \"object\").blob ? (@.type() == \"string\")') #>> '{}'
        FROM settings WHERE key = 'registry'";

/// The newest outbox position of a site (0 when it has none).
const HEAD: &str = "SELECT coalesce(max(seq), 0) FROM outbox WHERE site = ?1";

impl PgStore {
    /// Runs `f` with the shared statements on a pooled connection.
    fn read<T>(&self, f: impl FnOnce(&Pg<'_, r2d2_postgres::postgres::Client>) -> CoreResult<T>) -> CoreResult<T> {
        let mut conn = self.conn()?;
        f(&Pg::new(&mut *conn))
    }
}

impl ContentStore for PgStore {
    fn migrate(&self) -> CoreResult<()> {
        PgStore::migrate(self).map(|_| ())
    }

    fn by_path(&self, site: &str, path: &ContentPath) -> CoreResult<Option<Content>> {
        Ok(self
            .read(|db| content::by_paths(db, site, std::slice::from_ref(path)))?
            .pop())
    }

    fn by_paths(&self, site: &str, paths: &[ContentPath]) -> CoreResult<Vec<Content>> {
        self.read(|db| content::by_paths(db, site, paths))
    }

    fn by_uids(&self, site: &str, uids: &[Uid]) -> CoreResult<Vec<Content>> {
        self.read(|db| content::by_uids(db, site, uids))
    }

    fn children(
        &self,
        site: &str,
        parent: &ContentPath,
        filter: &ViewFilter,
        page: (usize, usize),
        light: bool,
    ) -> CoreResult<(Vec<Content>, usize)> {
        self.read(|db| content::children(db, site, parent, filter, page, light))
    }

    fn neighbours(
        &self,
        site: &str,
        parent: &ContentPath,
        position: i64,
        filter: &ViewFilter,
    ) -> CoreResult<(Option<Content>, Option<Content>)> {
        self.read(|db| content::neighbours(db, site, parent, position, filter))
    }

    fn neighbour_uids(
        &self,
        site: &str,
        items: &[(ContentPath, i64)],
        filter: &ViewFilter,
    ) -> CoreResult<Vec<(Option<Uid>, Option<Uid>)>> {
        self.read(|db| content::neighbour_uids(db, site, items, filter))
    }

    fn tree(
        &self,
        site: &str,
        root: &ContentPath,
        depth: usize,
        types: &[String],
        filter: &ViewFilter,
    ) -> CoreResult<Vec<Content>> {
        self.read(|db| content::tree(db, site, root, depth, types, filter, false))
    }

    fn nav_tree(
        &self,
        site: &str,
        root: &ContentPath,
        depth: usize,
        types: &[String],
        filter: &ViewFilter,
    ) -> CoreResult<std::sync::Arc<Vec<Content>>> {
        self.read(|db| content::tree(db, site, root, depth, types, filter, true))
            .map(std::sync::Arc::new)
    }

    fn next_position(&self, site: &str, parent: &ContentPath) -> CoreResult<i64> {
        self.read(|db| content::next_position(db, site, parent))
    }

    fn search(
        &self,
        site: &str,
        query: &cairn_core::catalog::CatalogQuery,
        filter: &ViewFilter,
    ) -> CoreResult<(Vec<Content>, usize)> {
        self.read(|db| catalog::search(db, site, query, filter))
    }

    fn redirects_from(&self, site: &str, paths: &[ContentPath]) -> CoreResult<Vec<Redirect>> {
        self.read(|db| records::redirects_from(db, site, paths))
    }

    fn redirects(
        &self,
        site: &str,
        target: Option<&ContentPath>,
        filter: &RedirectFilter,
        start: usize,
        limit: usize,
    ) -> CoreResult<(Vec<Redirect>, usize)> {
        self.read(|db| records::redirects(db, site, target, filter, start, limit))
    }

    fn trash(
        &self,
        site: &str,
        owner: Option<&str>,
        start: usize,
        limit: usize,
    ) -> CoreResult<(Vec<TrashEntry>, usize)> {
        self.read(|db| records::trash(db, site, owner, start, limit))
    }

    fn trash_entry(&self, site: &str, id: i64) -> CoreResult<Option<TrashEntry>> {
        self.read(|db| records::trash_entry_by_id(db, site, id))
    }

    fn trash_before(&self, site: &str, before: i64) -> CoreResult<Vec<i64>> {
        self.read(|db| records::trash_before(db, site, before))
    }

    fn linking_to(&self, site: &str, targets: &[Uid]) -> CoreResult<Vec<(Uid, Uid)>> {
        self.read(|db| records::linking_to(db, site, targets))
    }

    fn relations(&self, site: &str, q: &RelationQuery) -> CoreResult<Vec<Relation>> {
        self.read(|db| records::relations(db, site, q))
    }

    fn relation_stats(&self, site: &str) -> CoreResult<Vec<(String, u64, u64)>> {
        self.read(|db| records::relation_stats(db, site))
    }

    fn translations(&self, site: &str, group: &str) -> CoreResult<Vec<Content>> {
        self.read(|db| content::translations(db, site, group))
    }

    fn facts(&self, site: &str) -> CoreResult<StoreFacts> {
        let mut c = self.conn()?;
        let row = c
            .query_one(
                "SELECT current_setting('server_version'), pg_database_size(current_database()),
                        (SELECT count(*) FROM content WHERE site = $1),
                        (SELECT count(*) FROM versions WHERE site = $1),
                        (SELECT count(*) FROM trash WHERE site = $1),
                        (SELECT coalesce(max(version), 0) FROM cairn_migrations)",
                &[&site],
            )
            .map_err(db)?;
        let count = |i: usize| u64::try_from(row.get::<_, i64>(i)).unwrap_or(0);
        Ok(StoreFacts {
            engine: format!("PostgreSQL {}", row.get::<_, String>(0)),
            schema_version: row.get::<_, i32>(5).into(),
            schema_required: migrations::MIGRATIONS.last().map_or(0, |m| m.0).into(),
            bytes: count(1),
            objects: count(2),
            versions: count(3),
            trash_entries: count(4),
        })
    }

    fn type_counts(&self, site: &str) -> CoreResult<Vec<(String, u64)>> {
        self.read(|db| content::type_counts(db, site))
    }

    fn versions(&self, site: &str, uid: &Uid) -> CoreResult<Vec<VersionRecord>> {
        self.read(|db| history::list(db, site, uid))
    }

    fn last_version(&self, site: &str, uid: &Uid) -> CoreResult<Option<i64>> {
        self.read(|db| history::last(db, site, uid))
    }

    fn keywords(&self, site: &str, filter: &ViewFilter) -> CoreResult<Vec<String>> {
        self.read(|db| catalog::keywords(db, site, filter))
    }

    fn child_ids(&self, site: &str, parent: &ContentPath) -> CoreResult<Vec<(Uid, String, i64)>> {
        self.read(|db| content::child_ids(db, site, parent))
    }

    fn write(&self, site: &str, batch: WriteBatch) -> CoreResult<()> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction().map_err(db)?;
        // Where the site's outbox stood before and after this write.
        let mut moved = None;
        {
            let db = Pg::new(&mut tx);
            writes::apply(&db, site, &batch)?;
            if !batch.events.is_empty() {
                // The site's turn on the outbox, held to commit: a sequence
                // hands out numbers before commit, so without it a consumer
                // could pass a position a slower writer fills later.
                cairn_sql::raw_execute(
                    &db,
                    "SELECT pg_advisory_xact_lock(hashtextextended(?1, 0))",
                    vec![format!("cairn.outbox {site}").into()],
                )?;
                let head =
                    || -> CoreResult<i64> { Ok(cairn_sql::raw_integer(&db, HEAD, vec![site.into()])?.unwrap_or(0)) };
                let before = head()?;
                writes::append_events(&db, site, &batch.events)?;
                moved = Some((before, head()?));
            }
            // Delivered at commit, to every node but dropped on rollback.
            cairn_sql::raw_execute(
                &db,
                "SELECT pg_notify(?1, ?2)",
                vec![self.channels.content.as_str().into(), self.announcement(site).into()],
            )?;
        }
        if !batch.jobs.is_empty() {
            crate::jobs::insert(&mut tx, site, &batch.jobs, cairn_core::jobs::now_ms(), None)?;
        }
        tx.commit().map_err(db)?;
        self.content_changed();
        if let Some((before, after)) = moved {
            self.wrote(site, before, after);
        }
        Ok(())
    }

    fn sync(&self, site: &str) -> CoreResult<()> {
        self.sync_site(site)
    }

    fn setting(&self, site: &str, key: &str) -> CoreResult<Option<Value>> {
        self.read(|db| writes::setting(db, site, key))
    }

    fn settings(&self, site: &str) -> CoreResult<Vec<(String, Value)>> {
        self.read(|db| writes::settings(db, site))
    }

    fn put_setting(&self, site: &str, key: &str, value: &Value) -> CoreResult<()> {
        self.read(|db| writes::put_setting(db, site, key, value))
    }

    fn generation(&self) -> u64 {
        self.content_generation()
    }

    fn remote_writes(&self) -> u64 {
        PgStore::remote_writes(self)
    }

    fn outbox_len(&self, site: &str) -> CoreResult<u64> {
        self.read(|db| writes::outbox_len(db, site))
    }

    fn outbox_head(&self, site: &str) -> CoreResult<i64> {
        self.read(|db| writes::outbox_head(db, site))
    }

    fn outbox_after(&self, site: &str, after: i64, limit: usize) -> CoreResult<Vec<OutboxEntry>> {
        self.read(|db| writes::outbox_after(db, site, after, limit))
    }

    fn referenced_blobs(&self) -> CoreResult<HashSet<String>> {
        let mut c = self.conn()?;
        let rows = c.query(REFERENCED, &[]).map_err(db)?;
        Ok(rows.iter().filter_map(|r| r.get::<_, Option<String>>(0)).collect())
    }
}
