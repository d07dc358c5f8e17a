//! The embedded full-text index (tantivy). Each language has its own pair of
//! fields analyzed with its stemmer, so a German page is stemmed as German and
//! a query is read in every language at once; accents and umlauts are folded
//! after stemming, so `Gebuhren` finds `Gebühren`. [`SearchIndex`] is the
//! core's [`FullText`] port for the embedded deployment.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use tantivy::collector::TopDocs;
use tantivy::directory::MmapDirectory;
use tantivy::indexer::LogMergePolicy;
use tantivy::query::{
    BooleanQuery, BoostQuery, EmptyQuery, Occur, PhraseQuery, Query as TQuery, RegexQuery, TermQuery,
};
use tantivy::schema::{FAST, Field, IndexRecordOption, STRING, Schema, TextFieldIndexing, TextOptions};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RawTokenizer, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer,
};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Term, doc};

use cairn_core::CoreError;
use cairn_core::ports::FullText;

use crate::{Query, SearchableText};

/// The languages analyzed with their own stemmer; others use the site's.
pub const LANGUAGES: [&str; 4] = ["de", "fr", "it", "en"];
/// A title match counts this many times a body match.
pub const TITLE_BOOST: f32 = 3.0;
/// Hits kept across the cached answers of recent queries (about 60 bytes each).
const ANSWER_CACHE_HITS: u64 = 200_000;
/// Memory the single indexing thread may buffer before it flushes a segment.
const WRITER_BUDGET: usize = 50_000_000;
/// Segments below this many documents are merged in geometric layers like the
/// larger ones. tantivy's default (10,000) puts every smaller segment in one
/// layer, so under steady writes (a commit every few dozen documents) each
/// document was rewritten by a merge again and again until that layer filled:
/// merging took more CPU than indexing itself.
const MIN_MERGE_LAYER: u32 = 1_000;
const FOLD: &str = "cairn_fold";
const WORDS: &str = "cairn_words";

/// Failures of the index itself (disk, corruption); queries never fail here.
#[derive(Debug, thiserror::Error)]
#[error("search index: {0}")]
pub struct EngineError(#[from] tantivy::TantivyError);

pub use cairn_core::ports::Hit;

struct LangFields {
    title: Field,
    text: Field,
    analyzer: String,
}

/// Ranked hits and the index version they were computed at.
type Answer = (u64, std::sync::Arc<Vec<Hit>>);

/// A full-text index of one site.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    uid: Field,
    /// Every word unstemmed (only folded): globs match against these, since
    /// a stem (`bewillig`) no longer holds the endings a glob may spell out.
    words: Field,
    langs: Vec<LangFields>,
    default_lang: usize,
    /// Commits so far: answers computed before a commit are out of date.
    version: AtomicU64,
    /// The node this index belongs to in scale-out mode (each node keeps its
    /// own index and position); `None`: the one index of the site.
    node: Option<String>,
    /// Ranked answers of recent queries with the version they were computed
    /// at (a search server's request cache): the same words asked again, by
    /// anyone, skip the ranking until the next commit. Permissions are not
    /// part of it; every caller still filters the hits.
    answers: moka::sync::Cache<(Query, usize), Answer>,
    /// How far into the change log the committed index reaches.
    freshness: crate::Freshness,
}

impl SearchIndex {
    /// Opens the index in `dir`, creating it when there is none.
    pub fn open(dir: &Path, default_language: &str) -> Result<Self, EngineError> {
        let index = match Self::open_dir(dir) {
            // The index is derived data: one written by an older cairn is
            // dropped and refilled by the indexer (an empty index is rebuilt).
            Err(tantivy::TantivyError::SchemaError(_)) => {
                tracing::warn!(dir = %dir.display(), "search index has an older layout; starting a new one");
                std::fs::remove_dir_all(dir).map_err(tantivy::TantivyError::from)?;
                Self::open_dir(dir)?
            }
            other => other?,
        };
        Self::new(index, default_language)
    }

