//! The full-text suite every engine runs (the embedded index here, the
//! PostgreSQL one in its adapter): objects are written through the content
//! store, taken in by the engine's own follower step and found, or not,
//! through the core's full-text port. It covers stemming and accent folding
//! in the four languages, the query language against a reference evaluator
//! (random documents and queries), the ranking rule (a title match counts
//! more than a body match), edits, deletes and a rebuild. A failed check
//! panics with what was expected.

use std::collections::BTreeSet;

use cairn_core::Content;
use cairn_core::ports::{ChangeEvent, ContentStore, WriteBatch, WriteOp};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use crate::{Engine, parse};

/// Makes the engine of a site (each part of the suite uses sites of its
/// own), analyzing text in an unknown language as German.
pub type MakeEngine<'a> = &'a dyn Fn(&str) -> Box<dyn Engine>;

/// Runs every part of the suite on `store`, a fresh content store.
pub fn suite(store: &dyn ContentStore, engine: MakeEngine<'_>) {
    languages(store, &*engine("ft-languages"));
    ranking_and_changes(store, &*engine("ft-changes"));
    rebuilding(store, &*engine("ft-rebuild"));
    model(store, engine);
}

/// A public page at `path` in `language`, with `body` as its rich text.
fn page(path: &str, title: &str, language: &str, body: &str) -> Content {
    let mut c = cairn_core::testkit::page(path);
    c.fields = json!({
        "title": title,
        "language": language,
        "text": {"data": format!("<p>{body}</p>"), "content-type": "text/html"},
    })
    .as_object()
    .cloned()
    .unwrap_or_default();
    c
}

fn event(kind: &'static str, c: &Content) -> ChangeEvent {
    ChangeEvent {
        kind,
        uid: c.uid.clone(),
        path: c.path.clone(),
    }
}

fn add_all(store: &dyn ContentStore, site: &str, pages: &[Content]) {
    let batch = WriteBatch {
        ops: pages.iter().map(|c| WriteOp::Insert(Box::new(c.clone()))).collect(),
        events: pages.iter().map(|c| event("added", c)).collect(),
        ..Default::default()
    };
    store.write(site, batch).expect("the pages are written");
}

/// Lets the engine take in everything written so far.
fn sync(store: &dyn ContentStore, site: &str, engine: &dyn Engine) {
    for _ in 0..100 {
        if engine.step(store, site).expect("the engine takes the changes in") == 0 {
            assert_eq!(engine.indexed(), store.outbox_head(site).unwrap(), "caught up");
            return;
        }
    }
    panic!("the engine never caught up");
}

/// The UIDs found for `q`, best first.
fn ranked(engine: &dyn Engine, q: &str) -> Vec<String> {
    let query = parse(q).expect("the query parses").expect("the query asks something");
    engine
        .search(&query, 5000)
        .expect("the engine answers")
        .iter()
        .map(|h| h.uid.clone())
        .collect()
}

/// The titles of what `q` finds, sorted.
fn find(engine: &dyn Engine, pages: &[Content], q: &str) -> Vec<String> {
    let mut titles: Vec<String> = ranked(engine, q)
        .iter()
        .filter_map(|uid| pages.iter().find(|p| p.uid.as_str() == uid))
        .map(|p| p.fields["title"].as_str().unwrap_or_default().to_string())
        .collect();
    titles.sort();
    titles
}

fn languages(store: &dyn ContentStore, engine: &dyn Engine) {
    let site = "ft-languages";
    let pages = [
        page(
            "/steuern",
            "Steuern",
            "de",
            "Die Steuererklärung ist bis Ende März fällig.",
        ),
        page(
            "/gebuehren",
            "Gebühren",
            "de-ch",
            "Gebühren für Ausweise und Bewilligungen.",
        ),
        page("/ecoles", "Les écoles", "fr", "Inscription dans les écoles publiques."),
        page("/scuole", "Scuole", "it", "Iscrizione alle scuole pubbliche."),
        page("/schools", "Schools", "en", "Enrolling in public schools."),
        page("/wahlen", "Wahlen", "", "Die Steuern und die Wahlen im Kanton."),
    ];
    add_all(store, site, &pages);
    sync(store, site, engine);
    let find = |q: &str| find(engine, &pages, q);
    assert_eq!(find("Steuer"), ["Steuern", "Wahlen"], "German plural and singular meet");
    assert_eq!(find("gebuhren"), ["Gebühren"], "umlauts fold");
    assert_eq!(find("ecole"), ["Les écoles"], "French accents and plural");
    assert_eq!(find("scuola"), ["Scuole"], "Italian plural");
    assert_eq!(find("school"), ["Schools"], "English plural");
    assert!(find("nirgends").is_empty());
    assert_eq!(find("Steuern NOT Wahlen"), ["Steuern"]);
    assert_eq!(find("Steuern AND Kanton"), ["Wahlen"]);
    assert_eq!(find("Gebühren OR Schools"), ["Gebühren", "Schools"]);
    assert_eq!(find("\"Ende März\""), ["Steuern"]);
    assert!(find("\"März Ende\"").is_empty(), "a phrase keeps its order");
    assert_eq!(find("Steuererk*"), ["Steuern"]);
    assert_eq!(find("Bewill?gung*"), ["Gebühren"]);
    assert_eq!(find("BEWILL*"), ["Gebühren"], "a wildcard folds case");
    assert_eq!(find("Gebuhr*"), ["Gebühren"], "and accents");
    assert!(find("Steuern AND nirgends").is_empty(), "every word must be there");
    assert!(
        find("Steuern AND xy?z").is_empty(),
        "a wildcard matching no word finds nothing"
    );
    assert!(find("Steuern AND --").is_empty(), "nor does a word without letters");
    assert_eq!(find("Kanton OR --"), ["Wahlen"]);
}

