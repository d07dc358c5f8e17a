//! Security as people meet it: reviewing and publication windows (see
//! `workflows.rs` for the role x state x operation tables and `leaks/` for
//! the walk over every endpoint).

use serde_json::json;

use crate::helpers::{Auth, TestApp, spawn_app};

/// A folder owned by `owner`, moved into `state` by the manager.
fn folder_in(app: &TestApp, id: &str, state: &str) -> String {
    app.create(
        "",
        json!({"@type": "Folder", "id": id, "title": id, "creators": ["owner"]}),
    );
    let url = format!("{}/{id}", app.site);
    match state {
        "pending" => assert_eq!(
            app.post(&format!("{url}/@workflow/submit"), Auth::Admin, &json!({}))
                .status,
            200
        ),
        "published" => app.publish(&url),
        _ => {}
    }
    url
}

#[test]
fn an_owner_cannot_publish_but_a_reviewer_publishes_what_was_submitted() {
    let app = spawn_app();
    app.add_user("owner", "pw", &["Member"]);
    app.add_user("reviewer", "pw", &["Member", "Reviewer"]);
    let url = folder_in(&app, "f", "private");
    let publish = format!("{url}/@workflow/publish");
    assert_eq!(app.post(&publish, Auth::Basic("owner", "pw"), &json!({})).status, 400);
    assert_eq!(
        app.post(
            &format!("{url}/@workflow/submit"),
            Auth::Basic("owner", "pw"),
            &json!({})
        )
        .status,
        200
    );
    let r = app.post(&publish, Auth::Basic("reviewer", "pw"), &json!({"comment": "ok"}));
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["review_state"], "published");
    let history = app.get(&format!("{url}/@workflow"), Auth::Admin).json()["history"].clone();
    let actions: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(actions, ["", "submit", "publish"]);
    assert!(
        app.get(&url, Auth::Anonymous).json()["effective"].is_string(),
        "publishing sets the effective date"
    );
}

#[test]
fn anonymous_users_see_published_content_only_inside_its_publication_window() {
    let app = spawn_app();
    app.create(
        "",
        json!({"@type": "Document", "id": "future", "title": "Future", "effective": "2999-01-01T00:00:00+00:00"}),
    );
    app.create(
        "",
        json!({"@type": "Document", "id": "expired", "title": "Expired", "expires": "2001-01-01T00:00:00+00:00"}),
    );
    app.create("", json!({"@type": "Document", "id": "current", "title": "Current"}));
    for id in ["future", "expired", "current"] {
        app.publish(&format!("{}/{id}", app.site));
    }
    assert_eq!(app.get("/future", Auth::Anonymous).status, 401);
    assert_eq!(app.get("/expired", Auth::Anonymous).status, 401);
    assert_eq!(app.get("/current", Auth::Anonymous).status, 200);
    let listing = app.get("", Auth::Anonymous).json();
    assert_eq!(
        listing["items_total"], 1,
        "items outside their window leaked into a listing"
    );
    let nav = app.get("/@navigation", Auth::Anonymous).json();
    assert_eq!(
        nav["items"].as_array().unwrap().len(),
        2,
        "Home and the current page only"
    );
    assert_eq!(app.get("", Auth::Admin).json()["items_total"], 3);
}
