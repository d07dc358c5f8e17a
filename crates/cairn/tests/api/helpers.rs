//! The test harness: the real server on port 0 with a fresh database, and a
//! small HTTP client that never treats 4xx/5xx as transport errors.

use std::time::Duration;

use base64::Engine;
use cairn::Settings;
use cairn::settings::SiteSettings;
use serde_json::Value;

/// A running server and what is needed to talk to it.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`
    pub root: String,
    /// URL of the site: `<root>/plone`.
    pub site: String,
    agent: ureq::Agent,
    state: std::sync::Arc<cairn_api::AppState>,
    /// Stopped before the runtime and the data folder go.
    _indexing: cairn::indexing::Indexing,
    _jobs: cairn::Jobs,
    _rt: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

/// A response as the tests look at it.
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub const ADMIN_PASSWORD: &str = "secret";

/// Starts cairn with one classic-profile site `plone` and no sample content.
pub fn spawn_app() -> TestApp {
    spawn_app_with(|_| {})
}

/// Starts cairn after letting the test adjust the settings.
pub fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let mut settings = Settings {
        data: dir.path().to_path_buf(),
        admin_password: Some(ADMIN_PASSWORD.into()),
        sample_content: false,
        ..Settings::default()
    };
    settings.sites = vec![SiteSettings {
        id: "plone".into(),
        title: "Plone site".into(),
        public_url: None,
        jwt_secret: None,
        jwt_previous_secrets: Vec::new(),
        default_language: "en".into(),
        available_languages: vec!["en".into(), "de".into()],
        profile: "classic".into(),
        multilingual: false,
    }];
    adjust(&mut settings);
    settings.database_url = settings
        .database_url
        .take()
        .or_else(|| postgres_url_for(&settings.data));
    if settings.jobs.redis_url.is_none()
        && let Some((url, prefix)) = redis_queue_for(&settings.data)
    {
        settings.jobs.redis_url = Some(url);
        settings.jobs.redis_prefix = prefix;
    }
    let built = cairn::build(&settings, &addr).expect("server builds");
    let state = built.state.clone();
    rt.spawn(cairn_api::serve(listener, state.clone(), std::future::pending()));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let root = format!("http://{addr}");
    TestApp {
        site: format!("{root}/plone"),
        root,
        agent,
        state,
        _indexing: built.indexing,
        _jobs: built.jobs,
        _rt: rt,
        _dir: dir,
    }
}

/// Whether the API suite runs on PostgreSQL: `CAIRN_API_ON_POSTGRES=1`
/// with `CAIRN_TEST_POSTGRES` naming the database.
pub fn on_postgres() -> bool {
    std::env::var("CAIRN_API_ON_POSTGRES").is_ok_and(|v| v == "1")
}

/// With `CAIRN_API_JOBS_ON_REDIS=1`, the job queue of the data folder
/// `data` on the Redis server `CAIRN_TEST_REDIS` names: its URL and a key
/// prefix named after the folder, so a server restarted on the same folder
/// finds its queue. `None`: the database's own queue.
pub fn redis_queue_for(data: &std::path::Path) -> Option<(String, String)> {
    use std::hash::{Hash, Hasher};
    if !std::env::var("CAIRN_API_JOBS_ON_REDIS").is_ok_and(|v| v == "1") {
        return None;
    }
    let url = std::env::var("CAIRN_TEST_REDIS").expect("CAIRN_API_JOBS_ON_REDIS needs CAIRN_TEST_REDIS");
    let mut h = std::collections::hash_map::DefaultHasher::new();
    data.hash(&mut h);
    Some((url, format!("api{:016x}:", h.finish())))
}

/// On PostgreSQL, the database of the data folder `data`: a schema of the
/// test database named after the folder, so a server restarted on the same
/// folder finds what it wrote. `None` on SQLite.
pub fn postgres_url_for(data: &std::path::Path) -> Option<String> {
    use std::hash::{Hash, Hasher};
    if !on_postgres() {
        return None;
    }
    let mut h = std::collections::hash_map::DefaultHasher::new();
    data.hash(&mut h);
    Some(schema_url(&format!("api_{:016x}", h.finish())))
}

/// A fresh schema of the test database for nodes that share it (the
/// scale-out tests, in every run); `None` (the test skips, loudly) where no
/// PostgreSQL is configured and CI does not require one.
pub fn shared_postgres() -> Option<String> {
    if std::env::var("CAIRN_TEST_POSTGRES").is_err() {
        let required = std::env::var("CAIRN_REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "CAIRN_TEST_POSTGRES is not set: CI must run the PostgreSQL tests"
        );
        eprintln!("CAIRN_TEST_POSTGRES is not set: scale-out tests skipped");
        return None;
    }
    Some(schema_url(&format!("nodes_{:016x}", rand::random::<u64>())))
}

