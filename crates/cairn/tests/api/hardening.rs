//! What a penetration test found, one class per test: inputs that crashed
//! or overloaded the server, and values that must never be stored.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{Auth, TestApp, spawn_app, spawn_app_with};

const PREFIX: &str = "plone.app.querystring.operation.";

fn text_criteria(n: usize) -> Value {
    let list: Vec<Value> = (0..n)
        .map(|i| json!({"i": "SearchableText", "o": format!("{PREFIX}string.contains"), "v": format!("wort{i}")}))
        .collect();
    json!({ "query": list })
}

fn healthy(app: &TestApp) {
    let r = app.get(&format!("{}/healthz", app.root), Auth::Anonymous);
    assert_eq!(r.status, 200, "the server must still answer");
}

#[test]
fn a_listing_with_hundreds_of_text_criteria_is_refused_not_a_crash() {
    let app = spawn_app();
    let url = format!("{}/@querystring-search", app.site);
    for n in [40, 240] {
        let r = app.post(&url, Auth::Anonymous, &text_criteria(n));
        assert_eq!(r.status, 400, "{n} criteria: {}", String::from_utf8_lossy(&r.body));
        healthy(&app);
    }
    assert!(
        app.post(&url, Auth::Anonymous, &text_criteria(300)).json()["message"]
            .as_str()
            .unwrap()
            .contains("at most 64 criteria")
    );
    // A few criteria still combine into one search.
    assert_eq!(app.post(&url, Auth::Anonymous, &text_criteria(3)).status, 200);
    // A Collection can't store what would crash every later GET.
    let r = app.post(
        "",
        Auth::Admin,
        &json!({"@type": "Collection", "title": "Bombe", "query": text_criteria(240)["query"]}),
    );
    assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(&r.body));
    healthy(&app);
}

#[test]
fn oversized_structured_queries_are_a_400_that_says_why() {
    let app = spawn_app();
    let paths: String = (0..500).map(|i| format!("path=%2Fp{i}&")).collect();
    let r = app.get(&format!("/@search?{paths}"), Auth::Anonymous);
    assert_eq!(r.status, 400);
    assert!(r.json()["message"].as_str().unwrap().contains("at most 32 paths"));
    let sorts: String = (0..100).map(|_| "sort_on=created&").collect();
    let r = app.get(&format!("/@search?{sorts}"), Auth::Anonymous);
    assert_eq!(r.status, 400);
    assert!(r.json()["message"].as_str().unwrap().contains("sort keys"));
    let many: Vec<String> = (0..1000).map(|i| format!("/p{i}")).collect();
    let body = json!({"query": [{"i": "path", "o": format!("{PREFIX}string.absolutePath"), "v": many}]});
    let r = app.post("/@querystring-search", Auth::Anonymous, &body);
    assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(&r.body));
    let uids: Vec<String> = (0..5000).map(|i| format!("{i:032x}")).collect();
    let body = json!({"query": [{"i": "UID", "o": format!("{PREFIX}selection.any"), "v": uids}]});
    assert_eq!(app.post("/@querystring-search", Auth::Anonymous, &body).status, 400);
    healthy(&app);
}

#[test]
fn urls_longer_than_the_limit_get_a_414_with_plones_error_body() {
    let app = spawn_app();
    let r = app.get(
        &format!("/@search?SearchableText={}", "a".repeat(20_000)),
        Auth::Anonymous,
    );
    assert_eq!(r.status, 414);
    assert_eq!(r.json()["type"], "URITooLong");
}

/// Sends only the head of a request and returns the status line of the answer.
fn head_only(app: &TestApp, head: &str) -> String {
    let addr = app.root.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(head.as_bytes()).unwrap();
    let mut buf = [0u8; 4096];
    let n = s.read(&mut buf).unwrap_or(0);
    String::from_utf8_lossy(&buf[..n])
        .lines()
        .next()
        .unwrap_or("")
        .to_string()
}

