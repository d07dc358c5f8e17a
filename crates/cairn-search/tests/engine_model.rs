//! The full-text engine against a reference evaluator: random documents in
//! the four languages and random SearchableText queries (words, phrases,
//! wildcards, AND/OR/NOT, nested), parsed by the real parser and answered by
//! the index, must find exactly the documents the query's meaning selects.

use std::collections::BTreeSet;

use cairn_search::{SearchIndex, SearchableText, parse};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

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

#[test]
fn the_index_and_the_reference_find_the_same_documents() {
    // Queries that split the documents (some found, some not): the ones that test something.
    let mut telling = 0;
    for seed in 0..8u64 {
        let mut rng = StdRng::seed_from_u64(seed);
        let index = SearchIndex::in_memory("de").unwrap();
        let docs: Vec<Vec<String>> = (0..60)
            .map(|_| (0..rng.random_range(1..12)).map(|_| word(&mut rng)).collect())
            .collect();
        for (i, words) in docs.iter().enumerate() {
            let text = SearchableText {
                body: words.join(" "),
                ..Default::default()
            };
            let language = LANGUAGES[rng.random_range(0..LANGUAGES.len())];
            index.upsert(&format!("doc{i}"), language, &text).unwrap();
        }
        index.commit().unwrap();
        for _ in 0..60 {
            let (text, meaning) = query(&mut rng, 3);
            let Ok(Some(parsed)) = parse(&text) else {
                panic!("seed {seed}: the generated query {text:?} does not parse");
            };
            let found: BTreeSet<String> = index
                .search(&parsed, 1000)
                .unwrap()
                .iter()
                .map(|h| h.uid.clone())
                .collect();
            let want: BTreeSet<String> = docs
                .iter()
                .enumerate()
                .filter(|(_, d)| meaning.matches(d))
                .map(|(i, _)| format!("doc{i}"))
                .collect();
            assert_eq!(found, want, "seed {seed}: {text}");
            telling += usize::from(!want.is_empty() && want.len() < docs.len());
        }
    }
    assert!(telling > 200, "only {telling} of 480 queries split the documents");
}
