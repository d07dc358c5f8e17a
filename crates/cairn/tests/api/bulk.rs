//! The bulk loader (imports, the benchmark's generator): what it stores is
//! what single creates and transitions through the API store, written a
//! batch per transaction, and the server reads and searches it as usual.

use cairn_core::Principal;
use cairn_core::repo::bulk::Loader;
use cairn_model::ContentPath;
use serde_json::{Map, Value, json};

use crate::helpers::{Auth, TestApp, ids, spawn_app};

fn admin() -> Principal {
    Principal {
        id: Some("admin".into()),
        fullname: "Administrator".into(),
        roles: vec!["Manager".into()],
        groups: Vec::new(),
    }
}

fn body(v: Value) -> Map<String, Value> {
    v.as_object().cloned().expect("an object")
}

fn path(p: &str) -> ContentPath {
    ContentPath::parse(p).expect("a path")
}

fn page(title: &str) -> Map<String, Value> {
    body(json!({
        "@type": "Document", "title": title, "description": "Beschreibung",
        "subjects": ["Steuern"], "language": "de",
        "text": {"data": "<p>Ein Wegweiser zur Quellensteuer</p>", "content-type": "text/html"},
    }))
}

/// The keys a reader compares between a loaded and a created page.
fn shape(app: &TestApp, url: &str) -> Value {
    let v = app.get(url, Auth::Admin).json();
    let keys = [
        "@type",
        "title",
        "description",
        "subjects",
        "language",
        "text",
        "review_state",
        "creators",
        "layout",
        "is_folderish",
        "exclude_from_nav",
        "version",
    ];
    Value::Object(keys.iter().map(|k| (k.to_string(), v[*k].clone())).collect())
}

#[test]
fn a_loaded_page_equals_one_created_and_published_through_the_api() {
    let app = spawn_app();
    app.create("", json!({"@type": "Folder", "id": "api", "title": "API"}));
    app.create("", json!({"@type": "Folder", "id": "bulk", "title": "Bulk"}));
    let created = app.create("/api", Value::Object(page("Quellensteuer")));
    let url = created["@id"].as_str().unwrap().to_string();
    app.publish(&url);

    let site = app.site();
    let mut loader = Loader::new(&site, admin(), 100);
    let loaded = loader
        .add(&path("/bulk"), &page("Quellensteuer"), Some("publish"))
        .unwrap();
    assert_eq!(loader.finish().unwrap(), 1);
    assert_eq!(loaded.as_str(), "/bulk/quellensteuer");

    let loaded_url = format!("{}{loaded}", app.site);
    assert_eq!(shape(&app, &loaded_url), shape(&app, &url));
    assert_eq!(shape(&app, &loaded_url)["review_state"], "published");
    // Readable anonymously, with a first-publication date, one kept version
    // and the publish step in the review history, as after the API calls.
    let anon = app.get(&loaded_url, Auth::Anonymous);
    assert_eq!(anon.status, 200);
    assert!(anon.json()["effective"].is_string());
    let history = app.get(&format!("{loaded_url}/@history"), Auth::Admin).json();
    let api_history = app.get(&format!("{url}/@history"), Auth::Admin).json();
    // The same entries; their order within one second is not kept (times
    // have whole seconds), and the API calls may span two.
    let kinds = |h: &Value| -> Vec<String> {
        let mut kinds: Vec<String> = h
            .as_array()
            .unwrap()
            .iter()
            .map(|e| format!("{} {}", e["type"].as_str().unwrap(), e["action"].as_str().unwrap_or("")))
            .collect();
        kinds.sort();
        kinds
    };
    assert_eq!(kinds(&history), kinds(&api_history));
    assert!(kinds(&history).contains(&"workflow publish".to_string()), "{history}");
}

