//! Sample content for a new site: a small cantonal website (see
//! `sample/content.json`), created through the same services the API uses.
//! Pages carry their text twice, as Plone would store it for each kind of
//! site: rich `text` (classic) and Volto `blocks` (a title block and slate
//! text blocks); each site's types keep the fields they have.

use cairn_core::repo::{self, workflow};
use cairn_core::{Principal, Site};
use cairn_model::ContentPath;
use serde_json::{Map, Value, json};

static CONTENT: &str = include_str!("../sample/content.json");

/// A procedurally drawn PNG (soft gradient with stripes), so no binary files ship.
fn picture(width: u32, height: u32, seed: u64) -> Vec<u8> {
    let (w, h) = (width.clamp(1, 4000), height.clamp(1, 4000));
    let base = [
        (seed * 37 % 200) as u8,
        (seed * 71 % 200) as u8,
        (seed * 113 % 200) as u8,
    ];
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        let t = (x + y) as f32 / (w + h) as f32;
        let stripe = if (x / 40 + y / 40) % 2 == 0 { 30 } else { 0 };
        image::Rgb(base.map(|c| ((c as f32 + 55.0 * t) as u8).saturating_add(stripe)))
    });
    let mut out = Vec::new();
    let _ = image::DynamicImage::ImageRgb8(img).write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png);
    out
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Turns a sample node into a create body (images and files made inline).
fn body_of(node: &Map<String, Value>) -> Map<String, Value> {
    let mut body: Map<String, Value> = node
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "items" | "review_state"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let Some(spec) = node.get("image").and_then(Value::as_object) {
        let dim = |k: &str, d: u64| spec.get(k).and_then(Value::as_u64).unwrap_or(d) as u32;
        let png = picture(
            dim("width", 800),
            dim("height", 600),
            spec.get("seed").and_then(Value::as_u64).unwrap_or(1),
        );
        let name = format!("{}.png", node.get("id").and_then(Value::as_str).unwrap_or("bild"));
        body.insert(
            "image".into(),
            json!({"data": b64(&png), "encoding": "base64", "filename": name, "content-type": "image/png"}),
        );
    }
    if let Some(spec) = node.get("file").and_then(Value::as_object) {
        let text = spec.get("text").and_then(Value::as_str).unwrap_or("");
        body.insert(
            "file".into(),
            json!({
                "data": b64(text.as_bytes()), "encoding": "base64",
                "filename": spec.get("filename").cloned().unwrap_or(json!("datei.txt")),
                "content-type": spec.get("content-type").cloned().unwrap_or(json!("text/plain")),
            }),
        );
    }
    body
}

fn add(
    site: &Site,
    parent: &ContentPath,
    node: &Map<String, Value>,
    admin: &Principal,
    count: &mut usize,
) -> anyhow::Result<()> {
    let created = repo::create(site, parent, &body_of(node), admin)
        .map_err(|e| anyhow::anyhow!("sample item {:?}: {e:?}", node.get("id")))?;
    *count += 1;
    let wanted = node.get("review_state").and_then(Value::as_str).unwrap_or("published");
    if wanted == "published" && created.review_state.as_deref() == Some("private") {
        let publish = workflow::Transition {
            id: "publish",
            ..Default::default()
        };
        workflow::transition(site, &created.path, &publish, admin)?;
    }
    // Pages hold pages on a Volto site; on a classic one a page's children
    // go next to it.
    let container = if created.is_folderish { &created.path } else { parent };
    for child in node.get("items").and_then(Value::as_array).into_iter().flatten() {
        if let Some(child) = child.as_object() {
            add(site, container, child, admin, count)?;
        }
    }
    Ok(())
}

/// Creates the sample tree below the site root; returns the number of objects.
pub fn fill(site: &Site) -> anyhow::Result<usize> {
    let doc: Value = serde_json::from_str(CONTENT)?;
    let admin = Principal {
        id: Some("admin".into()),
        fullname: "Administrator".into(),
        roles: vec!["Manager".into()],
        groups: Vec::new(),
    };
    let mut count = 0;
    for node in doc["items"].as_array().into_iter().flatten() {
        if let Some(node) = node.as_object() {
            add(site, &ContentPath::root(), node, &admin, &mut count)?;
        }
    }
    // The home page: its description, and on a Volto site its blocks (a
    // classic site has no blocks field, so they are left out there).
    if let Some(root) = doc.get("root").and_then(Value::as_object) {
        repo::update(site, &ContentPath::root(), root, &admin, None)
            .map_err(|e| anyhow::anyhow!("sample home page: {e:?}"))?;
    }
    Ok(count)
}