/// The test database's URL with `schema` (created if missing) as its search path.
fn schema_url(schema: &str) -> String {
    let url = std::env::var("CAIRN_TEST_POSTGRES").expect("CAIRN_TEST_POSTGRES names the test database");
    let config: postgres::Config = url.parse().expect("CAIRN_TEST_POSTGRES is a postgres:// URL");
    let mut admin = config.connect(postgres::NoTls).expect("the test database answers");
    admin
        .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
        .unwrap();
    let joiner = if url.contains('?') { '&' } else { '?' };
    format!("{url}{joiner}options=-c%20search_path%3D{schema}")
}

/// Credentials for a request.
#[derive(Clone, Copy)]
pub enum Auth<'a> {
    Anonymous,
    Admin,
    Basic(&'a str, &'a str),
    Bearer(&'a str),
}

impl TestApp {
    /// Adds a user with global roles to the site (until `@users` exists).
    pub fn add_user(&self, id: &str, password: &str, roles: &[&str]) {
        let site = &self.state.sites["plone"];
        let user = cairn_core::ports::UserRecord {
            id: id.into(),
            password_hash: cairn_core::auth::hash_password(password).unwrap(),
            fullname: id.into(),
            email: String::new(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            props: Default::default(),
        };
        site.principals.put_user(&site.id, &user).unwrap();
    }

    /// Settings naming this app's data folder and database, as a command
    /// of the CLI run beside the server would have them.
    pub fn settings(&self) -> Settings {
        let mut s = Settings {
            data: self._dir.path().to_path_buf(),
            sample_content: false,
            ..Settings::default()
        };
        s.database_url = postgres_url_for(&s.data);
        s.sites = vec![serde_json::from_value(serde_json::json!({"id": "plone"})).expect("site settings")];
        s
    }

    /// The site as the server holds it, for setting up what the API cannot
    /// (data written by an older cairn).
    pub fn site(&self) -> std::sync::Arc<cairn_core::Site> {
        self.state.sites["plone"].clone()
    }

    /// Replaces the stored bytes of a blob on disk, as if they had been
    /// stored before uploads were checked (or were damaged since).
    pub fn replace_blob(&self, original: &[u8], replacement: &[u8]) {
        let site = self.site();
        let key = site.blobs.put(original).unwrap().key;
        let path = self._dir.path().join("blobs").join(&key[..2]).join(&key);
        assert!(path.exists(), "no blob at {}", path.display());
        std::fs::write(path, replacement).unwrap();
    }

    /// Every file in the blob folder (originals, scales, partial writes), by
    /// path below it.
    pub fn blob_files(&self) -> std::collections::BTreeSet<String> {
        fn walk(dir: &std::path::Path, root: &std::path::Path, out: &mut std::collections::BTreeSet<String>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(&p, root, out);
                } else {
                    out.insert(p.strip_prefix(root).unwrap().display().to_string());
                }
            }
        }
        let root = self._dir.path().join("blobs");
        let mut out = Default::default();
        // A site whose blobs live elsewhere (S3) has no such folder.
        if root.is_dir() {
            walk(&root, &root, &mut out);
        }
        out
    }

    /// Makes every blob file look `age` old (the sweep's grace period passing).
    pub fn age_blobs(&self, age: Duration) {
        let then = std::time::SystemTime::now() - age;
        for f in self.blob_files() {
            let path = self._dir.path().join("blobs").join(f);
            std::fs::File::options()
                .write(true)
                .open(path)
                .unwrap()
                .set_modified(then)
                .unwrap();
        }
    }

    /// Runs the sweep of unreferenced blobs as the server runs it.
    pub fn sweep_blobs(&self) -> cairn_core::blobs::SweepReport {
        let site = self.site();
        cairn_core::blobs::sweep(&*site.store, &site.uploads, cairn_core::blobs::DEFAULT_GRACE).unwrap()
    }

    /// A counter from `/metrics`, e.g. `cairn_image_scales_total{site="plone",outcome="computed"}`.
    pub fn metric(&self, series: &str) -> u64 {
        let metrics = self.get(&format!("{}/metrics", self.root), Auth::Anonymous);
        let text = String::from_utf8_lossy(&metrics.body);
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {series} in {text}"))
    }

    /// Sends `method url` with an optional JSON body and extra headers.
    pub fn send(&self, method: &str, url: &str, auth: Auth<'_>, body: Option<&[u8]>, headers: &[(&str, &str)]) -> Resp {
        let url = if url.starts_with("http") {
            url.to_string()
        } else {
            format!("{}{url}", self.site)
        };
        let mut req = ureq::http::Request::builder()
            .method(method)
            .uri(&url)
            .header("Accept", "application/json");
        let basic = |u: &str, p: &str| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
            )
        };
        req = match auth {
            Auth::Anonymous => req,
            Auth::Admin => req.header("Authorization", basic("admin", ADMIN_PASSWORD)),
            Auth::Basic(u, p) => req.header("Authorization", basic(u, p)),
            Auth::Bearer(t) => req.header("Authorization", format!("Bearer {t}")),
        };
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if body.is_some() {
            req = req.header("Content-Type", "application/json");
        }
        let result = match body {
            Some(b) => self.agent.run(req.body(b.to_vec()).unwrap()),
            None => self.agent.run(req.body(()).unwrap()),
        };
        let mut resp = result.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        let body = resp
            .body_mut()
            .with_config()
            .limit(256 * 1024 * 1024)
            .read_to_vec()
            .unwrap_or_default();
        Resp { status, headers, body }
    }

    pub fn get(&self, url: &str, auth: Auth<'_>) -> Resp {
        self.send("GET", url, auth, None, &[])
    }

    pub fn post(&self, url: &str, auth: Auth<'_>, body: &Value) -> Resp {
        self.send("POST", url, auth, Some(body.to_string().as_bytes()), &[])
    }

    pub fn patch(&self, url: &str, auth: Auth<'_>, body: &Value) -> Resp {
        self.send("PATCH", url, auth, Some(body.to_string().as_bytes()), &[])
    }

    pub fn delete(&self, url: &str, auth: Auth<'_>) -> Resp {
        self.send("DELETE", url, auth, None, &[])
    }

    /// Creates content as admin and returns the new object's JSON.
    pub fn create(&self, container: &str, body: Value) -> Value {
        let r = self.post(container, Auth::Admin, &body);
        assert_eq!(r.status, 201, "create failed: {}", String::from_utf8_lossy(&r.body));
        r.json()
    }

    /// Waits until the full-text index holds every change made so far
    /// (`/metrics` reports no lag), failing after ten seconds.
    pub fn wait_indexed(&self) {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let metrics = self.get(&format!("{}/metrics", self.root), Auth::Anonymous);
            let text = String::from_utf8_lossy(&metrics.body);
            if text.contains("cairn_search_lag_changes{site=\"plone\"} 0\n") {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the index did not catch up: {text}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Purge jobs so far (of the HTTP caches).
    pub fn purge_jobs(&self) -> u64 {
        self.get("/@jobs?type=cdn.purge", Auth::Admin).json()["items_total"]
            .as_u64()
            .unwrap()
    }

    /// Waits until every change so far has its purge job, a purge job after
    /// the first `known` ran, none is waiting or running, and none died;
    /// fails after fifteen seconds.
    pub fn wait_purged(&self, known: u64) {
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        loop {
            // Every change so far has been turned into purges (a change's
            // purge job is derived within a tick of its commit). Asked
            // before the jobs are listed: the jobs derived by then are in
            // the list, none slips in between the two questions.
            let site = self.site();
            let derived =
                site.jobs.consumer_position("plone", "purge").unwrap() >= site.store.outbox_head("plone").unwrap();
            let v = self.get("/@jobs?type=cdn.purge", Auth::Admin).json();
            let busy = v["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|j| j["state"] == "queued" || j["state"] == "running");
            if derived && !busy && v["items_total"].as_u64().unwrap() > known {
                let dead = self.get("/@jobs?type=cdn.purge&state=dead", Auth::Admin).json();
                assert_eq!(dead["items_total"], 0, "{dead}");
                return;
            }
            assert!(std::time::Instant::now() < deadline, "the purge did not run: {v}");
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Publishes an object as admin.
    pub fn publish(&self, url: &str) {
        let r = self.post(&format!("{url}/@workflow/publish"), Auth::Admin, &serde_json::json!({}));
        assert_eq!(r.status, 200, "publish failed: {}", String::from_utf8_lossy(&r.body));
    }
}

/// The ids (last path segments) of the `items` of a listing, in order.
pub fn ids(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {v}"))
        .iter()
        .map(|i| i["@id"].as_str().unwrap().rsplit('/').next().unwrap().to_string())
        .collect()
}
