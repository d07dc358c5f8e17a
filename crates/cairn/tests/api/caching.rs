//! HTTP caching headers: what a CDN or Varnish in front of cairn may keep,
//! for how long, and under which tags a change purges it.

use cairn_core::caching::path_tag;
use cairn_core::jobs::{iso, now_ms};
use cairn_model::ContentPath;
use serde_json::json;

use crate::helpers::{Auth, TestApp, spawn_app};

fn tags(r: &crate::helpers::Resp) -> Vec<String> {
    r.header("cache-tag")
        .map(|t| t.split(',').map(str::to_owned).collect())
        .unwrap_or_default()
}

fn published_folder_with_page(app: &TestApp) -> (String, String) {
    let f = app.create("", json!({"@type": "Folder", "id": "f", "title": "F"}));
    let d = app.create("/f", json!({"@type": "Document", "id": "d", "title": "D"}));
    app.publish(&format!("{}/f", app.site));
    app.publish(&format!("{}/f/d", app.site));
    (f["UID"].as_str().unwrap().into(), d["UID"].as_str().unwrap().into())
}

#[test]
fn an_anonymous_page_is_public_tagged_and_revalidated_by_etag() {
    let app = spawn_app();
    let (folder, page) = published_folder_with_page(&app);
    let r = app.get("/f/d", Auth::Anonymous);
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("cache-control"),
        Some("public, max-age=0, s-maxage=86400, must-revalidate")
    );
    let t = tags(&r);
    assert!(t.contains(&page), "{t:?}");
    assert!(t.contains(&path_tag(&ContentPath::parse("/f").unwrap())), "{t:?}");
    assert!(t.contains(&path_tag(&ContentPath::parse("/f/d").unwrap())), "{t:?}");
    assert_eq!(r.header("xkey").unwrap(), t.join(" "));
    let etag = r.header("etag").expect("an ETag").to_owned();
    let again = app.send("GET", "/f/d", Auth::Anonymous, None, &[("If-None-Match", &etag)]);
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    assert_eq!(again.header("etag"), Some(etag.as_str()));
    // After an edit the old ETag no longer matches.
    app.patch("/f/d", Auth::Admin, &json!({"description": "new"}));
    let edited = app.send("GET", "/f/d", Auth::Anonymous, None, &[("If-None-Match", &etag)]);
    assert_eq!(edited.status, 200);
    // The folder's listing is tagged with what it lists.
    let listing = app.get("/f", Auth::Anonymous);
    assert!(tags(&listing).contains(&folder) && tags(&listing).contains(&page));
}

#[test]
fn authenticated_answers_and_errors_are_never_public() {
    let app = spawn_app();
    published_folder_with_page(&app);
    app.create("", json!({"@type": "Document", "id": "private", "title": "P"}));
    let r = app.get("/f/d", Auth::Admin);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("cache-control"), Some("private, no-cache"));
    assert!(r.header("cache-tag").is_none() && r.header("xkey").is_none());
    let denied = app.get("/private", Auth::Anonymous);
    assert_eq!(denied.status, 401);
    assert_eq!(denied.header("cache-control"), Some("no-store"));
    assert!(denied.header("cache-tag").is_none());
    assert_eq!(
        app.get("/nothing-here", Auth::Anonymous).header("cache-control"),
        Some("no-store")
    );
}

#[test]
fn navigation_and_search_carry_their_broad_tags() {
    let app = spawn_app();
    published_folder_with_page(&app);
    let nav = app.get("/@navigation", Auth::Anonymous);
    assert!(tags(&nav).contains(&"nav".to_string()), "{:?}", tags(&nav));
    assert_eq!(
        nav.header("cache-control"),
        Some("public, max-age=0, s-maxage=3600, must-revalidate")
    );
    let search = app.get("/@search?portal_type=Document", Auth::Anonymous);
    assert!(tags(&search).contains(&"search".to_string()));
    let crumbs = app.get("/f/d?expand=breadcrumbs", Auth::Anonymous);
    assert!(tags(&crumbs).contains(&"nav".to_string()));
}

#[test]
fn a_page_that_expires_soon_is_kept_no_longer() {
    let app = spawn_app();
    app.create(
        "",
        json!({"@type": "Document", "id": "d", "title": "D", "expires": iso(now_ms() + 30_000)}),
    );
    app.publish(&format!("{}/d", app.site));
    let r = app.get("/d", Auth::Anonymous);
    let cc = r.header("cache-control").unwrap();
    let s_maxage: u64 = cc
        .split(", ")
        .find_map(|p| p.strip_prefix("s-maxage="))
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&s_maxage), "{cc}");
}

#[test]
fn a_page_that_names_its_neighbours_depends_on_them_and_on_its_folders_list() {
    let app = spawn_app();
    let f = app.create(
        "",
        json!({"@type": "Folder", "id": "f", "title": "F", "nextPreviousEnabled": true}),
    );
    let a = app.create("/f", json!({"@type": "Document", "id": "a", "title": "A"}));
    app.create("/f", json!({"@type": "Document", "id": "b", "title": "B"}));
    for p in ["/f", "/f/a", "/f/b"] {
        app.publish(&format!("{}{p}", app.site));
    }
    let b = app.get("/f/b", Auth::Anonymous);
    assert_eq!(b.json()["previous_item"]["title"], "A");
    let t = tags(&b);
    assert!(t.contains(&a["UID"].as_str().unwrap().to_string()), "{t:?}");
    assert!(t.contains(&format!("l-{}", f["UID"].as_str().unwrap())), "{t:?}");
}

#[test]
fn a_single_page_is_also_revalidated_by_its_date_a_listing_only_by_etag() {
    let app = spawn_app();
    published_folder_with_page(&app);
    let page = app.get("/f/d", Auth::Anonymous);
    let modified = page.header("last-modified").expect("a Last-Modified").to_owned();
    assert!(modified.ends_with(" GMT"), "{modified}");
    let same = app.send(
        "GET",
        "/f/d",
        Auth::Anonymous,
        None,
        &[("If-Modified-Since", &modified)],
    );
    assert_eq!(same.status, 304);
    assert_eq!(same.header("last-modified"), Some(modified.as_str()));
    // Also when the page is rendered afresh (a kept answer gone stale, or
    // a CDN refetching with `no-cache`): it once answered 200 then.
    let fresh = app.send(
        "GET",
        "/f/d",
        Auth::Anonymous,
        None,
        &[("If-Modified-Since", &modified), ("Cache-Control", "no-cache")],
    );
    assert_eq!(fresh.status, 304);
    // An older copy is sent the page again.
    let old = "Mon, 01 Jan 2001 00:00:00 GMT";
    assert_eq!(
        app.send("GET", "/f/d", Auth::Anonymous, None, &[("If-Modified-Since", old)])
            .status,
        200
    );
    // If-None-Match decides when both are sent (RFC 9110).
    let both = app.send(
        "GET",
        "/f/d",
        Auth::Anonymous,
        None,
        &[("If-Modified-Since", &modified), ("If-None-Match", "\"other\"")],
    );
    assert_eq!(both.status, 200);
    // A folder's list changes when an item leaves it, which no date shows.
    assert!(app.get("/f", Auth::Anonymous).header("last-modified").is_none());
}
