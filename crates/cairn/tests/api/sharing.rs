//! `@sharing`: local roles granted to users and groups, acquired by the
//! subtree, blockable, and immediately reflected in what people see.

use serde_json::json;

use crate::helpers::{Auth, spawn_app};

fn grant(id: &str, role: &str, on: bool) -> serde_json::Value {
    json!({"entries": [{"id": id, "type": "user", "roles": {role: on}}]})
}

#[test]
fn a_reader_grant_reveals_a_private_subtree_to_that_user_only() {
    let app = spawn_app();
    app.add_user("jane", "janespassword", &["Member"]);
    let jane = Auth::Basic("jane", "janespassword");
    app.create("", json!({"@type": "Folder", "id": "intern", "title": "Intern"}));
    app.create("/intern", json!({"@type": "Document", "id": "plan", "title": "Plan"}));
    assert_eq!(app.get("/intern/plan", jane).status, 401);
    assert_eq!(
        app.post("/intern/@sharing", Auth::Admin, &grant("jane", "Reader", true))
            .status,
        204
    );
    assert_eq!(
        app.get("/intern/plan", jane).status,
        200,
        "the grant is acquired by the child"
    );
    assert_eq!(app.get("/intern", jane).json()["items_total"], 1);
    assert_eq!(app.get("/intern/plan", Auth::Anonymous).status, 401);
    let tab = app.get("/intern/plan/@sharing", Auth::Admin).json();
    let entry = tab["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == "jane")
        .unwrap()
        .clone();
    assert_eq!(entry["roles"]["Reader"], "acquired");
    assert_eq!(tab["available_roles"][0]["title"], "Can add");
    assert_eq!(
        app.post("/intern/@sharing", Auth::Admin, &grant("jane", "Reader", false))
            .status,
        204
    );
    assert_eq!(
        app.get("/intern/plan", jane).status,
        401,
        "revoking did not reindex the subtree"
    );
}

#[test]
fn group_grants_and_blocked_inheritance() {
    let app = spawn_app();
    app.add_user("jane", "janespassword", &["Member"]);
    let jane = Auth::Basic("jane", "janespassword");
    app.post(
        "/@groups",
        Auth::Admin,
        &json!({"groupname": "redaktion", "users": ["jane"]}),
    );
    app.create("", json!({"@type": "Folder", "id": "f", "title": "F"}));
    app.create("/f", json!({"@type": "Document", "id": "d", "title": "D"}));
    app.create("/f", json!({"@type": "Folder", "id": "closed", "title": "Closed"}));
    app.create(
        "/f/closed",
        json!({"@type": "Document", "id": "secret", "title": "Secret"}),
    );
    let body = json!({"entries": [{"id": "redaktion", "type": "group", "roles": {"Editor": true}}]});
    assert_eq!(app.post("/f/@sharing", Auth::Admin, &body).status, 204);
    assert_eq!(app.patch("/f/d", jane, &json!({"title": "edited"})).status, 204);
    assert_eq!(app.get("/f/closed/secret", jane).status, 200);
    assert_eq!(
        app.post(
            "/f/closed/@sharing",
            Auth::Admin,
            &json!({"entries": [], "inherit": false})
        )
        .status,
        204
    );
    assert_eq!(
        app.get("/f/closed/secret", jane).status,
        401,
        "blocked inheritance still leaked"
    );
    assert_eq!(app.get("/f/closed/@sharing", Auth::Admin).json()["inherit"], false);
    assert_eq!(
        app.patch("/f/d", Auth::Basic("jane", "janespassword"), &json!({"title": "still"}))
            .status,
        204
    );
}

#[test]
fn only_delegates_may_share_and_only_the_roles_they_may_delegate() {
    let app = spawn_app();
    app.add_user("owner", "ownerpassword", &["Member"]);
    app.add_user("jane", "janespassword", &["Member"]);
    app.create(
        "",
        json!({"@type": "Folder", "id": "f", "title": "F", "creators": ["owner"]}),
    );
    let jane = Auth::Basic("jane", "janespassword");
    let owner = Auth::Basic("owner", "ownerpassword");
    app.post("/f/@sharing", Auth::Admin, &grant("jane", "Reader", true));
    assert_eq!(app.get("/f/@sharing", jane).status, 403);
    assert_eq!(
        app.post("/f/@sharing", jane, &grant("jane", "Editor", true)).status,
        403
    );
    assert_eq!(
        app.post("/f/@sharing", owner, &grant("jane", "Contributor", true))
            .status,
        204
    );
    assert_eq!(
        app.post("/f/@sharing", owner, &grant("jane", "Reviewer", true)).status,
        403,
        "owners cannot delegate Reviewer"
    );
    let r = app.post("/f", jane, &json!({"@type": "Document", "title": "by a contributor"}));
    assert_eq!(r.status, 201, "a local Contributor may add");
    assert_eq!(
        app.post("/f/@sharing", Auth::Admin, &grant("nobody", "Reader", true))
            .status,
        400
    );
}