    fn open_dir(dir: &Path) -> tantivy::Result<Index> {
        std::fs::create_dir_all(dir)?;
        let directory = MmapDirectory::open(dir)?;
        Index::open_or_create(directory, schema().0)
    }

    /// An index that lives in memory only (tests, throwaway sites).
    pub fn in_memory(default_language: &str) -> Result<Self, EngineError> {
        Self::new(Index::create_in_ram(schema().0), default_language)
    }

    fn new(index: Index, default_language: &str) -> Result<Self, EngineError> {
        let (_, fields) = schema();
        for (code, lang) in
            LANGUAGES
                .iter()
                .zip([Language::German, Language::French, Language::Italian, Language::English])
        {
            let analyzer = TextAnalyzer::builder(SimpleTokenizer::default())
                .filter(RemoveLongFilter::limit(40))
                .filter(LowerCaser)
                .filter(Stemmer::new(lang))
                .filter(AsciiFoldingFilter)
                .build();
            index.tokenizers().register(&format!("cairn_{code}"), analyzer);
        }
        let fold = TextAnalyzer::builder(RawTokenizer::default())
            .filter(LowerCaser)
            .filter(AsciiFoldingFilter)
            .build();
        index.tokenizers().register(FOLD, fold);
        let words = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(40))
            .filter(LowerCaser)
            .filter(AsciiFoldingFilter)
            .build();
        index.tokenizers().register(WORDS, words);
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        let writer: IndexWriter = index.writer_with_num_threads(1, WRITER_BUDGET)?;
        let mut merges = LogMergePolicy::default();
        merges.set_min_layer_size(MIN_MERGE_LAYER);
        writer.set_merge_policy(Box::new(merges));
        let default_lang = language_slot(default_language).unwrap_or(0);
        Ok(Self {
            index,
            reader,
            writer: Mutex::new(writer),
            uid: fields.uid,
            words: fields.words,
            langs: fields.langs,
            default_lang,
            version: AtomicU64::new(0),
            node: None,
            answers: moka::sync::Cache::builder()
                .weigher(|_, (_, hits): &Answer| hits.len() as u32 + 1)
                .max_capacity(ANSWER_CACHE_HITS)
                .build(),
            freshness: crate::Freshness::default(),
        })
    }

    /// Replaces what the index holds for `uid`; visible after [`Self::commit`].
    pub fn upsert(&self, uid: &str, language: &str, text: &SearchableText) -> Result<(), EngineError> {
        let lang = &self.langs[language_slot(language).unwrap_or(self.default_lang)];
        let mut rest = text.description.clone();
        for part in text.subjects.iter().chain([&text.body]) {
            rest.push('\n');
            rest.push_str(part);
        }
        let writer = self.writer.lock().expect("index writer poisoned");
        writer.delete_term(Term::from_field_text(self.uid, uid));
        let all = format!("{}\n{rest}", text.title);
        writer.add_document(
            doc!(self.uid => uid, lang.title => text.title.as_str(), lang.text => rest, self.words => all),
        )?;
        Ok(())
    }

    /// Drops `uid` from the index; visible after [`Self::commit`].
    pub fn delete(&self, uid: &str) -> Result<(), EngineError> {
        self.writer
            .lock()
            .expect("index writer poisoned")
            .delete_term(Term::from_field_text(self.uid, uid));
        Ok(())
    }

    /// Drops everything; visible after [`Self::commit`] (for a rebuild).
    pub fn clear(&self) -> Result<(), EngineError> {
        self.writer
            .lock()
            .expect("index writer poisoned")
            .delete_all_documents()?;
        Ok(())
    }

    /// Makes every change so far durable and visible to searches.
    pub fn commit(&self) -> Result<(), EngineError> {
        self.writer.lock().expect("index writer poisoned").commit()?;
        self.reader.reload()?;
        self.version.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    /// How far into the change log the committed index reaches.
    pub fn freshness(&self) -> &crate::Freshness {
        &self.freshness
    }

    /// Grows with every commit, so cached search answers can tell they are stale.
    /// This index as the one of node `node` (scale-out mode): it saves its
    /// position under a key of its own and says it is alive (see
    /// [`cairn_core::ports::FULL_TEXT_NODE_PREFIX`]).
    pub fn for_node(mut self, node: &str) -> Self {
        self.node = Some(node.to_string());
        self
    }

    /// The settings key this index saves its outbox position under.
    pub fn position_key(&self) -> String {
        match &self.node {
            Some(node) => format!("{}{node}", cairn_core::ports::FULL_TEXT_NODE_PREFIX),
            None => cairn_core::ports::FULL_TEXT_POSITION_KEY.to_string(),
        }
    }

    /// The settings key of this node's alive stamp (scale-out mode only).
    pub fn alive_key(&self) -> Option<String> {
        self.node
            .as_ref()
            .map(|node| format!("{}{node}", cairn_core::ports::FULL_TEXT_ALIVE_PREFIX))
    }

    pub fn version(&self) -> u64 {
        self.version.load(Ordering::SeqCst)
    }

    /// The best `limit` matches, best first (shared with the kept answer).
    pub fn search(&self, query: &Query, limit: usize) -> Result<std::sync::Arc<Vec<Hit>>, EngineError> {
        let version = self.version();
        let key = (query.clone(), limit);
        if let Some((at, hits)) = self.answers.get(&key)
            && at == version
        {
            return Ok(hits);
        }
        let hits = std::sync::Arc::new(self.rank(query, limit)?);
        self.answers.insert(key, (version, hits.clone()));
        Ok(hits)
    }

    fn rank(&self, query: &Query, limit: usize) -> Result<Vec<Hit>, EngineError> {
        let query = self.translate(query);
        let searcher = self.reader.searcher();
        let top = searcher.search(&query, &TopDocs::with_limit(limit.max(1)).order_by_score())?;
        let mut columns = std::collections::HashMap::new();
        let mut hits = Vec::with_capacity(top.len());
        let mut uid = String::new();
        for (score, address) in top {
            let column = match columns.entry(address.segment_ord) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    let Some(column) = searcher.segment_reader(address.segment_ord).fast_fields().str("uid")? else {
                        continue;
                    };
                    e.insert(column)
                }
            };
            let Some(ord) = column.term_ords(address.doc_id).next() else {
                continue;
            };
            uid.clear();
            if column.ord_to_str(ord, &mut uid).map_err(tantivy::TantivyError::from)? {
                hits.push(Hit {
                    uid: uid.clone(),
                    score,
                });
            }
        }
        Ok(hits)
    }

    /// Objects in the index (deleted ones excluded).
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn translate(&self, query: &Query) -> Box<dyn TQuery> {
        match query {
            Query::Term(word) => self.each_field(|f, analyzer| self.phrase_of(f, analyzer, word)),
            Query::Phrase(words) => self.each_field(|f, analyzer| self.phrase_of(f, analyzer, &words.join(" "))),
            Query::Glob(glob) => {
                let pattern = cairn_model::fulltext::glob_regex(&self.analyze(FOLD, glob).concat());
                match RegexQuery::from_pattern(&pattern, self.words) {
                    Ok(q) => Box::new(q),
                    Err(_) => Box::new(EmptyQuery),
                }
            }
            Query::And(parts) => Box::new(BooleanQuery::new(
                parts
                    .iter()
                    .map(|p| match p {
                        Query::Not(inner) => (Occur::MustNot, self.translate(inner)),
                        other => (Occur::Must, self.translate(other)),
                    })
                    .collect(),
            )),
            Query::Or(parts) => Box::new(BooleanQuery::new(
                parts.iter().map(|p| (Occur::Should, self.translate(p))).collect(),
            )),
            // The parser never lets a lone NOT through; matching nothing is the safe reading.
            Query::Not(_) => Box::new(EmptyQuery),
        }
    }

    /// A union over every language's title (boosted) and text fields.
    fn each_field(&self, make: impl Fn(Field, &str) -> Option<Box<dyn TQuery>>) -> Box<dyn TQuery> {
        let mut clauses: Vec<(Occur, Box<dyn TQuery>)> = Vec::new();
        for lang in &self.langs {
            if let Some(q) = make(lang.title, &lang.analyzer) {
                clauses.push((Occur::Should, Box::new(BoostQuery::new(q, TITLE_BOOST))));
            }
            if let Some(q) = make(lang.text, &lang.analyzer) {
                clauses.push((Occur::Should, q));
            }
        }
        if clauses.is_empty() {
            Box::new(EmptyQuery)
        } else {
            Box::new(BooleanQuery::new(clauses))
        }
    }

    /// A word may analyze to several terms (`E-Mail`): those must be adjacent.
    fn phrase_of(&self, field: Field, analyzer: &str, text: &str) -> Option<Box<dyn TQuery>> {
        let mut terms: Vec<Term> = self
            .analyze(analyzer, text)
            .iter()
            .map(|t| Term::from_field_text(field, t))
            .collect();
        match terms.len() {
            0 => None,
            1 => Some(Box::new(TermQuery::new(terms.remove(0), IndexRecordOption::WithFreqs))),
            _ => Some(Box::new(PhraseQuery::new(terms))),
        }
    }

    fn analyze(&self, analyzer: &str, text: &str) -> Vec<String> {
        let Some(mut analyzer) = self.index.tokenizers().get(analyzer) else {
            return Vec::new();
        };
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            out.push(stream.token().text.clone());
        }
        out
    }
}

