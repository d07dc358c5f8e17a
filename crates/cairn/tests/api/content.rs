//! Content CRUD, serialization, components and errors as a frontend sees them.

use serde_json::json;

use crate::helpers::{Auth, spawn_app};

#[test]
fn anonymous_user_sees_the_site_root_with_its_items() {
    let app = spawn_app();
    let r = app.get("", Auth::Anonymous);
    assert_eq!(r.status, 200);
    let b = r.json();
    assert_eq!(b["@type"], "Plone Site");
    assert_eq!(b["@id"], app.site);
    assert_eq!(b["items_total"], 0);
    assert_eq!(b["parent"], json!({}));
}

#[test]
fn admin_creates_a_document_with_an_id_from_its_title() {
    let app = spawn_app();
    let r = app.post("", Auth::Admin, &json!({"@type": "Document", "title": "Über uns"}));
    assert_eq!(r.status, 201);
    let b = r.json();
    assert_eq!(b["id"], "ueber-uns");
    assert_eq!(r.header("Location"), Some(format!("{}/ueber-uns", app.site).as_str()));
    assert_eq!(b["review_state"], "private");
    assert_eq!(b["creators"], json!(["admin"]));
    assert_eq!(b["type_title"], "Page");
    // A second one with the same title gets a suffix.
    let again = app.create("", json!({"@type": "Document", "title": "Über uns"}));
    assert_eq!(again["id"], "ueber-uns-1");
}

#[test]
fn anonymous_user_cannot_create_or_see_private_content() {
    let app = spawn_app();
    let r = app.post("", Auth::Anonymous, &json!({"@type": "Document", "title": "x"}));
    assert_eq!(r.status, 401);
    app.create("", json!({"@type": "Document", "id": "secret-doc", "title": "Secret"}));
    assert_eq!(app.get("/secret-doc", Auth::Anonymous).status, 401);
    let root = app.get("", Auth::Anonymous).json();
    assert_eq!(root["items_total"], 0, "private item leaked into the listing");
    assert_eq!(app.get("", Auth::Admin).json()["items_total"], 1);
    app.publish(&format!("{}/secret-doc", app.site));
    assert_eq!(app.get("/secret-doc", Auth::Anonymous).status, 200);
    assert_eq!(app.get("", Auth::Anonymous).json()["items_total"], 1);
}

#[test]
fn publishing_a_folder_with_children_makes_the_subtree_visible() {
    let app = spawn_app();
    app.create("", json!({"@type": "Folder", "id": "f", "title": "F"}));
    app.create("/f", json!({"@type": "Document", "id": "d", "title": "D"}));
    app.create(
        "/f",
        json!({"@type": "Image", "id": "i", "title": "I", "image": tiny_png()}),
    );
    assert_eq!(
        app.get("/f/i", Auth::Anonymous).status,
        401,
        "image in private folder must be hidden"
    );
    let r = app.post("/f/@workflow/publish", Auth::Admin, &json!({"include_children": true}));
    assert_eq!(r.status, 200);
    assert_eq!(app.get("/f/d", Auth::Anonymous).status, 200);
    assert_eq!(
        app.get("/f/i", Auth::Anonymous).status,
        200,
        "image without workflow follows its folder"
    );
    let wf = app.get("/f/d/@workflow", Auth::Admin).json();
    assert_eq!(wf["state"]["id"], "published");
}

