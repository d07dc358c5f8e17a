//! Full text on PostgreSQL: the shared engine of a scale-out installation.
//! Every node feeds one `fulltext` table from the change outbox and asks
//! it; a pass holds a per-site advisory lock for its transaction, so one
//! node indexes at a time while the others skip, and the rows, the
//! vocabulary and the saved position commit together (a crash replays
//! nothing and skips nothing).
//!
//! Text is analyzed as the embedded index analyzes it (see
//! `migrations/0004_fulltext.sql`): stemmed in the object's language with
//! accents folded, the title weighted above the rest, unstemmed words kept
//! for wildcards. A query is read in each language and each reading held
//! to that language's objects, through a GIN index per language. Ranking
//! is `ts_rank` with those weights, so a title match counts three times a
//! match in the rest.

mod query;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use cairn_core::CoreResult;
use cairn_core::ports::{ContentStore, FULL_TEXT_POSITION_KEY, FullText, Hit, OUTBOX_PRUNED_KEY};
use cairn_model::fulltext::Query;
use cairn_search::indexer::BATCH;
use cairn_search::{Engine, Freshness, IndexerError, SearchableText, Sink, take_all, take_in};
use r2d2_postgres::postgres::Transaction;
use r2d2_postgres::postgres::types::{ToSql, Type};

use crate::{PgStore, db};

/// The embedded index's languages, in its order: `lang` holds one of them.
const LANGUAGES: [&str; 4] = cairn_search::engine::LANGUAGES;
/// The fewest objects a search ranks (see [`rank_candidates`]).
const RANK_CANDIDATES: usize = 5_000;
/// Changes taken in per transaction during a long catch-up.
const COMMIT_EVERY: usize = 10_000;

/// Whether this pass is the site's indexer (the lock ends with the transaction).
const TURN: &str = "SELECT pg_try_advisory_xact_lock(hashtext('cairn.fulltext.' || current_schema() || '.' || $1))";
/// The same lock, waited for (a rebuild asked for by an operator).
const WAIT_TURN: &str = "SELECT pg_advisory_xact_lock(hashtext('cairn.fulltext.' || current_schema() || '.' || $1))";

const UPSERT: &str = "
    INSERT INTO fulltext (site, uid, lang, doc, words)
    SELECT $1, u.uid, u.lang,
           setweight(to_tsvector(('cairn_' || u.lang)::regconfig, u.title), 'A')
           || setweight(to_tsvector(('cairn_' || u.lang)::regconfig, u.rest), 'B'),
           to_tsvector('cairn_words', u.title || E'\\n' || u.rest)
    FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS u(uid, lang, title, rest)
    ON CONFLICT (site, uid) DO UPDATE SET lang = excluded.lang, doc = excluded.doc, words = excluded.words";

/// The unstemmed words of the objects just written join the vocabulary
/// (no longer than the embedded index keeps a word).
const VOCABULARY: &str = "
    INSERT INTO fulltext_words (site, word)
    SELECT DISTINCT $1, w.lexeme FROM fulltext f, unnest(f.words) w
    WHERE f.site = $1 AND f.uid = ANY($2) AND char_length(w.lexeme) <= 40
    ON CONFLICT DO NOTHING";

const SAVE_POSITION: &str = "
    INSERT INTO settings (site, key, value) VALUES ($1, $2, to_jsonb($3::bigint))
    ON CONFLICT (site, key) DO UPDATE SET value = excluded.value";

/// The full-text engine of one site on the shared database.
pub struct PgFullText {
    store: PgStore,
    site: String,
    /// The language of objects in none of [`LANGUAGES`].
    default_lang: &'static str,
    freshness: Freshness,
    /// Grows whenever this node sees the index move on.
    version: AtomicU64,
}