#[test]
fn a_large_body_is_refused_before_it_is_read_unless_the_sender_may_write_there() {
    let app = spawn_app();
    app.add_user("member", "pw", &["Member"]);
    let big = 3 * 1024 * 1024;
    // The answer comes although not one byte of the declared body was sent.
    let anon = |path: &str, method: &str| {
        head_only(
            &app,
            &format!(
                "{method} /plone{path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {big}\r\n\r\n"
            ),
        )
    };
    assert!(anon("/@querystring-search", "POST").contains(" 413 "));
    assert!(anon("", "POST").contains(" 401 "));
    assert!(anon("/@login", "POST").contains(" 413 "));
    let member = format!(
        "POST /plone HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {}\r\nContent-Type: application/json\r\nContent-Length: {big}\r\n\r\n",
        base64_of("member:pw")
    );
    assert!(
        head_only(&app, &member).contains(" 403 "),
        "a Member may not add at the root"
    );
    // Someone who may add there uploads as before.
    let data = base64_of(&"x".repeat(big));
    let r = app.post(
        "",
        Auth::Admin,
        &json!({"@type": "File", "title": "Gross", "file": {"data": data, "encoding": "base64", "filename": "g.txt", "content-type": "text/plain"}}),
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
}

fn base64_of(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[test]
fn slow_and_idle_clients_are_disconnected_and_connections_are_capped() {
    let app = spawn_app_with(|s| {
        s.limits.header_timeout_secs = 1;
        s.limits.max_connections = 2;
    });
    let addr = app.root.trim_start_matches("http://").to_string();
    // Reads until the server closes (true) or the time is up (false).
    let closed_within = |mut s: TcpStream, secs: u64| {
        s.set_read_timeout(Some(Duration::from_secs(secs))).unwrap();
        let mut buf = [0u8; 256];
        loop {
            match s.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e) => return e.kind() == std::io::ErrorKind::ConnectionReset,
            }
        }
    };
    // Half a request: no more than the header timeout.
    let mut half = TcpStream::connect(&addr).unwrap();
    // (Let the first connection be accepted before the second.)
    half.write_all(b"GET /plone HTTP/1.1\r\nHost: x\r\n").unwrap();
    let idle = TcpStream::connect(&addr).unwrap();
    // Both slots are taken: a third client waits in the backlog, unanswered.
    let mut third = TcpStream::connect(&addr).unwrap();
    third.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
    third.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut buf = [0u8; 256];
    assert!(
        third.read(&mut buf).is_err(),
        "no answer while the connections are all taken"
    );
    assert!(closed_within(half, 5), "half a request is cut off");
    assert!(closed_within(idle, 5), "an idle connection is closed");
    // Their slots free, the waiting client is served.
    third.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let n = third.read(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
}

#[test]
fn eight_writers_creating_items_with_one_title_all_succeed_with_distinct_ids() {
    let app = spawn_app();
    let ids = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                for _ in 0..25 {
                    let r = app.post(
                        "",
                        Auth::Admin,
                        &json!({"@type": "Document", "title": "Gleicher Titel"}),
                    );
                    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
                    ids.lock().unwrap().push(r.json()["id"].as_str().unwrap().to_string());
                }
            });
        }
    });
    let mut ids = ids.into_inner().unwrap();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 200);
}

#[test]
fn script_links_and_control_characters_are_refused_and_ids_are_transliterated() {
    // The volto profile gives pages their blocks.
    let app = spawn_app_with(|s| s.sites[0].profile = "volto".into());
    let refused = [
        json!({"@type": "Link", "title": "L", "remoteUrl": "javascript:alert(document.cookie)"}),
        json!({"@type": "Link", "title": "L", "remoteUrl": " data:text/html,<script>x</script>"}),
        json!({"@type": "Document", "title": "Nul\u{0}Titel"}),
        json!({"@type": "Document", "title": "Esc\u{1b}[31m"}),
        json!({"@type": "Document", "title": "D", "description": "bell\u{7}"}),
    ];
    for body in refused {
        let r = app.post("", Auth::Admin, &body);
        assert_eq!(r.status, 400, "{body}: {}", String::from_utf8_lossy(&r.body));
    }
    let link = |url: &str| json!({"@type": "Document", "title": "S", "blocks": {"a": {"@type": "slate", "value": [{"type": "p", "children": [{"type": "link", "data": {"url": url}, "children": [{"text": "x"}]}]}]}}, "blocks_layout": {"items": ["a"]}});
    assert_eq!(app.post("", Auth::Admin, &link("JavaScript:alert(1)")).status, 400);
    let image = json!({"@type": "Document", "title": "I", "blocks": {"i": {"@type": "image", "url": "data:image/svg+xml,<svg onload=alert(1)>"}}, "blocks_layout": {"items": ["i"]}});
    assert_eq!(app.post("", Auth::Admin, &image).status, 400);
    assert_eq!(app.post("", Auth::Admin, &link("https://www.example.ch")).status, 201);
    assert_eq!(
        app.create("", json!({"@type": "Document", "title": "Новости"}))["id"],
        "novosti"
    );
    assert_eq!(
        app.create(
            "",
            json!({"@type": "Document", "title": "Øresund, Łódź, Čapek und Gebühren"})
        )["id"],
        "oresund-lodz-capek-und-gebuehren"
    );
}

