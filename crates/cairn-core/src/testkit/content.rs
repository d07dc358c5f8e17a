//! What `ContentStore` promises: atomic batches and their outbox, optimistic
//! concurrency, subtree deletes and moves, view filtering in SQL, history,
//! trash, redirects, links and settings.

use cairn_model::{ContentPath, Uid};
use serde_json::json;

use crate::content::Content;
use crate::error::CoreError;
use crate::ports::{
    ChangeEvent, ContentStore, Link, Redirect, RedirectFilter, RelationQuery, TrashEntry, VersionRecord, ViewFilter,
    WriteBatch, WriteOp,
};

pub(super) fn path(p: &str) -> ContentPath {
    ContentPath::parse(p).unwrap()
}

/// A folderish page at `p` that `allowed` may view.
pub(super) fn obj(p: &str, position: i64, allowed: &[&str]) -> Content {
    let now = jiff::Timestamp::now();
    Content {
        uid: Uid::new(),
        path: path(p),
        parent: None,
        position,
        portal_type: "Document".into(),
        review_state: Some("private".into()),
        is_folderish: true,
        created: now,
        modified: now,
        version: 1,
        layout: None,
        fields: json!({"title": p, "text": {"data": "<p>big</p>"}, "subjects": ["Steuern"]})
            .as_object()
            .unwrap()
            .clone(),
        allowed: allowed.iter().map(|s| s.to_string()).collect(),
    }
}

