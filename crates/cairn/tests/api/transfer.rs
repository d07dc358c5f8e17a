//! `cairn export` / `cairn import`: a site with content, history, trash,
//! redirects, relations, local roles, workflow states, users, groups and a
//! blob goes into another database (PostgreSQL when the tests have one,
//! else a second SQLite file) without loss: exported again from there,
//! every record is the same, and the moved site answers as the first did.

use std::path::Path;

use base64::Engine;
use serde_json::{Value, json};

use crate::helpers::{Auth, TestApp, shared_postgres, spawn_app, spawn_app_with};

fn fill(app: &TestApp) {
    app.create("", json!({"@type": "Folder", "id": "amt", "title": "Amt für Umwelt"}));
    let a = app.create(
        "/amt",
        json!({"@type": "Document", "id": "a", "title": "Gewässer", "subjects": ["Wasser"]}),
    );
    app.create(
        "/amt",
        json!({"@type": "Document", "id": "b", "title": "Luft", "relatedItems": [a["UID"]]}),
    );
    let png = {
        let mut out = Vec::new();
        image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(40, 20, image::Rgb([200, 30, 30])))
            .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap();
        base64::engine::general_purpose::STANDARD.encode(out)
    };
    app.create(
        "/amt",
        json!({"@type": "Image", "id": "karte", "title": "Karte",
               "image": {"data": png, "encoding": "base64", "filename": "karte.png", "content-type": "image/png"}}),
    );
    // History: two edits; a workflow state; a rename (a redirect).
    for title in ["Gewässer 2026", "Gewässerschutz"] {
        assert_eq!(app.patch("/amt/a", Auth::Admin, &json!({"title": title})).status, 204);
    }
    app.publish(&format!("{}/amt", app.site));
    app.publish(&format!("{}/amt/a", app.site));
    let r = app.post(
        "/@move",
        Auth::Admin,
        &json!({"source": [format!("{}/amt/b", app.site)]}),
    );
    assert!(r.status < 300, "{}", String::from_utf8_lossy(&r.body));
    // Trash, a user with a local role, a group with a member.
    app.create("", json!({"@type": "Document", "id": "alt", "title": "Alt"}));
    assert_eq!(app.delete("/alt", Auth::Admin).status, 204);
    app.add_user("jana", "jana-pw-123", &["Member"]);
    let grant = json!({"entries": [{"id": "jana", "type": "user", "roles": {"Editor": true}}]});
    assert_eq!(app.post("/amt/@sharing", Auth::Admin, &grant).status, 204);
    let group = json!({"groupname": "redaktion", "title": "Redaktion", "users": ["jana"]});
    assert_eq!(app.post("/@groups", Auth::Admin, &group).status, 201);
}

/// Every record file of an export, its lines sorted, trash ids left out
/// (a database numbers its own).
fn records(dir: &Path) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let site = dir.join("sites").join("plone");
    let mut names: Vec<_> = std::fs::read_dir(&site)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    for name in names {
        let text = std::fs::read_to_string(site.join(&name)).unwrap();
        let mut lines: Vec<String> = text
            .lines()
            .map(|l| {
                let mut v: Value = serde_json::from_str(l).unwrap();
                if name == "trash.jsonl" {
                    v.as_object_mut().unwrap().remove("id");
                }
                v.to_string()
            })
            .collect();
        lines.sort();
        out.push((name.to_string_lossy().into_owned(), lines));
    }
    out
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to.join(entry.file_name()));
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

/// The answer of `path` (status, redirect target, body) with the server's
/// own address taken out.
fn answer(app: &TestApp, path: &str) -> String {
    let r = app.get(path, Auth::Admin);
    format!(
        "{} {} {}",
        r.status,
        r.header("location").unwrap_or_default(),
        String::from_utf8_lossy(&r.body)
    )
    .replace(&app.root, "")
}

#[test]
fn a_site_moves_to_another_database_without_loss() {
    let source = spawn_app();
    fill(&source);
    let site = source.site();
    let first = tempfile::tempdir().unwrap();
    let exported = first.path().join("export");
    let from = cairn_core::transfer::Installation {
        store: &*site.store,
        principals: &*site.principals,
        blobs: &*site.blobs,
    };
    let manifest = cairn_core::transfer::export(&from, &["plone".into()], &exported, |_, _| {}).unwrap();
    let counts = &manifest.sites[0];
    assert!(
        counts.objects >= 5 && counts.versions >= 3 && counts.trash == 1,
        "{counts:?}"
    );
    assert!(counts.redirects >= 1 && counts.links >= 1 && counts.users >= 2 && counts.groups >= 1);
    assert!(manifest.blobs >= 1, "{manifest:?}");

    // Into a new installation: PostgreSQL when there is one.
    let target = tempfile::tempdir().unwrap();
    let url = shared_postgres();
    let mut settings = cairn::Settings {
        data: target.path().to_path_buf(),
        database_url: url.clone(),
        ..cairn::Settings::default()
    };
    settings.sites = vec![serde_json::from_value(json!({"id": "plone"})).unwrap()];
    // A damaged export (its last file cut off mid-record) is refused whole:
    // nothing of it is written, so the good one imports afterwards.
    let damaged = first.path().join("damaged");
    copy_dir(&exported, &damaged);
    let groups = damaged.join("sites").join("plone").join("groups.jsonl");
    let bytes = std::fs::read(&groups).unwrap();
    std::fs::write(&groups, &bytes[..bytes.len() - 10]).unwrap();
    let refused = cairn::transfer::import(&settings, &damaged, |_, _| {}).unwrap_err();
    assert!(format!("{refused:#}").contains("groups.jsonl line"), "{refused:#}");
    let imported = cairn::transfer::import(&settings, &exported, |_, _| {}).unwrap();
    assert_eq!(imported, manifest);
    // Importing again into a site that has content is refused.
    let again = cairn::transfer::import(&settings, &exported, |_, _| {}).unwrap_err();
    assert!(format!("{again:#}").contains("already has"), "{again:#}");

    let second = first.path().join("again");
    let round = cairn::transfer::export(&settings, &second, |_, _| {}).unwrap();
    assert_eq!(round.sites, manifest.sites);
    assert_eq!(records(&second), records(&exported), "every record survives the trip");
    for entry in std::fs::read_dir(exported.join("blobs")).unwrap() {
        let entry = entry.unwrap();
        let copy = std::fs::read(second.join("blobs").join(entry.file_name())).unwrap();
        assert_eq!(copy, std::fs::read(entry.path()).unwrap(), "blob bytes survive");
    }

    // The moved site answers as the first did.
    let moved = spawn_app_with(|s| {
        s.data = target.path().to_path_buf();
        s.database_url = url.clone();
    });
    for path in [
        "/amt",
        "/amt/a",
        "/amt/a/@history",
        "/b",
        "/amt/b",
        "/amt/karte",
        "/@groups/redaktion",
        "/amt/@sharing",
        "/@trash",
    ] {
        assert_eq!(answer(&moved, path), answer(&source, path), "{path}");
    }
    let png = moved.get("/amt/karte/@@images/image", Auth::Anonymous);
    assert_eq!(png.status, 200);
    assert_eq!(png.body, source.get("/amt/karte/@@images/image", Auth::Anonymous).body);
    let jana = Auth::Basic("jana", "jana-pw-123");
    assert_eq!(
        moved.patch("/amt/a", jana, &json!({"title": "Von Jana"})).status,
        204,
        "her local role came along"
    );
}