impl PgFullText {
    /// The engine of `site`, reading objects in unknown languages as
    /// `default_language`.
    pub fn new(store: PgStore, site: &str, default_language: &str) -> Self {
        let slot = cairn_search::engine::language_slot(default_language).unwrap_or(0);
        Self {
            store,
            site: site.to_string(),
            default_lang: LANGUAGES[slot],
            freshness: Freshness::default(),
            version: AtomicU64::new(0),
        }
    }

    /// This node learned that the index reaches `position`.
    fn observe(&self, position: i64) {
        if position > self.freshness.indexed() {
            self.version.fetch_add(1, Ordering::SeqCst);
        }
        self.freshness.reached(position);
    }

    /// Empties the site's index and fills it from the database inside
    /// `tx`, which holds the site's lock; commits it.
    fn rebuild_in(
        &self,
        mut tx: Transaction<'_>,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<usize, IndexerError> {
        let site = self.site.as_str();
        // Writes after this point are in the outbox after it: the next pass replays them.
        let newest = self.store.outbox_head(site)?;
        tx.execute("DELETE FROM fulltext WHERE site = $1", &[&site])
            .map_err(db)?;
        tx.execute("DELETE FROM fulltext_words WHERE site = $1", &[&site])
            .map_err(db)?;
        let mut rows = Rows::new(&mut tx, site, self.default_lang);
        // Reads go to the database itself: what is indexed here is indexed
        // for every node, so no node's cache may stand in for it.
        let done = take_all(&self.store, site, &mut rows, |done, total| {
            progress(done, total);
            Ok(())
        })?;
        rows.flush()?;
        save_position(&mut tx, site, newest)?;
        tx.commit().map_err(db)?;
        self.version.fetch_add(1, Ordering::SeqCst);
        self.observe(newest);
        Ok(done)
    }

    /// Expands the wildcards of `q` that need the vocabulary.
    fn expand(
        &self,
        client: &mut impl r2d2_postgres::postgres::GenericClient,
        q: &Query,
    ) -> CoreResult<query::Expansions> {
        let mut globs = Vec::new();
        query::globs(q, &mut globs);
        let mut out = query::Expansions::new();
        for glob in globs {
            let folded: String = client
                .query_one("SELECT cairn_fold($1)", &[&query::without_nul(&glob)])
                .map_err(db)?
                .get(0);
            let (like, regex) = query::glob_patterns(&folded);
            let words: Vec<String> = client
                .query(
                    "SELECT word FROM fulltext_words WHERE site = $1 AND word LIKE $2 AND word ~ $3
                     ORDER BY word LIMIT $4",
                    &[&self.site, &like, &regex, &(query::GLOB_WORDS as i64)],
                )
                .map_err(db)?
                .iter()
                .map(|r| r.get(0))
                .collect();
            out.insert(glob, query::expansion(&words));
        }
        Ok(out)
    }
}

/// The saved position and the pruning mark of `site`.
fn positions(tx: &mut Transaction<'_>, site: &str) -> CoreResult<(Option<i64>, i64)> {
    let mut position = None;
    let mut pruned = 0;
    for row in tx
        .query(
            "SELECT key, (value #>> '{}')::bigint FROM settings WHERE site = $1 AND key IN ($2, $3)",
            &[&site, &FULL_TEXT_POSITION_KEY, &OUTBOX_PRUNED_KEY],
        )
        .map_err(db)?
    {
        let (key, value): (String, Option<i64>) = (row.get(0), row.get(1));
        if key == FULL_TEXT_POSITION_KEY {
            position = value;
        } else {
            pruned = value.unwrap_or(0);
        }
    }
    Ok((position, pruned))
}

fn save_position(tx: &mut Transaction<'_>, site: &str, position: i64) -> CoreResult<()> {
    tx.execute(SAVE_POSITION, &[&site, &FULL_TEXT_POSITION_KEY, &position])
        .map_err(db)?;
    Ok(())
}

