//! Nobody hands out a role they do not hold: a Site Administrator cannot
//! become (or reach) a Manager through `@users`, `@groups` or passwords, and
//! `@sharing` only delegates roles the caller holds where they share.

use serde_json::json;

use crate::helpers::{Auth, TestApp, spawn_app, spawn_app_with};

const SA: Auth<'static> = Auth::Basic("sa", "siteadminpw");

/// A site with a Site Administrator `sa` and a Manager `boss` who is one
/// only through the Administrators group.
fn site_with_admins() -> TestApp {
    let app = spawn_app();
    app.add_user("sa", "siteadminpw", &["Member", "Site Administrator"]);
    app.add_user("boss", "bosspassword", &["Member"]);
    let r = app.patch(
        "/@groups/Administrators",
        Auth::Admin,
        &json!({"users": {"boss": true}}),
    );
    assert_eq!(r.status, 204);
    app
}

fn roles_of(app: &TestApp, user: &str) -> Vec<String> {
    let u = app.get(&format!("/@users/{user}"), Auth::Admin).json();
    u["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect()
}

fn assert_forbidden(r: &crate::helpers::Resp, what: &str) {
    assert_eq!(r.status, 403, "{what}: {}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["error"]["type"], "Forbidden", "{what}");
}

#[test]
fn site_administrator_cannot_create_a_manager_group() {
    let app = site_with_admins();
    let r = app.post(
        "/@groups",
        SA,
        &json!({"groupname": "cabal", "roles": ["Manager"], "users": ["sa"]}),
    );
    assert_forbidden(&r, "a group holding Manager");
    assert_eq!(app.get("/@groups/cabal", Auth::Admin).status, 404);
    assert!(!roles_of(&app, "sa").contains(&"Manager".to_string()));
    let r = app.post("/@groups", SA, &json!({"groupname": "cabal"}));
    assert_eq!(r.status, 201);
    let r = app.patch("/@groups/cabal", SA, &json!({"roles": ["Manager"]}));
    assert_forbidden(&r, "giving an existing group Manager");
    let r = app.post(
        "/@groups",
        SA,
        &json!({"groupname": "inner", "groups": ["Administrators"]}),
    );
    assert_forbidden(&r, "nesting Administrators inside a new group");
}

#[test]
fn site_administrator_cannot_join_administrators() {
    let app = site_with_admins();
    let r = app.patch("/@groups/Administrators", SA, &json!({"users": {"sa": true}}));
    assert_forbidden(&r, "joining Administrators");
    let r = app.patch("/@groups/Administrators", SA, &json!({"users": {"boss": false}}));
    assert_forbidden(&r, "removing a Manager from Administrators");
    app.post("/@groups", SA, &json!({"groupname": "mine", "users": ["sa"]}));
    let r = app.patch("/@groups/Administrators", SA, &json!({"groups": ["mine"]}));
    assert_forbidden(&r, "nesting one's own group inside Administrators");
    let r = app.patch("/@groups/Administrators", SA, &json!({"title": "Renamed"}));
    assert_forbidden(&r, "editing Administrators");
    assert_forbidden(&app.delete("/@groups/Administrators", SA), "deleting Administrators");
    let mut body = json!({"username": "sock", "password": "sockpassword", "groups": ["Administrators"]});
    assert_forbidden(&app.post("/@users", SA, &body), "a new user in Administrators");
    body["groups"] = json!(["Reviewers"]);
    assert_eq!(app.post("/@users", SA, &body).status, 201);
    assert!(!roles_of(&app, "sa").contains(&"Manager".to_string()));
    assert!(roles_of(&app, "boss").contains(&"Manager".to_string()));
}

#[test]
fn site_administrator_cannot_reset_a_managers_password() {
    let app = site_with_admins();
    for manager in ["admin", "boss"] {
        let url = format!("/@users/{manager}/reset-password");
        let r = app.post(&url, SA, &json!({"new_password": "takenover1"}));
        assert_forbidden(&r, &format!("resetting {manager}'s password"));
        let r = app.patch(&format!("/@users/{manager}"), SA, &json!({"password": "takenover1"}));
        assert_forbidden(&r, &format!("setting {manager}'s password"));
        assert_eq!(app.get("", Auth::Basic(manager, "takenover1")).status, 401);
    }
    assert_eq!(app.get("", Auth::Admin).status, 200);
    assert_eq!(app.get("", Auth::Basic("boss", "bosspassword")).status, 200);
}

#[test]
fn site_administrator_cannot_change_or_delete_a_manager() {
    let app = site_with_admins();
    for manager in ["admin", "boss"] {
        let url = format!("/@users/{manager}");
        let r = app.patch(&url, SA, &json!({"email": "attacker@example.com"}));
        assert_forbidden(&r, &format!("changing {manager}'s e-mail"));
        let portrait = json!({"portrait": null});
        assert_forbidden(&app.patch(&url, SA, &portrait), "removing a Manager's portrait");
        assert_forbidden(&app.delete(&url, SA), &format!("deleting {manager}"));
        assert_ne!(app.get(&url, Auth::Admin).json()["email"], "attacker@example.com");
    }
}

#[test]
fn site_administrator_cannot_grant_manager_through_users_patch() {
    let app = site_with_admins();
    app.add_user("jane", "janespassword", &["Member"]);
    let manager = json!({"roles": {"Manager": true}});
    assert_forbidden(&app.patch("/@users/sa", SA, &manager), "making oneself Manager");
    assert_forbidden(&app.patch("/@users/jane", SA, &manager), "making someone Manager");
    let mut body = json!({"username": "sock", "password": "sockpassword", "roles": ["Manager"]});
    assert_forbidden(&app.post("/@users", SA, &body), "creating a Manager");
    body["roles"] = json!(["Editor"]);
    assert_eq!(app.post("/@users", SA, &body).status, 201);
    assert!(!roles_of(&app, "sa").contains(&"Manager".to_string()));
    // Volto sends the whole map; roles that do not change need no holding.
    let whole = json!({"roles": {"Manager": false, "Editor": true, "Reviewer": false}});
    assert_eq!(app.patch("/@users/jane", SA, &whole).status, 204);
    assert!(roles_of(&app, "jane").contains(&"Editor".to_string()));
    let revoke = json!({"roles": {"Manager": false}});
    assert_forbidden(&app.patch("/@users/admin", SA, &revoke), "taking Manager from admin");
    assert_eq!(
        app.patch("/@users/admin", Auth::Admin, &json!({"roles": {"Editor": true}}))
            .status,
        204
    );
}

#[test]
fn site_administrator_still_manages_ordinary_users_and_groups() {
    let app = site_with_admins();
    app.add_user("jane", "janespassword", &["Member"]);
    let r = app.post(
        "/@groups",
        SA,
        &json!({"groupname": "redaktion", "roles": ["Editor"], "users": ["jane"]}),
    );
    assert_eq!(r.status, 201);
    assert_eq!(
        app.patch(
            "/@groups/redaktion",
            SA,
            &json!({"roles": ["Editor", "Reviewer"], "users": {"jane": false}})
        )
        .status,
        204
    );
    assert_eq!(
        app.post(
            "/@users/jane/reset-password",
            SA,
            &json!({"new_password": "fromthesa1"})
        )
        .status,
        204
    );
    assert_eq!(app.get("", Auth::Basic("jane", "fromthesa1")).status, 200);
    assert_eq!(
        app.patch("/@users/jane", SA, &json!({"email": "jane@example.com"}))
            .status,
        204
    );
    assert_eq!(app.delete("/@groups/redaktion", SA).status, 204);
    assert_eq!(app.delete("/@users/jane", SA).status, 204);
    assert_eq!(
        app.patch("/@users/admin", Auth::Admin, &json!({"email": "admin@example.com"}))
            .status,
        204,
        "a Manager changes Managers"
    );
}

/// A site whose rolemap lets Editors delegate every sharing role.
fn site_where_editors_delegate_everything() -> (TestApp, tempfile::TempDir) {
    let config = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(config.path().join("workflows")).unwrap();
    std::fs::write(
        config.path().join("workflows/rolemap.toml"),
        r#"[permissions]
"Sharing page: Delegate Contributor role" = ["Manager", "Site Administrator", "Owner", "Editor"]
"Sharing page: Delegate Reviewer role" = ["Manager", "Site Administrator", "Reviewer", "Editor"]
"#,
    )
    .unwrap();
    let dir = config.path().to_path_buf();
    let app = spawn_app_with(move |s| s.config_dir = Some(dir));
    (app, config)
}

#[test]
fn editor_cannot_grant_local_roles_they_lack() {
    let (app, _config) = site_where_editors_delegate_everything();
    app.add_user("ed", "editorpassword", &["Member"]);
    app.add_user("jane", "janespassword", &["Member"]);
    let ed = Auth::Basic("ed", "editorpassword");
    app.create("", json!({"@type": "Folder", "id": "f", "title": "F"}));
    let grant = |id: &str, role: &str, on: bool| json!({"entries": [{"id": id, "type": "user", "roles": {role: on}}]});
    assert_eq!(
        app.post("/f/@sharing", Auth::Admin, &grant("ed", "Editor", true))
            .status,
        204
    );
    let tab = app.get("/f/@sharing", ed).json();
    let offered: Vec<&str> = tab["available_roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        offered,
        ["Editor", "Reader"],
        "only the roles the editor holds are offered"
    );
    assert_forbidden(
        &app.post("/f/@sharing", ed, &grant("jane", "Reviewer", true)),
        "granting Reviewer",
    );
    assert_forbidden(
        &app.post("/f/@sharing", ed, &grant("ed", "Contributor", true)),
        "granting oneself Contributor",
    );
    assert_eq!(app.post("/f/@sharing", ed, &grant("jane", "Editor", true)).status, 204);
    assert_eq!(app.post("/f/@sharing", ed, &grant("jane", "Reader", true)).status, 204);
    assert_eq!(
        app.post("/f/@sharing", Auth::Admin, &grant("jane", "Reviewer", true))
            .status,
        204
    );
    assert_forbidden(
        &app.post("/f/@sharing", ed, &grant("jane", "Reviewer", false)),
        "revoking Reviewer",
    );
}

#[test]
fn a_reviewer_cannot_grant_reader_they_lack() {
    let app = spawn_app();
    app.add_user("rev", "reviewerpassword", &["Member", "Reviewer"]);
    app.add_user("jane", "janespassword", &["Member"]);
    app.create("", json!({"@type": "Folder", "id": "f", "title": "F"}));
    let submitted = app.post("/f/@workflow/submit", Auth::Admin, &json!({}));
    assert_eq!(submitted.status, 200);
    let rev = Auth::Basic("rev", "reviewerpassword");
    let body = |role: &str| json!({"entries": [{"id": "jane", "type": "user", "roles": {role: true}}]});
    assert_forbidden(
        &app.post("/f/@sharing", rev, &body("Reader")),
        "a reviewer granting Reader",
    );
    assert_eq!(app.post("/f/@sharing", rev, &body("Reviewer")).status, 204);
}
