//! Background jobs through the API: the `@jobs` dashboard is for Site
//! Administrators and Managers only, retry and cancel act on the queue, and
//! scheduled publication changes what anonymous visitors get at the moment
//! an item's `effective` date arrives.

use std::time::{Duration, Instant};

use cairn_core::jobs::{NewJob, now_ms};
use serde_json::{Value, json};

use crate::helpers::{Auth, TestApp, ids, spawn_app};

/// Polls `@jobs` until `done(list)` holds, failing after ten seconds.
fn wait_jobs(app: &TestApp, query: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = app.get(&format!("/@jobs{query}"), Auth::Admin);
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        let v = r.json();
        if done(&v) {
            return v;
        }
        assert!(Instant::now() < deadline, "jobs never got there: {v}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn only_administrators_see_the_jobs() {
    let app = spawn_app();
    app.add_user("member", "member-pw-1", &["Member"]);
    app.add_user("editor", "editor-pw-1", &["Editor", "Reviewer"]);
    app.add_user("siteadmin", "siteadmin-pw-1", &["Site Administrator"]);
    app.site()
        .jobs
        .enqueue("plone", &[NewJob::new("test.nobody-runs-this", json!({"secret": "x"}))])
        .unwrap();
    let id = app.get("/@jobs?type=test.nobody-runs-this", Auth::Admin).json()["items"][0]["id"]
        .as_i64()
        .unwrap();
    for who in [
        Auth::Anonymous,
        Auth::Basic("member", "member-pw-1"),
        Auth::Basic("editor", "editor-pw-1"),
    ] {
        for (method, url) in [
            ("GET", "/@jobs".to_string()),
            ("GET", format!("/@jobs/{id}")),
            ("POST", format!("/@jobs/{id}/cancel")),
        ] {
            let r = app.send(method, &url, who, None, &[]);
            assert_eq!(r.status, 401, "{method} {url}");
            let body = String::from_utf8_lossy(&r.body);
            assert!(!body.contains("secret") && !body.contains("nobody-runs"), "{body}");
        }
    }
    let r = app.get("/@jobs", Auth::Basic("siteadmin", "siteadmin-pw-1"));
    assert_eq!(r.status, 200);
    let v = r.json();
    let queues: Vec<&str> = v["queues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["name"].as_str().unwrap())
        .collect();
    assert_eq!(queues, ["important", "normal", "low"]);
    assert!(v["queues"][1]["queued"].as_u64().unwrap() >= 1, "{v}");
    let schedules: Vec<&str> = v["schedules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(
        schedules.contains(&"outbox-prune") && schedules.contains(&"jobs-prune"),
        "{v}"
    );
    assert!(v["schedules"][0]["next_run"].is_string());
    // The dashboard is the site's, not a folder's.
    app.create("", json!({"@type": "Folder", "id": "f", "title": "F"}));
    assert_eq!(app.get("/f/@jobs", Auth::Admin).status, 404);
}

#[test]
fn a_queued_job_can_be_cancelled_and_retried() {
    let app = spawn_app();
    app.site()
        .jobs
        .enqueue("plone", &[NewJob::new("test.nobody-runs-this", json!({"n": 1}))])
        .unwrap();
    let job = &app
        .get("/@jobs?state=queued&type=test.nobody-runs-this", Auth::Admin)
        .json()["items"][0];
    let url = job["@id"].as_str().unwrap().to_string();
    assert_eq!(job["args"], json!({"n": 1}));
    let r = app.post(&format!("{url}/retry"), Auth::Admin, &json!({}));
    assert_eq!(r.status, 400, "a queued job is not retried");
    assert!(r.json()["message"].as_str().unwrap().contains("queued"));
    let r = app.post(&format!("{url}/cancel"), Auth::Admin, &json!({}));
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["state"], "cancelled");
    assert!(r.json()["finished"].is_string());
    assert_eq!(app.get("/@jobs?state=cancelled", Auth::Admin).json()["items_total"], 1);
    let r = app.post(&format!("{url}/retry"), Auth::Admin, &json!({}));
    assert_eq!(r.json()["state"], "queued");
    assert_eq!(r.json()["attempts"], 0);
    assert_eq!(app.get("/@jobs/999999", Auth::Admin).status, 404);
    assert_eq!(app.get("/@jobs?state=sleeping", Auth::Admin).status, 400);
    assert_eq!(app.get("/@jobs?queue=urgent", Auth::Admin).status, 400);
}

#[test]
fn a_page_appears_to_visitors_when_its_effective_date_arrives() {
    let app = spawn_app();
    app.create("", json!({"@type": "Folder", "id": "news", "title": "News"}));
    app.publish(&format!("{}/news", app.site));
    let effective = cairn_core::jobs::iso(now_ms() + 3000);
    app.create(
        "/news",
        json!({"@type": "Document", "id": "soon", "title": "Soon", "effective": effective}),
    );
    app.publish(&format!("{}/news/soon", app.site));
    // An index commit also renews kept answers (search results may change):
    // let it happen before the cache is looked at.
    app.wait_indexed();
    let listing = || app.get("/news", Auth::Anonymous);
    let before = listing();
    assert!(ids(&before.json()).is_empty());
    // The visitor's listing is now kept by the response cache.
    assert_eq!(listing().header("x-cairn-cache"), Some("hit"));
    // The publication date became a job on the important queue.
    let v = wait_jobs(&app, "?type=publication", |v| v["items_total"] == 1);
    assert_eq!(v["items"][0]["queue"], "important");
    assert_eq!(v["items"][0]["run_at"], effective);
    assert_eq!(v["queues"][0]["scheduled"], 1, "{v}");
    wait_jobs(&app, "?type=publication&state=done", |v| v["items_total"] == 1);
    // The job recorded a change: the kept listing is stale, the page is listed.
    let after = listing();
    assert_eq!(after.header("x-cairn-cache"), Some("miss"));
    assert_eq!(ids(&after.json()), ["soon"]);
}

#[test]
fn metrics_report_the_queues_and_what_the_workers_did() {
    let app = spawn_app();
    // The first authenticated request checks the password (slow on purpose):
    // let it pass before the clock starts.
    assert_eq!(app.get("", Auth::Admin).status, 200);
    let effective = cairn_core::jobs::iso(now_ms() + 1500);
    app.create(
        "",
        json!({"@type": "Document", "id": "d", "title": "D", "effective": effective}),
    );
    wait_jobs(&app, "?type=publication&state=done", |v| v["items_total"] == 1);
    assert_eq!(
        app.metric("cairn_jobs{site=\"plone\",queue=\"important\",state=\"done\"}"),
        1
    );
    assert_eq!(
        app.metric("cairn_job_attempts_total{type=\"publication\",outcome=\"done\"}"),
        1
    );
}

#[test]
fn dates_stored_without_their_jobs_are_planned_again() {
    let app = spawn_app();
    let site = app.site();
    let expires = cairn_core::jobs::iso(now_ms() + 3_600_000);
    app.create(
        "",
        json!({"@type": "Document", "id": "later", "title": "Later", "expires": expires}),
    );
    // As a database from before jobs existed: the date stays, the job is gone.
    let planned = wait_jobs(&app, "?type=publication", |v| v["items_total"] == 1);
    let id = planned["items"][0]["id"].as_i64().unwrap();
    site.jobs.cancel("plone", id, now_ms()).unwrap();
    site.jobs.prune_jobs(now_ms() + 1).unwrap();
    assert_eq!(app.get("/@jobs?type=publication", Auth::Admin).json()["items_total"], 0);
    assert_eq!(
        cairn_core::jobs::timers::backfill(&*site.store, &*site.jobs, "plone").unwrap(),
        1
    );
    // Twice is once.
    cairn_core::jobs::timers::backfill(&*site.store, &*site.jobs, "plone").unwrap();
    let v = app.get("/@jobs?type=publication&state=queued", Auth::Admin).json();
    assert_eq!(v["items_total"], 1, "{v}");
    assert_eq!(v["items"][0]["run_at"], expires);
    // The server's first start did it once (as a job; its record was pruned
    // above) and does not again.
    let deadline = Instant::now() + Duration::from_secs(10);
    while cairn_core::jobs::timers::needs_backfill(&*site.store, "plone").unwrap() {
        assert!(Instant::now() < deadline, "the start-up planning never ran");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        cairn_core::jobs::timers::backfill_once(&*site.store, &*site.jobs, "plone").unwrap(),
        0
    );
}
