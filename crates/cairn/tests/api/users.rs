//! `@users`, `@groups`, `@roles`, `@principals` and what membership grants.

use serde_json::json;

use crate::helpers::{Auth, spawn_app};

fn noam() -> serde_json::Value {
    json!({"username": "noam", "password": "colorlessgreen", "email": "noam@example.com",
           "fullname": "Noam Chomsky", "description": "Linguist", "location": "Cambridge"})
}

#[test]
fn a_manager_creates_lists_updates_and_deletes_users() {
    let app = spawn_app();
    let r = app.post("/@users", Auth::Admin, &noam());
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.header("Location"), Some(format!("{}/@users/noam", app.site).as_str()));
    let u = r.json();
    assert_eq!(u["roles"], json!(["Member"]));
    assert_eq!(u["location"], "Cambridge");
    assert_eq!(u["groups"]["items"][0]["id"], "AuthenticatedUsers");
    assert_eq!(app.post("/@users", Auth::Admin, &noam()).status, 400, "duplicate login");
    let found = app.get("/@users?query=noa", Auth::Admin).json();
    assert_eq!(found["items_total"], 1);
    assert_eq!(
        app.get("/@users?search=chomsky", Auth::Admin).json()["items"][0]["id"],
        "noam"
    );
    assert_eq!(
        app.patch(
            "/@users/noam",
            Auth::Admin,
            &json!({"roles": {"Editor": true}, "fullname": "N. C."})
        )
        .status,
        204
    );
    let u = app.get("/@users/noam", Auth::Basic("noam", "colorlessgreen")).json();
    assert_eq!(u["fullname"], "N. C.");
    assert!(u["roles"].as_array().unwrap().contains(&json!("Editor")));
    assert_eq!(app.delete("/@users/noam", Auth::Admin).status, 204);
    assert_eq!(
        app.get("", Auth::Basic("noam", "colorlessgreen")).status,
        401,
        "a deleted user still logs in"
    );
    assert_eq!(app.get("/@users/noam", Auth::Admin).status, 404);
}

#[test]
fn users_cannot_list_or_read_other_users() {
    let app = spawn_app();
    app.add_user("jane", "janespassword", &["Member"]);
    app.add_user("joe", "joespassword", &["Member"]);
    assert_eq!(app.get("/@users", Auth::Anonymous).status, 401);
    assert_eq!(app.get("/@users", Auth::Basic("jane", "janespassword")).status, 401);
    assert_eq!(app.get("/@users/joe", Auth::Basic("jane", "janespassword")).status, 401);
    assert_eq!(
        app.get("/@users/jane", Auth::Basic("jane", "janespassword")).status,
        200
    );
    assert_eq!(
        app.post("/@users", Auth::Basic("jane", "janespassword"), &noam())
            .status,
        401
    );
    let r = app.patch(
        "/@users/jane",
        Auth::Basic("jane", "janespassword"),
        &json!({"roles": {"Manager": true}}),
    );
    assert_eq!(r.status, 401, "a member made themselves Manager");
}

#[test]
fn passwords_change_with_the_old_one_or_by_a_manager() {
    let app = spawn_app();
    app.add_user("jane", "janespassword", &["Member"]);
    let url = "/@users/jane/reset-password";
    let jane = Auth::Basic("jane", "janespassword");
    assert_eq!(
        app.post(
            url,
            jane,
            &json!({"old_password": "wrong", "new_password": "newpassword1"})
        )
        .status,
        403
    );
    assert_eq!(
        app.post(
            url,
            jane,
            &json!({"old_password": "janespassword", "new_password": "short"})
        )
        .status,
        400
    );
    assert_eq!(
        app.post(
            url,
            jane,
            &json!({"old_password": "janespassword", "new_password": "newpassword1"})
        )
        .status,
        204
    );
    assert_eq!(
        app.get("", Auth::Basic("jane", "janespassword")).status,
        401,
        "the old password still works"
    );
    assert_eq!(app.get("", Auth::Basic("jane", "newpassword1")).status, 200);
    assert_eq!(
        app.post(url, Auth::Admin, &json!({"new_password": "adminchosen1"}))
            .status,
        204
    );
    assert_eq!(app.get("", Auth::Basic("jane", "adminchosen1")).status, 200);
}

#[test]
fn group_membership_grants_the_groups_roles() {
    let app = spawn_app();
    app.add_user("jane", "janespassword", &["Member"]);
    app.create("", json!({"@type": "Document", "id": "doc", "title": "Doc"}));
    let jane = Auth::Basic("jane", "janespassword");
    assert_eq!(app.patch("/doc", jane, &json!({"title": "x"})).status, 401);
    let r = app.post(
        "/@groups",
        Auth::Admin,
        &json!({"groupname": "redaktion", "title": "Redaktion", "roles": ["Editor"], "users": ["jane"]}),
    );
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["members"]["items"], json!(["jane"]));
    assert_eq!(app.patch("/doc", jane, &json!({"title": "by an editor"})).status, 204);
    assert_eq!(app.get("/@users/jane", jane).json()["groups"]["items_total"], 2);
    assert_eq!(
        app.patch("/@groups/redaktion", Auth::Admin, &json!({"users": {"jane": false}}))
            .status,
        204
    );
    assert_eq!(
        app.patch("/doc", jane, &json!({"title": "again"})).status,
        401,
        "removed member kept the role"
    );
    let listed = app.get("/@groups", Auth::Admin).json();
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"Administrators") && ids.contains(&"redaktion"));
    assert_eq!(app.delete("/@groups/redaktion", Auth::Admin).status, 204);
    assert_eq!(app.get("/@groups/redaktion", Auth::Admin).status, 404);
}

