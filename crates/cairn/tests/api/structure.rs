//! How the tree changes over time: renames, moves and copies, redirects,
//! locks, versions and the section navigation.

use serde_json::json;

use crate::content::tiny_png;
use crate::helpers::{Auth, spawn_app};

#[test]
fn patching_the_id_renames_the_object_and_its_subtree() {
    let app = spawn_app();
    app.create("", json!({"@type": "Folder", "id": "old", "title": "Old"}));
    app.create("/old", json!({"@type": "Document", "id": "child", "title": "Child"}));
    app.create("", json!({"@type": "Document", "id": "taken", "title": "Taken"}));
    assert_eq!(app.patch("/old", Auth::Admin, &json!({"id": "taken"})).status, 400);
    assert_eq!(
        app.patch("/old", Auth::Admin, &json!({"id": "new", "title": "New"}))
            .status,
        204
    );
    assert_eq!(app.get("/old", Auth::Admin).status, 302, "the old path redirects");
    let child = app.get("/new/child", Auth::Admin).json();
    assert_eq!(child["parent"]["@id"], format!("{}/new", app.site));
    assert_eq!(child["parent"]["title"], "New");
    assert_eq!(app.get("/new", Auth::Admin).json()["items_total"], 1);
}

#[test]
fn context_navigation_shows_the_section_tree_and_marks_the_path() {
    let app = spawn_app();
    app.create("", json!({"@type": "Folder", "id": "amt", "title": "Amt"}));
    app.create("/amt", json!({"@type": "Folder", "id": "team", "title": "Team"}));
    app.create(
        "/amt/team",
        json!({"@type": "Document", "id": "leitung", "title": "Leitung"}),
    );
    app.create(
        "/amt",
        json!({"@type": "Document", "id": "kontakt", "title": "Kontakt"}),
    );
    for p in ["/amt", "/amt/team", "/amt/team/leitung"] {
        app.publish(&format!("{}{p}", app.site));
    }
    let nav = app.get("/amt/team/leitung/@contextnavigation", Auth::Anonymous).json();
    assert_eq!(nav["available"], true);
    let team = &nav["items"][0];
    assert_eq!(team["title"], "Team");
    assert_eq!(team["is_in_path"], true);
    assert_eq!(team["items"][0]["is_current"], true);
    assert_eq!(team["items"][0]["type"], "document");
    assert_eq!(
        nav["items"].as_array().unwrap().len(),
        1,
        "the private page leaked into the portlet"
    );
    let only = app
        .get(
            "/amt/team/leitung/@contextnavigation?expand.contextnavigation.currentFolderOnly=1",
            Auth::Admin,
        )
        .json();
    assert_eq!(only["items"][0]["title"], "Leitung");
    let named = app
        .get(
            "/amt/@contextnavigation?expand.contextnavigation.name=Rubrik&expand.contextnavigation.includeTop=1",
            Auth::Admin,
        )
        .json();
    assert_eq!(named["title"], "Rubrik");
    assert_eq!(named["has_custom_name"], true);
    assert_eq!(named["items"][0]["title"], "Amt");
    assert_eq!(
        app.get("/@contextnavigation", Auth::Anonymous).json()["available"],
        false,
        "the site root has no section"
    );
}

