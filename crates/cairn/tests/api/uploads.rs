//! Uploaded bytes never run in the site's origin (issue 8): images are what
//! their bytes say, unsafe types are downloads, and every blob response
//! carries `nosniff` and a sandboxing Content-Security-Policy.

use base64::Engine;
use serde_json::{Value, json};

use crate::helpers::{Auth, Resp, TestApp, spawn_app};

const HTML: &str = "<html><body><script>alert(document.cookie)</script></body></html>";
const SVG: &str = r#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>"#;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn png(w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(w, h, image::Rgb([20, 120, 60])))
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

fn upload(bytes: &[u8], filename: &str, content_type: Option<&str>) -> Value {
    let mut v = json!({"data": b64(bytes), "encoding": "base64", "filename": filename});
    if let Some(ct) = content_type {
        v["content-type"] = json!(ct);
    }
    v
}

/// The message of a 400, however it is wrapped.
fn error_text(r: &Resp) -> String {
    String::from_utf8_lossy(&r.body).to_string()
}

fn assert_protected(r: &Resp, what: &str) {
    assert_eq!(r.status, 200, "{what}: {}", error_text(r));
    assert_eq!(r.header("X-Content-Type-Options"), Some("nosniff"), "{what}");
    let csp = r
        .header("Content-Security-Policy")
        .unwrap_or_else(|| panic!("{what}: no CSP"));
    assert!(csp.contains("default-src 'none'"), "{what}: {csp}");
}

fn assert_downloaded(r: &Resp, what: &str) {
    assert_protected(r, what);
    let d = r
        .header("Content-Disposition")
        .unwrap_or_else(|| panic!("{what}: no disposition"));
    assert!(d.starts_with("attachment"), "{what} is shown inline: {d}");
    assert!(
        r.header("Content-Security-Policy").unwrap().contains("sandbox"),
        "{what}"
    );
}

fn assert_inline(r: &Resp, what: &str) {
    assert_protected(r, what);
    let d = r
        .header("Content-Disposition")
        .unwrap_or_else(|| panic!("{what}: no disposition"));
    assert!(d.starts_with("inline"), "{what} is not shown inline: {d}");
}

fn member(app: &TestApp, id: &str) -> Auth<'static> {
    app.add_user(id, "memberpassword", &["Member"]);
    Auth::Basic(Box::leak(id.to_string().into_boxed_str()), "memberpassword")
}

#[test]
fn html_portrait_is_refused_and_never_served_inline() {
    let app = spawn_app();
    let jane = member(&app, "jane");
    for (bytes, ct) in [
        (HTML.as_bytes(), "text/html"),
        (HTML.as_bytes(), "image/png"),
        (SVG.as_bytes(), "image/svg+xml"),
    ] {
        let r = app.patch(
            "/@users/jane",
            jane,
            &json!({"portrait": upload(bytes, "me.png", Some(ct))}),
        );
        assert_eq!(r.status, 400, "{ct}: {}", error_text(&r));
        assert!(error_text(&r).contains("portrait"), "{}", error_text(&r));
    }
    assert_eq!(app.get("/@portrait/jane", Auth::Anonymous).status, 404);

    // A real image that claims to be HTML is stored as what it is.
    let r = app.patch(
        "/@users/jane",
        jane,
        &json!({"portrait": upload(&png(40, 40), "me.html", Some("text/html"))}),
    );
    assert_eq!(r.status, 204, "{}", error_text(&r));
    let img = app.get("/@portrait/jane", Auth::Anonymous);
    assert_eq!(img.header("Content-Type"), Some("image/png"));
    assert_inline(&img, "portrait");

    // A portrait an older cairn stored as HTML is only offered as a download.
    let site = app.site();
    let key = site.blobs.put(HTML.as_bytes()).unwrap().key;
    let mut joe = site.principals.user(&site.id, "jane").unwrap().unwrap();
    joe.id = "joe".into();
    joe.props.insert(
        "portrait".into(),
        json!({"blob": key, "content-type": "text/html", "filename": "x.html"}),
    );
    site.principals.put_user(&site.id, &joe).unwrap();
    assert_downloaded(&app.get("/@portrait/joe", Auth::Anonymous), "legacy HTML portrait");
}

#[test]
fn portraits_are_scaled_down_and_reencoded_on_upload() {
    let app = spawn_app();
    let jane = member(&app, "jane");
    let mut jpeg = Vec::new();
    image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(1200, 600, image::Rgb([1, 2, 3])))
        .write_to(&mut std::io::Cursor::new(&mut jpeg), image::ImageFormat::Jpeg)
        .unwrap();
    let r = app.patch(
        "/@users/jane",
        jane,
        &json!({"portrait": upload(&jpeg, "me.gif", Some("image/gif"))}),
    );
    assert_eq!(r.status, 204, "{}", error_text(&r));
    let img = app.get("/@portrait/jane", Auth::Anonymous);
    assert_eq!(img.header("Content-Type"), Some("image/jpeg"));
    let decoded = image::load_from_memory(&img.body).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (300, 150));
}