fn ranking_and_changes(store: &dyn ContentStore, engine: &dyn Engine) {
    let site = "ft-changes";
    let mut pages = vec![
        page("/a", "Wahlen", "de", "Die Steuern und die Wahlen im Kanton."),
        page("/b", "Steuern", "de", "Fristen und Formulare."),
        page("/c", "Ausweise", "de", "Pass und Identitätskarte."),
    ];
    add_all(store, site, &pages);
    sync(store, site, engine);
    let first = ranked(engine, "Steuern");
    assert_eq!(first.len(), 2);
    assert_eq!(
        first[0],
        pages[1].uid.as_str(),
        "the title match outranks the body match"
    );

    // An edit replaces what was indexed; a delete drops it.
    let before = pages[1].clone();
    let mut edited = before.clone();
    edited.fields.insert("title".into(), json!("Abgaben"));
    edited.version += 1;
    let mut batch = WriteBatch::default();
    batch.update(&before, edited.clone(), "modified");
    store.write(site, batch).unwrap();
    pages[1] = edited;
    let gone = pages.remove(2);
    store
        .write(
            site,
            WriteBatch {
                ops: vec![WriteOp::DeleteSubtree(gone.path.clone())],
                events: vec![event("removed", &gone)],
                ..Default::default()
            },
        )
        .unwrap();
    let version = engine.version();
    sync(store, site, engine);
    assert!(engine.version() > version, "taking changes in grows the version");
    let find = |q: &str| find(engine, &pages, q);
    assert_eq!(find("Steuern"), ["Wahlen"]);
    assert_eq!(find("Abgaben"), ["Abgaben"]);
    assert!(ranked(engine, "Ausweise").is_empty(), "a deleted object is not found");
    assert_eq!(engine.step(store, site).unwrap(), 0, "nothing new, nothing redone");
}

fn rebuilding(store: &dyn ContentStore, engine: &dyn Engine) {
    let site = "ft-rebuild";
    let pages: Vec<Content> = (0..1203)
        .map(|i| page(&format!("/p{i}"), &format!("Seite {i}"), "de", "Kanton"))
        .collect();
    add_all(store, site, &pages);
    sync(store, site, engine);
    let mut heard = Vec::new();
    let done = engine
        .rebuild(store, site, &mut |done, total| heard.push((done, total)))
        .unwrap();
    assert_eq!(done, 1203, "{heard:?}");
    assert_eq!(heard, [(500, 1203), (1000, 1203), (1203, 1203)]);
    assert_eq!(ranked(engine, "Kanton").len(), 1203);
    assert_eq!(ranked(engine, "\"Seite 17\""), [pages[17].uid.as_str()]);
    assert_eq!(engine.step(store, site).unwrap(), 0, "the rebuild covered the outbox");
}

/// Made-up words no stemmer shortens and no two sharing a two-letter start,
/// so every language reads each one as itself.
const WORDS: [&str; 8] = ["zork", "blip", "quux", "frob", "gnar", "wump", "yarp", "tusk"];
const LANGUAGES: [&str; 4] = ["de", "fr", "it", "en"];

/// What a query means, evaluated over a document's words in order.
enum Node {
    Word(String),
    Prefix(String),
    /// A word with one unknown letter at this position.
    OneLetter(String, usize),
    Phrase(Vec<String>),
    And(Vec<Node>, Vec<Node>),
    Or(Vec<Node>),
}

