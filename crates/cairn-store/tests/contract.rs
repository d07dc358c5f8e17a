//! The ports' contract suites (`cairn_core::testkit`) on SQLite; the
//! PostgreSQL adapter runs the same ones.

use cairn_core::ports::ContentStore;
use cairn_store::SqliteStore;

fn store() -> (SqliteStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStore::open(&dir.path().join("t.sqlite")).unwrap();
    s.migrate().unwrap();
    (s, dir)
}

#[test]
fn content() {
    let (s, _dir) = store();
    cairn_core::testkit::content(&s);
}

#[test]
fn catalog() {
    let (s, _dir) = store();
    cairn_core::testkit::catalog(&s);
}

#[test]
fn principals() {
    let (s, _dir) = store();
    cairn_core::testkit::principals(&s);
}

#[test]
fn jobs() {
    let (s, _dir) = store();
    cairn_core::testkit::jobs(&s);
}

#[test]
fn hand_over() {
    let (s, _dir) = store();
    cairn_core::testkit::hand_over(&s);
}

#[test]
fn blobs() {
    let dir = tempfile::tempdir().unwrap();
    let s = cairn_store::FsBlobStore::open(dir.path()).unwrap();
    cairn_core::testkit::blobs(&s);
}