pub(super) fn insert(c: &Content) -> WriteBatch {
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

fn ops(ops: Vec<WriteOp>) -> WriteBatch {
    WriteBatch {
        ops,
        ..Default::default()
    }
}

fn readers(principals: &[&str]) -> ViewFilter {
    ViewFilter {
        principals: Some(principals.iter().map(|s| s.to_string()).collect()),
        active_at: None,
    }
}

fn paths_of(found: &[Content]) -> Vec<&str> {
    found.iter().map(|c| c.path.as_str()).collect()
}

/// The whole `ContentStore` contract, on a fresh store.
pub fn content(s: &dyn ContentStore) {
    outbox(s);
    batches(s);
    subtrees(s);
    visibility(s);
    history(s);
    trash(s);
    redirects(s);
    links(s);
    settings(s);
}

fn outbox(s: &dyn ContentStore) {
    let (root, a, b) = (obj("", 0, &[]), obj("/a", 0, &[]), obj("/b", 1, &[]));
    for c in [&root, &a, &b] {
        s.write("ob", insert(c)).unwrap();
    }
    s.write("ob-other", insert(&obj("", 0, &[]))).unwrap();
    assert_eq!(s.outbox_len("ob").unwrap(), 3);
    let all = s.outbox_after("ob", 0, 10).unwrap();
    let uids: Vec<_> = all.iter().map(|e| e.uid.clone()).collect();
    assert_eq!(uids, [root.uid, a.uid.clone(), b.uid], "oldest first, one site only");
    assert!(all.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!((all[1].kind.as_str(), &all[1].path), ("added", &a.path));
    let rest = s.outbox_after("ob", all[0].seq, 1).unwrap();
    assert_eq!(rest, [all[1].clone()], "resumes after a position, at most `limit`");
    assert!(s.outbox_after("ob", all[2].seq, 10).unwrap().is_empty());
    assert_eq!(s.outbox_head("ob").unwrap(), all[2].seq);
    assert_eq!(s.outbox_head("nobody").unwrap(), 0);
}

fn batches(s: &dyn ContentStore) {
    let site = "batches";
    let a = obj("/a", 0, &[]);
    s.write(site, insert(&a)).unwrap();
    // Half a batch never commits.
    let fresh = obj("/b", 1, &[]);
    let mut batch = insert(&fresh);
    batch.ops.push(WriteOp::Insert(Box::new(obj("/a", 2, &[]))));
    match s.write(site, batch) {
        Err(CoreError::Conflict(m)) => assert!(m.contains("/a"), "the taken path is named: {m}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert!(
        s.by_path(site, &fresh.path).unwrap().is_none(),
        "half a batch was committed"
    );
    assert_eq!(s.outbox_len(site).unwrap(), 1, "nor its events");
    // Two new objects of one batch at the same place: the second is refused.
    let mut batch = insert(&obj("/c", 4, &[]));
    batch.ops.push(WriteOp::Insert(Box::new(obj("/c", 5, &[]))));
    match s.write(site, batch) {
        Err(CoreError::Conflict(m)) => assert!(m.contains("/c"), "{m}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert!(s.by_path(site, &path("/c")).unwrap().is_none());
    // More objects than one statement takes: each keeps its permission
    // and keyword rows, and its event, in order.
    let many: Vec<Content> = (0..1203)
        .map(|i| {
            let mut c = obj(
                &format!("/a/m{i}"),
                i,
                if i % 2 == 0 { &["Anonymous"] } else { &["Editor"] },
            );
            c.fields.insert("subjects".into(), json!([format!("k{}", i % 7)]));
            c
        })
        .collect();
    let before = s.outbox_head(site).unwrap();
    let mut batch = WriteBatch::default();
    for c in &many {
        let one = insert(c);
        batch.ops.extend(one.ops);
        batch.events.extend(one.events);
    }
    s.write(site, batch).unwrap();
    let anonymous = ViewFilter {
        principals: Some(vec!["Anonymous".into()]),
        active_at: None,
    };
    let (seen, total) = s.children(site, &a.path, &anonymous, (0, 2000), true).unwrap();
    assert_eq!((seen.len(), total), (602, 602), "the permission rows of every object");
    assert_eq!(seen[301].path, many[602].path);
    let mut keywords = s.keywords(site, &ViewFilter::unrestricted()).unwrap();
    keywords.sort();
    assert_eq!(keywords, ["Steuern", "k0", "k1", "k2", "k3", "k4", "k5", "k6"]);
    let events = s.outbox_after(site, before, 2000).unwrap();
    assert_eq!(events.len(), 1203);
    assert!(
        events.iter().zip(&many).all(|(e, c)| e.path == c.path),
        "events in order"
    );
    // A taken UID is told apart from a taken path.
    let mut twin = obj("/twin", 3, &[]);
    twin.uid = a.uid.clone();
    match s.write(site, insert(&twin)) {
        Err(CoreError::Conflict(m)) => assert!(m.contains("UID"), "{m}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    // Optimistic concurrency: an update names the version it replaces.
    let mut next = a.clone();
    next.version = 2;
    next.fields.insert("title".into(), json!("Neu"));
    let update = |expected| {
        ops(vec![WriteOp::Update {
            content: Box::new(next.clone()),
            expected,
        }])
    };
    s.write(site, update(1)).unwrap();
    assert!(matches!(s.write(site, update(1)), Err(CoreError::Conflict(_))));
    let stored = s.by_uids(site, std::slice::from_ref(&a.uid)).unwrap();
    assert_eq!((stored[0].version, stored[0].title()), (2, "Neu"));
    assert_eq!(stored[0].fields["text"]["data"], "<p>big</p>", "fields round-trip");
    assert_eq!(
        stored[0].created.as_second(),
        a.created.as_second(),
        "dates round-trip (to the second)"
    );
}

fn subtrees(s: &dyn ContentStore) {
    let site = "subtrees";
    for (i, p) in ["/a", "/a/b", "/a/b/c", "/ab", "/a-b", "/m"].iter().enumerate() {
        s.write(site, insert(&obj(p, i as i64, &[]))).unwrap();
    }
    // A move rewrites the subtree's paths and parents, and nothing else.
    s.write(
        site,
        ops(vec![WriteOp::Move {
            from: path("/a/b"),
            to: path("/m/b2"),
        }]),
    )
    .unwrap();
    let moved = s
        .by_path(site, &path("/m/b2/c"))
        .unwrap()
        .expect("moved with its parent");
    assert_eq!(moved.path.parent(), Some(path("/m/b2")));
    let all = ViewFilter::unrestricted();
    let (kids, total) = s.children(site, &path("/m/b2"), &all, (0, 10), false).unwrap();
    assert_eq!((paths_of(&kids), total), (vec!["/m/b2/c"], 1));
    assert!(s.by_path(site, &path("/a/b")).unwrap().is_none());
    // Moving onto a taken path is a conflict.
    let clash = s.write(
        site,
        ops(vec![WriteOp::Move {
            from: path("/m/b2"),
            to: path("/ab"),
        }]),
    );
    assert!(matches!(clash, Err(CoreError::Conflict(_))), "{clash:?}");
    // Deleting a subtree spares siblings whose names start the same.
    s.write(site, ops(vec![WriteOp::DeleteSubtree(path("/a"))])).unwrap();
    let left: Vec<&str> = ["/a", "/ab", "/a-b", "/m", "/m/b2", "/m/b2/c"]
        .into_iter()
        .filter(|p| s.by_path(site, &path(p)).unwrap().is_some())
        .collect();
    assert_eq!(left, ["/ab", "/a-b", "/m", "/m/b2", "/m/b2/c"]);
    // Order: positions, ids and the next free position.
    let root = ContentPath::root();
    let ids: Vec<String> = s.child_ids(site, &root).unwrap().into_iter().map(|c| c.1).collect();
    assert_eq!(ids, ["ab", "a-b", "m"]);
    assert_eq!(s.next_position(site, &root).unwrap(), 6);
    let ab = s.by_path(site, &path("/ab")).unwrap().unwrap();
    s.write(site, ops(vec![WriteOp::Reposition(vec![(ab.uid.clone(), 9)])]))
        .unwrap();
    let ids: Vec<String> = s.child_ids(site, &root).unwrap().into_iter().map(|c| c.1).collect();
    assert_eq!(ids, ["a-b", "m", "ab"]);
    let tree = s.tree(site, &path("/m"), 2, &[], &all).unwrap();
    assert_eq!(paths_of(&tree), ["/m/b2", "/m/b2/c"], "below the root, by depth");
    let counts = s.type_counts(site).unwrap();
    assert_eq!(counts, [("Document".to_string(), 5)]);
}

fn visibility(s: &dyn ContentStore) {
    let site = "visibility";
    s.write(site, insert(&obj("", 0, &["Anonymous"]))).unwrap();
    let mut later = obj("/later", 2, &["Anonymous"]);
    later
        .fields
        .insert("effective".into(), json!("2099-01-01T00:00:00+00:00"));
    later.fields.insert("subjects".into(), json!(["Zukunft"]));
    for c in [
        obj("/pub", 0, &["Anonymous"]),
        obj("/priv", 1, &["Manager", "user:jane"]),
        later,
    ] {
        s.write(site, insert(&c)).unwrap();
    }
    let root = ContentPath::root();
    let anon = readers(&["Anonymous"]);
    let jane = readers(&["Anonymous", "user:jane"]);
    let count = |f: &ViewFilter| s.children(site, &root, f, (0, 10), false).unwrap().1;
    assert_eq!(count(&anon), 2);
    assert_eq!(count(&jane), 3);
    assert_eq!(count(&ViewFilter::unrestricted()), 3);
    assert_eq!(
        count(&readers(&["user:jane"])),
        1,
        "without Anonymous, only what is granted"
    );
    let now = ViewFilter {
        principals: Some(vec!["Anonymous".into()]),
        active_at: Some("2026-12-01T00:00:00+00:00".into()),
    };
    assert_eq!(count(&now), 1, "not yet effective");
    // Counting pages: a full page asks for the total, a short one tells it.
    let (page, total) = s.children(site, &root, &jane, (1, 1), false).unwrap();
    assert_eq!((paths_of(&page), total), (vec!["/priv"], 3));
    let (page, total) = s.children(site, &root, &jane, (0, 0), false).unwrap();
    assert_eq!((page.len(), total), (0, 3));
    let light = s.nav_tree(site, &root, 1, &[], &jane).unwrap();
    assert_eq!(light.len(), 3);
    assert!(
        light[0].fields.get("text").is_none(),
        "navigation rows carry no rich text"
    );
    assert_eq!(s.keywords(site, &anon).unwrap(), ["Steuern", "Zukunft"]);
    assert_eq!(s.keywords(site, &readers(&["Manager"])).unwrap(), ["Steuern"]);
    // Neighbours, one at a time and many at once, skip what the reader may not see.
    let (prev, next) = s.neighbours(site, &root, 1, &anon).unwrap();
    assert_eq!(
        (prev.map(|c| c.path), next.map(|c| c.path)),
        (Some(path("/pub")), Some(path("/later")))
    );
    let items = [(root.clone(), 0), (root.clone(), 1), (root.clone(), 2)];
    for filter in [ViewFilter::unrestricted(), anon.clone()] {
        let many = s.neighbour_uids(site, &items, &filter).unwrap();
        for ((parent, pos), (prev, next)) in items.iter().zip(&many) {
            let (p, n) = s.neighbours(site, parent, *pos, &filter).unwrap();
            assert_eq!(prev.as_ref(), p.as_ref().map(|c| &c.uid), "before {parent}@{pos}");
            assert_eq!(next.as_ref(), n.as_ref().map(|c| &c.uid), "after {parent}@{pos}");
        }
    }
    assert!(s.neighbour_uids(site, &[], &anon).unwrap().is_empty());
    // Translation groups.
    let mut de = obj("/de", 5, &["Anonymous"]);
    de.fields.insert("_tg".into(), json!("tg-1"));
    s.write(site, insert(&de)).unwrap();
    assert_eq!(paths_of(&s.translations(site, "tg-1").unwrap()), ["/de"]);
    assert!(s.translations(site, "tg-2").unwrap().is_empty());
}

fn history(s: &dyn ContentStore) {
    let site = "history";
    let uid = Uid::new();
    let words: Vec<String> = (0..300).map(|i| format!("wort{i}")).collect();
    let mut page = words.clone();
    let mut written = Vec::new();
    // Past a whole copy (every 50), with patches between.
    for n in 0..120i64 {
        page[(n as usize * 37) % words.len()] = format!("edit{n}");
        let fields = json!({"title": "Öffnungszeiten", "text": {"data": page.join(" ")}, "n": n});
        let v = VersionRecord {
            uid: uid.clone(),
            version: n,
            actor: "jana".into(),
            time: "2026-12-01T10:00:00+00:00".into(),
            comment: format!("Änderung {n}"),
            fields: fields.as_object().unwrap().clone(),
        };
        written.push(v.fields.clone());
        s.write(site, ops(vec![WriteOp::AddVersion(Box::new(v))])).unwrap();
    }
    let kept = s.versions(site, &uid).unwrap();
    assert_eq!(kept.len(), 120);
    for (v, w) in kept.iter().zip(&written) {
        assert_eq!(&v.fields, w, "version {}", v.version);
    }
    assert_eq!(kept[7].comment, "Änderung 7");
    assert_eq!(s.last_version(site, &uid).unwrap(), Some(119));
    assert_eq!(s.last_version(site, &Uid::new()).unwrap(), None);
    s.write(site, ops(vec![WriteOp::ForgetVersions(vec![uid.clone()])]))
        .unwrap();
    assert!(s.versions(site, &uid).unwrap().is_empty());
}

fn trash(s: &dyn ContentStore) {
    let site = "trash";
    let folder = obj("/f", 0, &[]);
    let child = obj("/f/c", 0, &[]);
    s.write(site, insert(&folder)).unwrap();
    s.write(site, insert(&child)).unwrap();
    let entry = |owner: &str, at: i64| TrashEntry {
        id: 0,
        uid: folder.uid.clone(),
        path: folder.path.clone(),
        title: "Ordner".into(),
        portal_type: "Folder".into(),
        owner: Some(owner.into()),
        deleted_by: "admin".into(),
        deleted_at: at,
        items: 2,
        objects: vec![folder.clone(), child.clone()],
    };
    s.write(site, ops(vec![WriteOp::MoveToTrash(Box::new(entry("jane", 1_000)))]))
        .unwrap();
    assert!(
        s.by_path(site, &child.path).unwrap().is_none(),
        "the subtree left the site"
    );
    let (list, total) = s.trash(site, None, 0, 10).unwrap();
    assert_eq!((list.len(), total), (1, 1));
    assert!(list[0].objects.is_empty(), "lists leave the objects out");
    assert_eq!((list[0].items, list[0].owner.as_deref()), (2, Some("jane")));
    let kept = s.trash_entry(site, list[0].id).unwrap().expect("kept whole");
    assert_eq!(kept.objects.len(), 2);
    assert_eq!(kept.objects[1].uid, child.uid);
    assert_eq!(s.trash(site, Some("max"), 0, 10).unwrap().1, 0, "only the owner's");
    assert_eq!(s.trash_before(site, 1_001).unwrap(), [kept.id]);
    assert!(s.trash_before(site, 1_000).unwrap().is_empty());
    s.write(site, ops(vec![WriteOp::RemoveTrash(kept.id)])).unwrap();
    assert!(s.trash_entry(site, kept.id).unwrap().is_none());
    assert_eq!(s.facts(site).unwrap().trash_entries, 0);
}

fn redirects(s: &dyn ContentStore) {
    let site = "redirects";
    let r = |from: &str, to: &str, manual: bool| Redirect {
        from: path(from),
        to: path(to),
        manual,
        created: "2026-12-01T10:00:00+00:00".into(),
    };
    s.write(
        site,
        ops(vec![
            WriteOp::AddRedirect(r("/alt", "/neu/seite", false)),
            WriteOp::AddRedirect(r("/kurz", "/neu", true)),
            WriteOp::AddRedirect(r("/x_y", "/neu-2", true)),
        ]),
    )
    .unwrap();
    s.write(
        site,
        ops(vec![WriteOp::RetargetRedirects {
            from: path("/neu"),
            to: path("/neuer"),
        }]),
    )
    .unwrap();
    let found = s
        .redirects_from(site, &[path("/alt"), path("/kurz"), path("/x_y")])
        .unwrap();
    let mut targets: Vec<(&str, &str)> = found.iter().map(|r| (r.from.as_str(), r.to.as_str())).collect();
    targets.sort();
    assert_eq!(
        targets,
        [("/alt", "/neuer/seite"), ("/kurz", "/neuer"), ("/x_y", "/neu-2")],
        "retargeted into the subtree only"
    );
    let all = RedirectFilter::default();
    let (page, total) = s.redirects(site, None, &all, 1, 1).unwrap();
    assert_eq!((page[0].from.as_str(), total), ("/kurz", 3));
    let manual = RedirectFilter {
        manual: Some(true),
        ..Default::default()
    };
    assert_eq!(s.redirects(site, None, &manual, 0, 10).unwrap().1, 2);
    let text = RedirectFilter {
        text: Some("_".into()),
        ..Default::default()
    };
    let (page, _) = s.redirects(site, None, &text, 0, 10).unwrap();
    assert_eq!(page.len(), 1, "LIKE's wildcards are escaped");
    assert_eq!(s.redirects(site, Some(&path("/neuer")), &all, 0, 10).unwrap().1, 1);
    s.write(site, ops(vec![WriteOp::RemoveRedirect(path("/alt"))])).unwrap();
    assert!(s.redirects_from(site, &[path("/alt")]).unwrap().is_empty());
}

fn links(s: &dyn ContentStore) {
    let site = "links";
    let (a, b) = (obj("/a", 0, &[]), obj("/b", 1, &[]));
    s.write(site, insert(&a)).unwrap();
    s.write(site, insert(&b)).unwrap();
    let gone = Uid::new();
    let link = |relation: &str, target: &Uid| Link {
        relation: relation.into(),
        target: target.clone(),
    };
    s.write(
        site,
        ops(vec![WriteOp::SetLinks {
            source: a.uid.clone(),
            targets: vec![
                link("related", &b.uid),
                link("isReferencing", &gone),
                link("related", &a.uid),
            ],
        }]),
    )
    .unwrap();
    let to_b = s.linking_to(site, std::slice::from_ref(&b.uid)).unwrap();
    assert_eq!(to_b, [(a.uid.clone(), b.uid.clone())]);
    let related = RelationQuery {
        relation: Some("related".into()),
        limit: 10,
        ..Default::default()
    };
    let found: Vec<Uid> = s
        .relations(site, &related)
        .unwrap()
        .into_iter()
        .map(|r| r.target)
        .collect();
    assert_eq!(found, [b.uid.clone(), a.uid.clone()], "in the order they were set");
    let broken = RelationQuery {
        only_broken: true,
        limit: 10,
        ..Default::default()
    };
    assert_eq!(s.relations(site, &broken).unwrap()[0].target, gone);
    let stats = s.relation_stats(site).unwrap();
    assert_eq!(
        stats,
        [("isReferencing".to_string(), 1, 1), ("related".to_string(), 2, 0)]
    );
    // The source leaving drops its links.
    s.write(site, ops(vec![WriteOp::DeleteSubtree(a.path.clone())]))
        .unwrap();
    assert!(s.linking_to(site, &[b.uid.clone(), gone]).unwrap().is_empty());
}

fn settings(s: &dyn ContentStore) {
    let site = "settings";
    assert!(s.setting(site, "registry").unwrap().is_none());
    let value = json!({"plone.site_title": "Kanton", "logo": {"blob": "sha256-abc"}});
    s.put_setting(site, "registry", &value).unwrap();
    s.put_setting(site, "registry", &value).unwrap();
    assert_eq!(s.setting(site, "registry").unwrap(), Some(value));
    s.write(
        site,
        ops(vec![WriteOp::PutSetting {
            key: "other".into(),
            value: json!(7),
        }]),
    )
    .unwrap();
    assert_eq!(s.setting(site, "other").unwrap(), Some(json!(7)));
    assert!(s.setting("elsewhere", "other").unwrap().is_none());
    let mut page = obj("/file", 0, &[]);
    page.fields
        .insert("file".into(), json!({"blob": "sha256-def", "filename": "a.pdf"}));
    s.write(site, insert(&page)).unwrap();
    let blobs = s.referenced_blobs().unwrap();
    assert!(
        blobs.contains("sha256-abc") && blobs.contains("sha256-def"),
        "{blobs:?}"
    );
    let facts = s.facts(site).unwrap();
    assert_eq!(facts.objects, 1);
    assert!(!facts.engine.is_empty() && facts.schema_version == facts.schema_required);
}
