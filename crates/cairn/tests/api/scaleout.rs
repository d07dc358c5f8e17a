//! Several nodes on one PostgreSQL database (scale-out mode), each a whole
//! server with its own caches and full-text index: what one node writes the
//! others serve once its change notice arrives (bounded here by a deadline,
//! not timed), users added on one log in on another, and a node that joins
//! after the change feed was pruned builds its index from the database.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{Auth, TestApp, shared_postgres, spawn_app_with};

fn node(url: &str) -> TestApp {
    spawn_app_with(|s| s.database_url = Some(url.to_string()))
}

/// Asks `node` until `done` holds, for at most five seconds.
fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not within 5 s");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn what_one_node_writes_the_others_serve_their_caches_included() {
    let Some(url) = shared_postgres() else { return };
    let (a, b) = (node(&url), node(&url));
    a.create("", json!({"@type": "Document", "id": "seite", "title": "Eins"}));
    a.publish(&format!("{}/seite", a.site));
    // Node b serves it, and keeps it: its object cache and, for anonymous
    // readers, its response cache.
    for _ in 0..2 {
        assert_eq!(b.get("/seite", Auth::Anonymous).json()["title"], "Eins");
    }
    assert_eq!(b.get("/seite", Auth::Admin).json()["title"], "Eins");
    assert_eq!(a.patch("/seite", Auth::Admin, &json!({"title": "Zwei"})).status, 204);
    eventually("node b serves the new title", || {
        b.get("/seite", Auth::Anonymous).json()["title"] == "Zwei"
    });
    assert_eq!(b.get("/seite", Auth::Admin).json()["title"], "Zwei");
    // Its own full-text index took the change in (an author's search waits
    // for every change committed before it).
    let found = b.get("/@search?SearchableText=Zwei", Auth::Admin).json();
    assert_eq!(found["items_total"], 1, "{found}");
    // A deletion on b is gone on a.
    assert_eq!(b.delete("/seite", Auth::Admin).status, 204);
    eventually("node a no longer serves the deleted page", || {
        a.get("/seite", Auth::Anonymous).status == 404
    });
    // A user added on a signs in on b.
    a.add_user("mira", "mira-pw-123", &["Member"]);
    eventually("node b knows the new user", || {
        b.post(
            "/@login",
            Auth::Anonymous,
            &json!({"login": "mira", "password": "mira-pw-123"}),
        )
        .status
            == 200
    });
}

#[test]
fn a_node_back_after_the_change_feed_was_pruned_past_it_rebuilds_its_index() {
    let Some(url) = shared_postgres() else { return };
    let data = tempfile::tempdir().unwrap();
    let folder = data.path().to_path_buf();
    let at = |folder: &std::path::Path| {
        let url = url.clone();
        spawn_app_with(move |s| {
            s.data = folder.to_path_buf();
            s.database_url = Some(url);
        })
    };
    let b = at(&folder);
    b.create("", json!({"@type": "Document", "id": "vorher", "title": "Hagelschlag"}));
    b.wait_indexed();
    drop(b);
    let a = node(&url);
    for i in 0..5 {
        a.create(
            "",
            json!({"@type": "Document", "id": format!("bericht-{i}"), "title": "Hagelschlag"}),
        );
    }
    a.wait_indexed();
    // Node b is gone (as if silent for an hour): its index no longer holds
    // the change feed, which is pruned up to node a's index.
    let b_node = std::fs::read_to_string(folder.join("search").join("plone").join("node-id")).unwrap();
    let site = a.site();
    site.store
        .put_setting("plone", &format!("search.alive.{}", b_node.trim()), &json!(0))
        .unwrap();
    assert!(site.jobs.prune_outbox("plone").unwrap() >= 5);
    // Back, b finds the changes it missed gone and rebuilds from the database.
    let b = at(&folder);
    let found = b.get("/@search?SearchableText=Hagelschlag", Auth::Admin).json();
    assert_eq!(found["items_total"], 6, "{found}");
}
