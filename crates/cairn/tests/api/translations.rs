//! Translations on a multilingual site: items linked into a translation
//! group (one per language), listed as each reader may see them, created as
//! `translation_of` another, and the folder a translation belongs in.

use serde_json::{Value, json};

use crate::helpers::{Auth, TestApp, spawn_app, spawn_app_with};

const MIRA: Auth<'static> = Auth::Basic("mira", "mira-pw-123");

fn uid(app: &TestApp, path: &str) -> String {
    app.get(path, Auth::Admin).json()["UID"].as_str().unwrap().to_owned()
}

/// A site in English and German: cairn makes the language root folders
/// `/en` and `/de`; each gets a published page.
fn bilingual() -> TestApp {
    let app = spawn_app_with(|s| s.sites[0].multilingual = true);
    app.add_user("mira", "mira-pw-123", &["Member"]);
    for (folder, page, lang) in [("en", "page", "en"), ("de", "seite", "de")] {
        app.create(
            &format!("/{folder}"),
            json!({"@type": "Document", "id": page, "title": page, "language": lang}),
        );
        app.publish(&format!("{}/{folder}/{page}", app.site));
    }
    app
}

#[test]
fn each_language_has_its_root_folder_where_navigation_starts() {
    let app = bilingual();
    let de = app.get("/de", Auth::Anonymous).json();
    assert_eq!(
        (de["@type"].as_str(), de["title"].as_str()),
        (Some("LRF"), Some("Deutsch"))
    );
    assert_eq!(de["type_title"], "Language Root Folder");
    // The roots are translations of each other.
    let roots = app.get("/de/@translations", Auth::Anonymous).json();
    assert_eq!(listed(&roots), [(format!("{}/en", app.site), "en".to_string())]);
    // Below a language root, navigation, breadcrumbs and @navroot start there.
    app.create(
        "/de",
        json!({"@type": "Folder", "id": "amt", "title": "Amt", "language": "de"}),
    );
    app.publish(&format!("{}/de/amt", app.site));
    let nav = app.get("/de/seite/@navigation", Auth::Anonymous).json();
    let titles: Vec<&str> = nav["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Home", "seite", "Amt"]);
    assert_eq!(nav["items"][0]["@id"], format!("{}/de", app.site));
    let crumbs = app.get("/de/amt/@breadcrumbs", Auth::Anonymous).json();
    assert_eq!(crumbs["root"], format!("{}/de", app.site));
    assert_eq!(
        crumbs["items"],
        json!([{"@id": format!("{}/de/amt", app.site), "title": "Amt"}])
    );
    let navroot = app.get("/de/amt/@navroot", Auth::Anonymous).json();
    assert_eq!(navroot["navroot"]["@id"], format!("{}/de", app.site));
    // At the top, the site's own navigation lists the language roots once
    // the Navigation panel shows their type.
    let types = json!({"plone.displayed_types": ["LRF", "Folder", "Document"]});
    assert_eq!(app.patch("/@registry", Auth::Admin, &types).status, 204);
    let top = app.get("/@navigation", Auth::Anonymous).json();
    let titles: Vec<&str> = top["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Home", "English", "Deutsch"]);
    // Search per language, as Volto asks on a multilingual site.
    let german = app
        .get("/@search?portal_type=Document&Language=de", Auth::Anonymous)
        .json();
    assert_eq!(crate::helpers::ids(&german), ["seite"]);
    // Nobody adds another by hand.
    let r = app.post(
        "",
        Auth::Admin,
        &json!({"@type": "LRF", "id": "fr", "title": "Français"}),
    );
    assert_eq!(r.status, 403, "{}", String::from_utf8_lossy(&r.body));
}