#[test]
fn svg_file_is_downloaded_not_displayed() {
    let app = spawn_app();
    let cases = [
        ("drawing.svg", SVG, None),
        ("page.html", HTML, None),
        ("page.xhtml", HTML, Some("application/xhtml+xml")),
        ("data.xml", HTML, Some("text/xml")),
        ("script.js", "alert(1)", Some("application/javascript")),
        ("disguised.txt", HTML, Some("TEXT/HTML; charset=utf-8")),
    ];
    for (name, body, ct) in cases {
        let f = app.create("", json!({"@type": "File", "file": upload(body.as_bytes(), name, ct)}));
        let url = f["@id"].as_str().unwrap();
        assert_downloaded(&app.get(&format!("{url}/@@display-file/file"), Auth::Admin), name);
        assert_downloaded(&app.get(&format!("{url}/@@display-file"), Auth::Admin), name);
        assert_downloaded(&app.get(&format!("{url}/@@download/file"), Auth::Admin), name);
        // `@@images` serves any blob field; it must not be a way around the rule.
        assert_downloaded(&app.get(&format!("{url}/@@images/file"), Auth::Admin), name);
    }
    // Passive types are still displayed.
    let txt = app.create("", json!({"@type": "File", "file": upload(b"hello", "a.txt", None)}));
    let url = txt["@id"].as_str().unwrap();
    assert_inline(
        &app.get(&format!("{url}/@@display-file/file"), Auth::Admin),
        "text file",
    );
    let pdf = app.create("", json!({"@type": "File", "file": upload(b"%PDF-1.4", "a.pdf", None)}));
    let url = pdf["@id"].as_str().unwrap();
    assert_inline(&app.get(&format!("{url}/@@display-file/file"), Auth::Admin), "pdf");
}

#[test]
fn an_image_is_stored_as_what_its_bytes_are() {
    let app = spawn_app();
    let b = app.create(
        "",
        json!({"@type": "Image", "title": "Bild", "image": upload(&png(30, 20), "bild.html", Some("text/html"))}),
    );
    assert_eq!(b["image"]["content-type"], "image/png");
    let r = app.get("/bild/@@images/image", Auth::Admin);
    assert_eq!(r.header("Content-Type"), Some("image/png"));
    assert_inline(&r, "image original");
    let r = app.get("/bild/@@display-file/image", Auth::Admin);
    assert_eq!(r.header("Content-Type"), Some("image/png"));
    assert_inline(&r, "image via display-file");

    let refused = [
        (HTML.as_bytes().to_vec(), "image/png", "PNG, JPEG, GIF or WebP"),
        (SVG.as_bytes().to_vec(), "image/svg+xml", "SVG"),
    ];
    for (bytes, ct, says) in refused {
        let body = json!({"@type": "Image", "title": "x", "image": upload(&bytes, "x.png", Some(ct))});
        let r = app.post("", Auth::Admin, &body);
        assert_eq!(r.status, 400, "{ct}");
        assert!(error_text(&r).contains(says), "{}", error_text(&r));
    }
    // A News Item's lead image (any image field) is held to the same rule.
    let body =
        json!({"@type": "News Item", "title": "Neu", "image": upload(HTML.as_bytes(), "x.png", Some("image/png"))});
    assert_eq!(app.post("", Auth::Admin, &body).status, 400);
    let body =
        json!({"@type": "News Item", "title": "Neu", "image": upload(&png(5, 5), "x.svg", Some("image/svg+xml"))});
    let n = app.create("", body);
    assert_eq!(n["image"]["content-type"], "image/png");
}

#[test]
fn blob_responses_carry_nosniff_and_csp() {
    let app = spawn_app();
    let b = app.create(
        "",
        json!({"@type": "Image", "title": "Bild", "image": upload(&png(800, 400), "b.png", None)}),
    );
    app.create(
        "",
        json!({"@type": "File", "file": upload(b"plain words", "f.txt", None)}),
    );
    let jane = member(&app, "jane");
    let r = app.patch(
        "/@users/jane",
        jane,
        &json!({"portrait": upload(&png(10, 10), "p.png", None)}),
    );
    assert_eq!(r.status, 204);
    let urls = [
        "/bild/@@images/image".to_string(),
        "/bild/@@images/image/thumb".to_string(),
        b["image"]["scales"]["preview"]["download"]
            .as_str()
            .unwrap()
            .to_string(),
        "/bild/@@download/image".to_string(),
        "/f.txt/@@download/file".to_string(),
        "/f.txt/@@display-file/file".to_string(),
        "/@portrait/jane".to_string(),
    ];
    for url in &urls {
        assert_protected(&app.get(url, Auth::Admin), url);
        // Anonymous answers are kept and served again: with the same headers.
        let first = app.get(url, Auth::Anonymous);
        let again = app.get(url, Auth::Anonymous);
        assert_protected(&again, url);
        assert_eq!(
            first.header("Content-Disposition"),
            again.header("Content-Disposition"),
            "{url}"
        );
        assert!(again.header("Content-Disposition").is_some(), "{url}");
    }
    assert!(
        app.get("/f.txt/@@download/file", Auth::Anonymous)
            .header("Content-Disposition")
            .unwrap()
            .starts_with("attachment")
    );
}