#[test]
fn a_site_administrator_cannot_create_a_manager() {
    let app = spawn_app();
    app.add_user("sa", "siteadminpw", &["Site Administrator"]);
    let mut body = noam();
    body["roles"] = json!(["Manager"]);
    assert_eq!(app.post("/@users", Auth::Basic("sa", "siteadminpw"), &body).status, 403);
    body["roles"] = json!(["Editor"]);
    assert_eq!(app.post("/@users", Auth::Basic("sa", "siteadminpw"), &body).status, 201);
}

#[test]
fn roles_and_principals_are_listed() {
    let app = spawn_app();
    let roles = app.get("/@roles", Auth::Admin).json();
    assert!(
        roles
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == "Reviewer" && r["@type"] == "role")
    );
    app.post(
        "/@groups",
        Auth::Admin,
        &json!({"groupname": "ploneteam", "title": "Plone Team"}),
    );
    let p = app.get("/@principals?search=plone", Auth::Admin).json();
    assert_eq!(p["groups"][0]["id"], "ploneteam");
    assert_eq!(p["users"], json!([]));
    assert_eq!(app.get("/@principals?search=x", Auth::Anonymous).status, 401);
}

#[test]
fn repeated_failed_logins_are_slowed_down_then_allowed_again() {
    let app = spawn_app();
    app.add_user("jane", "janespassword", &["Member"]);
    let wrong = json!({"login": "jane", "password": "guess"});
    for _ in 0..5 {
        assert_eq!(app.post("/@login", Auth::Anonymous, &wrong).status, 401);
    }
    let right = json!({"login": "jane", "password": "janespassword"});
    let r = app.post("/@login", Auth::Anonymous, &right);
    assert_eq!(r.status, 429, "the account was not throttled");
    assert!(r.header("Retry-After").is_some());
    assert_eq!(
        app.get("", Auth::Basic("jane", "janespassword")).status,
        429,
        "Basic auth bypasses the throttle"
    );
    assert_eq!(
        app.post(
            "/@login",
            Auth::Anonymous,
            &json!({"login": "admin", "password": "secret"})
        )
        .status,
        200
    );
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(
        app.post("/@login", Auth::Anonymous, &right).status,
        200,
        "the wait never ended"
    );
}

#[test]
fn user_listings_are_paged_with_a_total() {
    let app = spawn_app();
    for i in 0..30 {
        app.add_user(&format!("user{i:02}"), "password1", &["Member"]);
    }
    let page = app.get("/@users?query=user&b_size=25&b_start=25", Auth::Admin).json();
    assert_eq!(page["items_total"], 30);
    assert_eq!(page["items"].as_array().unwrap().len(), 5);
    assert_eq!(page["items"][0]["id"], "user25");
    assert!(page["batching"]["prev"].as_str().unwrap().contains("b_start=0"));
    assert_eq!(
        app.get("/@users?limit=3", Auth::Admin).json()["items"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn changing_a_password_ends_the_tokens_issued_before() {
    let app = spawn_app();
    app.add_user("jane", "janespassword", &["Member"]);
    let login = json!({"login": "jane", "password": "janespassword"});
    let token = app.post("/@login", Auth::Anonymous, &login).json()["token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(app.get("/@users/jane", Auth::Bearer(&token)).status, 200);
    let change = json!({"old_password": "janespassword", "new_password": "another-password"});
    assert_eq!(
        app.post("/@users/jane/reset-password", Auth::Bearer(&token), &change)
            .status,
        204
    );
    assert_eq!(
        app.get("/@users/jane", Auth::Bearer(&token)).status,
        401,
        "an old token survived the password change"
    );
}

#[test]
fn users_have_portraits_and_a_profile_form() {
    use base64::Engine;
    let app = spawn_app();
    app.add_user("jane", "janespassword", &["Member"]);
    let jane = Auth::Basic("jane", "janespassword");
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(image::RgbImage::new(75, 100))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let data = base64::engine::general_purpose::STANDARD.encode(&png);
    let body =
        json!({"portrait": {"data": data, "encoding": "base64", "content-type": "image/png", "filename": "me.png"}});
    assert_eq!(app.patch("/@users/jane", jane, &body).status, 204);
    let me = app.get("/@users/jane", jane).json();
    assert_eq!(me["portrait"], format!("{}/@portrait/jane", app.site));
    let img = app.get("/@portrait/jane", Auth::Anonymous);
    assert_eq!(img.status, 200);
    assert_eq!(img.header("Content-Type"), Some("image/png"));
    let decoded = image::load_from_memory(&img.body).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (75, 100));
    assert_eq!(app.get("/@portrait", jane).status, 200, "the caller's own portrait");
    let not_image = json!({"portrait": {"data": "aGFsbG8=", "encoding": "base64", "filename": "x.png"}});
    assert_eq!(app.patch("/@users/jane", jane, &not_image).status, 400);
    assert_eq!(app.patch("/@users/jane", jane, &json!({"portrait": null})).status, 204);
    assert_eq!(app.get("/@portrait/jane", Auth::Anonymous).status, 404);
    let form = app.get("/@userschema", jane).json();
    assert_eq!(form["fieldsets"][0]["fields"][0], "fullname");
    assert_eq!(form["properties"]["email"]["widget"], "email");
    let reg = app.get("/@userschema/registration", Auth::Anonymous).json();
    assert!(reg["required"].as_array().unwrap().contains(&json!("password")));
}
