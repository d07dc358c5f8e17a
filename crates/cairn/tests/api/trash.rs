//! The trash: DELETE puts a subtree aside (gone from the site at once,
//! nothing lost), `@trash` lists, restores and purges, as administrators
//! and owners may, and refuses what it must.

use serde_json::{Value, json};

use crate::helpers::{Auth, TestApp, ids, spawn_app, spawn_app_with};

fn entries(app: &TestApp, auth: Auth<'_>) -> Value {
    let r = app.get("/@trash", auth);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    r.json()
}

fn search_ids(app: &TestApp, word: &str, auth: Auth<'_>) -> Vec<String> {
    app.wait_indexed();
    ids(&app.get(&format!("/@search?SearchableText={word}"), auth).json())
}

#[test]
fn a_deleted_folder_leaves_the_site_whole_and_comes_back_whole() {
    let app = spawn_app();
    app.add_user("jana", "jana-pw-123", &["Member"]);
    app.create("", json!({"@type": "Folder", "id": "f", "title": "Amt"}));
    let d = app.create(
        "/f",
        json!({"@type": "Document", "id": "d", "title": "Quittung Hagelschaden"}),
    );
    app.patch("/f/d", Auth::Admin, &json!({"description": "second version"}));
    app.post(
        "/f/d/@sharing",
        Auth::Admin,
        &json!({"entries": [{"id": "jana", "type": "user", "roles": {"Editor": true}}]}),
    );
    app.publish(&format!("{}/f", app.site));
    app.publish(&format!("{}/f/d", app.site));
    assert_eq!(search_ids(&app, "Hagelschaden", Auth::Anonymous), ["d"]);
    let history = app.get("/f/d/@history", Auth::Admin).json();

    assert_eq!(app.delete("/f", Auth::Admin).status, 204);
    for who in [Auth::Anonymous, Auth::Admin] {
        assert_eq!(app.get("/f", who).status, 404);
        assert_eq!(app.get("/f/d", who).status, 404);
    }
    assert!(!ids(&app.get("", Auth::Admin).json()).contains(&"f".to_string()));
    assert!(search_ids(&app, "Hagelschaden", Auth::Admin).is_empty());
    let nav = app.get("/@navigation", Auth::Anonymous).json().to_string();
    assert!(!nav.contains("Amt"), "{nav}");

    let t = entries(&app, Auth::Admin);
    assert_eq!(t["items_total"], 1);
    let e = &t["items"][0];
    assert_eq!((e["path"].as_str(), e["@type"].as_str()), (Some("/f"), Some("Folder")));
    assert_eq!(
        (e["items_total"].as_u64(), e["deleted_by"].as_str()),
        (Some(2), Some("admin"))
    );
    let url = e["@id"].as_str().unwrap().to_owned();
    let detail = app.get(&url, Auth::Admin).json();
    let paths: Vec<&str> = detail["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["/f", "/f/d"]);

    let r = app.post(&format!("{url}/restore"), Auth::Admin, &json!({}));
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["@id"], format!("{}/f", app.site));
    // Everything as it was: state, fields, UID, sharing, history.
    let back = app.get("/f/d", Auth::Anonymous);
    assert_eq!(back.status, 200);
    let back = back.json();
    assert_eq!(back["UID"], d["UID"]);
    assert_eq!(back["description"], "second version");
    assert_eq!(back["review_state"], "published");
    let sharing = app.get("/f/d/@sharing", Auth::Admin).json().to_string();
    assert!(sharing.contains("jana"), "{sharing}");
    assert_eq!(app.get("/f/d/@history", Auth::Admin).json(), history);
    assert_eq!(search_ids(&app, "Hagelschaden", Auth::Anonymous), ["d"]);
    assert_eq!(entries(&app, Auth::Admin)["items_total"], 0);
}

