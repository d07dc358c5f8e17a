//! Working copies: an editor checks out a live page, edits the copy while
//! everyone else keeps reading the original, then checks it in or cancels;
//! walked as the editor, as a reader member and as anonymous.

use serde_json::{Value, json};

use crate::helpers::{Auth, TestApp, ids, spawn_app};

const JANA: Auth<'static> = Auth::Basic("jana", "jana-pw-123");
const MIRA: Auth<'static> = Auth::Basic("mira", "mira-pw-123");

/// A published folder `/amt` with a published page `/amt/page`; jana edits
/// in `/amt`, mira is a member without local roles.
fn site() -> TestApp {
    let app = spawn_app();
    app.add_user("jana", "jana-pw-123", &["Member"]);
    app.add_user("mira", "mira-pw-123", &["Member"]);
    app.create("", json!({"@type": "Folder", "id": "amt", "title": "Amt"}));
    app.create(
        "/amt",
        json!({"@type": "Document", "id": "page", "title": "Öffnungszeiten",
               "text": {"data": "<p>Montag geschlossen</p>", "content-type": "text/html"}}),
    );
    app.publish(&format!("{}/amt", app.site));
    app.publish(&format!("{}/amt/page", app.site));
    let r = app.post(
        "/amt/@sharing",
        Auth::Admin,
        &json!({"entries": [{"id": "jana", "type": "user", "roles": {"Editor": true, "Contributor": true}}]}),
    );
    assert_eq!(r.status, 204, "{}", String::from_utf8_lossy(&r.body));
    app
}

fn check_out(app: &TestApp, path: &str, who: Auth<'_>) -> String {
    let r = app.post(&format!("{path}/@workingcopy"), who, &json!({}));
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.header("location"), Some(format!("{}{path}", app.site).as_str()));
    let url = r.json()["@id"].as_str().unwrap().to_owned();
    url.strip_prefix(&app.site).unwrap().to_owned()
}

fn text_hits(app: &TestApp, word: &str, who: Auth<'_>) -> Vec<String> {
    app.wait_indexed();
    ids(&app.get(&format!("/@search?SearchableText={word}"), who).json())
}

