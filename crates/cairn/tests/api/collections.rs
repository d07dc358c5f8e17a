//! Query-driven listings: a Collection's GET lists the results of its stored
//! query, as Plone does, and listing blocks' anonymous POSTs are cached only
//! as long as they are right.

use serde_json::{Value, json};

use crate::helpers::{Auth, ids, spawn_app};

const IS: &str = "plone.app.querystring.operation.selection.any";

#[test]
fn a_collection_lists_its_query_results_sorted_limited_and_filtered_by_permission() {
    let app = spawn_app();
    for (id, title) in [("b", "Beta"), ("a", "Alpha"), ("c", "Gamma")] {
        app.create("", json!({"@type": "News Item", "id": id, "title": title}));
    }
    app.publish("/a");
    app.publish("/b");
    let query = json!([{"i": "portal_type", "o": IS, "v": ["News Item"]}]);
    app.create(
        "",
        json!({"@type": "Collection", "id": "news", "title": "News", "query": query,
            "sort_on": "sortable_title", "sort_reversed": true, "limit": 2}),
    );
    app.publish("/news");
    let admin = app.get("/news", Auth::Admin).json();
    assert_eq!(ids(&admin), ["c", "b"], "title descending, cut at the limit of 2");
    assert_eq!(admin["items_total"], 2);
    let anon = app.get("/news", Auth::Anonymous).json();
    assert_eq!(ids(&anon), ["b", "a"], "the private item is not listed to anonymous");
    let paged = app.get("/news?b_size=1&b_start=1", Auth::Admin).json();
    assert_eq!(ids(&paged), ["b"]);
    assert!(paged["batching"]["prev"].is_string());
    let full = app.get("/news?fullobjects", Auth::Admin).json();
    assert!(full["items"][0]["@components"].is_object(), "full objects on request");
    let bare = app.get("/news?include_items=false", Auth::Admin).json();
    assert!(bare.get("items").is_none());
}

#[test]
fn a_collection_query_cairn_cannot_evaluate_is_refused_when_written() {
    let app = spawn_app();
    app.create("", json!({"@type": "Document", "id": "d", "title": "D"}));
    app.create("", json!({"@type": "Collection", "id": "empty", "title": "Empty"}));
    let r = app.get("/empty", Auth::Admin);
    assert_eq!(
        (r.status, r.json()["items_total"].clone()),
        (200, json!(0)),
        "no criteria, no items"
    );
    let odd = json!([{"i": "portal_type", "o": "plone.app.querystring.operation.no.such", "v": ["x"]}]);
    let created = app.post(
        "",
        Auth::Admin,
        &json!({"@type": "Collection", "id": "odd", "title": "Odd", "query": odd}),
    );
    assert_eq!(created.status, 400, "{}", String::from_utf8_lossy(&created.body));
    let patched = app.patch("/empty", Auth::Admin, &json!({"query": odd}));
    assert_eq!(patched.status, 400);
    let fine = json!([{"i": "portal_type", "o": IS, "v": ["Document"]}]);
    assert_eq!(app.patch("/empty", Auth::Admin, &json!({"query": fine})).status, 204);
    assert_eq!(ids(&app.get("/empty", Auth::Admin).json()), ["d"]);
}

#[test]
fn anonymous_listing_posts_are_cached_per_body_and_dropped_by_writes() {
    let app = spawn_app();
    app.create("", json!({"@type": "News Item", "id": "n1", "title": "One"}));
    app.publish("/n1");
    app.create("", json!({"@type": "News Item", "id": "secret", "title": "Secret"}));
    let news = json!({"query": [{"i": "portal_type", "o": IS, "v": ["News Item"]}]});
    let pages = json!({"query": [{"i": "portal_type", "o": IS, "v": ["Document"]}]});
    let post = |body: &Value, auth| app.post("/@querystring-search", auth, body).json();
    assert_eq!(ids(&post(&news, Auth::Anonymous)), ["n1"]);
    assert_eq!(ids(&post(&news, Auth::Anonymous)), ["n1"], "the same answer again");
    assert_eq!(
        post(&pages, Auth::Anonymous)["items_total"],
        0,
        "another body, another answer"
    );
    assert_eq!(
        post(&news, Auth::Admin)["items_total"],
        2,
        "never an anonymous answer for a user"
    );
    app.create("", json!({"@type": "News Item", "id": "n2", "title": "Two"}));
    app.publish("/n2");
    assert_eq!(
        post(&news, Auth::Anonymous)["items_total"],
        2,
        "a write drops the cached answer"
    );
}