#[test]
fn restoring_refuses_a_taken_place_and_a_gone_parent_but_goes_elsewhere() {
    let app = spawn_app();
    app.create("", json!({"@type": "Folder", "id": "f", "title": "F"}));
    app.create("", json!({"@type": "Folder", "id": "archiv", "title": "Archiv"}));
    app.create("", json!({"@type": "Folder", "id": "p", "title": "P"}));
    app.create("/p", json!({"@type": "Document", "id": "q", "title": "Q"}));
    app.delete("/f", Auth::Admin);
    app.create("", json!({"@type": "Folder", "id": "f", "title": "New F"}));
    let f_entry = entries(&app, Auth::Admin)["items"][0]["@id"]
        .as_str()
        .unwrap()
        .to_owned();
    let taken = app.post(&format!("{f_entry}/restore"), Auth::Admin, &json!({}));
    assert_eq!(taken.status, 409, "{}", String::from_utf8_lossy(&taken.body));
    assert!(taken.json()["message"].as_str().unwrap().contains("/f is taken"));
    let r = app.post(
        &format!("{f_entry}/restore"),
        Auth::Admin,
        &json!({"target": "/archiv"}),
    );
    assert_eq!(r.json()["@id"], format!("{}/archiv/f", app.site));
    assert_eq!(app.get("/archiv/f", Auth::Admin).json()["title"], "F");

    app.delete("/p/q", Auth::Admin);
    app.delete("/p", Auth::Admin);
    let q_entry = entries(&app, Auth::Admin)["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"] == "/p/q")
        .unwrap()["@id"]
        .as_str()
        .unwrap()
        .to_owned();
    let gone = app.post(&format!("{q_entry}/restore"), Auth::Admin, &json!({}));
    assert_eq!(gone.status, 400);
    assert!(gone.json()["message"].as_str().unwrap().contains("is gone"));
    let r = app.post(
        &format!("{q_entry}/restore"),
        Auth::Admin,
        &json!({"target": format!("{}/archiv", app.site)}),
    );
    assert_eq!(r.status, 200);
    assert_eq!(app.get("/archiv/q", Auth::Admin).status, 200);
    let bad = app.post(&format!("{q_entry}/restore"), Auth::Admin, &json!({}));
    assert_eq!(bad.status, 404, "restored once");
}

#[test]
fn only_administrators_and_owners_see_and_act_on_the_trash() {
    let app = spawn_app();
    app.add_user("ben", "ben-pw-1234", &["Member", "Contributor"]);
    app.add_user("cleo", "cleo-pw-1234", &["Member"]);
    let ben = Auth::Basic("ben", "ben-pw-1234");
    let cleo = Auth::Basic("cleo", "cleo-pw-1234");
    app.create(
        "",
        json!({"@type": "Document", "id": "admins", "title": "Secret title"}),
    );
    app.delete("/admins", Auth::Admin);
    let r = app.post("", ben, &json!({"@type": "Document", "id": "bens", "title": "Ben's"}));
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(app.delete("/bens", ben).status, 204, "an owner deletes a private draft");
    assert_eq!(app.get("/@trash", Auth::Anonymous).status, 401);
    let mine = entries(&app, ben);
    assert_eq!(mine["items_total"], 1, "{mine}");
    assert_eq!(mine["items"][0]["path"], "/bens");
    let others = entries(&app, cleo);
    assert_eq!(others["items_total"], 0);
    assert!(!others.to_string().contains("Secret"));
    let admin_entry = entries(&app, Auth::Admin)["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"] == "/admins")
        .unwrap()["@id"]
        .as_str()
        .unwrap()
        .to_owned();
    for who in [ben, cleo] {
        assert_eq!(app.get(&admin_entry, who).status, 404);
        assert_eq!(app.post(&format!("{admin_entry}/restore"), who, &json!({})).status, 404);
        assert_eq!(app.delete(&admin_entry, who).status, 404);
    }
    let own = mine["items"][0]["@id"].as_str().unwrap();
    assert_eq!(app.post(&format!("{own}/restore"), ben, &json!({})).status, 200);
    assert_eq!(app.get("/bens", ben).status, 200);
    assert_eq!(app.get("/f/@trash", Auth::Admin).status, 404, "the trash is the site's");
}

