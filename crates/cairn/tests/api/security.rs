//! Security as people meet it: reviewing, publication windows and walking
//! every endpoint over private content (see `workflows.rs` for the role x
//! state x operation tables).

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

#[test]
fn no_endpoint_leaks_private_content_to_anonymous_or_members() {
    let app = spawn_app();
    app.add_user("member", "memberpassword", &["Member"]);
    app.create(
        "",
        json!({"@type": "Folder", "id": "oeffentlich", "title": "Oeffentlich"}),
    );
    app.publish(&format!("{}/oeffentlich", app.site));
    app.create(
        "",
        json!({"@type": "Folder", "id": "geheimordner", "title": "GEHEIMORDNER"}),
    );
    let secret_doc = json!({"@type": "Document", "id": "geheimdok", "title": "GEHEIMTITEL",
        "description": "GEHEIMBESCHREIBUNG", "text": {"data": "<p>GEHEIMTEXT</p>", "content-type": "text/html"}});
    app.create("/geheimordner", secret_doc);
    app.create(
        "/oeffentlich",
        json!({"@type": "Document", "id": "entwurf", "title": "GEHEIMENTWURF"}),
    );
    let img = crate::content::tiny_png();
    app.create(
        "/geheimordner",
        json!({"@type": "Image", "id": "bild", "title": "GEHEIMBILD", "image": img}),
    );
    let urls = [
        "",
        "?fullobjects=1",
        "?expand=breadcrumbs,navigation,navroot,actions,types,workflow&expand.navigation.depth=5",
        "/@navigation?expand.navigation.depth=6",
        "/@breadcrumbs",
        "/oeffentlich?fullobjects=1&metadata_fields=_all",
        "/oeffentlich/@navigation?expand.navigation.depth=3",
        "/geheimordner",
        "/geheimordner/geheimdok",
        "/geheimordner/geheimdok/@breadcrumbs",
        "/geheimordner/geheimdok/@workflow",
        "/geheimordner/geheimdok/@navigation",
        "/geheimordner/geheimdok/@sharing",
        "/geheimordner/bild",
        "/geheimordner/bild/@@images/image",
        "/geheimordner/bild/@@images/image/thumb",
        "/geheimordner/bild/@@download/image",
        "/oeffentlich/entwurf",
        "/geheimordner/nothing-here",
        "/@users",
        "/@groups",
        "/@principals?search=a",
        "/@types",
    ];
    let secrets = ["GEHEIM", "geheimordner", "geheimdok", "entwurf"];
    for user in [Auth::Anonymous, Auth::Basic("member", "memberpassword")] {
        for url in urls {
            let r = app.get(url, user);
            let body = String::from_utf8_lossy(&r.body).to_string();
            let private = url.contains("geheim") || url.contains("entwurf");
            if private {
                assert!(
                    r.status == 401 || r.status == 403 || r.status == 404,
                    "{url}: {}",
                    r.status
                );
            }
            for s in secrets {
                // A 404 for the private URL names only the requested URL itself.
                let echoed = r.status == 404 && url.contains(s);
                assert!(
                    echoed || !body.contains(s),
                    "{url} answered {} and leaked '{s}': {body}",
                    r.status
                );
            }
        }
    }
}
