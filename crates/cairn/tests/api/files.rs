//! Images and files: base64 upload, downloads, scales and their cache headers.

use base64::Engine;
use serde_json::json;

use crate::helpers::{Auth, spawn_app};

fn png(w: u32, h: u32) -> String {
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(w, h, image::Rgb([200, 30, 30])))
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    base64::engine::general_purpose::STANDARD.encode(out)
}

#[test]
fn uploaded_images_serve_originals_and_named_scales() {
    let app = spawn_app();
    let img =
        json!({"data": png(1000, 500), "encoding": "base64", "filename": "bild.png", "content-type": "image/png"});
    let b = app.create("", json!({"@type": "Image", "title": "Bild", "image": img}));
    assert_eq!(b["id"], "bild");
    let image = &b["image"];
    assert_eq!(image["width"], 1000);
    assert_eq!(image["height"], 500);
    let preview = &image["scales"]["preview"];
    assert_eq!(preview["width"], 400);
    assert_eq!(preview["height"], 200);

    let r = app.get(preview["download"].as_str().unwrap(), Auth::Anonymous);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Content-Type"), Some("image/png"));
    assert!(r.header("Cache-Control").unwrap().contains("immutable"));
    let decoded = image::load_from_memory(&r.body).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (400, 200));
    // The same scale by name, and the original.
    assert_eq!(app.get("/bild/@@images/image/thumb", Auth::Anonymous).status, 200);
    let orig = app.get(image["download"].as_str().unwrap(), Auth::Anonymous);
    assert_eq!(image::load_from_memory(&orig.body).unwrap().width(), 1000);
    assert_eq!(
        app.get("/bild/@@images/image-400-deadbeef.png", Auth::Anonymous).status,
        404
    );
    assert_eq!(app.get("/bild/@@images", Auth::Anonymous).status, 400);
}

#[test]
fn files_download_as_attachments_with_their_name() {
    let app = spawn_app();
    let data = base64::engine::general_purpose::STANDARD.encode("Merkblatt Inhalt");
    let file =
        json!({"data": data, "encoding": "base64", "filename": "Merkblatt Gebühren.txt", "content-type": "text/plain"});
    let b = app.create("", json!({"@type": "File", "file": file}));
    assert_eq!(b["id"], "merkblatt-gebuehren.txt");
    let r = app.get(b["file"]["download"].as_str().unwrap(), Auth::Admin);
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"Merkblatt Inhalt");
    assert!(r.header("Content-Disposition").unwrap().starts_with("attachment;"));
    assert_eq!(
        app.get(
            &format!("{}/@@download/file", b["@id"].as_str().unwrap()),
            Auth::Anonymous
        )
        .status,
        200
    );
}

#[test]
fn corrupt_images_and_bad_base64_are_rejected() {
    let app = spawn_app();
    let bad =
        json!({"@type": "Image", "title": "x", "image": {"data": "!!!", "encoding": "base64", "filename": "x.png"}});
    assert_eq!(app.post("", Auth::Admin, &bad).status, 400);
    let garbage = base64::engine::general_purpose::STANDARD.encode("not an image");
    let bad =
        json!({"@type": "Image", "title": "x", "image": {"data": garbage, "encoding": "base64", "filename": "x.png"}});
    assert_eq!(app.post("", Auth::Admin, &bad).status, 400);
    assert_eq!(app.post("", Auth::Basic("admin", "nope"), &bad).status, 401);
}