impl Node {
    fn matches(&self, doc: &[String]) -> bool {
        match self {
            Node::Word(w) => doc.contains(w),
            Node::Prefix(p) => doc.iter().any(|w| w.starts_with(p.as_str())),
            Node::OneLetter(w, at) => doc.iter().any(|d| {
                d.len() == w.len()
                    && d.chars()
                        .zip(w.chars())
                        .enumerate()
                        .all(|(i, (a, b))| i == *at || a == b)
            }),
            Node::Phrase(p) => doc.windows(p.len()).any(|win| win == p.as_slice()),
            Node::And(yes, no) => yes.iter().all(|n| n.matches(doc)) && !no.iter().any(|n| n.matches(doc)),
            Node::Or(any) => any.iter().any(|n| n.matches(doc)),
        }
    }
}

fn word(rng: &mut StdRng) -> String {
    WORDS[rng.random_range(0..WORDS.len())].to_string()
}

/// A leaf: a word, a phrase or a wildcard, as text and as meaning.
fn leaf(rng: &mut StdRng) -> (String, Node) {
    match rng.random_range(0..5) {
        0 | 1 => {
            let w = word(rng);
            (w.clone(), Node::Word(w))
        }
        2 => {
            let p: Vec<String> = (0..rng.random_range(2..4)).map(|_| word(rng)).collect();
            (format!("\"{}\"", p.join(" ")), Node::Phrase(p))
        }
        3 => {
            let w = word(rng);
            let p = w[..rng.random_range(2..4)].to_string();
            (format!("{p}*"), Node::Prefix(p))
        }
        _ => {
            let w = word(rng);
            (format!("{}?{}", &w[..2], &w[3..]), Node::OneLetter(w, 2))
        }
    }
}

/// A query of at most `depth` levels, fully parenthesized.
fn query(rng: &mut StdRng, depth: usize) -> (String, Node) {
    if depth == 0 || rng.random_bool(0.3) {
        return leaf(rng);
    }
    let n = rng.random_range(2..4);
    let parts: Vec<(String, Node)> = (0..n).map(|_| query(rng, depth - 1)).collect();
    if rng.random_bool(0.5) {
        let (texts, nodes): (Vec<String>, Vec<Node>) = parts.into_iter().unzip();
        (format!("({})", texts.join(" OR ")), Node::Or(nodes))
    } else {
        let (mut texts, nodes): (Vec<String>, Vec<Node>) = parts.into_iter().unzip();
        let mut not = Vec::new();
        if rng.random_bool(0.4) {
            let (t, node) = leaf(rng);
            texts.push(format!("NOT {t}"));
            not.push(node);
        }
        let joiner = if rng.random_bool(0.5) { " AND " } else { " " };
        (format!("({})", texts.join(joiner)), Node::And(nodes, not))
    }
}

/// Random documents in the four languages and random queries (words,
/// phrases, wildcards, AND/OR/NOT, nested), parsed by the real parser and
/// answered by the engine, find exactly the documents the query's meaning
/// selects.
fn model(store: &dyn ContentStore, engine: MakeEngine<'_>) {
    // Queries that split the documents (some found, some not): the ones that test something.
    let mut telling = 0;
    for seed in 0..8u64 {
        let site = format!("ft-model-{seed}");
        let engine = engine(&site);
        let mut rng = StdRng::seed_from_u64(seed);
        let docs: Vec<Vec<String>> = (0..60)
            .map(|_| (0..rng.random_range(1..12)).map(|_| word(&mut rng)).collect())
            .collect();
        let pages: Vec<Content> = docs
            .iter()
            .enumerate()
            .map(|(i, words)| {
                let language = LANGUAGES[rng.random_range(0..LANGUAGES.len())];
                page(&format!("/doc{i}"), "", language, &words.join(" "))
            })
            .collect();
        add_all(store, &site, &pages);
        sync(store, &site, &*engine);
        for _ in 0..60 {
            let (text, meaning) = query(&mut rng, 3);
            let found: BTreeSet<String> = ranked(&*engine, &text).into_iter().collect();
            let want: BTreeSet<String> = pages
                .iter()
                .zip(&docs)
                .filter(|(_, d)| meaning.matches(d))
                .map(|(p, _)| p.uid.as_str().to_string())
                .collect();
            assert_eq!(found, want, "seed {seed}: {text}");
            telling += usize::from(!want.is_empty() && want.len() < docs.len());
        }
    }
    assert!(telling > 200, "only {telling} of 480 queries split the documents");
}

#[cfg(test)]
mod tests {
    use cairn_core::ports::ContentStore;

    use crate::SearchIndex;

    #[test]
    fn the_embedded_index_passes_the_suite() {
        let dir = tempfile::tempdir().unwrap();
        let store = cairn_store::SqliteStore::open(&dir.path().join("t.sqlite")).unwrap();
        store.migrate().unwrap();
        super::suite(&store, &|_site| Box::new(SearchIndex::in_memory("de").unwrap()));
    }
}
