//! The object cache forgets what a write touched and nothing else: an
//! untouched object stays cached (re-reading it costs no query), and moves,
//! deletes, reorders and sharing changes never leave a stale copy behind.

use serde_json::json;

use crate::helpers::{Auth, TestApp, spawn_app};

const SERIES: &str = "cairn_store_queries_total{site=\"plone\",source=\"request\"}";

/// GETs `path` and returns the body and the queries it cost.
fn read(app: &TestApp, path: &str, auth: Auth<'_>) -> (u16, serde_json::Value, u64) {
    let before = app.metric(SERIES);
    let r = app.get(path, auth);
    let cost = app.metric(SERIES) - before;
    let body = if r.status == 200 { r.json() } else { json!(null) };
    (r.status, body, cost)
}

#[test]
fn a_write_to_one_page_leaves_another_page_cached() {
    let app = spawn_app();
    app.create("", json!({"@type": "Document", "id": "a", "title": "A"}));
    app.create("", json!({"@type": "Document", "id": "b", "title": "B"}));
    read(&app, "/a", Auth::Admin);
    assert_eq!(read(&app, "/a", Auth::Admin).2, 0, "a warm page costs nothing");
    assert_eq!(app.patch("/b", Auth::Admin, &json!({"title": "B2"})).status, 204);
    assert_eq!(read(&app, "/a", Auth::Admin).2, 0, "a is untouched by the edit of b");
    // b's old entry is gone: the answer is the new title. Whether this
    // read reaches the database is not asserted: the indexer may have
    // loaded the new b into the cache in between (it reads through it).
    let (_, b, _) = read(&app, "/b", Auth::Admin);
    assert_eq!(b["title"], "B2");
}

#[test]
fn a_renamed_folder_leaves_no_stale_child_behind() {
    let app = spawn_app();
    app.create("", json!({"@type": "Folder", "id": "f", "title": "F"}));
    app.create("/f", json!({"@type": "Document", "id": "d", "title": "D"}));
    assert_eq!(read(&app, "/f/d", Auth::Admin).0, 200);
    assert_eq!(read(&app, "/g/d", Auth::Admin).0, 404, "nothing there yet (cached)");
    assert_eq!(app.patch("/f", Auth::Admin, &json!({"id": "g"})).status, 204);
    let (status, d, _) = read(&app, "/g/d", Auth::Admin);
    assert_eq!(status, 200);
    assert_eq!(d["@id"], format!("{}/g/d", app.site));
    assert_ne!(read(&app, "/f/d", Auth::Admin).0, 200, "the old path is gone");
}

