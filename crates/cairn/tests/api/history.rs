//! Comparing versions: the fields that changed between two versions (or a
//! version and now), with the words that changed in texts, for those who
//! may see the history.

use serde_json::json;

use crate::helpers::{Auth, spawn_app};

#[test]
fn two_versions_are_compared_field_by_field_with_the_changed_words() {
    let app = spawn_app();
    app.add_user("mira", "mira-pw-123", &["Member"]);
    let long = "Die Verwaltung ist am Montag geschlossen und am Dienstag offen. ".repeat(20);
    app.create(
        "",
        json!({"@type": "Document", "id": "zeiten", "title": "Zeiten",
               "text": {"data": format!("<p>{long}</p>"), "content-type": "text/html"}}),
    );
    let edited = long.replacen("Montag", "Mittwoch", 1);
    app.patch(
        "/zeiten",
        Auth::Admin,
        &json!({"title": "Öffnungszeiten", "text": {"data": format!("<p>{edited}</p>"), "content-type": "text/html"}}),
    );
    app.patch("/zeiten", Auth::Admin, &json!({"description": "Neu"}));

    let r = app.get("/zeiten/@history/compare?from=0&to=1", Auth::Admin);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let diff = r.json();
    let fields: Vec<&str> = diff["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["title", "text"]);
    assert_eq!(diff["changes"][0]["before"], "Zeiten");
    assert_eq!(diff["changes"][0]["after"], "Öffnungszeiten");
    assert_eq!(diff["changes"][0]["title"], "Title");
    let text = diff["changes"][1]["text"].as_array().unwrap();
    assert!(text.contains(&json!({"op": "delete", "text": "Montag"})), "{text:?}");
    assert!(text.contains(&json!({"op": "insert", "text": "Mittwoch"})), "{text:?}");
    // Up to now: the description too.
    let now = app.get("/zeiten/@history/compare?from=1", Auth::Admin).json();
    let fields: Vec<&str> = now["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["description"]);
    assert_eq!(now["to"], "current");

    assert_eq!(app.get("/zeiten/@history/compare?from=7", Auth::Admin).status, 400);
    assert_eq!(app.get("/zeiten/@history/compare", Auth::Admin).status, 400);
    assert_eq!(app.get("/zeiten/@history/compare?from=0", Auth::Anonymous).status, 401);
    app.publish(&format!("{}/zeiten", app.site));
    assert_eq!(
        app.get("/zeiten/@history/compare?from=0", Auth::Basic("mira", "mira-pw-123"))
            .status,
        403
    );
}
