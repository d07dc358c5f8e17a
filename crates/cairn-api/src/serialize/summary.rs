//! Summaries: the catalog-brain form used for `items`, `parent`, relations and
//! search results, with `metadata_fields` columns on request.

use cairn_core::Content;
use cairn_model::FieldKind;
use cairn_model::time::format_ts;
use serde_json::{Map, Value, json};

use super::fields::image_scale_entry;
use crate::ctx::Ctx;

/// Catalog date columns show these for unset effective/expires dates.
const FLOOR_DATE: &str = "1969-12-31T00:00:00+00:00";
const CEILING_DATE: &str = "2499-12-31T00:00:00+00:00";

/// The translated type title (`Document` → `Page`).
pub fn type_title(ctx: &Ctx, c: &Content) -> String {
    if c.is_root() {
        return "Plone Site".into();
    }
    ctx.site
        .types()
        .get(&c.portal_type)
        .map(|t| t.def.title.clone())
        .unwrap_or_else(|| c.portal_type.clone())
}

fn date_field(c: &Content, name: &str, fallback: &str) -> Value {
    json!(c.fields.get(name).and_then(Value::as_str).unwrap_or(fallback))
}

fn human_size(bytes: u64) -> String {
    match bytes {
        0..1024 => format!("{bytes} B"),
        1024..1_048_576 => format!("{:.1} KB", bytes as f64 / 1024.0),
        _ => format!("{:.1} MB", bytes as f64 / 1_048_576.0),
    }
}

/// The `image_scales` of `c` as a summary shows them (null without images).
pub fn image_scales(ctx: &Ctx, c: &Content) -> Value {
    let types = ctx.site.types();
    let Some(ty) = types.get(&c.portal_type) else {
        return Value::Null;
    };
    let mut out = Map::new();
    for f in ty.image_fields() {
        if let Some(v) = c.fields.get(&f.name) {
            out.insert(f.name.clone(), json!([image_scale_entry(ctx, &f.name, v)]));
        }
    }
    if out.is_empty() {
        Value::Null
    } else {
        Value::Object(out)
    }
}

fn image_field(c: &Content) -> &'static str {
    ["preview_image_link", "preview_image", "image"]
        .into_iter()
        .find(|f| c.fields.get(*f).is_some_and(|v| !v.is_null()))
        .unwrap_or("")
}

fn primary_blob<'a>(ctx: &Ctx, c: &'a Content) -> Option<&'a Value> {
    let types = ctx.site.types();
    let ty = types.get(&c.portal_type)?;
    ty.fields
        .iter()
        .filter(|f| matches!(f.kind, FieldKind::File | FieldKind::Image))
        .find_map(|f| c.fields.get(&f.name))
}

/// The value of one metadata column, `None` for unknown names.
pub fn column(ctx: &Ctx, c: &Content, name: &str) -> Option<Value> {
    Some(match name {
        "UID" => json!(c.uid),
        "Creator" => json!(c.strings("creators").first()),
        "listCreators" => json!(c.strings("creators")),
        "Title" | "title" => json!(c.title()),
        "Description" | "description" => json!(c.description()),
        "Subject" | "subjects" => json!(c.strings("subjects")),
        "Type" => json!(type_title(ctx, c)),
        "portal_type" => json!(c.portal_type),
        "review_state" => json!(c.review_state),
        "id" | "getId" => json!(c.id()),
        "getPath" => json!(format!("/{}{}", ctx.site.id, c.path)),
        "getURL" => json!(ctx.url(&c.path)),
        "created" | "CreationDate" => json!(format_ts(c.created)),
        "modified" | "ModificationDate" => json!(format_ts(c.modified)),
        "effective" => date_field(c, "effective", FLOOR_DATE),
        "expires" => date_field(c, "expires", CEILING_DATE),
        // Dublin Core's accessors say "None" for an unset date, as Plone's
        // catalog metadata holds them (Volto's folder contents shows it).
        "EffectiveDate" => date_field(c, "effective", "None"),
        "ExpirationDate" => date_field(c, "expires", "None"),
        "Date" => json!(
            c.fields
                .get("effective")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| format_ts(c.modified))
        ),
        "start" | "end" => c.fields.get(name).cloned().unwrap_or(Value::Null),
        "location" => c.fields.get("location").cloned().unwrap_or(Value::Null),
        "exclude_from_nav" => json!(c.bool_field("exclude_from_nav")),
        "is_folderish" => json!(c.is_folderish),
        "getRemoteUrl" => c.fields.get("remoteUrl").cloned().unwrap_or(Value::Null),
        "nav_title" => c.fields.get("nav_title").cloned().unwrap_or(Value::Null),
        "head_title" => c.fields.get("head_title").cloned().unwrap_or(Value::Null),
        "getIcon" | "hasPreviewImage" => json!(!image_field(c).is_empty()),
        "image_field" => json!(image_field(c)),
        "image_scales" => image_scales(ctx, c),
        "getObjSize" => json!(
            primary_blob(ctx, c)
                .and_then(|v| v.get("size"))
                .and_then(Value::as_u64)
                .map(human_size)
                .unwrap_or_else(|| "0 KB".into())
        ),
        "mime_type" => json!(
            primary_blob(ctx, c)
                .and_then(|v| v.get("content-type"))
                .and_then(Value::as_str)
                .unwrap_or("text/plain")
        ),
        "Language" | "language" => json!(c.str_field("language")),
        _ => return None,
    })
}

/// The summary of `c` with the default keys plus the requested columns.
pub fn summary(ctx: &Ctx, c: &Content, metadata_fields: &[String]) -> Value {
    ctx.shows(c);
    let mut o = Map::new();
    o.insert("@id".into(), json!(ctx.url(&c.path)));
    o.insert("@type".into(), json!(c.portal_type));
    o.insert("description".into(), json!(c.description()));
    if !c.is_root() {
        o.insert("review_state".into(), json!(c.review_state));
    }
    o.insert("title".into(), json!(c.title()));
    o.insert("type_title".into(), json!(type_title(ctx, c)));
    if ctx.volto() && !c.is_root() {
        for col in [
            "head_title",
            "effective",
            "end",
            "start",
            "getObjSize",
            "image_field",
            "image_scales",
            "mime_type",
            "nav_title",
            "getRemoteUrl",
        ] {
            o.insert(col.into(), column(ctx, c, col).unwrap_or(Value::Null));
        }
    }
    let all = metadata_fields.iter().any(|m| m == "_all");
    let wanted: Vec<&str> = if all {
        // Every metadata column (the MetadataFields vocabulary), and the URLs.
        cairn_core::vocabularies::METADATA
            .iter()
            .map(|(c, _)| *c)
            .chain(["getPath", "getURL"])
            .collect()
    } else {
        metadata_fields.iter().map(String::as_str).collect()
    };
    for name in wanted {
        if name.starts_with('_') {
            continue;
        }
        if let Some(v) = column(ctx, c, name) {
            o.insert(name.to_string(), v);
        }
    }
    Value::Object(o)
}