#[test]
fn a_pasted_page_is_not_served_at_its_old_path() {
    let app = spawn_app();
    app.create("", json!({"@type": "Folder", "id": "src", "title": "Src"}));
    app.create("", json!({"@type": "Folder", "id": "dst", "title": "Dst"}));
    app.create("/src", json!({"@type": "Document", "id": "d", "title": "D"}));
    assert_eq!(read(&app, "/src/d", Auth::Admin).0, 200);
    assert_eq!(read(&app, "/dst/d", Auth::Admin).0, 404);
    let r = app.post(
        "/dst/@move",
        Auth::Admin,
        &json!({"source": [format!("{}/src/d", app.site)]}),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_ne!(read(&app, "/src/d", Auth::Admin).0, 200);
    let (status, d, _) = read(&app, "/dst/d", Auth::Admin);
    assert_eq!(status, 200);
    assert_eq!(d["parent"]["@id"], format!("{}/dst", app.site));
}

#[test]
fn a_deleted_folder_takes_its_cached_children_along() {
    let app = spawn_app();
    app.create("", json!({"@type": "Folder", "id": "f", "title": "F"}));
    app.create("/f", json!({"@type": "Folder", "id": "sub", "title": "Sub"}));
    app.create("/f/sub", json!({"@type": "Document", "id": "d", "title": "D"}));
    assert_eq!(read(&app, "/f/sub/d", Auth::Admin).0, 200);
    assert_eq!(app.delete("/f", Auth::Admin).status, 204);
    assert_eq!(read(&app, "/f/sub/d", Auth::Admin).0, 404);
    // The same path filled again shows the new object, not the old one.
    app.create("", json!({"@type": "Folder", "id": "f", "title": "F"}));
    app.create("/f", json!({"@type": "Folder", "id": "sub", "title": "Sub"}));
    app.create("/f/sub", json!({"@type": "Document", "id": "d", "title": "New D"}));
    assert_eq!(read(&app, "/f/sub/d", Auth::Admin).1["title"], "New D");
}

#[test]
fn a_reorder_moves_the_next_and_previous_links_of_cached_pages() {
    let app = spawn_app();
    app.create(
        "",
        json!({"@type": "Folder", "id": "f", "title": "F", "nextPreviousEnabled": true}),
    );
    for id in ["a", "b", "c"] {
        app.create("/f", json!({"@type": "Document", "id": id, "title": id}));
    }
    let (_, b, _) = read(&app, "/f/b", Auth::Admin);
    assert_eq!(b["previous_item"]["title"], "a");
    let r = app.patch("/f", Auth::Admin, &json!({"ordering": {"obj_id": "b", "delta": "top"}}));
    assert_eq!(r.status, 204);
    let (_, b, _) = read(&app, "/f/b", Auth::Admin);
    assert_eq!(b["previous_item"], json!({}));
    assert_eq!(b["next_item"]["title"], "a");
}

#[test]
fn sharing_a_folder_reaches_its_cached_children_and_so_does_taking_it_back() {
    let app = spawn_app();
    app.add_user("jane", "janespassword", &["Member"]);
    let jane = Auth::Basic("jane", "janespassword");
    app.create("", json!({"@type": "Folder", "id": "f", "title": "F"}));
    app.create("/f", json!({"@type": "Folder", "id": "sub", "title": "Sub"}));
    app.create("/f/sub", json!({"@type": "Document", "id": "d", "title": "D"}));
    assert_eq!(read(&app, "/f/sub/d", Auth::Admin).0, 200);
    assert_eq!(read(&app, "/f/sub/d", jane).0, 401);
    let grant = |on: bool| json!({"entries": [{"id": "jane", "type": "user", "roles": {"Reader": on}}]});
    assert_eq!(app.post("/f/@sharing", Auth::Admin, &grant(true)).status, 204);
    assert_eq!(read(&app, "/f/sub/d", jane).0, 200, "the grant reaches the grandchild");
    assert_eq!(app.post("/f/@sharing", Auth::Admin, &grant(false)).status, 204);
    assert_eq!(read(&app, "/f/sub/d", jane).0, 401, "and so does taking it back");
}

#[test]
fn publishing_a_page_shows_it_to_anonymous_at_once() {
    let app = spawn_app();
    app.create("", json!({"@type": "Document", "id": "d", "title": "D"}));
    assert_eq!(read(&app, "/d", Auth::Anonymous).0, 401);
    app.publish(&format!("{}/d", app.site));
    assert_eq!(read(&app, "/d", Auth::Anonymous).0, 200);
}

/// The rendered-response cache says how each anonymous answer was made, and
/// `Cache-Control: no-cache` gets a fresh rendering that replaces the kept one.
#[test]
fn anonymous_answers_tell_whether_they_were_kept_and_no_cache_renders_afresh() {
    let app = spawn_app();
    app.create("", json!({"@type": "Document", "id": "a", "title": "A"}));
    app.publish(&format!("{}/a", app.site));
    // Kept answers also expire when the search index commits: let it take
    // the writes in first, so no commit falls between the requests below.
    app.wait_indexed();
    let url = format!("{}/a", app.site);
    let how = |headers: &[(&str, &str)]| {
        let r = app.send("GET", &url, Auth::Anonymous, None, headers);
        assert_eq!(r.status, 200);
        r.header("x-cairn-cache").map(str::to_string)
    };
    assert_eq!(how(&[]).as_deref(), Some("miss"));
    assert_eq!(how(&[]).as_deref(), Some("hit"));
    let before = app.metric(SERIES);
    assert_eq!(how(&[("Cache-Control", "no-cache")]).as_deref(), Some("bypass"));
    assert_eq!(how(&[("pragma", "no-cache")]).as_deref(), Some("bypass"));
    assert_eq!(
        how(&[("Cache-Control", "max-age=0, private")]).as_deref(),
        Some("bypass")
    );
    assert_eq!(app.metric(SERIES), before, "the object cache still answers");
    assert_eq!(how(&[]).as_deref(), Some("hit"));
    // Answers that depend on who asks are never kept, so carry no label.
    let admin = app.get(&url, Auth::Admin);
    assert_eq!(admin.header("x-cairn-cache"), None);
}