#[test]
fn locks_keep_others_from_editing_until_released_or_expired() {
    let app = spawn_app();
    app.add_user("ed", "edpassword", &["Member", "Editor"]);
    app.add_user("eva", "evapassword", &["Member", "Editor"]);
    app.create("", json!({"@type": "Document", "id": "d", "title": "D"}));
    let (ed, eva) = (Auth::Basic("ed", "edpassword"), Auth::Basic("eva", "evapassword"));
    let lock = app.post("/d/@lock", ed, &json!({})).json();
    assert_eq!(lock["locked"], true);
    let token = lock["token"].as_str().unwrap().to_string();
    let seen = app.get("/d/@lock", eva).json();
    assert_eq!(seen["creator"], "ed");
    assert!(seen.get("token").is_none(), "the token must stay with the lock holder");
    assert_eq!(app.get("/d", eva).json()["lock"]["locked"], true);
    let r = app.patch("/d", eva, &json!({"title": "x"}));
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["error"]["message"], "Resource is locked.");
    assert_eq!(app.delete("/d", eva).status, 403);
    let with_token = app.send(
        "PATCH",
        "/d",
        eva,
        Some(br#"{"title": "y"}"#),
        &[("Lock-Token", &token)],
    );
    assert_eq!(with_token.status, 204);
    assert_eq!(app.patch("/d", ed, &json!({"title": "by the holder"})).status, 204);
    assert_eq!(app.send("DELETE", "/d/@lock", eva, Some(b"{}"), &[]).status, 403);
    assert_eq!(
        app.send("DELETE", "/d/@lock", eva, Some(br#"{"force": true}"#), &[])
            .json()["locked"],
        false
    );
    // A non-stealable lock yields only to its holder or a Manager; a short one lapses.
    app.post("/d/@lock", ed, &json!({"stealable": false, "timeout": 1}));
    assert_eq!(
        app.send("DELETE", "/d/@lock", eva, Some(br#"{"force": true}"#), &[])
            .status,
        403
    );
    std::thread::sleep(std::time::Duration::from_millis(2100));
    assert_eq!(app.patch("/d", eva, &json!({"title": "after expiry"})).status, 204);
    assert_eq!(app.post("/d/@lock", Auth::Anonymous, &json!({})).status, 401);
}

#[test]
fn copy_and_move_take_whole_subtrees_and_recompute_who_sees_them() {
    let app = spawn_app();
    app.create("", json!({"@type": "Folder", "id": "pub", "title": "Public"}));
    app.publish(&format!("{}/pub", app.site));
    app.create("", json!({"@type": "Folder", "id": "src", "title": "Source"}));
    app.create("/src", json!({"@type": "Document", "id": "page", "title": "Page"}));
    app.create(
        "/src",
        json!({"@type": "Image", "id": "pic", "title": "Pic", "image": tiny_png()}),
    );
    // Copy into the same container: a copy_of_ name, a new UID, private again.
    let r = app.post("/@copy", Auth::Admin, &json!({"source": format!("{}/src", app.site)}));
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()[0]["target"], format!("{}/copy_of_src", app.site));
    let copy = app.get("/copy_of_src/page", Auth::Admin).json();
    let orig = app.get("/src/page", Auth::Admin).json();
    assert_ne!(copy["UID"], orig["UID"]);
    assert_eq!(copy["review_state"], "private");
    // Move the image into the public folder: it follows its new container.
    assert_eq!(app.get("/src/pic", Auth::Anonymous).status, 401);
    let r = app.post("/pub/@move", Auth::Admin, &json!({"source": ["/src/pic"]}));
    assert_eq!(r.json()[0]["target"], format!("{}/pub/pic", app.site));
    assert_eq!(app.get("/src/pic", Auth::Admin).status, 302, "the old path redirects");
    assert_eq!(
        app.get("/pub/pic", Auth::Anonymous).status,
        200,
        "the moved image did not take its new container's visibility"
    );
    assert_eq!(
        app.get("/pub/pic", Auth::Admin).json()["parent"]["@id"],
        format!("{}/pub", app.site)
    );
    // A folder cannot go inside itself; anonymous cannot move anything.
    assert_eq!(
        app.post("/src/@move", Auth::Admin, &json!({"source": "/src"})).status,
        400
    );
    assert_eq!(
        app.post("/pub/@move", Auth::Anonymous, &json!({"source": "/src/page"}))
            .status,
        401
    );
    assert_eq!(app.post("/pub/@copy", Auth::Admin, &json!({})).status, 400);
}

#[test]
fn old_paths_redirect_after_moves_renames_and_to_aliases() {
    let app = spawn_app();
    app.create("", json!({"@type": "Folder", "id": "alt", "title": "Alt"}));
    app.create("/alt", json!({"@type": "Document", "id": "seite", "title": "Seite"}));
    app.publish(&format!("{}/alt", app.site));
    app.publish(&format!("{}/alt/seite", app.site));
    assert_eq!(app.patch("/alt", Auth::Admin, &json!({"id": "neu"})).status, 204);
    let r = app.get(
        &format!("{}/plone/++api++/alt/seite/@breadcrumbs?x=1", app.root),
        Auth::Anonymous,
    );
    assert_eq!(r.status, 302);
    assert_eq!(
        r.header("Location"),
        Some(format!("{}/++api++/neu/seite/@breadcrumbs?x=1", app.site).as_str())
    );
    let r = app.send("PATCH", "/alt/seite", Auth::Admin, Some(br#"{"title": "x"}"#), &[]);
    assert_eq!(r.status, 307, "writes keep their method");
    // Moving again keeps the first old path working (redirects are re-pointed).
    app.create("", json!({"@type": "Folder", "id": "archiv", "title": "Archiv"}));
    app.post("/archiv/@move", Auth::Admin, &json!({"source": "/neu"}));
    assert_eq!(
        app.get("/alt", Auth::Admin).header("Location"),
        Some(format!("{}/archiv/neu", app.site).as_str())
    );
    // Manual aliases, listed on the object and site-wide, removable.
    let body = json!({"items": [{"path": "/kurz"}]});
    assert_eq!(app.post("/archiv/neu/seite/@aliases", Auth::Admin, &body).status, 204);
    assert_eq!(
        app.get("/kurz", Auth::Admin).header("Location"),
        Some(format!("{}/archiv/neu/seite", app.site).as_str())
    );
    let listed = app.get("/archiv/neu/seite/@aliases", Auth::Admin).json();
    assert_eq!(listed["items"][0]["path"], "/kurz");
    assert_eq!(listed["items"][0]["manual"], true);
    assert!(
        app.get("/@aliases?query=alt", Auth::Admin).json()["items_total"]
            .as_u64()
            .unwrap()
            >= 1
    );
    assert_eq!(
        app.post("/@aliases", Auth::Admin, &json!({"items": [{"path": "/archiv"}]}))
            .status,
        400,
        "an object's own path"
    );
    assert_eq!(
        app.send(
            "DELETE",
            "/archiv/neu/seite/@aliases",
            Auth::Admin,
            Some(body.to_string().as_bytes()),
            &[]
        )
        .status,
        204
    );
    assert_eq!(app.get("/kurz", Auth::Admin).status, 404);
    // A redirect never points anonymous readers at something private.
    app.create("", json!({"@type": "Document", "id": "geheim", "title": "G"}));
    app.patch("/geheim", Auth::Admin, &json!({"id": "geheim2"}));
    assert_eq!(app.get("/geheim", Auth::Anonymous).status, 404);
    assert_eq!(app.get("/@aliases", Auth::Anonymous).status, 401);
}

#[test]
fn the_site_aliases_filter_as_volto_asks_and_export_as_csv() {
    let app = spawn_app();
    app.create("", json!({"@type": "Document", "id": "ziel", "title": "Ziel"}));
    app.create("", json!({"@type": "Document", "id": "alt", "title": "Alt"}));
    app.patch("/alt", Auth::Admin, &json!({"id": "neu"}));
    let body = json!({"items": [
        {"path": "/kampagne", "redirect-to": "/ziel", "datetime": "2024-03-01T10:00:00"},
        {"path": "/alt-kampagne", "redirect-to": "/ziel", "datetime": "2023-05-01T10:00:00"},
    ]});
    assert_eq!(app.post("/@aliases", Auth::Admin, &body).status, 204);
    let total = |q: &str| app.get(&format!("/@aliases{q}"), Auth::Admin).json()["items_total"].clone();
    assert_eq!(total(""), 3);
    assert_eq!(
        total("?q=kampagne&b_size=99999999999"),
        2,
        "Volto's search and page size"
    );
    assert_eq!(total("?manual=true"), 2);
    assert_eq!(total("?manual=false"), 1, "the rename's redirect");
    assert_eq!(total("?manual=true&start=2024-01-01"), 1);
    assert_eq!(
        total("?manual=true&end=2023-05-01"),
        1,
        "a date alone ends with its day"
    );
    assert_eq!(total("?start=2025-01-01&end=2024-01-01"), 0);
    assert_eq!(app.get("/@aliases?start=soon", Auth::Admin).status, 400);
    assert_eq!(app.get("/@aliases?manual=maybe", Auth::Admin).status, 400);
    let csv = app.send(
        "GET",
        "/@aliases?manual=true",
        Auth::Admin,
        None,
        &[("Accept", "text/csv")],
    );
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let text = String::from_utf8(csv.body).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "old path,new path,datetime,manual");
    assert!(lines.contains(&"/kampagne,/ziel,2024-03-01T10:00:00,True"), "{text}");
    assert_eq!(
        app.send("GET", "/@aliases", Auth::Anonymous, None, &[("Accept", "text/csv")])
            .status,
        401
    );
    // What was exported can be uploaded again (bulk add).
    let upload = "old path,new path,datetime,manual\r\n/aktion,/ziel,,True\r\n/aktion-2,/ziel\r\n";
    let r = app.send(
        "POST",
        "/@aliases",
        Auth::Admin,
        Some(upload.as_bytes()),
        &[("Content-Type", "text/csv")],
    );
    assert_eq!(r.status, 204, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(total("?q=aktion"), 2);
    assert_eq!(
        app.get("/aktion-2", Auth::Admin).header("Location"),
        Some(format!("{}/ziel", app.site).as_str())
    );
    let half = app.send(
        "POST",
        "/@aliases",
        Auth::Admin,
        Some(b"/nur-alt\n"),
        &[("Content-Type", "text/csv")],
    );
    assert_eq!(half.status, 400);
}

#[test]
fn every_edit_keeps_a_version_that_can_be_shown_and_restored() {
    let app = spawn_app();
    app.create("", json!({"@type": "Document", "id": "d", "title": "First"}));
    app.patch(
        "/d",
        Auth::Admin,
        &json!({"title": "Second", "changeNote": "Typo fixed"}),
    );
    app.publish(&format!("{}/d", app.site));
    let h = app.get("/d/@history", Auth::Admin).json();
    let kinds: Vec<(&str, &str)> = h
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["type"].as_str().unwrap(), e["action"].as_str().unwrap()))
        .collect();
    assert!(
        kinds.contains(&("versioning", "Edited")) && kinds.contains(&("workflow", "publish")),
        "{kinds:?}"
    );
    assert!(kinds.contains(&("workflow", "Create")));
    let edit = h.as_array().unwrap().iter().find(|e| e["version"] == 1).unwrap();
    assert_eq!(edit["comments"], "Typo fixed");
    assert_eq!(app.get("/d/@history/0", Auth::Admin).json()["title"], "First");
    let r = app.patch("/d/@history", Auth::Admin, &json!({"version": 0}));
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["message"], "First has been reverted to revision 0.");
    let now = app.get("/d", Auth::Anonymous).json();
    assert_eq!(now["title"], "First");
    assert_eq!(
        now["review_state"], "published",
        "reverting content keeps the workflow state"
    );
    assert_eq!(app.get("/d/@history/9", Auth::Admin).status, 404);
    assert_eq!(
        app.patch("/d/@history", Auth::Anonymous, &json!({"version": 1})).status,
        401
    );
    // Types without plone.versioning (folders) keep no versions.
    app.create("", json!({"@type": "Folder", "id": "f", "title": "F"}));
    let fh = app.get("/f/@history", Auth::Admin).json();
    assert!(fh.as_array().unwrap().iter().all(|e| e["type"] == "workflow"));
}

#[test]
fn a_copy_or_move_of_several_sources_is_one_transaction() {
    let app = spawn_app();
    for (parent, id) in [
        ("", "a"),
        ("", "b"),
        ("", "t"),
        ("/a", "doc"),
        ("/b", "doc"),
        ("/a", "inner"),
    ] {
        let ty = if id == "doc" { "Document" } else { "Folder" };
        app.create(parent, json!({"@type": ty, "id": id, "title": id}));
    }
    // The second source can't go there: nothing moves, not even the first.
    let r = app.post("/t/@move", Auth::Admin, &json!({"source": ["/a/doc", "/"]}));
    assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(app.get("/a/doc", Auth::Admin).status, 200, "the first source stayed");
    assert_eq!(app.get("/t/doc", Auth::Admin).status, 404);
    // Two sources with one id: the second is renamed as Plone's paste does.
    let r = app.post("/t/@copy", Auth::Admin, &json!({"source": ["/a/doc", "/b/doc"]}));
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let targets: Vec<String> = r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["target"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        targets,
        [format!("{}/t/doc", app.site), format!("{}/t/copy_of_doc", app.site)]
    );
    // A source inside another moved one travels with it.
    let r = app.post("/t/@move", Auth::Admin, &json!({"source": ["/a", "/a/inner"]}));
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()[1]["target"], format!("{}/t/a/inner", app.site));
    assert_eq!(app.get("/t/a/inner", Auth::Admin).status, 200);
}
