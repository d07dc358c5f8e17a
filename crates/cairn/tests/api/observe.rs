//! What operators see of requests: every answer carries a request id (the
//! caller's, when plausible), and `/metrics` counts requests by route
//! class, method and status without naming any object.

use serde_json::json;

use crate::helpers::{Auth, spawn_app};

#[test]
fn answers_carry_request_ids_and_metrics_count_route_classes() {
    let app = spawn_app();
    app.create(
        "",
        json!({"@type": "Document", "id": "geheim-und-lang", "title": "Geheim"}),
    );
    let mine = app.send(
        "GET",
        "/geheim-und-lang",
        Auth::Admin,
        None,
        &[("X-Request-Id", "edge-7f3a.1")],
    );
    assert_eq!(
        mine.header("x-request-id"),
        Some("edge-7f3a.1"),
        "the caller's id is kept"
    );
    let made = app.get("/geheim-und-lang", Auth::Anonymous);
    let id = made.header("x-request-id").expect("an id is made").to_string();
    assert!(!id.is_empty() && id != "edge-7f3a.1");
    let odd = app.send("GET", "/@search", Auth::Anonymous, None, &[("X-Request-Id", "a b<c>")]);
    assert_ne!(
        odd.header("x-request-id"),
        Some("a b<c>"),
        "an implausible id is replaced"
    );
    for _ in 0..3 {
        assert_eq!(app.get("/@search?SearchableText=Geheim", Auth::Anonymous).status, 200);
    }
    let metrics = app.get(&format!("{}/metrics", app.root), Auth::Anonymous);
    let text = String::from_utf8_lossy(&metrics.body);
    assert!(
        text.contains("cairn_http_requests_total{class=\"@search\",method=\"GET\",status=\"200\"} 4\n"),
        "{text}"
    );
    assert!(
        text.contains("cairn_http_requests_total{class=\"content\",method=\"GET\",status=\"401\"}")
            || text.contains("cairn_http_requests_total{class=\"content\",method=\"GET\",status=\"404\"}"),
        "the anonymous read of a private page is counted: {text}"
    );
    assert!(text.contains("cairn_http_request_seconds_count{class=\"content\",method=\"POST\",status=\"201\"} 1\n"));
    assert!(!text.contains("geheim"), "no object is named");
}