impl FullText for SearchIndex {
    fn search(&self, query: &Query, limit: usize) -> Result<std::sync::Arc<Vec<Hit>>, CoreError> {
        SearchIndex::search(self, query, limit)
            .map_err(|e| CoreError::Internal(format!("full-text search failed: {e}")))
    }

    fn version(&self) -> u64 {
        SearchIndex::version(self)
    }

    fn indexed(&self) -> i64 {
        self.freshness.indexed()
    }

    fn wait_for(&self, position: i64, timeout: std::time::Duration) -> bool {
        self.freshness.wait_for(position, timeout)
    }
}

/// `text` lowercased with accents folded, as a wildcard is matched against
/// unstemmed words: what a shared engine gives its own wildcard queries.
pub fn fold(text: &str) -> String {
    let mut analyzer = TextAnalyzer::builder(RawTokenizer::default())
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build();
    let mut stream = analyzer.token_stream(text);
    let mut out = String::with_capacity(text.len());
    while stream.advance() {
        out.push_str(&stream.token().text);
    }
    out
}

/// Which of [`LANGUAGES`] analyzes text in `code` (`de-CH` is German).
pub fn language_slot(code: &str) -> Option<usize> {
    let primary = code.split(['-', '_']).next().unwrap_or_default().to_ascii_lowercase();
    LANGUAGES.iter().position(|l| *l == primary)
}

struct Fields {
    uid: Field,
    words: Field,
    langs: Vec<LangFields>,
}

fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    // A fast field: thousands of hits are mapped to UIDs without touching the doc store.
    let uid = builder.add_text_field("uid", STRING | FAST);
    let words = builder.add_text_field(
        "words",
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(WORDS)
                .set_index_option(IndexRecordOption::WithFreqs),
        ),
    );
    let langs = LANGUAGES
        .iter()
        .map(|code| {
            let analyzer = format!("cairn_{code}");
            let options = TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(&analyzer)
                    .set_index_option(IndexRecordOption::WithFreqsAndPositions),
            );
            LangFields {
                title: builder.add_text_field(&format!("title_{code}"), options.clone()),
                text: builder.add_text_field(&format!("text_{code}"), options),
                analyzer,
            }
        })
        .collect();
    (builder.build(), Fields { uid, words, langs })
}

#[cfg(test)]
mod tests;
