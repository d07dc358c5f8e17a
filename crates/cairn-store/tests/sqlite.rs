//! The SQLite store's contract: atomic batches, the outbox, optimistic
//! concurrency, subtree deletes and view filtering in SQL.

use cairn_core::Content;
use cairn_core::CoreError;
use cairn_core::ports::{ChangeEvent, ContentStore, ViewFilter, WriteBatch, WriteOp};
use cairn_model::{ContentPath, Uid};
use cairn_store::SqliteStore;
use serde_json::json;

fn store() -> (SqliteStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStore::open(&dir.path().join("t.sqlite")).unwrap();
    s.migrate().unwrap();
    (s, dir)
}

fn obj(path: &str, position: i64, allowed: &[&str]) -> Content {
    let now = jiff::Timestamp::now();
    Content {
        uid: Uid::new(),
        path: ContentPath::parse(path).unwrap(),
        parent: None,
        position,
        portal_type: "Document".into(),
        review_state: Some("private".into()),
        is_folderish: true,
        created: now,
        modified: now,
        version: 1,
        layout: None,
        fields: json!({"title": path, "text": {"data": "<p>big</p>"}})
            .as_object()
            .unwrap()
            .clone(),
        allowed: allowed.iter().map(|s| s.to_string()).collect(),
    }
}

fn insert(c: &Content) -> WriteBatch {
    WriteBatch {
        ops: vec![WriteOp::Insert(Box::new(c.clone()))],
        events: vec![ChangeEvent {
            kind: "added",
            uid: c.uid.clone(),
            path: c.path.clone(),
        }],
        ..Default::default()
    }
}

#[test]
fn every_write_appends_to_the_outbox_in_the_same_transaction() {
    let (s, _d) = store();
    s.write("x", insert(&obj("", 0, &["Anonymous"]))).unwrap();
    s.write("x", insert(&obj("/a", 0, &["Anonymous"]))).unwrap();
    assert_eq!(s.outbox_len("x").unwrap(), 2);
    assert_eq!(s.outbox_len("other-site").unwrap(), 0);
}

