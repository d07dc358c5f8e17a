//! Content types through the web: the dexterity-types panel adds, changes
//! and removes types, `@types` edits their fields and fieldsets; what is
//! saved validates and serializes content at once and survives a restart.

use serde_json::json;

use crate::helpers::{Auth, spawn_app, spawn_app_with};

const EDDA: Auth<'static> = Auth::Basic("edda", "edda-pw-123");

#[test]
fn an_administrator_adds_a_type_and_authors_use_it_at_once() {
    let data = tempfile::tempdir().unwrap();
    let folder = data.path().to_path_buf();
    let app = spawn_app_with(|s| s.data = folder.clone());
    let added = app.post(
        "/@controlpanels/dexterity-types",
        Auth::Admin,
        &json!({"title": "Amtsstelle", "description": "An office of the canton"}),
    );
    assert_eq!(added.status, 201, "{}", added.json());
    assert_eq!(
        added.header("Location"),
        Some(format!("{}/@controlpanels/dexterity-types/amtsstelle", app.site).as_str())
    );
    assert_eq!(added.json()["data"]["plone.dublincore"], true);
    // Its own fields: a required e-mail with a length bound, and a choice.
    let field = app.post(
        "/@types/amtsstelle",
        Auth::Admin,
        &json!({"factory": "Email", "title": "Contact e-mail", "required": true}),
    );
    assert_eq!(field.status, 201, "{}", field.json());
    assert_eq!(field.json()["factory"], "Email");
    assert_eq!(
        app.patch(
            "/@types/amtsstelle/contact_e_mail",
            Auth::Admin,
            &json!({"maxLength": 30})
        )
        .status,
        204
    );
    let choice = app.post(
        "/@types/amtsstelle",
        Auth::Admin,
        &json!({"factory": "label_choice_field", "title": "Region", "values": ["Nord", "Süd"]}),
    );
    assert_eq!(choice.status, 201, "{}", choice.json());
    assert_eq!(choice.json()["enum"], json!(["Nord", "Süd"]));
    // Switch rich text on through the panel: the type gains `text`.
    assert_eq!(
        app.patch(
            "/@controlpanels/dexterity-types/amtsstelle",
            Auth::Admin,
            &json!({"plone.richtext": true, "title": "Office"}),
        )
        .status,
        204
    );
    let schema = app.get("/@types/amtsstelle", Auth::Admin).json();
    assert_eq!(schema["title"], "Office");
    assert!(schema["properties"]["text"].is_object());
    assert!(
        schema["required"]
            .as_array()
            .unwrap()
            .contains(&json!("contact_e_mail"))
    );
    // Content of the type is checked against the new fields at once.
    let bad = app.post(
        "",
        Auth::Admin,
        &json!({"@type": "amtsstelle", "title": "Steueramt", "contact_e_mail": "not-an-address"}),
    );
    assert_eq!(bad.status, 400, "{}", bad.json());
    let long = app.post(
        "",
        Auth::Admin,
        &json!({"@type": "amtsstelle", "title": "Steueramt", "contact_e_mail": "a-very-long-address@steueramt.example.ch"}),
    );
    assert_eq!(long.status, 400, "maxLength 30 holds: {}", long.json());
    let wrong = app.post(
        "",
        Auth::Admin,
        &json!({"@type": "amtsstelle", "title": "Steueramt", "contact_e_mail": "info@sg.ch", "region": "West"}),
    );
    assert_eq!(wrong.status, 400, "{}", wrong.json());
    let ok = app.post(
        "",
        Auth::Admin,
        &json!({"@type": "amtsstelle", "title": "Steueramt", "contact_e_mail": "info@sg.ch", "region": "Nord"}),
    );
    assert_eq!(ok.status, 201, "{}", ok.json());
    let office = app.get("/steueramt", Auth::Admin).json();
    assert_eq!(office["contact_e_mail"], "info@sg.ch");
    assert_eq!(office["region"], json!({"token": "Nord", "title": "Nord"}));
    let list = app.get("/@controlpanels/dexterity-types", Auth::Admin).json();
    let entry = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == "amtsstelle")
        .unwrap()
        .clone();
    assert_eq!(entry["count"], 1);
    assert_eq!(entry["title"], "Office");
    // A type in use cannot go; a shipped one never can.
    let refused = app.delete("/@controlpanels/dexterity-types/amtsstelle", Auth::Admin);
    assert_eq!(refused.status, 400);
    assert!(refused.json()["message"].as_str().unwrap().contains("1 objects"));
    assert_eq!(
        app.delete("/@controlpanels/dexterity-types/Document", Auth::Admin)
            .status,
        400
    );
    drop(app);

    // `cairn types export` writes it as the type file a configuration folder holds.
    let out = tempfile::tempdir().unwrap();
    let settings = cairn::Settings {
        data: folder.clone(),
        database_url: crate::helpers::postgres_url_for(&folder),
        sites: vec![serde_json::from_value(json!({"id": "plone"})).unwrap()],
        ..cairn::Settings::default()
    };
    let files = cairn::type_files::export(&settings, "plone", out.path()).unwrap();
    assert_eq!(files, [out.path().join("types").join("amtsstelle.toml")]);
    let mut sources = cairn_model::builtin::sources();
    cairn_model::builtin::add_local(&mut sources, out.path()).unwrap();
    let registry = cairn_model::TypeRegistry::build(&sources, None).unwrap();
    let exported = registry.get("amtsstelle").expect("the exported type loads");
    assert_eq!(exported.def.title, "Office");
    assert!(exported.field("contact_e_mail").unwrap().required);
    assert!(exported.field("text").is_some(), "with its behaviors");

    // After a restart the type is still there, with its fields.
    let app = spawn_app_with(|s| s.data = folder.clone());
    let office = app.get("/steueramt", Auth::Admin).json();
    assert_eq!(office["@type"], "amtsstelle");
    assert_eq!(office["contact_e_mail"], "info@sg.ch");
    assert_eq!(app.delete("/steueramt", Auth::Admin).status, 204);
    // The trash still holds the object: it counts until purged.
    let trash = app.get("/@trash", Auth::Admin).json();
    for entry in trash["items"].as_array().unwrap() {
        let id = entry["@id"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
        assert_eq!(app.delete(&format!("/@trash/{id}"), Auth::Admin).status, 204);
    }
    assert_eq!(
        app.delete("/@controlpanels/dexterity-types/amtsstelle", Auth::Admin)
            .status,
        204
    );
    assert_eq!(app.get("/@types/amtsstelle", Auth::Admin).status, 404);
}

