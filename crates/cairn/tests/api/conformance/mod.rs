//! Conformance: replays golden plone.restapi request/response pairs against cairn.
//!
//! The pairs are the `http-examples` that plone.restapi's documentation tests
//! write (`<name>.req` / `<name>.resp`: request line, headers, blank line, JSON
//! body). For each pair we
//!
//! 1. start a fresh server and build, through the API as admin, the content the
//!    doc test had in its fixture (see [`setup`]);
//! 2. send the pair's method, path (`/plone/...` rewritten onto the test
//!    server), `Authorization`/`Prefer` headers and body (a form or multipart
//!    body keeps its recorded `Content-Type`, see [`send_raw`]);
//! 3. compare status, `Content-Type`, `Location` and the JSON body structurally
//!    ([`diff_json`]) after a small, explicit normalization ([`canon`]) of the
//!    things that can never match between two servers: host, UIDs, clock
//!    timestamps, JWTs, image-scale hashes, blob sizes and the fixture user name.
//!
//! The table [`PAIRS`] (in `pairs.rs`) says which pairs are expected to match. The test fails when
//! a `Pass` pair has differences, and when a `Known` pair matches (so the table
//! stays honest). Run with
//! `cargo test -p cairn --test api conformance -- --nocapture` to see the report;
//! `CONFORMANCE_VERBOSE=1` prints every difference, `CONFORMANCE_ONLY=a,b` limits
//! the run, `CONFORMANCE_DUMP=<dir>` writes each normalized actual body there, and
//! `CAIRN_CONFORMANCE_DIR` points at another copy of the pairs.

mod compare;
mod fixtures;
mod fixtures_search;
mod golden;
mod normalize;
mod pairs;

use std::fmt::Write as _;
use std::path::PathBuf;

use serde_json::{Value, json};

use crate::helpers::{Auth, Resp, spawn_app_with};

use compare::*;
use fixtures::*;
use golden::*;
use normalize::*;
use pairs::Expect::{Known, Pass};
pub use pairs::*;

/// Where the golden pairs live unless `CAIRN_CONFORMANCE_DIR` says otherwise.
/// The project's `shared/` folder lies beside the repository (as in CI).
const DEFAULT_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/conformance/plone-restapi");

/// The host the golden pairs were recorded on.
const GOLDEN_ROOT: &str = "http://localhost:55001";

/// The outcome of one pair.
pub struct Outcome {
    pub name: &'static str,
    pub expect: Expect,
    pub diffs: Vec<Diff>,
}

fn media_type(v: &str) -> String {
    v.split(';').next().unwrap_or_default().trim().to_ascii_lowercase()
}