#[test]
fn consumers_read_the_outbox_in_order_from_where_they_stopped() {
    let (s, _d) = store();
    let (root, a, b) = (obj("", 0, &[]), obj("/a", 0, &[]), obj("/b", 1, &[]));
    for c in [&root, &a, &b] {
        s.write("x", insert(c)).unwrap();
    }
    s.write("y", insert(&obj("", 0, &[]))).unwrap();
    let all = s.outbox_after("x", 0, 10).unwrap();
    let uids: Vec<_> = all.iter().map(|e| e.uid.clone()).collect();
    assert_eq!(
        uids,
        [root.uid.clone(), a.uid.clone(), b.uid.clone()],
        "oldest first, one site only"
    );
    assert!(all.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(all[1].kind, "added");
    assert_eq!(all[1].path, a.path);
    let rest = s.outbox_after("x", all[0].seq, 1).unwrap();
    assert_eq!(
        rest,
        [all[1].clone()],
        "resumes after the saved position, at most `limit`"
    );
    assert!(s.outbox_after("x", all[2].seq, 10).unwrap().is_empty());
    assert_eq!(s.outbox_head("x").unwrap(), all[2].seq);
    assert_eq!(s.outbox_head("nobody").unwrap(), 0);
}

#[test]
fn a_failing_batch_leaves_nothing_behind() {
    let (s, _d) = store();
    s.write("x", insert(&obj("/a", 0, &[]))).unwrap();
    let fresh = obj("/b", 1, &[]);
    let clash = obj("/a", 2, &[]);
    let mut batch = insert(&fresh);
    batch.ops.push(WriteOp::Insert(Box::new(clash)));
    assert!(matches!(s.write("x", batch), Err(CoreError::Conflict(_))));
    assert!(
        s.by_path("x", &fresh.path).unwrap().is_none(),
        "half a batch was committed"
    );
    assert_eq!(s.outbox_len("x").unwrap(), 1);
}

#[test]
fn a_stale_update_is_a_conflict() {
    let (s, _d) = store();
    let a = obj("/a", 0, &[]);
    s.write("x", insert(&a)).unwrap();
    let mut next = a.clone();
    next.version = 2;
    let upd = |expected| WriteBatch {
        ops: vec![WriteOp::Update {
            content: Box::new(next.clone()),
            expected,
        }],
        events: vec![],
        ..Default::default()
    };
    s.write("x", upd(1)).unwrap();
    assert!(matches!(s.write("x", upd(1)), Err(CoreError::Conflict(_))));
}

#[test]
fn deleting_a_subtree_spares_siblings_with_similar_names() {
    let (s, _d) = store();
    for p in ["/a", "/a/b", "/a/b/c", "/ab", "/a-b"] {
        s.write("x", insert(&obj(p, 0, &[]))).unwrap();
    }
    let batch = WriteBatch {
        ops: vec![WriteOp::DeleteSubtree(ContentPath::parse("/a").unwrap())],
        events: vec![],
        ..Default::default()
    };
    s.write("x", batch).unwrap();
    let left: Vec<String> = ["/a", "/a/b", "/a/b/c", "/ab", "/a-b"]
        .iter()
        .filter(|p| s.by_path("x", &ContentPath::parse(p).unwrap()).unwrap().is_some())
        .map(|p| p.to_string())
        .collect();
    assert_eq!(left, ["/ab", "/a-b"]);
}

#[test]
fn listings_filter_on_view_permissions_and_count_only_visible_items() {
    let (s, _d) = store();
    s.write("x", insert(&obj("/pub", 0, &["Anonymous"]))).unwrap();
    s.write("x", insert(&obj("/priv", 1, &["Manager", "user:jane"])))
        .unwrap();
    let anon = ViewFilter {
        principals: Some(vec!["Anonymous".into()]),
        active_at: None,
    };
    let jane = ViewFilter {
        principals: Some(vec!["Anonymous".into(), "user:jane".into()]),
        active_at: None,
    };
    let root = ContentPath::root();
    assert_eq!(s.children("x", &root, &anon, (0, 10), false).unwrap().1, 1);
    assert_eq!(s.children("x", &root, &jane, (0, 10), false).unwrap().1, 2);
    assert_eq!(
        s.children("x", &root, &ViewFilter::unrestricted(), (0, 10), false)
            .unwrap()
            .1,
        2
    );
    let light = s.nav_tree("x", &root, 1, &[], &jane).unwrap();
    assert_eq!(light.len(), 2);
    assert!(
        light[0].fields.get("text").is_none(),
        "navigation rows must not carry rich text"
    );
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
fn a_taken_path_is_a_conflict_told_by_the_error_code() {
    let (s, _dir) = store();
    s.write("plone", insert(&obj("/a", 0, &[]))).unwrap();
    match s.write("plone", insert(&obj("/a", 1, &[]))) {
        Err(CoreError::Conflict(m)) => assert!(m.contains("/a"), "{m}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
}

#[test]
fn neighbours_of_many_objects_match_one_at_a_time_and_skip_what_the_reader_may_not_see() {
    let (s, _d) = store();
    s.write("x", insert(&obj("", 0, &["Anonymous"]))).unwrap();
    for (path, pos, allowed) in [
        ("/f", 0, &["Anonymous"][..]),
        ("/f/a", 0, &["Anonymous"]),
        ("/f/b", 1, &["Manager"]),
        ("/f/c", 2, &["Anonymous"]),
        ("/f/d", 3, &["Anonymous"]),
        ("/g", 1, &["Anonymous"]),
        ("/g/z", 0, &["Anonymous"]),
    ] {
        s.write("x", insert(&obj(path, pos, allowed))).unwrap();
    }
    let f = ContentPath::parse("/f").unwrap();
    let g = ContentPath::parse("/g").unwrap();
    let items = [
        (f.clone(), 0),
        (f.clone(), 2),
        (f.clone(), 3),
        (g.clone(), 0),
        (f.clone(), 1),
    ];
    for filter in [
        ViewFilter::unrestricted(),
        ViewFilter {
            principals: Some(vec!["Anonymous".into()]),
            active_at: None,
        },
    ] {
        let many = s.neighbour_uids("x", &items, &filter).unwrap();
        assert_eq!(many.len(), items.len());
        for ((parent, pos), (prev, next)) in items.iter().zip(&many) {
            let (p, n) = s.neighbours("x", parent, *pos, &filter).unwrap();
            assert_eq!(prev.as_ref(), p.as_ref().map(|c| &c.uid), "previous of {parent}@{pos}");
            assert_eq!(next.as_ref(), n.as_ref().map(|c| &c.uid), "next of {parent}@{pos}");
        }
    }
    assert!(
        s.neighbour_uids("x", &[], &ViewFilter::unrestricted())
            .unwrap()
            .is_empty()
    );
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
