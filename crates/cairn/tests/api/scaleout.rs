//! Several nodes on one PostgreSQL database (scale-out mode), each a whole
//! server with its own caches: what one node writes the others serve once
//! its change notice arrives (bounded here by a deadline, not timed), and
//! find in the shared full-text index; users added on one log in on
//! another; a node with an embedded index of its own that joins after the
//! change feed was pruned builds its index from the database.

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
    // The shared full-text index took the change in (an author's search
    // waits for every change committed before it, whichever node indexes).
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
fn an_author_reads_a_write_made_on_another_node_on_the_very_next_request() {
    let Some(url) = shared_postgres() else { return };
    let (a, b) = (node(&url), node(&url));
    a.create("", json!({"@type": "Document", "id": "notiz", "title": "t0"}));
    for i in 1..=30 {
        // Node b holds the page in its caches ...
        assert_eq!(b.get("/notiz", Auth::Admin).status, 200);
        // ... when node a changes it; b's next answer to an author has it,
        // without waiting for the change notice.
        let title = format!("t{i}");
        assert_eq!(a.patch("/notiz", Auth::Admin, &json!({"title": title})).status, 204);
        assert_eq!(b.get("/notiz", Auth::Admin).json()["title"], title, "round {i}");
    }
}

#[test]
fn a_node_back_after_the_change_feed_was_pruned_past_it_rebuilds_its_index() {
    let Some(url) = shared_postgres() else { return };
    let data = tempfile::tempdir().unwrap();
    let folder = data.path().to_path_buf();
    // Each node with an embedded index of its own.
    let at = |folder: &std::path::Path| {
        let url = url.clone();
        spawn_app_with(move |s| {
            s.data = folder.to_path_buf();
            s.database_url = Some(url);
            s.search.engine = cairn::settings::SearchEngine::Embedded;
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

/// `cairn serve` as a separate process on `url` (its own data folder).
struct Process {
    child: std::process::Child,
    base: String,
    _data: tempfile::TempDir,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn process(url: &str) -> Process {
    let data = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // The site the in-process nodes serve (`plone`, the classic profile).
    let config = data.path().join("cairn.toml");
    std::fs::write(
        &config,
        "[[sites]]\nid = \"plone\"\ntitle = \"Plone site\"\nprofile = \"classic\"\n",
    )
    .unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_cairn"))
        .arg("--config")
        .arg(&config)
        .args(["serve", "--no-sample", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--data")
        .arg(data.path())
        .env("CAIRN_DATABASE_URL", url)
        .env("CAIRN_ADMIN_PASSWORD", crate::helpers::ADMIN_PASSWORD)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("cairn starts");
    let p = Process {
        child,
        base: format!("http://127.0.0.1:{port}/plone"),
        _data: data,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while ureq::get(format!("http://127.0.0.1:{port}/healthz")).call().is_err() {
        assert!(Instant::now() < deadline, "cairn did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    p
}

#[test]
fn a_node_killed_mid_write_loses_nothing_it_acknowledged_and_leaves_nothing_half_written() {
    let Some(url) = shared_postgres() else { return };
    let survivor = node(&url);
    let mut doomed = process(&url);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    let auth = {
        use base64::Engine;
        let pair = format!("admin:{}", crate::helpers::ADMIN_PASSWORD);
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))
    };
    // Four writers create pages on the doomed node until it dies.
    let acknowledged = std::sync::Mutex::new(Vec::new());
    let attempted = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for w in 0..4 {
            let (agent, auth, base) = (&agent, &auth, doomed.base.clone());
            let (acknowledged, attempted) = (&acknowledged, &attempted);
            s.spawn(move || {
                for i in 0.. {
                    let id = format!("w{w}-{i}");
                    attempted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let body = json!({"@type": "Document", "id": id, "title": format!("Seite {id}"),
                                      "subjects": ["Sturm"], "text": {"data": "<p>Hagel</p>", "content-type": "text/html"}});
                    match agent
                        .post(&base)
                        .header("Authorization", auth)
                        .header("Accept", "application/json")
                        .send_json(&body)
                    {
                        Ok(r) if r.status().as_u16() == 201 => acknowledged.lock().unwrap().push(id),
                        // Refused or cut off: the node is gone.
                        _ => return,
                    }
                }
            });
        }
        // Let them write, then kill the node without warning.
        eventually("the writers get going", || acknowledged.lock().unwrap().len() >= 40);
        doomed.child.kill().unwrap();
        doomed.child.wait().unwrap();
    });
    let acknowledged = acknowledged.into_inner().unwrap();
    let attempted = attempted.into_inner();
    assert!(attempted >= acknowledged.len() + 4, "each writer was cut off mid-write");
    // Everything acknowledged is there, whole, on the surviving node.
    for id in &acknowledged {
        let page = survivor.get(&format!("/{id}"), Auth::Admin).json();
        assert_eq!(page["title"], format!("Seite {id}"), "{id}");
        assert_eq!(page["subjects"], json!(["Sturm"]), "{id}");
    }
    // Nothing is half there: every page the catalog finds opens, and the
    // keyword index, the listing and the catalog agree on how many there are.
    let found = survivor
        .get(
            "/@search?portal_type=Document&b_size=1000&metadata_fields=subjects",
            Auth::Admin,
        )
        .json();
    let total = found["items_total"].as_u64().unwrap() as usize;
    assert!(
        total >= acknowledged.len() && total <= attempted,
        "{total} pages for {} acknowledged and {attempted} attempted",
        acknowledged.len()
    );
    for item in found["items"].as_array().unwrap() {
        let path = item["@id"].as_str().unwrap().replace(&survivor.site, "");
        assert_eq!(survivor.get(&path, Auth::Admin).status, 200, "{path}");
    }
    let tagged = survivor.get("/@search?Subject=Sturm&b_size=1", Auth::Admin).json();
    assert_eq!(tagged["items_total"].as_u64().unwrap() as usize, total);
    let listed = survivor.get("/?b_size=1", Auth::Admin).json();
    assert_eq!(listed["items_total"].as_u64().unwrap() as usize, total);
    // And the survivor's full-text index holds them all.
    let text = survivor
        .get("/@search?SearchableText=Hagel&b_size=1", Auth::Admin)
        .json();
    assert_eq!(text["items_total"].as_u64().unwrap() as usize, total);
}