#[test]
fn old_versions_and_the_history_need_their_own_permission() {
    let app = spawn_app();
    app.add_user("reader", "pw", &["Member"]);
    app.create("", json!({"@type": "Document", "id": "d", "title": "Erste Fassung"}));
    let url = format!("{}/d", app.site);
    assert_eq!(
        app.patch(&url, Auth::Admin, &json!({"title": "Zweite Fassung"})).status,
        204
    );
    app.publish(&url);
    for path in ["/@history", "/@history/1"] {
        let anon = app.get(&format!("{url}{path}"), Auth::Anonymous);
        assert_eq!(anon.status, 401, "{path}");
        assert!(!String::from_utf8_lossy(&anon.body).contains("Erste Fassung"));
        assert_eq!(
            app.get(&format!("{url}{path}"), Auth::Basic("reader", "pw")).status,
            403,
            "{path}"
        );
        assert_eq!(app.get(&format!("{url}{path}"), Auth::Admin).status, 200, "{path}");
    }
}

#[test]
fn content_nests_at_most_forty_levels_and_deep_trees_serialize() {
    let app = spawn_app();
    let mut path = String::new();
    for level in 0..40 {
        app.create(
            &path,
            json!({"@type": "Folder", "id": "f", "title": format!("Ebene {level}")}),
        );
        path.push_str("/f");
    }
    let r = app.post(
        &path,
        Auth::Admin,
        &json!({"@type": "Folder", "id": "f", "title": "zu tief"}),
    );
    assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(&r.body));
    assert!(r.json()["message"].as_str().unwrap().contains("at most 40 levels"));
    // Moving the chain under itself one level deeper can't exceed it either.
    app.create("", json!({"@type": "Folder", "id": "g", "title": "g"}));
    let r = app.post("/g/@move", Auth::Admin, &json!({"source": [format!("{}/f", app.site)]}));
    assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(&r.body));
    let nav = app.get(
        &format!("{path}?expand=contextnavigation&expand.contextnavigation.bottomLevel=1000000"),
        Auth::Admin,
    );
    assert_eq!(nav.status, 200);
}

#[test]
fn editing_the_creators_never_makes_an_editor_the_owner() {
    let app = spawn_app();
    app.add_user("editor", "pw", &["Member"]);
    app.add_user("other", "pw", &["Member"]);
    app.create("", json!({"@type": "Folder", "id": "f", "title": "F"}));
    // As stored before ownership was kept apart from the byline.
    let site = app.site();
    let path = cairn_model::ContentPath::parse("/f").unwrap();
    let mut legacy = site.store.by_path(&site.id, &path).unwrap().unwrap();
    assert!(legacy.fields.remove("_owner").is_some());
    let expected = legacy.version;
    let op = cairn_core::ports::WriteOp::Update {
        content: Box::new(legacy),
        expected,
    };
    site.store
        .write(
            &site.id,
            cairn_core::ports::WriteBatch {
                ops: vec![op],
                events: vec![],
                ..Default::default()
            },
        )
        .unwrap();
    let share = |who: &str, role: &str| json!({"entries": [{"id": who, "type": "user", "roles": {role: true}}]});
    assert_eq!(
        app.post("/f/@sharing", Auth::Admin, &share("editor", "Editor")).status,
        204
    );
    let editor = Auth::Basic("editor", "pw");
    // Contributor may be delegated by an Owner, not by an Editor.
    assert_eq!(
        app.post("/f/@sharing", editor, &share("other", "Contributor")).status,
        403
    );
    assert_eq!(app.patch("/f", editor, &json!({"creators": ["editor"]})).status, 204);
    assert_eq!(app.get("/f", Auth::Admin).json()["creators"], json!(["editor"]));
    assert_eq!(
        app.post("/f/@sharing", editor, &share("other", "Contributor")).status,
        403,
        "the byline changed, the owner did not"
    );
}