#[test]
fn fields_and_fieldsets_of_a_shipped_type_are_edited_and_reordered() {
    let app = spawn_app();
    let post = |body: serde_json::Value| app.post("/@types/Document", Auth::Admin, &body);
    assert_eq!(
        post(json!({"factory": "fieldset", "title": "Contact Info"})).status,
        201
    );
    assert_eq!(
        post(json!({"factory": "Text line (String)", "title": "Author name"})).status,
        201
    );
    assert_eq!(post(json!({"factory": "URL", "title": "Author url"})).status, 201);
    assert_eq!(
        app.patch(
            "/@types/Document",
            Auth::Admin,
            &json!({"fieldsets": [{"id": "contact_info", "fields": ["author_url", "author_name"]}]}),
        )
        .status,
        204
    );
    let schema = app.get("/@types/Document", Auth::Admin).json();
    let tab = schema["fieldsets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "contact_info")
        .unwrap()
        .clone();
    assert_eq!(tab["fields"], json!(["author_url", "author_name"]));
    // A behavior's field cannot be edited or deleted here; unknown names are 404.
    assert_eq!(
        app.patch("/@types/Document/text", Auth::Admin, &json!({"title": "Body"}))
            .status,
        400
    );
    assert_eq!(app.delete("/@types/Document/text", Auth::Admin).status, 400);
    assert_eq!(app.delete("/@types/Document/nothing", Auth::Admin).status, 404);
    assert_eq!(
        app.post(
            "/@types/Nothing",
            Auth::Admin,
            &json!({"factory": "fieldset", "title": "X"})
        )
        .status,
        404
    );
    // Wrong input says what is wrong and changes nothing.
    for (body, what) in [
        (json!({"factory": "Teleporter", "title": "X"}), "factory"),
        (json!({"factory": "Email", "title": "Author name"}), "already"),
        (json!({"factory": "Email"}), "title"),
        (
            json!({"factory": "Integer", "title": "N", "default": "many"}),
            "default",
        ),
    ] {
        let r = post(body.clone());
        assert_eq!(r.status, 400, "{body}");
        assert!(
            r.json()["message"].as_str().unwrap().contains(what),
            "{body}: {}",
            r.json()
        );
    }
    assert!(
        app.get("/@types/Document", Auth::Admin).json()["properties"]
            .get("n")
            .is_none()
    );
    // Deleting the tab moves its fields back to the default tab.
    assert_eq!(app.delete("/@types/Document/contact_info", Auth::Admin).status, 204);
    let schema = app.get("/@types/Document", Auth::Admin).json();
    let default = &schema["fieldsets"][0];
    assert!(default["fields"].as_array().unwrap().contains(&json!("author_url")));
    assert_eq!(app.delete("/@types/Document/author_url", Auth::Admin).status, 204);
    assert!(
        app.get("/@types/Document", Auth::Admin).json()["properties"]
            .get("author_url")
            .is_none()
    );
}

#[test]
fn only_administrators_change_types() {
    let app = spawn_app();
    app.add_user("edda", "edda-pw-123", &["Editor", "Site Administrator"]);
    app.add_user("mira", "mira-pw-123", &["Editor"]);
    let mira = Auth::Basic("mira", "mira-pw-123");
    let body = json!({"factory": "fieldset", "title": "Secret"});
    assert_eq!(app.post("/@types/Document", Auth::Anonymous, &body).status, 401);
    assert_eq!(app.post("/@types/Document", mira, &body).status, 403);
    assert_eq!(app.delete("/@types/Document/title", mira).status, 403);
    assert_eq!(app.get("/@controlpanels/dexterity-types", Auth::Anonymous).status, 401);
    assert_eq!(app.get("/@controlpanels/dexterity-types", mira).status, 403);
    assert_eq!(
        app.post("/@controlpanels/dexterity-types", mira, &json!({"title": "Mine"}))
            .status,
        403
    );
    // A Site Administrator manages the site as Plone's does.
    assert_eq!(app.post("/@types/Document", EDDA, &body).status, 201);
    // Below the root there is no schema editor.
    app.create("", json!({"@type": "Folder", "id": "f", "title": "F"}));
    assert_eq!(app.post("/f/@types/Document", Auth::Admin, &body).status, 404);
}

#[test]
fn schema_edits_made_at_once_all_stay() {
    let app = spawn_app();
    std::thread::scope(|scope| {
        for i in 0..8 {
            let app = &app;
            scope.spawn(move || {
                let r = app.post(
                    "/@types/Document",
                    Auth::Admin,
                    &json!({"factory": "Integer", "title": format!("Count {i}")}),
                );
                assert_eq!(r.status, 201, "{}", r.json());
            });
        }
    });
    let schema = app.get("/@types/Document", Auth::Admin).json();
    for i in 0..8 {
        assert!(
            schema["properties"].get(format!("count_{i}")).is_some(),
            "count_{i} was lost"
        );
    }
}