fn listed(v: &Value) -> Vec<(String, String)> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["@id"].as_str().unwrap().to_owned(),
                i["language"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn items_are_linked_listed_and_unlinked_as_translations() {
    let app = bilingual();
    assert_eq!(
        app.get("/@site", Auth::Anonymous).json()["features"]["multilingual"],
        true
    );
    let r = app.post(
        "/en/page/@translations",
        Auth::Admin,
        &json!({"id": format!("{}/de/seite", app.site)}),
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.header("location"), Some(format!("{}/en/page", app.site).as_str()));
    let list = app.get("/en/page/@translations", Auth::Anonymous).json();
    assert_eq!(listed(&list), [(format!("{}/de/seite", app.site), "de".to_string())]);
    assert_eq!(list["root"]["de"], format!("{}/de", app.site));
    let back = app.get("/de/seite/@translations", Auth::Anonymous).json();
    assert_eq!(listed(&back), [(format!("{}/en/page", app.site), "en".to_string())]);
    // The expander gives the same in the content GET.
    let page = app.get("/en/page?expand=translations", Auth::Anonymous).json();
    assert_eq!(listed(&page["@components"]["translations"]), listed(&list));

    // One translation per language; each item needs a language of its own.
    app.create(
        "/de",
        json!({"@type": "Document", "id": "zweite", "title": "Zweite", "language": "de"}),
    );
    let second = app.post("/en/page/@translations", Auth::Admin, &json!({"id": "/de/zweite"}));
    assert_eq!(second.status, 400, "{}", String::from_utf8_lossy(&second.body));
    assert_eq!(
        app.post("/en/page/@translations", Auth::Admin, &json!({"id": "/en/page"}))
            .status,
        400
    );
    // Only who may edit both links them.
    assert_eq!(
        app.post("/en/page/@translations", Auth::Anonymous, &json!({"id": "/de/zweite"}))
            .status,
        401
    );
    assert_eq!(
        app.post("/en/page/@translations", MIRA, &json!({"id": "/de/seite"}))
            .status,
        403
    );
    // A private target is as unknown to her as to anyone who may not see it.
    assert_eq!(
        app.post("/en/page/@translations", MIRA, &json!({"id": "/de/zweite"}))
            .status,
        401
    );

    let r = app.send(
        "DELETE",
        "/en/page/@translations",
        Auth::Admin,
        Some(br#"{"language": "de"}"#),
        &[],
    );
    assert_eq!(r.status, 204, "{}", String::from_utf8_lossy(&r.body));
    assert!(listed(&app.get("/en/page/@translations", Auth::Admin).json()).is_empty());
    assert!(listed(&app.get("/de/seite/@translations", Auth::Admin).json()).is_empty());
}

#[test]
fn a_translation_is_created_as_one_and_hidden_from_who_may_not_see_it() {
    let app = bilingual();
    let original = uid(&app, "/en/page");
    let r = app.post(
        "/de",
        Auth::Admin,
        &json!({"@type": "Document", "id": "neu", "title": "Neu", "language": "de", "translation_of": original}),
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(
        listed(&app.get("/en/page/@translations", Auth::Admin).json()),
        [(format!("{}/de/neu", app.site), "de".to_string())]
    );
    // The German page is private: anonymous readers of the English one see none.
    assert!(listed(&app.get("/en/page/@translations", Auth::Anonymous).json()).is_empty());
    // A second German translation, or one in the same language, is refused.
    for body in [
        json!({"@type": "Document", "title": "Noch eine", "language": "de", "translation_of": original}),
        json!({"@type": "Document", "title": "Same", "language": "en", "translation_of": original}),
    ] {
        assert_eq!(app.post("/de", Auth::Admin, &body).status, 400, "{body}");
    }
    // Volto names the original by its path, others by URL: both work as the UID does.
    app.create("/en", json!({"@type": "Document", "id": "zwei", "title": "Zwei"}));
    let by_path = app.post(
        "/de",
        Auth::Admin,
        &json!({"@type": "Document", "title": "Zwei DE", "language": "de", "translation_of": "/en/zwei"}),
    );
    assert_eq!(by_path.status, 201, "{}", String::from_utf8_lossy(&by_path.body));
    app.create("/en", json!({"@type": "Document", "id": "drei", "title": "Drei"}));
    let url = format!("{}/en/drei", app.site);
    let by_url = app.post(
        "/de",
        Auth::Admin,
        &json!({"@type": "Document", "title": "Drei DE", "language": "de", "translation_of": url}),
    );
    assert_eq!(by_url.status, 201, "{}", String::from_utf8_lossy(&by_url.body));
    assert_eq!(listed(&app.get("/en/drei/@translations", Auth::Admin).json()).len(), 1);
    let nowhere = app.post(
        "/de",
        Auth::Admin,
        &json!({"@type": "Document", "title": "X", "language": "de", "translation_of": "/en/nothing"}),
    );
    assert_eq!(nowhere.status, 400);
    // A copy is no translation.
    app.post(
        "/en/@copy",
        Auth::Admin,
        &json!({"source": format!("{}/en/page", app.site)}),
    );
    assert!(listed(&app.get("/en/copy_of_page/@translations", Auth::Admin).json()).is_empty());
}

#[test]
fn the_locator_names_the_folder_a_translation_belongs_in() {
    let app = bilingual();
    app.create(
        "/en",
        json!({"@type": "Folder", "id": "sub", "title": "Sub", "language": "en"}),
    );
    app.create(
        "/en/sub",
        json!({"@type": "Document", "id": "deep", "title": "Deep", "language": "en"}),
    );
    let locate = |path: &str| {
        app.get(&format!("{path}/@translation-locator?target_language=de"), Auth::Admin)
            .json()["@id"]
            .clone()
    };
    assert_eq!(locate("/en/page"), format!("{}/de", app.site));
    // Once the folder has a German translation, that is where a page goes.
    let unter = json!({"@type": "Folder", "id": "unter", "title": "Unter", "language": "de", "translation_of": uid(&app, "/en/sub")});
    assert_eq!(app.post("/de", Auth::Admin, &unter).status, 201);
    assert_eq!(locate("/en/sub/deep"), format!("{}/de/unter", app.site));
    assert_eq!(
        app.get("/en/page/@translation-locator?target_language=xx", Auth::Admin)
            .status,
        400
    );
}

#[test]
fn a_site_that_is_not_multilingual_has_no_translations() {
    let app = spawn_app();
    app.create(
        "",
        json!({"@type": "Document", "id": "a", "title": "A", "language": "en"}),
    );
    assert_eq!(app.get("/a/@translations", Auth::Admin).status, 404);
    assert!(
        app.get("/a", Auth::Admin).json()["@components"]
            .get("translations")
            .is_none()
    );
    let r = app.post(
        "",
        Auth::Admin,
        &json!({"@type": "Document", "title": "B", "language": "de", "translation_of": uid(&app, "/a")}),
    );
    assert_eq!(r.status, 400);
}
