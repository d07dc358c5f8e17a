//! Field values as plone.restapi prints them (rich text objects, file and image
//! download URLs with scales, relation summaries, choice tokens).

use cairn_core::Content;
use cairn_core::images::{scale_hash, scales_for};
use cairn_core::repo::Surroundings;
use cairn_model::mime::image_extension;
use cairn_model::{FieldDef, FieldKind};
use serde_json::{Map, Value, json};

use super::summary::summary;
use crate::ctx::Ctx;

/// `(width, height, hash)` of an image value and its scale names.
fn image_parts(v: &Value) -> Option<(&str, u64, u64, &str)> {
    Some((
        v.get("blob")?.as_str()?,
        v.get("width")?.as_u64()?,
        v.get("height")?.as_u64()?,
        v.get("content-type").and_then(Value::as_str).unwrap_or("image/png"),
    ))
}

/// The full-object form of an image field: absolute URLs, every configured scale.
pub fn image(ctx: &Ctx, url: &str, field: &str, v: &Value) -> Value {
    image_value(ctx, url, field, v, true)
}

/// `image_scales` entry (summary form): URLs relative to the item, only scales
/// narrower than the original.
pub fn image_scale_entry(ctx: &Ctx, field: &str, v: &Value) -> Value {
    image_value(ctx, "", field, v, false)
}

fn image_value(ctx: &Ctx, url: &str, field: &str, v: &Value, full: bool) -> Value {
    let Some((blob, w, h, ct)) = image_parts(v) else {
        return Value::Null;
    };
    let ext = image_extension(ct);
    let prefix = if url.is_empty() {
        String::new()
    } else {
        format!("{url}/")
    };
    let mut scales = Map::new();
    for (name, sw, sh) in scales_for(&ctx.site, w as u32, h as u32) {
        if !full && sw as u64 >= w {
            continue;
        }
        let download = format!("{prefix}@@images/{field}-{sw}-{}.{ext}", scale_hash(blob, &name));
        scales.insert(name, json!({"download": download, "width": sw, "height": sh}));
    }
    json!({
        "content-type": ct,
        "download": format!("{prefix}@@images/{field}-{w}-{}.{ext}", scale_hash(blob, "original")),
        "filename": v.get("filename").cloned().unwrap_or(Value::Null),
        "height": h,
        "scales": scales,
        "size": v.get("size").cloned().unwrap_or(json!(0)),
        "width": w,
    })
}

/// One field's value for a full serialization.
pub fn value(ctx: &Ctx, c: &Content, url: &str, f: &FieldDef, around: &Surroundings) -> Value {
    let Some(v) = c.fields.get(&f.name) else {
        return f.missing_value();
    };
    match f.kind {
        FieldKind::Image => image(ctx, url, &f.name, v),
        FieldKind::File => json!({
            "content-type": v.get("content-type"),
            "download": format!("{url}/@@download/{}", f.name),
            "filename": v.get("filename"),
            "size": v.get("size"),
        }),
        FieldKind::Relation => {
            let uid = v.as_str().unwrap_or("");
            around.related(uid).map_or(Value::Null, |r| summary(ctx, r, &[]))
        }
        FieldKind::RelationList => {
            let uids: Vec<&str> = v
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            // Order as stored; unreadable or broken targets are left out.
            let items: Vec<Value> = uids
                .iter()
                .filter_map(|u| around.related(u))
                .map(|r| summary(ctx, r, &[]))
                .collect();
            json!(items)
        }
        FieldKind::Choice if f.name == "language" => match v.as_str().and_then(cairn_core::vocabularies::language_name)
        {
            Some(title) => json!({"token": v, "title": title}),
            None => v.clone(),
        },
        FieldKind::Choice if !f.choices.is_empty() => {
            let token = v.as_str().unwrap_or("");
            match f.choices.iter().find(|(t, _)| t == token) {
                Some((t, title)) => json!({"token": t, "title": title}),
                None => v.clone(),
            }
        }
        _ => v.clone(),
    }
}
