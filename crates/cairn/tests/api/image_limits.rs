//! Decompression bombs (issue 8): images over the pixel limit are refused
//! before decoding, a scale is computed once however many ask at the same
//! time, and an image that cannot be scaled fails fast the next time.

use std::sync::{Arc, Barrier};

use base64::Engine;
use serde_json::{Value, json};

use crate::helpers::{Auth, spawn_app, spawn_app_with};

const COMPUTED: &str = "cairn_image_scales_total{site=\"plone\",outcome=\"computed\"}";
const FAILED: &str = "cairn_image_scales_total{site=\"plone\",outcome=\"failed\"}";

fn png(w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    }))
    .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
    .unwrap();
    out
}

/// A 20000x20000 PNG of a few hundred bytes: a tiny image whose header
/// (IHDR, with its CRC) is rewritten to claim the huge size.
fn bomb() -> Vec<u8> {
    let mut out = Vec::new();
    image::DynamicImage::ImageLuma8(image::GrayImage::new(1, 1))
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    assert_eq!(&out[12..16], b"IHDR");
    out[16..20].copy_from_slice(&20_000u32.to_be_bytes());
    out[20..24].copy_from_slice(&20_000u32.to_be_bytes());
    let crc = crc32fast::hash(&out[12..29]);
    out[29..33].copy_from_slice(&crc.to_be_bytes());
    out
}

fn image_body(bytes: &[u8]) -> Value {
    let data = base64::engine::general_purpose::STANDARD.encode(bytes);
    json!({"@type": "Image", "title": "Bild", "image": {"data": data, "encoding": "base64", "filename": "b.png"}})
}

#[test]
fn image_over_the_pixel_limit_is_refused() {
    let app = spawn_app();
    let bomb = bomb();
    assert_eq!(
        image::ImageReader::new(std::io::Cursor::new(&bomb))
            .with_guessed_format()
            .unwrap()
            .into_dimensions()
            .unwrap(),
        (20_000, 20_000)
    );
    let started = std::time::Instant::now();
    let r = app.post("", Auth::Admin, &image_body(&bomb));
    assert_eq!(r.status, 400);
    let text = String::from_utf8_lossy(&r.body);
    assert!(text.contains("20000x20000 pixels"), "{text}");
    app.add_user("jane", "janespassword", &["Member"]);
    let data = base64::engine::general_purpose::STANDARD.encode(&bomb);
    let portrait = json!({"portrait": {"data": data, "encoding": "base64", "filename": "me.png"}});
    assert_eq!(
        app.patch("/@users/jane", Auth::Basic("jane", "janespassword"), &portrait)
            .status,
        400
    );
    assert!(started.elapsed().as_secs() < 5, "refusing took {:?}", started.elapsed());

    // The limit is a setting.
    let app = spawn_app_with(|s| s.limits.max_image_pixels = 1_000_000);
    assert_eq!(app.post("", Auth::Admin, &image_body(&png(1001, 1000))).status, 400);
    assert_eq!(app.post("", Auth::Admin, &image_body(&png(1000, 1000))).status, 201);
}

#[test]
fn a_scale_is_computed_once_under_concurrent_requests() {
    let app = Arc::new(spawn_app());
    app.create("", image_body(&png(2400, 1600)));
    let threads = 8;
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|i| {
            let (app, barrier) = (app.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                // Half anonymous (shared response cache), half authenticated.
                let auth = if i % 2 == 0 { Auth::Anonymous } else { Auth::Admin };
                app.get("/bild/@@images/image/preview", auth)
            })
        })
        .collect();
    let bodies: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    for r in &bodies {
        assert_eq!(r.status, 200);
        assert_eq!(r.body, bodies[0].body);
    }
    assert_eq!(app.metric(COMPUTED), 1);
    assert_eq!(app.get("/bild/@@images/image/thumb", Auth::Admin).status, 200);
    assert_eq!(app.get("/bild/@@images/image/preview", Auth::Admin).status, 200);
    assert_eq!(app.metric(COMPUTED), 2, "a stored scale is not computed again");
}

#[test]
fn a_broken_image_scale_fails_fast_the_second_time() {
    let app = spawn_app();
    let good = png(800, 600);
    app.create("", image_body(&good));
    // Stored before uploads were decoded: cut off in the middle of its pixels.
    app.replace_blob(&good, &good[..good.len() / 2]);
    for _ in 0..3 {
        let r = app.get("/bild/@@images/image/preview", Auth::Admin);
        assert_eq!(r.status, 400);
        assert!(String::from_utf8_lossy(&r.body).contains("corrupt or truncated"));
    }
    assert_eq!(app.metric(FAILED), 1, "the failure is remembered, not decoded again");
    assert_eq!(app.metric(COMPUTED), 0);
}

#[test]
fn a_stored_bomb_is_never_decoded() {
    let app = spawn_app();
    let good = png(64, 64);
    app.create("", image_body(&good));
    app.replace_blob(&good, &bomb());
    let started = std::time::Instant::now();
    for scale in ["preview", "large", "preview", "large"] {
        let r = app.get(&format!("/bild/@@images/image/{scale}"), Auth::Anonymous);
        assert_eq!(r.status, 400);
        assert!(String::from_utf8_lossy(&r.body).contains("pixels"));
    }
    assert!(started.elapsed().as_secs() < 5, "took {:?}", started.elapsed());
    assert_eq!(app.metric(FAILED), 2, "one failure per scale");
}