#[test]
fn a_large_subtree_is_refused_and_a_purge_is_for_good() {
    let app = spawn_app_with(|s| s.trash.max_items = 3);
    app.create("", json!({"@type": "Folder", "id": "big", "title": "Big"}));
    for i in 0..3 {
        app.create(
            "/big",
            json!({"@type": "Document", "id": format!("d{i}"), "title": "D"}),
        );
    }
    let r = app.delete("/big", Auth::Admin);
    assert_eq!(r.status, 400);
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .contains("holds more than 3 items"),
        "{}",
        r.json()
    );
    assert_eq!(app.get("/big/d0", Auth::Admin).status, 200, "nothing was deleted");
    assert_eq!(app.delete("/big/d0", Auth::Admin).status, 204);
    let url = entries(&app, Auth::Admin)["items"][0]["@id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(app.delete(&url, Auth::Admin).status, 204);
    assert_eq!(entries(&app, Auth::Admin)["items_total"], 0);
    assert_eq!(app.get(&url, Auth::Admin).status, 404);
    // The nightly job purges what is older than the site keeps it.
    app.delete("/big/d1", Auth::Admin);
    let site = app.site();
    let now = cairn_core::jobs::now_ms();
    assert_eq!(
        cairn_core::repo::trash::purge_before(&*site.store, "plone", now - 60_000).unwrap(),
        0
    );
    assert_eq!(
        cairn_core::repo::trash::purge_before(&*site.store, "plone", now + 1).unwrap(),
        1
    );
    assert_eq!(entries(&app, Auth::Admin)["items_total"], 0);
    let schedules = app.get("/@jobs", Auth::Admin).json()["schedules"].to_string();
    assert!(schedules.contains("trash-purge"), "{schedules}");
}

#[test]
fn an_owner_is_told_only_of_what_they_could_see_but_gets_everything_back() {
    let app = spawn_app();
    app.add_user("ben", "ben-pw-1234", &["Member"]);
    let ben = Auth::Basic("ben", "ben-pw-1234");
    app.create("", json!({"@type": "Folder", "id": "area", "title": "Area"}));
    let share = json!({"entries": [{"id": "ben", "type": "user", "roles": {"Contributor": true}}]});
    assert_eq!(app.post("/area/@sharing", Auth::Admin, &share).status, 204);
    let r = app.post(
        "/area",
        ben,
        &json!({"@type": "Folder", "id": "benf", "title": "Ben's folder"}),
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    app.create(
        "/area/benf",
        json!({"@type": "Document", "id": "hidden", "title": "Admin's secret"}),
    );
    // Not inheriting ben's roles from above, the page is not his to see.
    let r = app.post(
        "/area/benf/hidden/@sharing",
        Auth::Admin,
        &json!({"inherit": false, "entries": []}),
    );
    assert_eq!(r.status, 204, "{}", String::from_utf8_lossy(&r.body));
    assert_ne!(app.get("/area/benf/hidden", ben).status, 200);
    assert_eq!(app.delete("/area/benf", ben).status, 204);
    let mine = entries(&app, ben);
    assert_eq!(mine["items"][0]["items_total"], 1, "{mine}");
    let url = mine["items"][0]["@id"].as_str().unwrap().to_owned();
    let detail = app.get(&url, ben).json().to_string();
    assert!(!detail.contains("secret") && !detail.contains("hidden"), "{detail}");
    assert_eq!(entries(&app, Auth::Admin)["items"][0]["items_total"], 2);
    assert_eq!(app.post(&format!("{url}/restore"), ben, &json!({})).status, 200);
    assert_eq!(
        app.get("/area/benf/hidden", Auth::Admin).json()["title"],
        "Admin's secret"
    );
}

#[test]
fn a_restore_whose_uid_was_taken_since_is_a_conflict() {
    let app = spawn_app();
    let d = app.create("", json!({"@type": "Document", "id": "d", "title": "D"}));
    app.delete("/d", Auth::Admin);
    // A Manager may choose a UID: the trashed page's is free in the site.
    app.create(
        "",
        json!({"@type": "Document", "id": "other", "title": "O", "UID": d["UID"]}),
    );
    let url = entries(&app, Auth::Admin)["items"][0]["@id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app.post(&format!("{url}/restore"), Auth::Admin, &json!({}));
    assert_eq!(r.status, 409, "{}", String::from_utf8_lossy(&r.body));
    assert!(r.json()["message"].as_str().unwrap().contains("UID"));
    assert_eq!(entries(&app, Auth::Admin)["items_total"], 1, "the entry stays");
}