impl Engine for PgFullText {
    fn step(&self, _store: &dyn ContentStore, site: &str) -> Result<usize, IndexerError> {
        debug_assert_eq!(site, self.site);
        let mut handled = 0;
        loop {
            let mut conn = self.store.conn()?;
            let mut tx = conn.transaction().map_err(db)?;
            let turn: bool = tx.query_one(TURN, &[&self.site]).map_err(db)?.get(0);
            let (saved, pruned) = positions(&mut tx, &self.site)?;
            if !turn {
                // Another node is indexing; this one learns how far it got.
                self.observe(saved.unwrap_or(0));
                return Ok(handled);
            }
            let Some(mut position) = saved.filter(|p| *p >= pruned) else {
                let started = std::time::Instant::now();
                let n = self.rebuild_in(tx, &mut |_, _| {})?;
                tracing::info!(
                    site,
                    objects = n,
                    seconds = started.elapsed().as_secs_f64(),
                    "full-text index built"
                );
                return Ok(handled + n);
            };
            let mut taken = 0;
            let mut more = false;
            let mut rows = Rows::new(&mut tx, &self.site, self.default_lang);
            loop {
                let changes = self.store.outbox_after(&self.site, position, BATCH)?;
                let Some(last) = changes.last() else { break };
                take_in(&self.store, &self.site, &changes, &mut rows)?;
                rows.flush()?;
                position = last.seq;
                taken += changes.len();
                if changes.len() < BATCH {
                    break;
                }
                if taken >= COMMIT_EVERY {
                    more = true;
                    break;
                }
            }
            if taken > 0 {
                save_position(&mut tx, &self.site, position)?;
            }
            tx.commit().map_err(db)?;
            self.observe(position);
            handled += taken;
            if !more {
                return Ok(handled);
            }
        }
    }

    fn rebuild(
        &self,
        _store: &dyn ContentStore,
        site: &str,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<usize, IndexerError> {
        debug_assert_eq!(site, self.site);
        let mut conn = self.store.conn()?;
        let mut tx = conn.transaction().map_err(db)?;
        // Waits for a pass of another node to end, however long it runs.
        tx.batch_execute("SET LOCAL lock_timeout = 0").map_err(db)?;
        tx.execute(WAIT_TURN, &[&self.site]).map_err(db)?;
        self.rebuild_in(tx, progress)
    }

    fn freshness(&self) -> &Freshness {
        &self.freshness
    }
}

impl FullText for PgFullText {
    fn search(&self, q: &Query, limit: usize) -> CoreResult<Arc<Vec<Hit>>> {
        let mut conn = self.store.conn()?;
        let expanded = self.expand(&mut *conn, q)?;
        let mut params = query::Params(vec![self.site.clone()]);
        // Each language's reading, held to that language's objects: each
        // branch is answered by that language's GIN index alone.
        let branches: Vec<String> = LANGUAGES
            .iter()
            .map(|code| {
                let condition = query::condition(q, &format!("cairn_{code}"), &expanded, &mut params);
                format!("(f.lang = '{code}' AND {condition})")
            })
            .collect();
        // A title match counts three times a match in the rest; a query of
        // wildcards only ranks nothing (its hits come in UID order).
        let score = match query::rank_text(q) {
            Some(text) => {
                let n = params.push(text);
                let per_language: Vec<String> = LANGUAGES
                    .iter()
                    .map(|code| format!("WHEN '{code}' THEN to_tsquery('cairn_{code}', ${n})"))
                    .collect();
                format!(
                    "ts_rank('{{0, 0, 0.333, 1}}', f.doc, CASE f.lang {} END, 1)",
                    per_language.join(" ")
                )
            }
            None => "0".into(),
        };
        // The site is compared as an expression, which its primary key
        // cannot answer: that index is no way into a search the planner
        // should weigh. Ranking reads every candidate's stems, so a word on
        // most of a large site's objects is ranked among its first
        // candidates only (in storage order, behind the fence of the inner
        // LIMIT): a search's cost stays bounded (80 ms instead of 2.6 s for
        // a word on 570,000 objects), and is exact up to that many.
        let sql = format!(
            "SELECT f.uid, ({score})::real AS score
             FROM (SELECT f.uid, f.lang, f.doc FROM fulltext f
                   WHERE (f.site || '') = $1 AND ({}) LIMIT {}) f
             ORDER BY score DESC, f.uid
             LIMIT {}",
            branches.join(" OR "),
            rank_candidates(limit),
            limit.max(1)
        );
        let typed: Vec<(&(dyn ToSql + Sync), Type)> = params
            .0
            .iter()
            .map(|p| (p as &(dyn ToSql + Sync), Type::TEXT))
            .collect();
        let mut tx = conn.transaction().map_err(db)?;
        // The planner takes a small table for cheap to scan, matching every
        // row's stored text (which costs far more than it estimates): the
        // GIN indexes answer instead.
        tx.batch_execute("SET LOCAL enable_seqscan = off").map_err(db)?;
        let hits = tx
            .query_typed(&sql, &typed)
            .map_err(db)?
            .iter()
            .map(|row| Hit {
                uid: row.get(0),
                score: row.get(1),
            })
            .collect();
        tx.commit().map_err(db)?;
        Ok(Arc::new(hits))
    }

