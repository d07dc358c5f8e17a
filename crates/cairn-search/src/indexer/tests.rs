use cairn_core::Content;
use cairn_core::ports::{ChangeEvent, ContentStore, WriteBatch, WriteOp};
use cairn_model::ContentPath;
use cairn_store::SqliteStore;
use serde_json::json;

use super::*;
use crate::parse;

fn store() -> (SqliteStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStore::open(&dir.path().join("t.sqlite")).unwrap();
    s.migrate().unwrap();
    (s, dir)
}

fn page(path: &str, title: &str, language: &str, text: &str) -> Content {
    let now = jiff::Timestamp::now();
    Content {
        uid: Uid::new(),
        path: ContentPath::parse(path).unwrap(),
        parent: None,
        position: 0,
        portal_type: "Document".into(),
        review_state: Some("published".into()),
        is_folderish: false,
        created: now,
        modified: now,
        version: 1,
        layout: None,
        fields: json!({"title": title, "language": language, "text": {"data": text, "content-type": "text/html"}})
            .as_object()
            .unwrap()
            .clone(),
        allowed: vec!["Anonymous".into()],
    }
}

/// Commits one operation with its change event, as the repository does.
fn commit(s: &SqliteStore, op: WriteOp, kind: &'static str, c: &Content) {
    let batch = WriteBatch {
        ops: vec![op],
        events: event(kind, c),
        ..Default::default()
    };
    s.write("x", batch).unwrap();
}

fn add(s: &SqliteStore, c: &Content) {
    commit(s, WriteOp::Insert(Box::new(c.clone())), "added", c);
}

fn event(kind: &'static str, c: &Content) -> Vec<ChangeEvent> {
    vec![ChangeEvent {
        kind,
        uid: c.uid.clone(),
        path: c.path.clone(),
    }]
}

fn find(index: &SearchIndex, q: &str) -> Vec<String> {
    index
        .search(&parse(q).unwrap().unwrap(), 10)
        .unwrap()
        .iter()
        .map(|h| h.uid.clone())
        .collect()
}

#[test]
fn changes_reach_the_index_once_and_in_their_latest_state() {
    let (s, _d) = store();
    let index = SearchIndex::in_memory("de").unwrap();
    let taxes = page("/steuern", "Steuern", "de", "<p>Fristen</p>");
    let school = page("/ecoles", "Écoles", "fr", "<p>Inscriptions</p>");
    add(&s, &taxes);
    add(&s, &school);
    assert_eq!(catch_up(&s, "x", &index).unwrap(), 2);
    assert_eq!(find(&index, "Steuer"), [taxes.uid.as_str()]);
    assert_eq!(
        find(&index, "ecole"),
        [school.uid.as_str()],
        "indexed with its own language"
    );
    assert_eq!(catch_up(&s, "x", &index).unwrap(), 0, "nothing new, nothing redone");

    let mut edited = taxes.clone();
    edited.fields.insert("title".into(), json!("Abgaben"));
    edited.version = 2;
    let update = WriteOp::Update {
        content: Box::new(edited.clone()),
        expected: 1,
    };
    commit(&s, update, "modified", &edited);
    commit(&s, WriteOp::DeleteSubtree(school.path.clone()), "removed", &school);
    assert_eq!(catch_up(&s, "x", &index).unwrap(), 2);
    assert!(find(&index, "Steuer").is_empty());
    assert_eq!(find(&index, "Abgaben"), [taxes.uid.as_str()]);
    assert!(find(&index, "ecole").is_empty());
    assert_eq!(index.len(), 1);
}

#[test]
fn a_rebuild_indexes_everything_and_reports_progress() {
    let (s, _d) = store();
    let index = SearchIndex::in_memory("de").unwrap();
    let pages: Vec<Content> = (0..1203)
        .map(|i| page(&format!("/p{i}"), &format!("Seite {i}"), "de", "<p>Kanton</p>"))
        .collect();
    let ops = pages.iter().map(|c| WriteOp::Insert(Box::new(c.clone()))).collect();
    s.write(
        "x",
        WriteBatch {
            ops,
            events: event("added", &pages[0]),
            ..Default::default()
        },
    )
    .unwrap();
    index
        .upsert(
            "stale",
            "de",
            &crate::SearchableText {
                title: "Kanton".into(),
                ..Default::default()
            },
        )
        .unwrap();
    index.commit().unwrap();
    let mut heard = Vec::new();
    assert_eq!(
        rebuild(&s, "x", &index, |done, total| heard.push((done, total))).unwrap(),
        1203
    );
    assert_eq!(heard, [(500, 1203), (1000, 1203), (1203, 1203)]);
    assert_eq!(index.len(), 1203, "what is not in the database is gone");
    assert_eq!(find(&index, "Seite 17"), [pages[17].uid.as_str()]);
    assert_eq!(catch_up(&s, "x", &index).unwrap(), 0, "the rebuild covered the outbox");
}

#[test]
fn a_restarted_indexer_resumes_from_its_saved_position() {
    let (s, _d) = store();
    let dir = tempfile::tempdir().unwrap();
    let first = page("/a", "Wahlen", "de", "");
    add(&s, &first);
    {
        let index = SearchIndex::open(dir.path(), "de").unwrap();
        assert_eq!(catch_up(&s, "x", &index).unwrap(), 1);
    }
    let second = page("/b", "Abstimmungen", "de", "");
    add(&s, &second);
    let index = SearchIndex::open(dir.path(), "de").unwrap();
    assert_eq!(
        catch_up(&s, "x", &index).unwrap(),
        1,
        "only the change made while it was down"
    );
    assert_eq!(find(&index, "Wahlen"), [first.uid.as_str()]);
    assert_eq!(find(&index, "Abstimmung"), [second.uid.as_str()]);
    assert_eq!(s.setting("x", POSITION_KEY).unwrap(), Some(json!(2)));
}