#[test]
fn ids_positions_and_visibility_follow_the_rules_across_batches() {
    let app = spawn_app();
    app.create("", json!({"@type": "Folder", "id": "x", "title": "X"}));
    // Already stored: the loader must not give its id out again.
    app.create("/x", Value::Object(page("Same")));
    let site = app.site();
    // Three objects per transaction, so the load spans several.
    let mut loader = Loader::new(&site, admin(), 3);
    let folder = loader
        .add(
            &path("/x"),
            &body(json!({"@type": "Folder", "title": "Sub"})),
            Some("publish"),
        )
        .unwrap();
    let mut loaded = Vec::new();
    for i in 0..7 {
        let publish = (i % 2 == 0).then_some("publish");
        loaded.push(loader.add(&folder, &page("Same"), publish).unwrap());
        loaded.push(loader.add(&path("/x"), &page("Same"), None).unwrap());
    }
    assert_eq!(loader.finish().unwrap(), 15);

    let ids = |url: &str| ids(&app.get(&format!("{}{url}?b_size=100", app.site), Auth::Admin).json());
    // Positions follow the order of loading, after what was there.
    assert_eq!(
        ids("/x"),
        [
            "same", "sub", "same-1", "same-2", "same-3", "same-4", "same-5", "same-6", "same-7"
        ]
    );
    assert_eq!(
        ids("/x/sub"),
        ["same", "same-1", "same-2", "same-3", "same-4", "same-5", "same-6"]
    );
    // Anonymous readers get the published pages only, in listings too.
    for (i, p) in loaded.iter().enumerate() {
        let published = p.as_str().starts_with("/x/sub/") && (i / 2) % 2 == 0;
        let status = app.get(&format!("{}{p}", app.site), Auth::Anonymous).status;
        assert_eq!(status == 200, published, "{p}: {status}");
    }
    let anon = app.get(&format!("{}/x/sub", app.site), Auth::Anonymous).json();
    assert_eq!(anon["items_total"], 4);
    // Found by full text like anything written through the API.
    let hits = app.get(
        &format!("{}/@search?SearchableText=Quellensteuer", app.site),
        Auth::Admin,
    );
    assert_eq!(hits.json()["items_total"], 15);
}

#[test]
fn what_a_single_create_refuses_the_loader_refuses_and_keeps_the_rest() {
    let app = spawn_app();
    app.create("", json!({"@type": "Folder", "id": "x", "title": "X"}));
    app.add_user("jane", "secret-jane", &["Member"]);
    let site = app.site();
    let mut loader = Loader::new(&site, admin(), 100);
    loader.add(&path("/x"), &page("Kept"), None).unwrap();
    let unknown = loader.add(&path("/x"), &body(json!({"@type": "Nope", "title": "N"})), None);
    assert!(unknown.is_err());
    let bad_field = loader.add(&path("/x"), &body(json!({"@type": "Document", "title": 5})), None);
    assert!(bad_field.is_err());
    let bad_transition = loader.add(&path("/x"), &page("Retracted"), Some("retract"));
    assert!(bad_transition.is_err());
    assert!(loader.add(&path("/nowhere"), &page("Lost"), None).is_err());
    assert_eq!(loader.finish().unwrap(), 1);
    assert_eq!(app.get(&format!("{}/x/kept", app.site), Auth::Admin).status, 200);
    assert_eq!(app.get(&format!("{}/x/retracted", app.site), Auth::Admin).status, 404);

    // A member without the right to add in /x is refused, as over HTTP.
    let jane = Principal {
        id: Some("jane".into()),
        fullname: "jane".into(),
        roles: vec!["Member".into()],
        groups: Vec::new(),
    };
    let mut loader = Loader::new(&site, jane, 100);
    assert!(loader.add(&path("/x"), &page("Hers"), None).is_err());
    assert_eq!(loader.finish().unwrap(), 0);
}

/// A file of `bytes` as an upload in a create body.
fn upload(bytes: &[u8], name: &str) -> Value {
    use base64::Engine;
    let data = base64::engine::general_purpose::STANDARD.encode(bytes);
    json!({"data": data, "encoding": "base64", "filename": name, "content-type": "text/plain"})
}

#[test]
fn uploads_are_kept_with_their_batch_and_a_refused_object_leaves_none_behind() {
    let app = spawn_app();
    app.create("", json!({"@type": "Folder", "id": "x", "title": "X"}));
    let before = app.blob_files();
    let site = app.site();
    let mut loader = Loader::new(&site, admin(), 100);
    let file = body(json!({"@type": "File", "title": "Merkblatt", "file": upload(b"Merkblatt Steuern", "m.txt")}));
    let loaded = loader.add(&path("/x"), &file, None).unwrap();
    // Valid upload, invalid dates: refused after its blob was stored.
    let refused = body(json!({
        "@type": "File", "title": "Bad", "file": upload(b"never referenced", "b.txt"),
        "effective": "2030-01-01T00:00:00+00:00", "expires": "2020-01-01T00:00:00+00:00",
    }));
    assert!(loader.add(&path("/x"), &refused, None).is_err());
    assert_eq!(loader.finish().unwrap(), 1);

    let download = app.get(&format!("{}{loaded}/@@download/file", app.site), Auth::Admin);
    assert_eq!(download.status, 200);
    assert_eq!(download.body, b"Merkblatt Steuern");
    let added: Vec<String> = app.blob_files().difference(&before).cloned().collect();
    assert_eq!(added.len(), 1, "only the loaded file's blob is new: {added:?}");
}