    fn version(&self) -> u64 {
        self.version.load(Ordering::SeqCst)
    }

    fn indexed(&self) -> i64 {
        self.freshness.indexed()
    }

    fn wait_for(&self, position: i64, timeout: std::time::Duration) -> bool {
        self.freshness.wait_for(position, timeout)
    }
}

/// Rows on their way into the index, written in one statement per batch.
struct Rows<'t, 'c> {
    tx: &'t mut Transaction<'c>,
    site: &'t str,
    default_lang: &'static str,
    uids: Vec<String>,
    langs: Vec<String>,
    titles: Vec<String>,
    rests: Vec<String>,
    gone: Vec<String>,
}

impl<'t, 'c> Rows<'t, 'c> {
    fn new(tx: &'t mut Transaction<'c>, site: &'t str, default_lang: &'static str) -> Self {
        Self {
            tx,
            site,
            default_lang,
            uids: Vec::new(),
            langs: Vec::new(),
            titles: Vec::new(),
            rests: Vec::new(),
            gone: Vec::new(),
        }
    }

    fn flush(&mut self) -> CoreResult<()> {
        if !self.uids.is_empty() {
            self.tx
                .execute(
                    UPSERT,
                    &[&self.site, &self.uids, &self.langs, &self.titles, &self.rests],
                )
                .map_err(db)?;
            self.tx.execute(VOCABULARY, &[&self.site, &self.uids]).map_err(db)?;
        }
        if !self.gone.is_empty() {
            self.tx
                .execute(
                    "DELETE FROM fulltext WHERE site = $1 AND uid = ANY($2)",
                    &[&self.site, &self.gone],
                )
                .map_err(db)?;
        }
        for list in [
            &mut self.uids,
            &mut self.langs,
            &mut self.titles,
            &mut self.rests,
            &mut self.gone,
        ] {
            list.clear();
        }
        Ok(())
    }
}

impl Sink for Rows<'_, '_> {
    fn upsert(&mut self, uid: &str, language: &str, text: &SearchableText) -> Result<(), IndexerError> {
        let lang = cairn_search::engine::language_slot(language).map_or(self.default_lang, |i| LANGUAGES[i]);
        let (title, rest) = text.title_and_rest();
        self.uids.push(uid.to_string());
        self.langs.push(lang.to_string());
        self.titles.push(query::without_nul(&title));
        self.rests.push(query::without_nul(&rest));
        if self.uids.len() >= BATCH {
            self.flush()?;
        }
        Ok(())
    }

    fn delete(&mut self, uid: &str) -> Result<(), IndexerError> {
        self.gone.push(uid.to_string());
        Ok(())
    }
}

/// Objects ranked for a search that wants `limit` hits: five times as
/// many, at least [`RANK_CANDIDATES`].
fn rank_candidates(limit: usize) -> usize {
    limit.saturating_mul(5).max(RANK_CANDIDATES)
}
