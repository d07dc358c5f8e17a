//! A Collection's GET lists the results of its stored query, as Plone does.

use serde_json::{Value, json};

use crate::helpers::{Auth, spawn_app};

fn ids(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {v}"))
        .iter()
        .map(|i| i["@id"].as_str().unwrap().rsplit('/').next().unwrap().to_string())
        .collect()
}

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
fn a_collection_without_criteria_or_with_unknown_ones_lists_nothing() {
    let app = spawn_app();
    app.create("", json!({"@type": "Document", "id": "d", "title": "D"}));
    app.create("", json!({"@type": "Collection", "id": "empty", "title": "Empty"}));
    let odd = json!([{"i": "portal_type", "o": "plone.app.querystring.operation.no.such", "v": ["x"]}]);
    app.create(
        "",
        json!({"@type": "Collection", "id": "odd", "title": "Odd", "query": odd}),
    );
    for path in ["/empty", "/odd"] {
        let r = app.get(path, Auth::Admin);
        assert_eq!(r.status, 200, "{path}: the collection itself is still readable");
        assert_eq!(r.json()["items_total"], 0, "{path}");
    }
}
