//! Large files stream to anonymous visitors, with or without the response
//! cache, and byte ranges work on every view of stored bytes.

use base64::Engine;
use serde_json::json;

use crate::helpers::{Auth, TestApp, spawn_app, spawn_app_with};

/// 3 MiB of bytes that differ along the file, so a wrong slice shows.
fn big_pdf() -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n".to_vec();
    bytes.extend((0..3 * 1024 * 1024u32).map(|i| (i % 251) as u8));
    bytes
}

/// A public File holding `bytes` (Files follow their container's state: the
/// site root is public).
fn publish_file(app: &TestApp, bytes: &[u8]) -> String {
    let data = base64::engine::general_purpose::STANDARD.encode(bytes);
    let file =
        json!({"data": data, "encoding": "base64", "filename": "bericht.pdf", "content-type": "application/pdf"});
    let b = app.create("", json!({"@type": "File", "title": "Bericht", "file": file}));
    b["@id"].as_str().unwrap().to_string()
}

fn range(app: &TestApp, url: &str, spec: &str) -> crate::helpers::Resp {
    app.send("GET", url, Auth::Anonymous, None, &[("Range", spec)])
}

#[test]
fn a_large_public_file_downloads_anonymously_with_the_cache_on_and_off() {
    let bytes = big_pdf();
    for cache in [128 * 1024 * 1024, 0] {
        let app = spawn_app_with(|s| s.limits.response_cache_bytes = cache);
        let url = publish_file(&app, &bytes);
        for view in ["@@download/file", "@@display-file/file"] {
            // Twice: the second may come from the response cache.
            for _ in 0..2 {
                let r = app.get(&format!("{url}/{view}"), Auth::Anonymous);
                assert_eq!(r.status, 200, "{view} with cache {cache}");
                assert_eq!(r.header("Content-Length"), Some(bytes.len().to_string().as_str()));
                assert_eq!(r.header("Accept-Ranges"), Some("bytes"));
                assert_eq!(r.header("X-Content-Type-Options"), Some("nosniff"));
                assert!(r.header("Content-Security-Policy").is_some());
                assert!(r.header("Cache-Control").unwrap().starts_with("public"));
                assert!(r.body == bytes, "{view}: the body is not the file");
            }
        }
        let head = app.send("HEAD", &format!("{url}/@@download/file"), Auth::Anonymous, None, &[]);
        assert_eq!(head.status, 200);
        assert_eq!(head.header("Content-Length"), Some(bytes.len().to_string().as_str()));
        assert!(head.body.is_empty());
    }
}

#[test]
fn range_requests_answer_exactly_the_slice() {
    let app = spawn_app();
    let bytes = big_pdf();
    let len = bytes.len();
    let url = publish_file(&app, &bytes);
    for view in ["@@download/file", "@@display-file/file"] {
        let u = format!("{url}/{view}");
        let r = range(&app, &u, "bytes=100-199");
        assert_eq!(r.status, 206, "{view}");
        assert_eq!(r.body, &bytes[100..200]);
        assert_eq!(r.header("Content-Range"), Some(format!("bytes 100-199/{len}").as_str()));
        assert_eq!(r.header("Content-Length"), Some("100"));
        assert_eq!(r.header("Accept-Ranges"), Some("bytes"));
        assert_eq!(r.header("X-Content-Type-Options"), Some("nosniff"));
        assert!(r.header("Content-Disposition").is_some());

        let r = range(&app, &u, &format!("bytes={}-", len - 10));
        assert_eq!(r.status, 206);
        assert_eq!(r.body, &bytes[len - 10..]);

        let r = range(&app, &u, "bytes=-5");
        assert_eq!(r.status, 206);
        assert_eq!(r.body, &bytes[len - 5..]);
        assert_eq!(
            r.header("Content-Range"),
            Some(format!("bytes {}-{}/{len}", len - 5, len - 1).as_str())
        );

        // An end past the file is cut to it.
        let r = range(&app, &u, &format!("bytes={}-{}", len - 2, len + 100));
        assert_eq!((r.status, r.body.as_slice()), (206, &bytes[len - 2..]));
    }
}

#[test]
fn unsatisfiable_ranges_are_416_and_malformed_or_multiple_ranges_get_the_whole_file() {
    let app = spawn_app();
    let bytes = big_pdf();
    let len = bytes.len();
    let url = format!("{}/@@download/file", publish_file(&app, &bytes));
    let r = range(&app, &url, &format!("bytes={len}-"));
    assert_eq!(r.status, 416);
    assert_eq!(r.header("Content-Range"), Some(format!("bytes */{len}").as_str()));
    for spec in ["bytes=abc", "items=0-5", "bytes=0-1,5-6", "bytes=9-3"] {
        let r = range(&app, &url, spec);
        assert_eq!(r.status, 200, "{spec}");
        assert!(r.body == bytes, "{spec}");
    }
}

#[test]
fn image_originals_answer_ranges_with_their_sniffed_type() {
    let app = spawn_app();
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(64, 32, image::Rgb([1, 2, 3])))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let data = base64::engine::general_purpose::STANDARD.encode(&png);
    let img = json!({"data": data, "encoding": "base64", "filename": "b.png", "content-type": "image/png"});
    let b = app.create("", json!({"@type": "Image", "title": "B", "image": img}));
    let url = format!("{}/@@images/image", b["@id"].as_str().unwrap());
    let r = app.get(&url, Auth::Admin);
    assert_eq!((r.status, r.header("Content-Type")), (200, Some("image/png")));
    assert_eq!(r.body, png);
    let r = app.send("GET", &url, Auth::Admin, None, &[("Range", "bytes=0-7")]);
    assert_eq!(r.status, 206);
    assert_eq!(r.body, &png[..8]);
    assert_eq!(r.header("Content-Type"), Some("image/png"));
    // The stable URL of the original too.
    let stable = b["image"]["download"].as_str().unwrap();
    let r = app.send("GET", stable, Auth::Admin, None, &[("Range", "bytes=-4")]);
    assert_eq!(r.status, 206);
    assert_eq!(r.body, &png[png.len() - 4..]);
}