#[test]
fn patch_updates_fields_and_returns_the_representation_on_request() {
    let app = spawn_app();
    app.create("", json!({"@type": "Document", "id": "doc", "title": "Old"}));
    let r = app.patch("/doc", Auth::Admin, &json!({"title": "New", "text": {"data": "<p>Hi<script>alert(1)</script></p>", "content-type": "text/html", "encoding": "utf-8"}}));
    assert_eq!(r.status, 204);
    let b = app.get("/doc", Auth::Admin).json();
    assert_eq!(b["title"], "New");
    assert_eq!(b["text"]["data"], "<p>Hi</p>", "rich text must be sanitized");
    let r = app.send(
        "PATCH",
        "/doc",
        Auth::Admin,
        Some(br#"{"description": "D"}"#),
        &[("Prefer", "return=representation")],
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["description"], "D");
}

#[test]
fn invalid_input_gets_a_clear_400_and_writes_nothing() {
    let app = spawn_app();
    let cases: Vec<(&[u8], u16, &str)> = vec![
        (b"{not json", 400, "DeserializationError"),
        (b"[1,2]", 400, "DeserializationError"),
        (br#"{"title": "no type"}"#, 400, "BadRequest"),
        (br#"{"@type": "Nope", "title": "x"}"#, 403, "Forbidden"),
        (br#"{"@type": "Document"}"#, 400, "BadRequest"),
        (br#"{"@type": "Document", "title": 42}"#, 400, "BadRequest"),
        (
            br#"{"@type": "Document", "title": "x", "id": "@@evil"}"#,
            400,
            "BadRequest",
        ),
        (
            br#"{"@type": "Document", "title": "x", "effective": "yesterday"}"#,
            400,
            "BadRequest",
        ),
    ];
    for (body, status, kind) in cases {
        let r = app.send("POST", "", Auth::Admin, Some(body), &[]);
        assert_eq!(r.status, status, "{}", String::from_utf8_lossy(body));
        let b = r.json();
        let found = b["type"]
            .as_str()
            .or(b["error"]["type"].as_str())
            .unwrap_or_default()
            .to_string();
        assert_eq!(found, kind, "{}", String::from_utf8_lossy(body));
    }
    assert_eq!(
        app.get("", Auth::Admin).json()["items_total"],
        0,
        "a failed create left data behind"
    );
}

#[test]
fn validation_errors_name_the_field_as_volto_expects() {
    let app = spawn_app();
    let r = app.post("", Auth::Admin, &json!({"@type": "Document"}));
    assert_eq!(r.status, 400);
    let message = r.json()["message"].as_str().unwrap().to_string();
    let errors: serde_json::Value = serde_json::from_str(&message).unwrap();
    assert_eq!(errors[0]["field"], "title");
    assert_eq!(errors[0]["error"], "ValidationError");
}

#[test]
fn unknown_paths_are_404_with_the_public_url() {
    let app = spawn_app();
    let r = app.get("/does/not/exist", Auth::Anonymous);
    assert_eq!(r.status, 404);
    assert_eq!(
        r.json()["message"],
        format!("Resource not found: {}/does/not/exist", app.site)
    );
    assert_eq!(app.get(&format!("{}/nosite", app.root), Auth::Anonymous).status, 404);
}

#[test]
fn oversize_bodies_are_rejected() {
    let app = crate::helpers::spawn_app_with(|s| s.limits.max_body_bytes = 1024);
    let big = vec![b' '; 4096];
    assert_eq!(app.send("POST", "", Auth::Admin, Some(&big), &[]).status, 413);
}

#[test]
fn delete_removes_the_whole_subtree() {
    let app = spawn_app();
    app.create("", json!({"@type": "Folder", "id": "f", "title": "F"}));
    app.create("/f", json!({"@type": "Document", "id": "d", "title": "D"}));
    assert_eq!(app.delete("/f", Auth::Anonymous).status, 401);
    assert_eq!(app.delete("/f", Auth::Admin).status, 204);
    assert_eq!(app.get("/f/d", Auth::Admin).status, 404);
}

#[test]
fn ordering_moves_a_child_and_rejects_stale_subsets() {
    let app = spawn_app();
    for id in ["a", "b", "c"] {
        app.create("", json!({"@type": "Document", "id": id, "title": id}));
    }
    let r = app.patch("", Auth::Admin, &json!({"ordering": {"obj_id": "c", "delta": "top"}}));
    assert_eq!(r.status, 204);
    let ids: Vec<String> = app.get("", Auth::Admin).json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["@id"].as_str().unwrap().rsplit('/').next().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["c", "a", "b"]);
    let r = app.patch(
        "",
        Auth::Admin,
        &json!({"ordering": {"obj_id": "a", "delta": 1, "subset_ids": ["a", "b", "c"]}}),
    );
    assert_eq!(r.status, 400);
}

#[test]
fn folder_items_are_batched_with_links() {
    let app = spawn_app();
    for i in 0..30 {
        app.create(
            "",
            json!({"@type": "Document", "id": format!("d{i}"), "title": format!("D {i}")}),
        );
    }
    let b = app.get("?b_size=10&b_start=10", Auth::Admin).json();
    assert_eq!(b["items"].as_array().unwrap().len(), 10);
    assert_eq!(b["items_total"], 30);
    assert!(b["batching"]["next"].as_str().unwrap().contains("b_start=20"));
    assert!(b["batching"]["prev"].as_str().unwrap().contains("b_start=0"));
    assert_eq!(app.get("?b_size=abc", Auth::Admin).status, 400);
    let full = app.get("?fullobjects=1&b_size=5", Auth::Admin).json();
    assert!(
        full["items"][0]["@components"].is_object(),
        "fullobjects gives full items"
    );
    assert!(full["items"][0].get("items").is_none(), "fullobjects never recurses");
}

#[test]
fn api_prefix_and_virtual_hosting_shape_the_ids() {
    let app = spawn_app();
    app.create("", json!({"@type": "Document", "id": "doc", "title": "D"}));
    let b = app.get(&format!("{}/plone/++api++/doc", app.root), Auth::Admin).json();
    assert_eq!(b["@id"], format!("{}/doc", app.site));
    let vhm = format!(
        "{}/VirtualHostBase/https/www.example.ch:443/plone/++api++/VirtualHostRoot/doc",
        app.root
    );
    let b = app.get(&vhm, Auth::Admin).json();
    assert_eq!(b["@id"], "https://www.example.ch/doc");
    assert_eq!(b["parent"]["@id"], "https://www.example.ch");
}

#[test]
fn components_expand_in_one_request() {
    let app = spawn_app();
    app.create("", json!({"@type": "Folder", "id": "f", "title": "F"}));
    app.create("/f", json!({"@type": "Document", "id": "d", "title": "D"}));
    let b = app
        .get(
            "/f/d?expand=breadcrumbs,navigation,actions,types,navroot,workflow&expand.navigation.depth=2",
            Auth::Admin,
        )
        .json();
    let c = &b["@components"];
    assert_eq!(c["breadcrumbs"]["items"].as_array().unwrap().len(), 2);
    assert_eq!(c["navigation"]["items"][1]["items"][0]["title"], "D");
    assert!(c["types"].as_array().unwrap().iter().any(|t| t["id"] == "Document"));
    assert_eq!(c["navroot"]["navroot"]["@type"], "Plone Site");
    assert_eq!(c["workflow"]["state"]["id"], "private");
    assert!(
        c["actions"]["object"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == "edit")
    );
    // Anonymous users get no types (Volto drops the expander for them).
    assert_eq!(app.get("/@types", Auth::Anonymous).status, 401);
}

#[test]
fn types_schema_lists_fieldsets_properties_and_required() {
    let app = spawn_app();
    let r = app.get("/@types/Document", Auth::Admin);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Content-Type"), Some("application/json+schema"));
    let s = r.json();
    assert_eq!(s["fieldsets"][0]["id"], "default");
    assert_eq!(s["properties"]["title"]["type"], "string");
    assert!(s["required"].as_array().unwrap().contains(&json!("title")));
    assert_eq!(
        app.get("/@types/Document/title", Auth::Admin).json()["factory"],
        "Text line (String)"
    );
    assert_eq!(app.get("/@types/Nope", Auth::Admin).status, 404);
}

#[test]
fn login_returns_a_token_that_authorizes_writes() {
    let app = spawn_app();
    let r = app.post(
        "/@login",
        Auth::Anonymous,
        &json!({"login": "admin", "password": "wrong"}),
    );
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"]["type"], "Invalid credentials");
    assert_eq!(app.post("/@login", Auth::Anonymous, &json!({})).status, 400);
    let token = app
        .post(
            "/@login",
            Auth::Anonymous,
            &json!({"login": "admin", "password": "secret"}),
        )
        .json()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app.post(
        "",
        Auth::Bearer(&token),
        &json!({"@type": "Document", "title": "Via token"}),
    );
    assert_eq!(r.status, 201);
    let tampered = format!("{}x", &token[..token.len() - 1]);
    assert_eq!(app.get("", Auth::Bearer(&tampered)).status, 401);
    let renewed = app.post("/@login-renew", Auth::Bearer(&token), &json!({}));
    assert_eq!(renewed.status, 200);
    assert_eq!(app.post("/@login-renew", Auth::Anonymous, &json!({})).status, 401);
}

#[test]
fn the_auth_cookie_never_authorizes_a_write() {
    let app = spawn_app();
    let token = app
        .post(
            "/@login",
            Auth::Anonymous,
            &json!({"login": "admin", "password": "secret"}),
        )
        .json()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let cookie = format!("auth_token={token}");
    app.create("", json!({"@type": "Document", "id": "p", "title": "Private"}));
    let r = app.send("GET", "/p", Auth::Anonymous, None, &[("Cookie", &cookie)]);
    assert_eq!(r.status, 200, "cookie authenticates reads");
    let r = app.send(
        "POST",
        "",
        Auth::Anonymous,
        Some(br#"{"@type":"Document","title":"csrf"}"#),
        &[("Cookie", &cookie)],
    );
    assert_eq!(r.status, 401, "cookie must not authorize writes");
}

/// A 4x3 PNG as Volto uploads it.
pub fn tiny_png() -> serde_json::Value {
    use base64::Engine;
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(image::RgbImage::new(4, 3))
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    json!({"data": base64::engine::general_purpose::STANDARD.encode(out), "encoding": "base64", "filename": "t.png", "content-type": "image/png"})
}

#[test]
fn cached_reads_see_every_write_immediately() {
    let app = spawn_app();
    app.create("", json!({"@type": "Folder", "id": "f", "title": "Before"}));
    app.publish(&format!("{}/f", app.site));
    let nav = || {
        app.get("/@navigation?expand.navigation.depth=2", Auth::Anonymous)
            .json()["items"][1]["title"]
            .clone()
    };
    assert_eq!(nav(), "Before");
    assert_eq!(app.get("/f", Auth::Anonymous).json()["title"], "Before");
    assert_eq!(app.patch("/f", Auth::Admin, &json!({"title": "After"})).status, 204);
    assert_eq!(nav(), "After");
    assert_eq!(app.get("/f", Auth::Anonymous).json()["title"], "After");
    assert_eq!(app.post("/f/@workflow/retract", Auth::Admin, &json!({})).status, 200);
    assert_eq!(
        app.get("/f", Auth::Anonymous).status,
        401,
        "a retracted folder must vanish from cached reads"
    );
    assert_eq!(
        app.get("/@navigation", Auth::Anonymous).json()["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn related_items_resolve_to_summaries_and_hide_what_the_reader_may_not_see() {
    let app = spawn_app();
    let secret = app.create("", json!({"@type": "Document", "id": "secret", "title": "Secret"}));
    let public = app.create("", json!({"@type": "Document", "id": "public", "title": "Public"}));
    app.publish(&format!("{}/public", app.site));
    let body = json!({"@type": "Document", "id": "page", "title": "Page",
        "relatedItems": [secret["UID"], format!("{}/public", app.site)]});
    app.create("", body);
    app.publish(&format!("{}/page", app.site));
    let as_admin = app.get("/page", Auth::Admin).json();
    let titles: Vec<&str> = as_admin["relatedItems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Secret", "Public"]);
    let as_anon = app.get("/page", Auth::Anonymous).json();
    assert_eq!(
        as_anon["relatedItems"].as_array().unwrap().len(),
        1,
        "a private relation target leaked"
    );
    assert_eq!(as_anon["relatedItems"][0]["@id"], public["@id"]);
    let r = app.post(
        "",
        Auth::Admin,
        &json!({"@type": "Document", "title": "x", "relatedItems": ["0123456789abcdef0123456789abcdef"]}),
    );
    assert_eq!(r.status, 400, "a relation to a missing object is a validation error");
}

#[test]
fn folder_items_from_stored_summaries_match_search_summaries() {
    let app = crate::helpers::spawn_app();
    app.create("", serde_json::json!({"@type": "Folder", "id": "f", "title": "F"}));
    for i in 0..3 {
        app.create(
            "/f",
            serde_json::json!({"@type": "Document", "id": format!("d{i}"), "title": format!("Seite {i}"),
                "description": "Kurz", "subjects": ["Steuern"],
                "text": {"data": "<p>lang</p>", "content-type": "text/html"}}),
        );
    }
    let auth = crate::helpers::Auth::Admin;
    let folder = app.get("/f?metadata_fields=_all", auth).json();
    let search = app
        .get(
            "/@search?path.query=/plone/f&path.depth=1&sort_on=getObjPositionInParent&metadata_fields=_all",
            auth,
        )
        .json();
    assert_eq!(
        folder["items"], search["items"],
        "a listing shows what the catalog shows"
    );
    assert!(folder["items"][0].get("text").is_none(), "no text in a summary");
}
