//! Changes are seen at once, wherever they are made: caches follow change
//! events, not the HTTP requests that usually cause them.

use serde_json::json;

use crate::helpers::{Auth, spawn_app};

#[test]
fn a_membership_change_below_the_api_reaches_cached_basic_credentials() {
    let app = spawn_app();
    app.add_user("jane", "pw", &["Member"]);
    app.create("", json!({"@type": "Document", "id": "d", "title": "Geheim"}));
    let jane = Auth::Basic("jane", "pw");
    // Verified once, Jane's credentials are cached: she may not see the private page.
    assert_ne!(app.get("/d", jane).status, 200);
    let site = app.site();
    let readers = cairn_core::ports::GroupRecord {
        id: "readers".into(),
        title: "Readers".into(),
        description: String::new(),
        email: String::new(),
        roles: vec!["Reader".into()],
    };
    site.principals.put_group(&site.id, &readers).unwrap();
    site.principals.set_member(&site.id, "readers", "jane", true).unwrap();
    assert_eq!(app.get("/d", jane).status, 200, "the new group's role applies at once");
    site.principals.set_member(&site.id, "readers", "jane", false).unwrap();
    assert_ne!(app.get("/d", jane).status, 200, "and is gone at once when she leaves");
}
