//! `@@download`, `@@display-file` and `@@images`: blob bytes with the right
//! headers (see `crate::blob` for what may be shown inline). Scale URLs carry
//! a hash of the image, so they are cached forever.

use std::io::{Read, Seek, SeekFrom};

use axum::http::HeaderMap;
use axum::response::Response;
use cairn_core::images::{ImageKind, scale_bytes, scale_hash};
use cairn_core::ports::BlobFile;
use cairn_core::{Content, repo};
use cairn_model::ContentPath;
use serde_json::Value;

use crate::blob::{self, Stored, Want};
use crate::ctx::Ctx;
use crate::error::{ApiError, ApiResult};

fn blob_field<'a>(c: &'a Content, field: &str) -> Option<&'a Value> {
    c.fields.get(field).filter(|v| v.get("blob").is_some())
}

/// Public objects may be cached by shared caches; others only privately.
fn cache_policy(c: &Content, immutable: bool) -> &'static str {
    let public = c.allowed.iter().any(|a| a == "Anonymous");
    match (public, immutable) {
        (true, true) => "public, max-age=31536000, immutable",
        (true, false) => "public, max-age=0, must-revalidate",
        (false, _) => "private, max-age=0, must-revalidate",
    }
}

/// `@@download/<field>[/<filename>]` (attachment) and `@@display-file`
/// (inline if its type is safe to show), streamed, whole or one range.
pub fn download(
    ctx: &Ctx,
    path: &ContentPath,
    args: &[String],
    inline: bool,
    request: &HeaderMap,
) -> ApiResult<Response> {
    let c = repo::get_visible(&ctx.site, path, &ctx.who)?;
    ctx.shows(&c);
    let field = args
        .first()
        .cloned()
        .or_else(|| primary_field(ctx, &c))
        .unwrap_or_else(|| "file".into());
    let field = field.as_str();
    let not_found = || ApiError::not_found(&format!("{}/@@download/{field}", ctx.url(path)));
    let v = blob_field(&c, field).ok_or_else(not_found)?;
    let key = v["blob"].as_str().unwrap_or("");
    let file = ctx.site.blobs.open(key)?.ok_or_else(not_found)?;
    let ct = v
        .get("content-type")
        .and_then(Value::as_str)
        .unwrap_or("application/octet-stream");
    let how = Stored {
        content_type: ct,
        filename: Some(v.get("filename").and_then(Value::as_str).unwrap_or(field)),
        want: if inline { Want::Inline } else { Want::Download },
        cache_control: cache_policy(&c, false),
    };
    blob::stream(file, request, &how)
}

/// `@@site-logo/<filename>` on the site root: the logo of the Site control
/// panel, public (it shows on every page); revalidated, since a new logo
/// may keep the file name.
pub fn site_logo(ctx: &Ctx, path: &ContentPath, request: &HeaderMap) -> ApiResult<Response> {
    let not_found = || ApiError::not_found(&format!("{}/@@site-logo", ctx.url(path)));
    if !path.is_root() {
        return Err(not_found());
    }
    let logo = cairn_core::records::value(&ctx.site, "plone.site_logo")?;
    let key = logo.get("blob").and_then(Value::as_str).ok_or_else(not_found)?;
    let file = ctx.site.blobs.open(key)?.ok_or_else(not_found)?;
    let how = Stored {
        content_type: logo.get("content-type").and_then(Value::as_str).unwrap_or("image/png"),
        filename: logo.get("filename").and_then(Value::as_str),
        want: Want::Inline,
        cache_control: "public, max-age=0, must-revalidate",
    };
    blob::stream(file, request, &how)
}

/// The image type the first bytes of `file` show, the file rewound after.
fn sniff(file: &mut BlobFile) -> ApiResult<Option<&'static str>> {
    let mut head = Vec::with_capacity(64);
    let io = |e: std::io::Error| {
        tracing::error!(error = %e, "reading a blob failed");
        ApiError::internal()
    };
    (&mut file.file).take(64).read_to_end(&mut head).map_err(io)?;
    file.file.seek(SeekFrom::Start(0)).map_err(io)?;
    Ok(ImageKind::sniff(&head).map(ImageKind::content_type))
}

fn primary_field(ctx: &Ctx, c: &Content) -> Option<String> {
    let types = ctx.site.types();
    types
        .get(&c.portal_type)?
        .fields
        .iter()
        .find(|f| matches!(f.kind, cairn_model::FieldKind::File | cairn_model::FieldKind::Image))
        .map(|f| f.name.clone())
}

/// `@@images/<field>`, `@@images/<field>/<scale>` and `@@images/<field>-<w>-<hash>.<ext>`;
/// originals stream (ranges too), scales are small and come from memory.
pub fn images(ctx: &Ctx, path: &ContentPath, args: &[String], request: &HeaderMap) -> ApiResult<Response> {
    let Some(first) = args.first() else {
        return Err(ApiError::bad_request("An image field name is required"));
    };
    let c = repo::get_visible(&ctx.site, path, &ctx.who)?;
    ctx.shows(&c);
    let not_found = || ApiError::not_found(&format!("{}/@@images/{}", ctx.url(path), args.join("/")));
    // Stable ids: `<field>-<width>-<hash>.<ext>`; the field name may contain '-'.
    let (field, scale, immutable) = if let Some(v) = blob_field(&c, first) {
        let _ = v;
        (first.as_str(), args.get(1).cloned(), false)
    } else {
        let stem = first.rsplit_once('.').map_or(first.as_str(), |(s, _)| s);
        let mut parts = stem.rsplitn(3, '-');
        let (hash, _width, field) = (parts.next().unwrap_or(""), parts.next(), parts.next().unwrap_or(""));
        let v = blob_field(&c, field).ok_or_else(not_found)?;
        let blob = v["blob"].as_str().unwrap_or("");
        let scale = if scale_hash(blob, "original") == hash {
            None
        } else {
            let name = ctx
                .site
                .settings
                .scales
                .iter()
                .map(|(n, _, _)| n)
                .find(|n| scale_hash(blob, n) == hash);
            Some(name.ok_or_else(not_found)?.clone())
        };
        (field, scale, true)
    };
    let v = blob_field(&c, field).ok_or_else(not_found)?;
    let blob = v["blob"].as_str().unwrap_or("");
    let name = v.get("filename").and_then(Value::as_str).unwrap_or(field).to_string();
    let cache_control = cache_policy(&c, immutable);
    let Some(s) = scale else {
        let mut file = ctx.site.blobs.open(blob)?.ok_or_else(not_found)?;
        // Images stored before uploads were sniffed carry the client's word
        // for their type; the bytes say what they are.
        let stored = v.get("content-type").and_then(Value::as_str).unwrap_or("");
        let ct = sniff(&mut file)?.unwrap_or(stored);
        let how = Stored {
            content_type: ct,
            filename: Some(&name),
            want: Want::Inline,
            cache_control,
        };
        return blob::stream(file, request, &how);
    };
    let scale = scale_bytes(&ctx.site, blob, &s).map_err(|e| match e {
        cairn_core::CoreError::NotFound => not_found(),
        other => other.into(),
    })?;
    Ok(blob::respond(
        scale.bytes,
        scale.content_type,
        Some(&name),
        Want::Inline,
        cache_control,
    ))
}
