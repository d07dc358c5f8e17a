//! `cairn backup` and `cairn restore`: a backup taken while authors write
//! restores a consistent site. The writes happen at fixed points of the
//! backup (its progress hook), not in a racing thread: before the database
//! copy (in the restore), after it (not in the restore, whatever blobs it
//! stored), and while the blobs are copied. On PostgreSQL (when the tests
//! run there) the schema is dropped, as in a lost database, and restored.

use base64::Engine;
use serde_json::{Value, json};

use crate::helpers::{Auth, TestApp, spawn_app, spawn_app_with};

fn file(app: &TestApp, id: &str, bytes: &[u8]) {
    let data = base64::engine::general_purpose::STANDARD.encode(bytes);
    app.create(
        "/akten",
        json!({"@type": "File", "id": id, "title": format!("Akte {id}"),
               "file": {"data": data, "encoding": "base64", "filename": format!("{id}.txt"), "content-type": "text/plain"}}),
    );
}

fn download(app: &TestApp, id: &str) -> (u16, Vec<u8>) {
    let r = app.get(&format!("{}/akten/{id}/@@download/file", app.site), Auth::Admin);
    (r.status, r.body)
}

#[test]
fn a_backup_taken_while_authors_write_restores_a_consistent_site() {
    let app = spawn_app();
    app.create("", json!({"@type": "Folder", "id": "akten", "title": "Akten"}));
    for i in 0..4 {
        file(&app, &format!("f{i}"), format!("Inhalt {i}").as_bytes());
    }
    file(&app, "weg", b"bald geloescht");
    let settings = app.settings();
    let backups = tempfile::tempdir().unwrap();
    let dest = backups.path().join("kanton");
    let mut during_blobs = false;
    let manifest = cairn::backup::backup(&settings, &dest, |step, n| match (step, n) {
        ("database", 0) => file(&app, "vorher", b"vor der Kopie"),
        ("database", 1) => {
            file(&app, "nachher", b"nach der Kopie");
            assert_eq!(app.delete("/akten/weg", Auth::Admin).status, 204);
        }
        ("blobs", 1) if !during_blobs => {
            during_blobs = true;
            file(&app, "spaeter", b"waehrend der Blobs");
        }
        _ => {}
    })
    .unwrap();
    assert!(during_blobs, "the blobs were copied");
    assert!(manifest.missing_blobs.is_empty(), "{manifest:?}");
    let expected = if settings.database_url.is_some() {
        "postgresql"
    } else {
        "sqlite"
    };
    assert_eq!(manifest.database, expected);
    // A backup folder is never written over.
    let again = cairn::backup::backup(&settings, &dest, |_, _| {}).unwrap_err();
    assert!(again.to_string().contains("not empty"), "{again}");

    let restored = match settings.database_url.clone() {
        None => {
            // Into the installation it came from: refused, its database is there.
            let refused = cairn::backup::restore(&settings, &dest, |_, _| {}).unwrap_err();
            assert!(refused.to_string().contains("exists"), "{refused}");
            drop(app);
            let fresh = tempfile::tempdir().unwrap();
            let mut into = settings.clone();
            into.data = fresh.path().join("data");
            cairn::backup::restore(&into, &dest, |_, _| {}).unwrap();
            let data = into.data.clone();
            (spawn_app_with(move |s| s.data = data), Some(fresh))
        }
        Some(url) => {
            let refused = cairn::backup::restore(&settings, &dest, |_, _| {}).unwrap_err();
            assert!(refused.to_string().contains("holds cairn tables"), "{refused}");
            drop(app);
            // The database is lost: its schema is dropped, then restored.
            let schema = manifest.schema.clone().unwrap();
            let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            client
                .batch_execute(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
                .unwrap();
            // A new node: its data folder holds the blobs (no S3 here).
            let fresh = tempfile::tempdir().unwrap();
            let mut into = settings.clone();
            into.data = fresh.path().join("data");
            cairn::backup::restore(&into, &dest, |_, _| {}).unwrap();
            let data = into.data.clone();
            (
                spawn_app_with(move |s| {
                    s.data = data;
                    s.database_url = Some(url);
                }),
                Some(fresh),
            )
        }
    };
    let (restored, _keep) = restored;
    for i in 0..4 {
        assert_eq!(
            download(&restored, &format!("f{i}")),
            (200, format!("Inhalt {i}").into_bytes())
        );
    }
    assert_eq!(download(&restored, "vorher"), (200, b"vor der Kopie".to_vec()));
    assert_eq!(download(&restored, "weg").0, 200, "deleted after the copy: still in it");
    assert_eq!(
        download(&restored, "nachher").0,
        404,
        "written after the copy: not in it"
    );
    assert_eq!(download(&restored, "spaeter").0, 404);
    // The full-text index follows the restored database.
    restored.wait_indexed();
    let found: Value = restored
        .get("/@search?SearchableText=Akte&portal_type=File", Auth::Admin)
        .json();
    assert_eq!(found["items_total"], 6, "{found}");
    // And the restored site takes writes.
    file(&restored, "neu", b"nach der Wiederherstellung");
    assert_eq!(download(&restored, "neu").0, 200);
}
