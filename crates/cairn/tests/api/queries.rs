//! Store round trips per request, read from `cairn_store_queries_total`:
//! a page of full objects costs the same whatever its size, with the object
//! cache off (every read reaches the database) and warm.

use serde_json::json;

use crate::helpers::{Auth, TestApp, spawn_app, spawn_app_with};

const SERIES: &str = "cairn_store_queries_total{site=\"plone\",source=\"request\"}";

/// Round trips the request `send` makes.
fn cost(app: &TestApp, send: impl FnOnce() -> crate::helpers::Resp) -> u64 {
    let before = app.metric(SERIES);
    let r = send();
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    app.metric(SERIES) - before
}

/// A folder `f` with next/previous links and 100 pages that each relate to
/// two others, every seventh locked; ten more pages alone in folders of
/// their own; a Collection of all pages.
fn fill(app: &TestApp) {
    app.create(
        "",
        json!({"@type": "Folder", "id": "f", "title": "F", "nextPreviousEnabled": true}),
    );
    let mut uids = Vec::new();
    for i in 0..100 {
        let related: Vec<&String> = uids.iter().rev().take(2).collect();
        let c = app.create(
            "/f",
            json!({"@type": "Document", "id": format!("d{i}"), "title": format!("Page {i}"), "relatedItems": related}),
        );
        uids.push(c["UID"].as_str().unwrap().to_string());
        if i % 7 == 0 {
            assert_eq!(app.post(&format!("/f/d{i}/@lock"), Auth::Admin, &json!({})).status, 200);
        }
    }
    for (i, uid) in uids.iter().take(10).enumerate() {
        app.create("", json!({"@type": "Folder", "id": format!("s{i}"), "title": "S"}));
        app.create(
            &format!("/s{i}"),
            json!({"@type": "Document", "id": "p", "title": "P", "relatedItems": [uid]}),
        );
    }
    app.create(
        "",
        json!({"@type": "Collection", "id": "all", "title": "All", "query": [
            {"i": "portal_type", "o": "plone.app.querystring.operation.selection.any", "v": ["Document"]}
        ]}),
    );
}

/// The cost of each fullobjects listing with `n` items; `warm` asks twice
/// and counts the second. Every listing is in a fixed order, so the small
/// page holds the same kind of items as the large one (ordered by creation,
/// which has a precision of seconds, the small page held whichever items
/// the last second of `fill` created: with locks or without).
fn costs(app: &TestApp, n: usize, warm: bool) -> Vec<(&'static str, u64)> {
    let folder = format!("/f?fullobjects=1&b_size={n}");
    let search = format!("/@search?fullobjects=1&b_size={n}&portal_type=Document&sort_on=path");
    let collection = format!("/all?fullobjects=1&b_size={n}");
    let qs = json!({"query": [{"i": "portal_type", "o": "plone.app.querystring.operation.selection.any", "v": ["Document"]}],
                    "fullobjects": true, "b_size": n});
    let mut out = Vec::new();
    let mut measure = |name, send: &dyn Fn() -> crate::helpers::Resp| {
        if warm {
            send();
        }
        let c = cost(app, send);
        out.push((name, c));
    };
    measure("folder", &|| {
        let r = app.get(&folder, Auth::Admin);
        assert_eq!(r.json()["items"].as_array().unwrap().len(), n);
        r
    });
    measure("search", &|| app.get(&search, Auth::Admin));
    measure("collection", &|| app.get(&collection, Auth::Admin));
    measure("querystring-search", &|| {
        app.post("/@querystring-search", Auth::Admin, &qs)
    });
    out
}

#[test]
fn a_page_of_full_objects_costs_the_same_queries_whatever_its_size_with_the_cache_off() {
    let app = spawn_app_with(|s| s.cache_objects = 0);
    fill(&app);
    let small = costs(&app, 10, false);
    let large = costs(&app, 100, false);
    assert_eq!(small, large, "10 items vs 100 items");
    for (name, n) in &large {
        assert!(*n <= 8, "{name} costs {n} queries");
    }
}

#[test]
fn a_page_of_full_objects_costs_the_same_queries_whatever_its_size_with_a_warm_cache() {
    let app = spawn_app();
    fill(&app);
    let small = costs(&app, 10, true);
    let large = costs(&app, 100, true);
    assert_eq!(small, large, "10 items vs 100 items");
    for (name, n) in &large {
        assert!(*n <= 5, "{name} costs {n} queries");
    }
}