/// Replays one golden pair on a fresh server and returns every difference.
pub fn replay(name: &str) -> Vec<Diff> {
    let golden = match load_golden(name) {
        Ok(g) => g,
        Err(e) => {
            return vec![Diff {
                path: "golden".into(),
                expected: "readable pair".into(),
                actual: e,
            }];
        }
    };
    // The relations doc test's Document has a relation list field of its own.
    let config = name.starts_with("relations_").then(fixtures::relations_config);
    let config_dir = config.as_ref().map(|d| d.path().to_path_buf());
    let app = spawn_app_with(|s| {
        s.config_dir = config_dir;
        if name.starts_with("translation") {
            // plone.app.multilingual's doc test: four languages.
            s.sites[0].multilingual = true;
            s.sites[0].available_languages = ["en", "es", "de", "fr"].map(String::from).to_vec();
        }
        if name == "site_get" {
            // The doc-test site had four languages configured.
            s.sites[0].available_languages = ["en", "de", "es", "fr"].map(String::from).to_vec();
        }
    });
    let mut fixture = Fixture::new(&app);
    let token = setup(name, &mut fixture);
    let mut diffs = fixture.errors;

    // The request, as recorded; Accept and Content-Type are set by the client.
    let mut headers: Vec<(String, String)> = Vec::new();
    for (k, v) in &golden.req_headers {
        match k.to_ascii_lowercase().as_str() {
            "accept" | "content-type" | "content-length" => {}
            "authorization" if v.starts_with("Bearer ") => {
                headers.push((k.clone(), format!("Bearer {}", token.clone().unwrap_or_default())));
            }
            _ => headers.push((k.clone(), v.clone())),
        }
    }
    let url = format!("{}{}", app.root, golden.path);
    // URLs inside a recorded body name the recording host, as the path did.
    let req_body: Option<Vec<u8>> = golden
        .req_body
        .as_deref()
        .map(|b| String::from_utf8_lossy(b).replace(GOLDEN_ROOT, &app.root).into_bytes());
    let r = match header(&golden.req_headers, "Content-Type") {
        // A form or multipart body: sent with its own Content-Type, which the
        // harness client would replace with application/json.
        Some(ct) if media_type(ct) != "application/json" => {
            headers.push(("Accept".into(), "application/json".into()));
            headers.push(("Content-Type".into(), ct.into()));
            send_raw(&golden.method, &url, &headers, req_body.as_deref())
        }
        _ => {
            let header_refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            app.send(&golden.method, &url, Auth::Anonymous, req_body.as_deref(), &header_refs)
        }
    };

    if r.status != golden.status {
        diffs.push(Diff {
            path: "status".into(),
            expected: golden.status.to_string(),
            actual: r.status.to_string(),
        });
    }
    if let Some(ct) = header(&golden.resp_headers, "Content-Type") {
        let got = r
            .header("Content-Type")
            .map(media_type)
            .unwrap_or_else(|| "<none>".into());
        if media_type(ct) != got {
            diffs.push(Diff {
                path: "header Content-Type".into(),
                expected: ct.into(),
                actual: got,
            });
        }
    }
    if let Some(loc) = header(&golden.resp_headers, "Location") {
        let got = r
            .header("Location")
            .map_or_else(|| "<none>".into(), |l| l.replace(&app.root, GOLDEN_ROOT));
        if loc != got {
            diffs.push(Diff {
                path: "header Location".into(),
                expected: loc.into(),
                actual: got,
            });
        }
    }
    match golden.resp_body {
        None => {
            if !r.body.is_empty() {
                diffs.push(Diff {
                    path: "body".into(),
                    expected: "<empty>".into(),
                    actual: String::from_utf8_lossy(&r.body).chars().take(160).collect(),
                });
            }
        }
        Some(mut expected) => match serde_json::from_slice::<Value>(&r.body) {
            Err(_) => diffs.push(Diff {
                path: "body".into(),
                expected: short(&expected),
                actual: format!(
                    "not JSON: {}",
                    String::from_utf8_lossy(&r.body).chars().take(160).collect::<String>()
                ),
            }),
            Ok(mut actual) => {
                adjust_golden(name, &mut expected);
                rehost(&mut actual, &app.root);
                canon(&mut expected, None);
                canon(&mut actual, None);
                if let Some(dir) = std::env::var_os("CONFORMANCE_DUMP") {
                    // The normalized actual body, for eyeballing next to the golden one.
                    let _ = std::fs::create_dir_all(&dir);
                    let pretty = serde_json::to_string_pretty(&actual).unwrap_or_default();
                    let _ = std::fs::write(PathBuf::from(dir).join(format!("{name}.json")), pretty);
                }
                diffs.extend(diff_json(&expected, &actual));
            }
        },
    }
    diffs
}

/// Sends a request exactly as given (for bodies that are not JSON).
fn send_raw(method: &str, url: &str, headers: &[(String, String)], body: Option<&[u8]>) -> Resp {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(30)))
        .build()
        .into();
    let mut req = ureq::http::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        req = req.header(k.as_str(), v.as_str());
    }
    let mut resp = agent
        .run(req.body(body.unwrap_or_default().to_vec()).unwrap())
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    Resp {
        status: resp.status().as_u16(),
        headers: resp
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect(),
        body: resp.body_mut().read_to_vec().unwrap_or_default(),
    }
}

/// Renders the summary table printed by the test.
pub fn report(outcomes: &[Outcome], verbose: bool) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "\n{:<46} {:<6} {:<5} {:>5}  first differences",
        "pair", "expect", "got", "diffs"
    );
    let _ = writeln!(s, "{}", "-".repeat(120));
    for o in outcomes {
        let got = if o.diffs.is_empty() { "PASS" } else { "FAIL" };
        let exp = match o.expect {
            Pass => "pass",
            Known(_) => "known",
        };
        let shown = if verbose { o.diffs.len() } else { 3 };
        let first: Vec<String> = o.diffs.iter().take(shown).map(ToString::to_string).collect();
        let _ = writeln!(
            s,
            "{:<46} {:<6} {:<5} {:>5}  {}",
            o.name,
            exp,
            got,
            o.diffs.len(),
            first.first().cloned().unwrap_or_default()
        );
        for d in first.iter().skip(1) {
            let _ = writeln!(s, "{:<67}{d}", "");
        }
        if let Known(reason) = o.expect {
            let _ = writeln!(s, "{:<67}[known: {reason}]", "");
        }
    }
    let passed = outcomes.iter().filter(|o| o.diffs.is_empty()).count();
    let _ = writeln!(s, "{}\n{passed}/{} pairs match Plone", "-".repeat(120), outcomes.len());
    s
}

