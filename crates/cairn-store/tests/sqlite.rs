//! What only the SQLite store has: upgrading an older file in place and
//! how compactly it keeps history. The contract every store keeps (atomic
//! batches, the outbox, conflicts, view filtering, ...) is checked by
//! `cairn_core::testkit`, run from `contract.rs`.

use cairn_core::ports::{ContentStore, ViewFilter, WriteBatch, WriteOp};
use cairn_core::testkit::{inserting as insert, object as obj};
use cairn_model::{ContentPath, Uid};
use cairn_store::SqliteStore;
use serde_json::json;

fn store() -> (SqliteStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStore::open(&dir.path().join("t.sqlite")).unwrap();
    s.migrate().unwrap();
    (s, dir)
}

#[test]
fn a_version_5_database_is_upgraded_with_public_filled_from_the_permissions() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.sqlite");
    let s = SqliteStore::open(&file).unwrap();
    s.migrate().unwrap();
    let open = obj("/open", 0, &["Anonymous", "Manager"]);
    let closed = obj("/closed", 1, &["Manager"]);
    s.write("x", insert(&open)).unwrap();
    s.write("x", insert(&closed)).unwrap();
    drop(s);
    // Turn the file back into what version 5 wrote: no column, no indexes on it.
    let conn = rusqlite::Connection::open(&file).unwrap();
    conn.execute_batch(
        "DROP INDEX content_type_path; DROP INDEX content_parent_public; DROP INDEX content_uid_public;
         ALTER TABLE content DROP COLUMN public; ALTER TABLE versions DROP COLUMN delta;
         PRAGMA user_version = 5;",
    )
    .unwrap();
    drop(conn);
    let s = SqliteStore::open(&file).unwrap();
    s.migrate().unwrap();
    let anonymous = ViewFilter {
        principals: Some(vec!["Anonymous".into()]),
        active_at: None,
    };
    let (seen, total) = s
        .children("x", &ContentPath::root(), &anonymous, (0, 10), false)
        .unwrap();
    assert_eq!((seen.len(), total), (1, 1));
    assert_eq!(seen[0].uid, open.uid);
}

#[test]
fn an_unknown_older_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.sqlite");
    SqliteStore::open(&file).unwrap().migrate().unwrap();
    rusqlite::Connection::open(&file)
        .unwrap()
        .execute_batch("PRAGMA user_version = 3;")
        .unwrap();
    let err = SqliteStore::open(&file).unwrap().migrate().unwrap_err();
    assert!(err.to_string().contains("schema version 3"), "{err}");
}

#[test]
fn a_thousand_small_edits_of_a_page_keep_their_changes_not_a_thousand_pages() {
    use cairn_core::ports::VersionRecord;
    let (s, dir) = store();
    let uid = Uid::new();
    let words: Vec<String> = (0..700).map(|i| format!("wort{i}")).collect();
    let mut page = words.clone();
    let mut written = Vec::new();
    for n in 0..1000i64 {
        page[(n as usize * 37) % words.len()] = format!("edit{n}");
        let fields = json!({"title": "Öffnungszeiten", "text": {"data": page.join(" "), "content-type": "text/html"}});
        let v = VersionRecord {
            uid: uid.clone(),
            version: n,
            actor: "jana".into(),
            time: "2026-12-01T10:00:00+00:00".into(),
            comment: String::new(),
            fields: fields.as_object().unwrap().clone(),
        };
        written.push(v.fields.clone());
        s.write(
            "x",
            WriteBatch {
                ops: vec![WriteOp::AddVersion(Box::new(v))],
                ..Default::default()
            },
        )
        .unwrap();
    }
    let page_bytes = serde_json::to_string(&written[999]).unwrap().len();
    assert!(page_bytes > 5_000, "{page_bytes}");
    let kept = s.versions("x", &uid).unwrap();
    assert_eq!(kept.len(), 1000);
    for (v, w) in kept.iter().zip(&written) {
        assert_eq!(&v.fields, w, "version {}", v.version);
    }
    assert_eq!(s.last_version("x", &uid).unwrap(), Some(999));
    let db = rusqlite::Connection::open(dir.path().join("t.sqlite")).unwrap();
    let stored: i64 = db
        .query_row("SELECT sum(length(data)) FROM versions", [], |r| r.get(0))
        .unwrap();
    // Whole copies every 50 versions (20 of them) and small patches between:
    // under 4% of 1,000 whole copies.
    assert!(
        stored < 40 * page_bytes as i64,
        "{stored} bytes for 1,000 versions of {page_bytes}"
    );
}
