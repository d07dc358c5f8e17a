//! Blob bytes follow the transaction: a write that fails leaves no new blob,
//! and the sweep removes what nothing refers to any more, keeping what
//! objects, kept versions, portraits and live images' scales need.

use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};

use crate::helpers::{Auth, spawn_app};

fn upload(bytes: &[u8], name: &str, content_type: &str) -> Value {
    let data = base64::engine::general_purpose::STANDARD.encode(bytes);
    json!({"data": data, "encoding": "base64", "filename": name, "content-type": content_type})
}

fn png(shade: u8) -> Vec<u8> {
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(800, 400, image::Rgb([shade, 30, 30])))
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

/// Dates that fail plone.publication's invariant, checked after the upload.
fn invalid_dates() -> (Value, Value) {
    (json!("2030-01-01T00:00:00+00:00"), json!("2020-01-01T00:00:00+00:00"))
}

#[test]
fn a_write_that_fails_validation_after_its_upload_leaves_no_new_blob() {
    let app = spawn_app();
    let kept = app.create(
        "",
        json!({"@type": "File", "file": upload(b"shared bytes", "a.txt", "text/plain")}),
    );
    let before = app.blob_files();
    let (effective, expires) = invalid_dates();

    let r = app.post(
        "",
        Auth::Admin,
        &json!({"@type": "File", "file": upload(b"new bytes", "b.txt", "text/plain"),
                "effective": effective, "expires": expires}),
    );
    assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(app.blob_files(), before, "a failed create left its blob");

    let url = kept["@id"].as_str().unwrap();
    let r = app.patch(
        url,
        Auth::Admin,
        &json!({"file": upload(b"other new bytes", "c.txt", "text/plain"), "effective": effective, "expires": expires}),
    );
    assert_eq!(r.status, 400);
    assert_eq!(app.blob_files(), before, "a failed edit left its blob");

    // Bytes a committed object already holds stay when a write of the same bytes fails.
    let r = app.post(
        "",
        Auth::Admin,
        &json!({"@type": "File", "file": upload(b"shared bytes", "d.txt", "text/plain"),
                "effective": effective, "expires": expires}),
    );
    assert_eq!(r.status, 400);
    assert_eq!(app.blob_files(), before);
    let r = app.get(&format!("{url}/@@download/file"), Auth::Admin);
    assert_eq!((r.status, r.body.as_slice()), (200, &b"shared bytes"[..]));

    // A refused portrait leaves nothing either.
    let r = app.patch(
        "/@users/admin",
        Auth::Admin,
        &json!({"portrait": upload(&png(9), "p.png", "image/png"), "email": "not an email"}),
    );
    assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(app.blob_files(), before, "a refused user update left its portrait");
}

#[test]
fn the_sweep_removes_unreferenced_blobs_and_keeps_referenced_ones() {
    let app = spawn_app();
    // A news item whose lead image was replaced: the first is only in its history.
    let news = app.create(
        "",
        json!({"@type": "News Item", "title": "Neu", "image": upload(&png(1), "a.png", "image/png")}),
    );
    let news_url = news["@id"].as_str().unwrap().to_string();
    let r = app.patch(
        &news_url,
        Auth::Admin,
        &json!({"image": upload(&png(2), "b.png", "image/png")}),
    );
    assert_eq!(r.status, 204, "{}", String::from_utf8_lossy(&r.body));
    // A live image with a computed scale.
    let image = app.create(
        "",
        json!({"@type": "Image", "title": "Bild", "image": upload(&png(3), "c.png", "image/png")}),
    );
    let image_url = image["@id"].as_str().unwrap().to_string();
    assert_eq!(
        app.get(&format!("{image_url}/@@images/image/thumb"), Auth::Anonymous)
            .status,
        200
    );
    // A file that is deleted (with a scale of nothing: Files have none) and
    // an image that is deleted after its scale was made.
    let gone = app.create(
        "",
        json!({"@type": "File", "file": upload(b"deleted file", "x.txt", "text/plain")}),
    );
    let gone_image = app.create(
        "",
        json!({"@type": "Image", "title": "Weg", "image": upload(&png(4), "d.png", "image/png")}),
    );
    let gone_image_url = gone_image["@id"].as_str().unwrap().to_string();
    assert_eq!(
        app.get(&format!("{gone_image_url}/@@images/image/thumb"), Auth::Admin)
            .status,
        200
    );
    assert_eq!(app.delete(gone["@id"].as_str().unwrap(), Auth::Admin).status, 204);
    assert_eq!(app.delete(&gone_image_url, Auth::Admin).status, 204);
    // A portrait.
    let r = app.patch(
        "/@users/admin",
        Auth::Admin,
        &json!({"portrait": upload(&png(5), "p.png", "image/png")}),
    );
    assert_eq!(r.status, 204, "{}", String::from_utf8_lossy(&r.body));

    let all = app.blob_files();
    // Nothing is old enough yet: a sweep now removes nothing.
    assert_eq!(app.sweep_blobs().removed, 0);
    assert_eq!(app.blob_files(), all);

    // Deleted objects wait in the trash with their blobs; purged, they go.
    let trash = app.get("/@trash", Auth::Admin).json();
    assert_eq!(trash["items_total"], 2);
    for e in trash["items"].as_array().unwrap() {
        assert_eq!(app.delete(e["@id"].as_str().unwrap(), Auth::Admin).status, 204);
    }
    app.age_blobs(Duration::from_secs(2 * 3600));
    // An orphan younger than the grace period (an upload still on its way) stays.
    let young = app.site().blobs.put(b"upload in flight").unwrap().key;
    let report = app.sweep_blobs();
    let after = app.blob_files();
    // The deleted file, the deleted image and its scale went.
    assert_eq!(report.removed, 3, "{all:?} -> {after:?}");
    assert_eq!(after.len(), all.len() + 1 - 3);
    assert!(after.iter().any(|f| f.ends_with(&young)));

    // Everything still referenced is served as before.
    let ok = |url: &str| {
        let r = app.get(url, Auth::Admin);
        assert_eq!(r.status, 200, "{url}");
    };
    ok(&format!("{news_url}/@@images/image"));
    ok(&format!("{image_url}/@@images/image"));
    ok(&format!("{image_url}/@@images/image/thumb"));
    ok(&format!("{}/@portrait/admin", app.site));
    let r = app.get(&format!("{news_url}/@history/0"), Auth::Admin);
    assert_eq!(r.status, 200);
    let first = r.json()["image"]["download"].as_str().unwrap().to_string();
    let r = app.patch(&format!("{news_url}/@history"), Auth::Admin, &json!({"version": 0}));
    assert!(r.status < 300, "revert: {}", String::from_utf8_lossy(&r.body));
    let r = app.get(&format!("{news_url}/@@images/image"), Auth::Admin);
    assert_eq!(r.status, 200, "the image only history held is gone ({first})");
    assert!(
        r.body == png(1),
        "not the first image; the second: {}",
        r.body == png(2)
    );
}