#[test]
fn a_live_page_is_edited_through_its_working_copy_and_checked_in_whole() {
    let app = site();
    let before = app.get("/amt/page", Auth::Admin).json();
    let versions = app
        .get("/amt/page/@history", Auth::Admin)
        .json()
        .as_array()
        .unwrap()
        .len();

    let copy = check_out(&app, "/amt/page", JANA);
    assert_eq!(copy, "/amt/copy_of_page");
    // The pair, as the editor sees it from either end.
    let pair = app.get("/amt/page/@workingcopy", JANA).json();
    assert_eq!(pair["working_copy"]["@id"], format!("{}/amt/copy_of_page", app.site));
    assert_eq!(pair["working_copy"]["creator_name"], "jana");
    assert_eq!(pair["working_copy_of"], Value::Null);
    let wc = app.get(&copy, JANA).json();
    assert_eq!(wc["working_copy_of"]["@id"], format!("{}/amt/page", app.site));
    assert_eq!(wc["review_state"], "private");
    assert_eq!(wc["text"], before["text"]);
    let baseline = app.get("/amt/page", JANA).json();
    assert_eq!(baseline["lock"]["name"], "iterate.lock");
    assert_eq!(baseline["lock"]["stealable"], false);

    // Nobody learns of the copy without seeing it.
    for who in [Auth::Anonymous, MIRA] {
        assert_eq!(app.get(&copy, who).status, 401);
        let page = app.get("/amt/page", who).json();
        assert_eq!(
            (page["working_copy"].clone(), page["working_copy_of"].clone()),
            (Value::Null, Value::Null)
        );
        assert_eq!(
            app.get("/amt/page/@workingcopy", who).json()["working_copy"],
            Value::Null
        );
        assert!(!ids(&app.get("/amt", who).json()).contains(&"copy_of_page".to_string()));
    }

    // The original is locked against direct edits, for everyone.
    for who in [JANA, Auth::Admin] {
        let r = app.patch("/amt/page", who, &json!({"title": "Direkt"}));
        assert_eq!(r.status, 403, "{}", String::from_utf8_lossy(&r.body));
        assert!(String::from_utf8_lossy(&r.body).contains("checked out"));
        assert_eq!(app.delete("/amt/page/@lock", who).status, 403);
        assert_eq!(app.delete("/amt/page", who).status, 403);
    }
    let again = app.post("/amt/page/@workingcopy", JANA, &json!({}));
    assert_eq!(again.status, 409, "{}", String::from_utf8_lossy(&again.body));
    assert_eq!(app.post(&format!("{copy}/@workingcopy"), JANA, &json!({})).status, 400);
    // Mira may read the page but not check it out or in.
    assert_eq!(app.patch("/amt/page/@workingcopy", MIRA, &json!({})).status, 401);
    assert_eq!(
        app.post("/amt/page/@workingcopy", Auth::Anonymous, &json!({})).status,
        401
    );

    let r = app.patch(
        &copy,
        JANA,
        &json!({"title": "Neue Öffnungszeiten",
                "text": {"data": "<p>Montag Ruhetag</p>", "content-type": "text/html"}}),
    );
    assert_eq!(r.status, 204, "{}", String::from_utf8_lossy(&r.body));
    // Readers still see the original, in the page, the listing and search.
    let live = app.get("/amt/page", Auth::Anonymous).json();
    assert_eq!(live["title"], "Öffnungszeiten");
    assert!(text_hits(&app, "Ruhetag", Auth::Anonymous).is_empty());
    assert_eq!(
        app.get("/amt/page", JANA).json()["working_copy"]["title"],
        "Neue Öffnungszeiten"
    );

    // A named relation set on the copy comes along.
    let rel = json!({"items": [{"source": copy.clone(), "target": "/amt", "relation": "isPartOf"}]});
    assert_eq!(app.post("/@relations", JANA, &rel).status, 204);
    let r = app.patch(
        &format!("{copy}/@workingcopy"),
        JANA,
        &json!({"message": "Neue Zeiten ab Mai"}),
    );
    assert_eq!(r.status, 204, "{}", String::from_utf8_lossy(&r.body));
    let after = app.get("/amt/page", Auth::Anonymous).json();
    assert_eq!(after["title"], "Neue Öffnungszeiten");
    assert_eq!(after["UID"], before["UID"]);
    assert_eq!(after["review_state"], "published");
    assert_eq!(after["@id"], before["@id"]);
    assert_eq!(after["working_copy"], Value::Null);
    assert_eq!(app.get(&copy, Auth::Admin).status, 404);
    assert_eq!(app.get("/amt/page", JANA).json()["lock"]["locked"], false);
    assert_eq!(text_hits(&app, "Ruhetag", Auth::Anonymous), ["page"]);
    let history = app.get("/amt/page/@history", Auth::Admin).json();
    let history = history.as_array().unwrap();
    assert_eq!(history.len(), versions + 1);
    assert_eq!(history[0]["comments"], "Neue Zeiten ab Mai");
    let rels = app.get("/@relations?relation=isPartOf", Auth::Admin).json();
    assert_eq!(
        rels["relations"]["isPartOf"]["items"][0]["source"]["@id"],
        format!("{}/amt/page", app.site)
    );
    // Editable again, and nothing is left in the pair.
    assert_eq!(app.patch("/amt/page", JANA, &json!({"description": "ok"})).status, 204);
    assert_eq!(app.patch("/amt/page/@workingcopy", JANA, &json!({})).status, 400);
}

