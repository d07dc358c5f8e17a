//! A real Varnish (Debian's, with the xkey vmod) in front of cairn, with
//! the VCL in `deploy/varnish/cairn.vcl`: published pages are served from
//! its cache, an edit purges exactly what showed the page, unrelated pages
//! stay cached, private pages are never kept. `.ci/run` installs Varnish and
//! sets `CAIRN_REQUIRE_VARNISH=1`; elsewhere the test is skipped without it.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{Auth, Resp, spawn_app_with};

struct Varnishd {
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for Varnishd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn varnishd_binary() -> Option<&'static str> {
    ["/usr/sbin/varnishd", "/usr/bin/varnishd"]
        .into_iter()
        .find(|p| Path::new(p).exists())
}

/// Starts varnishd on `port` with cairn's VCL pointed at `backend_port`.
fn start_varnish(binary: &str, port: u16, backend_port: u16) -> Varnishd {
    let dir = tempfile::tempdir().unwrap();
    let vcl = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/varnish/cairn.vcl"))
        .unwrap()
        .replace(".port = \"8080\";", &format!(".port = \"{backend_port}\";"));
    let vcl_path = dir.path().join("cairn.vcl");
    std::fs::write(&vcl_path, vcl).unwrap();
    let child = Command::new(binary)
        .args(["-F", "-j", "none", "-s", "malloc,32m"])
        .arg("-n")
        .arg(dir.path().join("work"))
        .args(["-a", &format!("127.0.0.1:{port}")])
        .arg("-f")
        .arg(&vcl_path)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("varnishd starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "varnishd did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    Varnishd { child, _dir: dir }
}

#[test]
fn varnish_serves_from_cache_and_an_edit_purges_exactly_its_answers() {
    let Some(binary) = varnishd_binary() else {
        assert!(
            std::env::var("CAIRN_REQUIRE_VARNISH").is_err(),
            "CAIRN_REQUIRE_VARNISH is set but varnishd is not installed"
        );
        eprintln!("varnishd not installed: skipped");
        return;
    };
    let varnish_port = free_port();
    let app = spawn_app_with(|s| {
        s.caching.varnish = vec![format!("http://127.0.0.1:{varnish_port}")];
        s.caching.purge_delay_ms = 20;
    });
    let backend_port: u16 = app.root.rsplit(':').next().unwrap().parse().unwrap();
    let _varnish = start_varnish(binary, varnish_port, backend_port);
    let via =
        |path: &str| -> Resp { app.get(&format!("http://127.0.0.1:{varnish_port}/plone{path}"), Auth::Anonymous) };
    app.create("", json!({"@type": "Folder", "id": "f", "title": "F"}));
    app.create("/f", json!({"@type": "Document", "id": "a", "title": "A"}));
    app.create("/f", json!({"@type": "Document", "id": "b", "title": "B"}));
    app.create("/f", json!({"@type": "Document", "id": "c", "title": "C"}));
    app.create("", json!({"@type": "Document", "id": "private", "title": "P"}));
    for p in ["/f", "/f/a", "/f/b", "/f/c"] {
        app.publish(&format!("{}{p}", app.site));
    }
    app.wait_purged(0);
    for p in ["/f", "/f/a", "/f/b", "/f/c"] {
        assert_eq!(via(p).header("x-cache"), Some("MISS"), "{p}");
        let again = via(p);
        assert_eq!(again.status, 200);
        assert_eq!(again.header("x-cache"), Some("HIT"), "{p} is served from the cache");
        assert!(again.header("xkey").is_none(), "the tags stay inside Varnish");
    }
    for _ in 0..2 {
        let p = via("/private");
        assert_eq!(p.status, 401);
        assert_eq!(p.header("x-cache"), Some("MISS"), "a private page is never kept");
    }
    let known = app.purge_jobs();
    app.patch("/f/a", Auth::Admin, &json!({"description": "edited"}));
    app.wait_purged(known);
    let a = via("/f/a");
    assert_eq!(a.header("x-cache"), Some("MISS"), "the edited page was purged");
    assert_eq!(a.json()["description"], "edited");
    assert_eq!(
        via("/f").header("x-cache"),
        Some("MISS"),
        "the listing that shows it was purged"
    );
    for other in ["/f/b", "/f/c"] {
        assert_eq!(
            via(other).header("x-cache"),
            Some("HIT"),
            "{other} is unrelated and stays cached"
        );
    }
    // An administrator's purge of the whole site.
    let known = app.purge_jobs();
    assert_eq!(
        app.post("/@invalidate", Auth::Admin, &json!({"scope": "site"})).status,
        202
    );
    app.wait_purged(known);
    assert_eq!(via("/f/c").header("x-cache"), Some("MISS"));
}
