//! A local stand-in for Cloudflare's cache purge API (v4), built from its
//! published documentation, since the real one cannot be reached from
//! tests: `POST /client/v4/zones/{zone_id}/purge_cache` with a Bearer API
//! token and a JSON body holding exactly one of `tags` or `files` (1 to 30
//! entries) or `"purge_everything": true`. Anything else is refused the way
//! Cloudflare refuses it (403 for a bad token, 400 for a bad body, in its
//! `{"success": false, "errors": [...]}` envelope); the first calls can be
//! answered `429 Too Many Requests` to exercise the client's retries.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

pub const ZONE: &str = "023e105f4ecef8ad9ca31a8372d0c353";
pub const TOKEN: &str = "cf-test-token-Y5H";
/// Cloudflare's documented limit of tags or URLs per call.
const PER_CALL: usize = 30;

/// What the fake accepted and refused.
#[derive(Default)]
pub struct Log {
    /// Accepted purge bodies, in order.
    pub purges: Vec<Value>,
    /// Refused calls: (status, body sent).
    pub refused: Vec<(u16, String)>,
}

pub struct FakeCloudflare {
    /// `http://127.0.0.1:<port>/client/v4`
    pub api: String,
    pub log: Arc<Mutex<Log>>,
}

impl FakeCloudflare {
    /// Starts the fake; its first `rate_limited` calls get a 429.
    pub fn start(rate_limited: usize) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let api = format!("http://{}/client/v4", listener.local_addr().unwrap());
        let log = Arc::new(Mutex::new(Log::default()));
        let shared = log.clone();
        std::thread::spawn(move || {
            let mut limited = rate_limited;
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let Some((line, headers, body)) = read_request(&mut stream) else {
                    continue;
                };
                let (status, answer) = if limited > 0 {
                    limited -= 1;
                    (
                        429,
                        error(971, "Please wait and consider throttling your request speed"),
                    )
                } else {
                    judge(&line, &headers, &body)
                };
                let mut log = shared.lock().unwrap();
                if status == 200 {
                    log.purges.push(serde_json::from_slice(&body).unwrap());
                } else {
                    log.refused.push((status, String::from_utf8_lossy(&body).into_owned()));
                }
                drop(log);
                let text = answer.to_string();
                let retry = if status == 429 { "Retry-After: 1\r\n" } else { "" };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n{retry}Content-Length: {}\r\nConnection: close\r\n\r\n{text}",
                    text.len()
                );
            }
        });
        Self { api, log }
    }

    /// Waits until a call has purged everything.
    pub fn wait_full_purge(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !self
            .log
            .lock()
            .unwrap()
            .purges
            .iter()
            .any(|p| p["purge_everything"] == true)
        {
            assert!(std::time::Instant::now() < deadline, "no full purge");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Tags purged so far, all calls together.
    pub fn tags(&self) -> Vec<String> {
        let log = self.log.lock().unwrap();
        log.purges
            .iter()
            .filter_map(|p| p["tags"].as_array())
            .flatten()
            .map(|t| t.as_str().unwrap().to_owned())
            .collect()
    }

    pub fn files(&self) -> Vec<String> {
        let log = self.log.lock().unwrap();
        log.purges
            .iter()
            .filter_map(|p| p["files"].as_array())
            .flatten()
            .map(|t| t.as_str().unwrap().to_owned())
            .collect()
    }
}

fn error(code: u32, message: &str) -> Value {
    json!({"success": false, "errors": [{"code": code, "message": message}], "messages": [], "result": null})
}

type Request = (String, Vec<(String, String)>, Vec<u8>);

fn read_request(stream: &mut std::net::TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some((line.trim_end().to_owned(), headers, body))
}

/// Cloudflare's answer to one call.
fn judge(line: &str, headers: &[(String, String)], body: &[u8]) -> (u16, Value) {
    let header = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    if line != format!("POST /client/v4/zones/{ZONE}/purge_cache HTTP/1.1") {
        return (404, error(7003, "Could not route to the requested path"));
    }
    if header("authorization") != Some(&format!("Bearer {TOKEN}")) {
        return (403, error(10000, "Authentication error"));
    }
    if !header("content-type").is_some_and(|c| c.starts_with("application/json")) {
        return (400, error(6003, "Invalid request headers"));
    }
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(body) else {
        return (
            400,
            error(
                1012,
                "Request must contain one of \"purge_everything\", \"files\", \"tags\"",
            ),
        );
    };
    let kinds: Vec<&String> = body.keys().collect();
    let ok = match kinds.as_slice() {
        [k] if *k == "purge_everything" => body[*k] == json!(true),
        [k] if *k == "tags" || *k == "files" => body[*k].as_array().is_some_and(|list| {
            (1..=PER_CALL).contains(&list.len())
                && list.iter().all(|t| {
                    t.as_str()
                        .is_some_and(|t| !t.is_empty() && t.len() <= 1024 && !t.contains([' ', ',']))
                })
        }),
        _ => false,
    };
    if !ok {
        return (
            400,
            error(
                1012,
                "Request must contain one of \"purge_everything\", \"files\", \"tags\" with up to 30 entries",
            ),
        );
    }
    (
        200,
        json!({"success": true, "errors": [], "messages": [], "result": {"id": ZONE}}),
    )
}
