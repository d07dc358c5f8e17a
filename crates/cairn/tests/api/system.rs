//! Site Setup's facts: `@system`, `@database`, `@upgrade` and `@addons`
//! answer administrators with what is true of this cairn and site, and
//! nobody else.

use serde_json::{Value, json};

use crate::helpers::{Auth, spawn_app};

#[test]
fn administrators_see_what_runs_and_how_big_it_is() {
    let app = spawn_app();
    app.add_user("mira", "mira-pw-123", &["Member"]);
    app.create("", json!({"@type": "Document", "id": "a", "title": "A"}));
    let system = app.get("/@system", Auth::Admin).json();
    assert_eq!(system["cairn_version"], env!("CARGO_PKG_VERSION"));
    let engine = if crate::helpers::on_postgres() {
        "PostgreSQL "
    } else {
        "SQLite 3."
    };
    assert!(system["database"].as_str().unwrap().starts_with(engine), "{system}");
    assert_eq!(
        system["plone_gs_metadata_version_installed"],
        system["plone_gs_metadata_version_file_system"]
    );
    let db = app.get("/@database", Auth::Admin).json();
    let objects = db["objects"].as_u64().unwrap();
    assert!(db["db_size"].as_u64().unwrap() > 0);
    app.create("", json!({"@type": "Document", "id": "b", "title": "B"}));
    assert_eq!(app.get("/@database", Auth::Admin).json()["objects"], objects + 1);
    let addons = app.get("/@addons", Auth::Admin).json();
    let installed: Vec<&Value> = addons["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["is_installed"] == true)
        .collect();
    assert_eq!(installed.len(), 1);
    assert_eq!(installed[0]["id"], "plone.app.contenttypes");
    assert_eq!(
        app.post("/@addons/plone.volto/install", Auth::Admin, &json!({})).status,
        400
    );
    for service in ["/@system", "/@database", "/@upgrade", "/@addons"] {
        assert_eq!(app.get(service, Auth::Anonymous).status, 401, "{service}");
        assert_eq!(
            app.get(service, Auth::Basic("mira", "mira-pw-123")).status,
            403,
            "{service}"
        );
    }
}

#[test]
fn a_pending_pass_over_old_content_is_an_upgrade_step_until_it_ran() {
    let app = spawn_app();
    let site = app.site();
    let up_to_date = || {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while app.get("/@upgrade", Auth::Admin).json()["upgrade_steps"] != json!({}) {
            assert!(std::time::Instant::now() < deadline, "the steps never ran");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    };
    // A new site's first start has its passes queued: wait for them.
    up_to_date();
    // As if an older cairn had stored the content: its links were never recorded.
    site.store.put_setting("plone", "links.planned", &Value::Null).unwrap();
    let up = app.get("/@upgrade", Auth::Admin).json();
    let steps = up["upgrade_steps"].as_object().unwrap();
    let listed: Vec<&str> = steps
        .values()
        .flat_map(|l| l.as_array().unwrap())
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["links.plan"]);
    assert_eq!(app.get("/@system", Auth::Admin).json()["upgrade"], true);
    let dry = app.post("/@upgrade", Auth::Admin, &json!({"dry_run": true})).json();
    assert_eq!(dry["upgraded"], false);
    assert!(dry["report"].as_str().unwrap().contains("Would queue"), "{dry}");
    let run = app.post("/@upgrade", Auth::Admin, &json!({"dry_run": false})).json();
    assert_eq!(run["upgraded"], true);
    up_to_date();
    assert_eq!(app.get("/@system", Auth::Admin).json()["upgrade"], false);
}
