//! Crash safety of the change pipeline with the real binary: `cairn serve`
//! is killed (SIGKILL) while purges wait in the queue; after a restart on
//! the same data every change is purged and searchable, each once in effect.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::fake_cloudflare::{FakeCloudflare, TOKEN, ZONE};

const PASSWORD: &str = "crash-test-pw-1";

struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(data: &std::path::Path, cf: &FakeCloudflare, purge_delay_ms: u64) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(["serve", "--no-sample", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--data")
        .arg(data)
        .env("CAIRN_ADMIN_PASSWORD", PASSWORD)
        .env("CAIRN_CACHING__PURGE_DELAY_MS", purge_delay_ms.to_string())
        .env("CAIRN_CACHING__CLOUDFLARE__ZONE_ID", ZONE)
        .env("CAIRN_CACHING__CLOUDFLARE__API_TOKEN", TOKEN)
        .env("CAIRN_CACHING__CLOUDFLARE__API_URL", &cf.api)
        .env("RUST_LOG", "warn")
        // The API suite's PostgreSQL run: the same schema for the restart.
        .envs(crate::helpers::postgres_url_for(data).map(|u| ("CAIRN_DATABASE_URL", u)))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("cairn starts");
    let server = Server {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while ureq::get(&format!("{}/healthz", server.url)).call().is_err() {
        assert!(Instant::now() < deadline, "cairn did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).build().into()
}

fn auth() -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("admin:{PASSWORD}"))
    )
}

fn create(s: &Server, id: &str) -> String {
    let mut r = agent()
        .post(&format!("{}/Plone", s.url))
        .header("Authorization", &auth())
        .header("Accept", "application/json")
        .send_json(json!({"@type": "Document", "id": id, "title": "Hagelschlag report"}))
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let v: Value = r.body_mut().read_json().unwrap();
    v["UID"].as_str().unwrap().to_owned()
}

fn search_total(s: &Server) -> u64 {
    let mut r = agent()
        .get(&format!("{}/Plone/@search?SearchableText=Hagelschlag", s.url))
        .header("Authorization", &auth())
        .header("Accept", "application/json")
        .call()
        .unwrap();
    let v: Value = r.body_mut().read_json().unwrap();
    v["items_total"].as_u64().unwrap_or(0)
}

#[test]
fn killed_with_purges_pending_the_restart_purges_and_indexes_every_change() {
    let cf = FakeCloudflare::start(0);
    let dir = tempfile::tempdir().unwrap();
    let mut first = start(dir.path(), &cf, 60_000);
    let uids: Vec<String> = (0..5).map(|i| create(&first, &format!("report-{i}"))).collect();
    // Purges are due in a minute: none has run when the server dies.
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    drop(first);
    assert!(
        uids.iter().all(|u| !cf.tags().contains(u)),
        "no purge ran before the kill"
    );
    let second = start(dir.path(), &cf, 0);
    // The waiting purge keeps its time; an administrator's purge runs now
    // and takes the waiting ones over.
    let mut r = agent()
        .post(&format!("{}/Plone/@invalidate", second.url))
        .header("Authorization", &auth())
        .header("Accept", "application/json")
        .send_json(json!({"scope": "item"}))
        .unwrap();
    assert_eq!(r.status().as_u16(), 202, "{}", r.body_mut().read_to_string().unwrap());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let tags = cf.tags();
        let missing: Vec<&String> = uids.iter().filter(|u| !tags.contains(u)).collect();
        if missing.is_empty() && search_total(&second) == 5 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "after the restart: not purged {missing:?}, searchable {}",
            search_total(&second)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(cf.log.lock().unwrap().refused.is_empty());
}
