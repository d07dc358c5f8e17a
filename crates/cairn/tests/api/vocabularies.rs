//! `@vocabularies`: the lists Volto's widgets read.

use serde_json::json;

use crate::helpers::{Auth, spawn_app};

#[test]
fn vocabularies_are_listed_filtered_and_batched() {
    let app = spawn_app();
    let all = app.get("/@vocabularies", Auth::Admin).json();
    assert!(
        all.as_array()
            .unwrap()
            .iter()
            .any(|v| v["title"] == "plone.app.vocabularies.WorkflowStates")
    );
    let types = app
        .get(
            "/@vocabularies/plone.app.vocabularies.ReallyUserFriendlyTypes",
            Auth::Admin,
        )
        .json();
    assert!(
        types["items"]
            .as_array()
            .unwrap()
            .contains(&json!({"title": "Page", "token": "Document"}))
    );
    let filtered = app
        .get(
            "/@vocabularies/plone.app.vocabularies.ReallyUserFriendlyTypes?title=fol",
            Auth::Admin,
        )
        .json();
    assert_eq!(filtered["items"], json!([{"title": "Folder", "token": "Folder"}]));
    let tokens = app
        .get(
            "/@vocabularies/plone.app.vocabularies.PortalTypes?tokens=Event&tokens=Link",
            Auth::Admin,
        )
        .json();
    assert_eq!(tokens["items_total"], 2);
    let page = app
        .get(
            "/@vocabularies/plone.app.vocabularies.WorkflowStates?b_size=2",
            Auth::Admin,
        )
        .json();
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert!(page["batching"]["next"].is_string());
    let every = app
        .get(
            "/@vocabularies/plone.app.vocabularies.WorkflowStates?b_size=-1",
            Auth::Admin,
        )
        .json();
    assert_eq!(
        every["items"].as_array().unwrap().len(),
        every["items_total"].as_u64().unwrap() as usize
    );
    let states = every["items"].as_array().unwrap();
    assert!(
        states
            .iter()
            .any(|s| s["token"] == "pending" && s["title"].as_str().unwrap().starts_with("Pending review"))
    );
}

#[test]
fn principal_vocabularies_are_for_managers_and_unknown_ones_are_404() {
    let app = spawn_app();
    app.add_user("jane", "janespassword", &["Member"]);
    let users = app
        .get("/@vocabularies/plone.app.vocabularies.Users", Auth::Admin)
        .json();
    assert!(users["items"].as_array().unwrap().iter().any(|u| u["token"] == "jane"));
    assert_eq!(
        app.get(
            "/@vocabularies/plone.app.vocabularies.Users",
            Auth::Basic("jane", "janespassword")
        )
        .status,
        403
    );
    assert_eq!(
        app.get("/@vocabularies/plone.app.vocabularies.Users", Auth::Anonymous)
            .status,
        403
    );
    // An editor of a folder may use them there (to share it, to fill a
    // creators field), as Plone's "Modify portal content" rule allows, and
    // nowhere else.
    app.add_user("edda", "eddas-password", &["Member"]);
    let folder = app.create("", json!({"@type": "Folder", "id": "f", "title": "F"}));
    assert_eq!(folder["@id"], format!("{}/f", app.site));
    let shared = app.post(
        "/f/@sharing",
        Auth::Admin,
        &json!({"entries": [{"id": "edda", "type": "user", "roles": {"Editor": true}}]}),
    );
    assert_eq!(shared.status, 204);
    let edda = Auth::Basic("edda", "eddas-password");
    let there = app.get("/f/@vocabularies/plone.app.vocabularies.Users", edda);
    assert_eq!(there.status, 200);
    assert!(
        there.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["token"] == "jane")
    );
    assert_eq!(
        app.get("/f/@vocabularies/plone.app.vocabularies.Groups", edda).status,
        200
    );
    assert_eq!(app.get("/@vocabularies/plone.app.vocabularies.Users", edda).status, 403);
    let r = app.get("/@vocabularies/no.such.vocabulary", Auth::Admin);
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"]["type"], "Not Found");
    let langs = app
        .get(
            "/@vocabularies/plone.app.vocabularies.SupportedContentLanguages",
            Auth::Anonymous,
        )
        .json();
    assert_eq!(langs["items"][1], json!({"title": "Deutsch", "token": "de"}));
}