#[test]
fn a_folder_is_checked_in_with_its_children_and_its_copy_takes_none() {
    let app = site();
    let child = app.get("/amt/page", Auth::Admin).json();
    let copy = check_out(&app, "/amt", Auth::Admin);
    assert_eq!(copy, "/copy_of_amt");
    assert!(ids(&app.get(&copy, Auth::Admin).json()).is_empty());
    let r = app.post(
        &copy,
        Auth::Admin,
        &json!({"@type": "Document", "id": "x", "title": "X"}),
    );
    assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(
        app.patch(&copy, Auth::Admin, &json!({"title": "Amt für Umwelt"}))
            .status,
        204
    );
    assert_eq!(app.patch("/amt/@workingcopy", Auth::Admin, &json!({})).status, 204);
    let amt = app.get("/amt", Auth::Anonymous).json();
    assert_eq!(amt["title"], "Amt für Umwelt");
    assert_eq!(ids(&amt), ["page"]);
    assert_eq!(app.get("/amt/page", Auth::Anonymous).json()["UID"], child["UID"]);
}

#[test]
fn the_site_root_can_be_checked_out_and_in() {
    let app = site();
    let copy = check_out(&app, "", Auth::Admin);
    assert!(copy.starts_with("/copy_of_"), "{copy}");
    assert_eq!(app.patch(&copy, Auth::Admin, &json!({"title": "Kanton"})).status, 204);
    assert_eq!(app.get("", Auth::Anonymous).json()["working_copy"], Value::Null);
    // A type without workflow would show the copy where the root shows: it is private.
    assert_eq!(app.get(&copy, Auth::Anonymous).status, 401);
    assert!(
        !ids(&app.get("", Auth::Anonymous).json())
            .iter()
            .any(|i| i.starts_with("copy_of"))
    );
    assert_eq!(
        app.patch(&format!("{copy}/@workingcopy"), Auth::Admin, &json!({}))
            .status,
        204
    );
    let root = app.get("", Auth::Anonymous).json();
    assert_eq!(root["title"], "Kanton");
    assert_eq!(ids(&root), ["amt"]);
}

#[test]
fn cancelling_or_trashing_the_copy_releases_the_original_unchanged() {
    let app = site();
    let before = app.get("/amt/page", Auth::Admin).json();
    let copy = check_out(&app, "/amt/page", JANA);
    app.patch(&copy, JANA, &json!({"title": "Verworfen"}));
    // Mira cannot cancel what she cannot see.
    assert_eq!(app.delete("/amt/page/@workingcopy", MIRA).status, 401);
    assert_eq!(app.delete("/amt/page/@workingcopy", JANA).status, 204);
    assert_eq!(app.get(&copy, Auth::Admin).status, 404);
    let page = app.get("/amt/page", JANA).json();
    assert_eq!(
        (page["title"].clone(), page["lock"]["locked"].clone()),
        (before["title"].clone(), json!(false))
    );
    assert_eq!(page["modified"], before["modified"]);

    // A copy deleted the ordinary way goes to the trash as a plain page.
    let copy = check_out(&app, "/amt/page", JANA);
    assert_eq!(app.delete(&copy, JANA).status, 204);
    assert_eq!(app.get("/amt/page", JANA).json()["working_copy"], Value::Null);
    assert_eq!(
        app.patch("/amt/page", JANA, &json!({"description": "frei"})).status,
        204
    );
    let trash = app.get("/@trash", Auth::Admin).json();
    let url = trash["items"][0]["@id"].as_str().unwrap().to_owned();
    assert_eq!(app.post(&format!("{url}/restore"), Auth::Admin, &json!({})).status, 200);
    assert_eq!(app.get(&copy, Auth::Admin).json()["working_copy_of"], Value::Null);
    assert_eq!(app.get("/amt/page", Auth::Admin).json()["working_copy"], Value::Null);

    // A folder whose page is checked out keeps it until check-in or cancel,
    // unless the copy goes along.
    let copy = check_out(&app, "/amt/page", JANA);
    app.post(
        "/@move",
        Auth::Admin,
        &json!({"source": [format!("{}{copy}", app.site)]}),
    );
    let r = app.delete("/amt", Auth::Admin);
    assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(&r.body));
    assert!(String::from_utf8_lossy(&r.body).contains("checked out"));
}