#[test]
fn conformance_pairs_match_plone() {
    if !golden_dir().is_dir() {
        // In CI a missing fixture is a failure: a replay that silently skips
        // proves nothing. On a laptop without `shared/` it only warns.
        let ci = std::env::var("CI").is_ok_and(|v| !matches!(v.as_str(), "" | "0" | "false"));
        assert!(
            !ci,
            "conformance pairs not found at {} (CI is set, so this fails instead of skipping)",
            golden_dir().display()
        );
        eprintln!(
            "conformance: {} not found, skipping (set CAIRN_CONFORMANCE_DIR)",
            golden_dir().display()
        );
        return;
    }
    let only: Option<Vec<String>> = std::env::var("CONFORMANCE_ONLY")
        .ok()
        .map(|v| v.split(',').map(|s| s.trim().to_string()).collect());
    let verbose = std::env::var_os("CONFORMANCE_VERBOSE").is_some();
    let outcomes: Vec<Outcome> = PAIRS
        .iter()
        .filter(|(n, _)| only.as_ref().is_none_or(|o| o.iter().any(|x| x == n)))
        .map(|&(name, expect)| Outcome {
            name,
            expect,
            diffs: replay(name),
        })
        .collect();
    println!("{}", report(&outcomes, verbose));
    let mut problems = Vec::new();
    for o in &outcomes {
        match (o.expect, o.diffs.is_empty()) {
            (Pass, false) => problems.push(format!(
                "{} is marked Pass but has {} difference(s)",
                o.name,
                o.diffs.len()
            )),
            (Known(_), true) => problems.push(format!("{} is marked Known but matches now: mark it Pass", o.name)),
            _ => {}
        }
    }
    assert!(
        problems.is_empty(),
        "conformance table out of date:\n{}",
        problems.join("\n")
    );
}

#[test]
fn conformance_diff_reports_paths_types_and_missing_keys() {
    let e = json!({"a": 1, "b": {"c": "x"}, "l": [{"@id": "u1", "t": 1}, {"@id": "u2", "t": 2}], "m": []});
    let a = json!({"a": "1", "b": {}, "l": [{"@id": "u2", "t": 2}, {"@id": "u1", "t": 3}], "z": null, "m": [1]});
    let d = diff_json(&e, &a);
    let paths: Vec<&str> = d.iter().map(|d| d.path.as_str()).collect();
    assert!(paths.contains(&"$.a"), "{d:?}");
    assert!(paths.contains(&"$.b.c"));
    assert!(paths.contains(&"$.l[@id=u1].t"));
    assert!(paths.contains(&"$.l.order"));
    assert!(paths.contains(&"$.z"));
    assert!(paths.contains(&"$.m.length"));
    assert!(diff_json(&e, &e).is_empty());
}

#[test]
fn conformance_normalizer_keeps_real_values() {
    let mut v = json!({
        "UID": "SomeUUID000000000000000000000005", "created": "1995-07-31T13:45:00+00:00",
        "start": "2013-01-01T10:00:00+00:00", "creators": ["test_user_1_"], "title": "test_user_1_",
        "image": {"content-type": "image/png", "download": "http://h/plone/i/@@images/uuid1.png", "size": 1185, "width": 215}
    });
    canon(&mut v, None);
    assert_eq!(v["UID"], "<UID>");
    assert_eq!(v["created"], "<datetime>");
    assert_eq!(
        v["start"], "2013-01-01T10:00:00+00:00",
        "only clock keys are normalized"
    );
    assert_eq!(v["creators"][0], "admin");
    assert_eq!(v["title"], "test_user_1_");
    assert_eq!(v["image"]["download"], "http://h/plone/i/@@images/<hash>.png");
    assert_eq!(v["image"]["size"], "<size>");
    assert_eq!(v["image"]["width"], 215);
    let mut t = json!(
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhZG1pbiIsImZ1bGxuYW1lIjoiIn0.bYxWojQ_w5ceMhvE3T03Ur137TrVOo6Dz_S-bAdyVSI"
    );
    canon(&mut t, Some("token"));
    assert_eq!(t, "<jwt sub=admin>");
}