#[test]
fn the_vocabularies_of_forms_and_site_setup_are_there() {
    let app = spawn_app();
    let tokens = |name: &str| -> Vec<(String, String)> {
        let r = app.get(
            &format!("/@vocabularies/plone.app.vocabularies.{name}?b_size=1000"),
            Auth::Admin,
        );
        assert_eq!(r.status, 200, "{name}: {}", String::from_utf8_lossy(&r.body));
        r.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["token"].as_str().unwrap().to_owned(),
                    t["title"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    assert_eq!(tokens("Month")[2], ("2".to_string(), "March".to_string()));
    assert_eq!(tokens("MonthAbbr")[11], ("11".to_string(), "Dec".to_string()));
    assert_eq!(tokens("WeekdaysAbbr")[0], ("0".to_string(), "Mon".to_string()));
    assert!(tokens("Behaviors").iter().any(|(t, _)| t == "plone.versioning"));
    assert!(
        tokens("MetadataFields")
            .iter()
            .any(|(t, l)| t == "review_state" && l == "Review state")
    );
    assert!(tokens("CommonTimezones").iter().any(|(t, _)| t == "Europe/Zurich"));
    assert!(
        tokens("AvailableContentLanguages")
            .iter()
            .any(|(t, l)| t == "fr" && l == "Français")
    );
}

#[test]
fn a_field_lists_its_own_choices_as_a_source() {
    let app = spawn_app();
    app.create("", json!({"@type": "Document", "id": "doc", "title": "Doc"}));
    let r = app.get("/doc/@sources/allow_discussion", Auth::Admin);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let v = r.json();
    assert_eq!(v["@id"], format!("{}/doc/@sources/allow_discussion", app.site));
    assert_eq!(
        v["items"],
        json!([{"title": "Yes", "token": "True"}, {"title": "No", "token": "False"}])
    );
    let q = app
        .get("/doc/@querysources/allow_discussion?query=ye", Auth::Admin)
        .json();
    assert_eq!(q["items"], json!([{"title": "Yes", "token": "True"}]));
    assert_eq!(q["items_total"], 1);
    let langs = app.get("/doc/@sources/language", Auth::Admin).json();
    assert_eq!(langs["items"][0]["token"], "en");
    assert_eq!(app.get("/doc/@sources/title", Auth::Admin).status, 400);
    assert_eq!(app.get("/doc/@sources/nothing", Auth::Admin).status, 404);
    assert_eq!(app.get("/doc/@querysources/allow_discussion", Auth::Admin).status, 400);
    // The document is private: its form's sources are too.
    assert_eq!(app.get("/doc/@sources/allow_discussion", Auth::Anonymous).status, 401);
}

#[test]
fn the_catalog_vocabulary_lists_what_the_reader_may_view_a_page_at_a_time() {
    let app = spawn_app();
    let public = app.create(
        "",
        json!({"@type": "Document", "id": "bericht", "title": "Budget Bericht"}),
    );
    app.publish(public["@id"].as_str().unwrap());
    app.create(
        "",
        json!({"@type": "Document", "id": "geheim", "title": "Budget Geheim"}),
    );
    app.create("", json!({"@type": "Document", "id": "other", "title": "Anderes"}));
    app.wait_indexed();
    let url = "/@vocabularies/plone.app.vocabularies.Catalog";
    let anonymous = app.get(url, Auth::Anonymous).json();
    assert_eq!(anonymous["items_total"], 1, "{anonymous}");
    assert_eq!(
        anonymous["items"][0],
        json!({"title": "Budget Bericht", "token": public["UID"]})
    );
    let found = app.get(&format!("{url}?title=budg"), Auth::Admin).json();
    let titles: Vec<&str> = found["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles.len(), 2, "{found}");
    assert!(!titles.contains(&"Anderes"));
    assert_eq!(
        app.get(&format!("{url}?title=budg"), Auth::Anonymous).json()["items_total"],
        1
    );
    // A page at a time, by title, with links to the next.
    let page = app.get(&format!("{url}?b_size=1"), Auth::Admin).json();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["title"], "Anderes");
    assert!(page["batching"]["next"].is_string(), "{page}");
    let token = app
        .get(&format!("{url}?token={}", public["UID"].as_str().unwrap()), Auth::Admin)
        .json();
    assert_eq!(token["items_total"], 1);
    let listed = app.get("/@vocabularies", Auth::Anonymous).json();
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["title"] == "plone.app.vocabularies.Catalog")
    );
}
