//! A site whose blobs live in an S3-compatible store (`blobs.s3`): uploads,
//! downloads with ranges, image scales and the sweep, with nothing written
//! to the data folder's `blobs/`. Runs against `CAIRN_TEST_S3` (moto's
//! server, which `.ci/run` starts); skipped, loudly, without it outside CI.

use base64::Engine;
use cairn_core::ports::{BlobKind, BlobStore};
use serde_json::json;

use crate::helpers::{Auth, spawn_app_with};

fn bucket() -> Option<cairn_s3::S3Settings> {
    let Ok(endpoint) = std::env::var("CAIRN_TEST_S3") else {
        let required = std::env::var("CAIRN_REQUIRE_S3").is_ok_and(|v| v == "1");
        assert!(!required, "CAIRN_TEST_S3 is not set: CI must run the S3 tests");
        eprintln!("CAIRN_TEST_S3 is not set: S3 test skipped");
        return None;
    };
    let bucket = format!("site-{:016x}", rand::random::<u64>());
    ureq::put(&format!("{endpoint}/{bucket}")).send_empty().unwrap();
    Some(cairn_s3::S3Settings {
        bucket,
        endpoint: Some(endpoint),
        region: "us-east-1".into(),
        access_key_id: "test".into(),
        secret_access_key: "test".into(),
        prefix: "plone/".into(),
        allow_http: true,
    })
}

#[test]
fn files_and_images_live_in_the_object_store() {
    let Some(s3) = bucket() else { return };
    let settings = s3.clone();
    let app = spawn_app_with(move |s| s.blobs.s3 = Some(settings));
    let text = "Merkblatt Inhalt, lang genug für einen Bereich";
    let data = base64::engine::general_purpose::STANDARD.encode(text);
    let file = app.create(
        "",
        json!({"@type": "File", "file": {"data": data, "encoding": "base64", "filename": "m.txt", "content-type": "text/plain"}}),
    );
    let url = file["file"]["download"].as_str().unwrap().to_string();
    assert_eq!(app.get(&url, Auth::Admin).body, text.as_bytes());
    let part = app.send("GET", &url, Auth::Admin, None, &[("Range", "bytes=0-9")]);
    assert_eq!((part.status, &part.body[..]), (206, &text.as_bytes()[..10]));
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(300, 200, image::Rgb([10, 120, 30])))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let img = base64::engine::general_purpose::STANDARD.encode(&png);
    app.create(
        "",
        json!({"@type": "Image", "title": "Bild", "image": {"data": img, "encoding": "base64", "filename": "b.png", "content-type": "image/png"}}),
    );
    let thumb = app.get("/bild/@@images/image/thumb", Auth::Anonymous);
    assert_eq!(thumb.status, 200);
    assert_eq!(image::load_from_memory(&thumb.body).unwrap().width(), 128);
    // Everything is in the bucket; the data folder holds no blob.
    let store = cairn_s3::S3BlobStore::open(&s3).unwrap();
    let entries = store.entries().unwrap();
    assert_eq!(
        entries.iter().filter(|e| e.kind == BlobKind::Original).count(),
        2,
        "{entries:?}"
    );
    assert!(entries.iter().any(|e| e.kind == BlobKind::Derived), "{entries:?}");
    assert!(app.blob_files().is_empty(), "{:?}", app.blob_files());
    // Deleted for good, the file's bytes go with the next sweep (past its grace).
    assert_eq!(app.delete("/m.txt", Auth::Admin).status, 204);
    let trash = app.get("/@trash", Auth::Admin).json();
    for entry in trash["items"].as_array().unwrap() {
        let id = entry["@id"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
        assert_eq!(app.delete(&format!("/@trash/{id}"), Auth::Admin).status, 204);
    }
    let site = app.site();
    let report = cairn_core::blobs::sweep(&*site.store, &site.uploads, std::time::Duration::ZERO).unwrap();
    assert!(report.removed >= 1, "{report:?}");
    let left: Vec<_> = store
        .entries()
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == BlobKind::Original)
        .collect();
    assert_eq!(left.len(), 1, "only the image's bytes are left: {left:?}");
}
