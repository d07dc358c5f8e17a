//! Precise purges against the Cloudflare fake: an edit purges exactly the
//! tags of what showed it, a burst of edits becomes a few API calls within
//! Cloudflare's limits, a rate limit is retried, and `@invalidate` purges on
//! an administrator's request only.

use std::time::{Duration, Instant};

use cairn::settings::CloudflareSettings;
use cairn_core::caching::path_tag;
use cairn_model::ContentPath;
use serde_json::json;

use crate::fake_cloudflare::{FakeCloudflare, TOKEN, ZONE};
use crate::helpers::{Auth, TestApp, spawn_app_with};

fn app_behind(cf: &FakeCloudflare) -> TestApp {
    app_with_delay(cf, 50)
}

fn app_with_delay(cf: &FakeCloudflare, delay_ms: u64) -> TestApp {
    let api = cf.api.clone();
    spawn_app_with(move |s| {
        s.caching.cloudflare = Some(CloudflareSettings {
            zone_id: ZONE.into(),
            api_token: TOKEN.into(),
            api_url: api,
        });
        s.caching.purge_delay_ms = delay_ms;
        s.jobs.backoff_secs = 1;
    })
}

/// Waits for the purges after the first `known` jobs; the calls made so far.
fn settle(app: &TestApp, cf: &FakeCloudflare, known: u64) -> usize {
    let calls = || {
        let log = cf.log.lock().unwrap();
        log.purges.len() + log.refused.len()
    };
    let before = calls();
    app.wait_purged(known);
    // A purge job that ran has called the API (the fake logs each call
    // before it answers); on a loaded machine, check rather than assume.
    let deadline = Instant::now() + Duration::from_secs(10);
    while calls() == before && cf.log.lock().unwrap().purges.is_empty() {
        assert!(Instant::now() < deadline, "no purge reached the API");
        std::thread::sleep(Duration::from_millis(20));
    }
    cf.log.lock().unwrap().purges.len()
}

fn uid(v: &serde_json::Value) -> String {
    v["UID"].as_str().unwrap().to_owned()
}

#[test]
fn an_edit_purges_the_page_its_listing_and_navigation() {
    let cf = FakeCloudflare::start(1);
    let app = app_behind(&cf);
    let folder = app.create("", json!({"@type": "Folder", "id": "f", "title": "F"}));
    let page = app.create("/f", json!({"@type": "Document", "id": "d", "title": "D"}));
    let other = app.create("", json!({"@type": "Document", "id": "other", "title": "O"}));
    settle(&app, &cf, 0);
    let before = cf.tags().len();
    assert!(
        cf.log.lock().unwrap().refused.iter().any(|(s, _)| *s == 429),
        "the first call was rate limited"
    );
    // A change that navigation does not show.
    let known = app.purge_jobs();
    app.patch("/f/d", Auth::Admin, &json!({"description": "new words"}));
    settle(&app, &cf, known);
    let tags: Vec<String> = cf.tags()[before..].to_vec();
    assert!(tags.contains(&uid(&page)), "{tags:?}");
    // The folder's page lists it under its own tag; the folder's data is unchanged.
    assert!(!tags.contains(&uid(&folder)), "{tags:?}");
    assert!(
        !tags.iter().any(|t| t.starts_with("l-")),
        "nothing was added, moved or hidden: {tags:?}"
    );
    assert!(tags.contains(&"search".into()));
    assert!(
        !tags.contains(&"nav".into()),
        "navigation does not show descriptions: {tags:?}"
    );
    assert!(!tags.contains(&uid(&other)), "unrelated pages stay cached: {tags:?}");
    assert!(cf.files().contains(&format!("{}/f/d", app.site)));
    // A new title shows in navigation.
    let (before, known) = (cf.tags().len(), app.purge_jobs());
    app.patch("/f/d", Auth::Admin, &json!({"title": "D2"}));
    settle(&app, &cf, known);
    assert!(cf.tags()[before..].contains(&"nav".into()));
    // A rename purges everything below the old place.
    let (before, known) = (cf.tags().len(), app.purge_jobs());
    app.patch("/f", Auth::Admin, &json!({"id": "g"}));
    settle(&app, &cf, known);
    let tags = cf.tags()[before..].to_vec();
    assert!(tags.contains(&path_tag(&ContentPath::parse("/f").unwrap())), "{tags:?}");
    let root = app.get("", Auth::Admin).json();
    assert!(
        tags.contains(&format!("l-{}", uid(&root))),
        "the site root lists it: {tags:?}"
    );
    assert!(cf.files().contains(&format!("{}/f", app.site)) && cf.files().contains(&format!("{}/g", app.site)));
    assert!(
        cf.log.lock().unwrap().refused.iter().all(|(s, _)| *s == 429),
        "no call broke the API's rules"
    );
}

#[test]
fn a_burst_of_edits_is_a_few_calls_within_the_limits() {
    let cf = FakeCloudflare::start(0);
    let delay_ms = 400;
    let app = app_with_delay(&cf, delay_ms);
    for i in 0..40 {
        app.create("", json!({"@type": "Document", "id": format!("p{i}"), "title": "P"}));
    }
    let calls_before = settle(&app, &cf, 0);
    let known = app.purge_jobs();
    let started = Instant::now();
    for i in 0..40 {
        app.patch(
            &format!("/p{i}"),
            Auth::Admin,
            &json!({"description": format!("edit {i}")}),
        );
    }
    let burst = started.elapsed();
    let calls = settle(&app, &cf, known) - calls_before;
    // 40 page tags, 1 listing, `search`, 40 URLs: at least two tag calls and two URL calls.
    assert!(calls >= 4, "{calls}");
    // Each purge window makes at most four calls (two of tags, two of URLs),
    // and the burst spans as many windows as its length allows: bounded by
    // that, not by how fast this machine made the edits (unbatched, 40 edits
    // would be 80 calls or more).
    let windows = burst.as_millis() as usize / delay_ms as usize + 2;
    assert!(calls <= 4 * windows, "40 edits in {burst:?} took {calls} API calls");
    assert!(cf.log.lock().unwrap().refused.is_empty());
    let merged = app.get("/@jobs?type=cdn.purge&state=done", Auth::Admin).json();
    assert!(
        merged["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|j| j["result"]["merged_into"].is_number()),
        "waiting purges were merged into one run"
    );
}

#[test]
fn invalidate_is_for_administrators() {
    let cf = FakeCloudflare::start(0);
    let app = app_behind(&cf);
    app.add_user("editor", "editor-pw-1", &["Editor"]);
    app.create("", json!({"@type": "Folder", "id": "f", "title": "F"}));
    for who in [Auth::Anonymous, Auth::Basic("editor", "editor-pw-1")] {
        assert_eq!(app.post("/f/@invalidate", who, &json!({})).status, 401);
    }
    assert_eq!(
        app.post("/f/@invalidate", Auth::Admin, &json!({"scope": "all"})).status,
        400
    );
    let known = app.purge_jobs();
    let r = app.post("/f/@invalidate", Auth::Admin, &json!({"scope": "subtree"}));
    assert_eq!(r.status, 202);
    settle(&app, &cf, known);
    assert!(cf.tags().contains(&path_tag(&ContentPath::parse("/f").unwrap())));
    let r = app.post("/@invalidate", Auth::Admin, &json!({"scope": "site"}));
    assert_eq!(r.status, 202);
    cf.wait_full_purge();
}
