//! Applying a client's JSON body to an object's fields: validation, defaults,
//! blob uploads and relation resolution, collecting every error at once.

use cairn_model::values::{BlobUpload, FieldInput, validate};
use cairn_model::{ContentPath, FieldKind, ResolvedType, Uid};
use serde_json::{Map, Value, json};

use crate::blobs::Pending;
use crate::error::{CoreError, CoreResult, FieldError};
use crate::images;
use crate::site::Site;

/// Fields plone.versioning shows but never stores.
const TRANSIENT: [&str; 1] = ["changeNote"];

/// Validates `body` against `ty` and merges it into `fields`. With `creating`,
/// unset fields get their defaults and missing required fields are errors.
/// Uploads are stored through `uploads`, which the caller commits with its
/// transaction (or drops, removing them).
pub fn apply(
    site: &Site,
    ty: &ResolvedType,
    body: &Map<String, Value>,
    fields: &mut Map<String, Value>,
    creating: bool,
    uploads: &mut Pending<'_>,
) -> CoreResult<()> {
    let mut errors = Vec::new();
    for f in &ty.fields {
        let Some(raw) = body.get(&f.name) else {
            if creating {
                if let Some(d) = f.default_value() {
                    fields.insert(f.name.clone(), d);
                } else if f.required && !fields.contains_key(&f.name) {
                    errors.push(FieldError::new(&f.name, "Required input is missing."));
                }
            }
            continue;
        };
        if f.read_only || TRANSIENT.contains(&f.name.as_str()) {
            continue;
        }
        match validate(f, raw) {
            Err(msg) => errors.push(FieldError::new(&f.name, msg)),
            Ok(FieldInput::Keep) => {}
            Ok(FieldInput::Clear) => {
                fields.remove(&f.name);
            }
            Ok(FieldInput::Value(v)) => {
                fields.insert(f.name.clone(), v);
            }
            Ok(FieldInput::Blob(up)) => match store_blob(site, f.kind, up, uploads) {
                Ok(v) => {
                    fields.insert(f.name.clone(), v);
                }
                Err(msg) => errors.push(FieldError::new(&f.name, msg)),
            },
            Ok(FieldInput::Relations { many, refs }) => match resolve_relations(site, &refs)? {
                Ok(uids) if many => {
                    fields.insert(f.name.clone(), json!(uids));
                }
                Ok(uids) => {
                    fields.insert(f.name.clone(), json!(uids.first()));
                }
                Err(msg) => errors.push(FieldError::new(&f.name, msg)),
            },
        }
    }
    // An invariant of plone.publication: an item cannot expire before it starts.
    if let (Some(Value::String(e)), Some(Value::String(x))) = (fields.get("effective"), fields.get("expires"))
        && x < e
    {
        errors.push(FieldError::new(
            "expires",
            "Expiration date must be after the publishing date.",
        ));
    }
    if let (Some(Value::String(s)), Some(Value::String(e))) = (fields.get("start"), fields.get("end"))
        && e < s
    {
        errors.push(FieldError::new("end", "End date must be after start date."));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(CoreError::Validation(errors))
    }
}

/// Writes an upload to the blob store. What a schema calls an image must be
/// one: its format is sniffed and decoded (within the pixel limit) and the
/// stored content type is the sniffed one, whatever the client declared.
pub(crate) fn store_blob(
    site: &Site,
    kind: FieldKind,
    up: BlobUpload,
    uploads: &mut Pending<'_>,
) -> Result<Value, String> {
    let mut v = json!({
        "filename": up.filename,
        "content-type": up.content_type,
        "size": up.data.len(),
    });
    if kind == FieldKind::Image {
        let (probe, _) = images::decode(&up.data, site.settings.max_image_pixels).map_err(|e| e.to_string())?;
        v["content-type"] = json!(probe.kind.content_type());
        v["width"] = json!(probe.width);
        v["height"] = json!(probe.height);
    }
    let key = uploads.put(&up.data).map_err(|e| {
        tracing::error!(error = %e, "blob store write failed");
        "The file could not be stored".to_string()
    })?;
    v["blob"] = json!(key);
    Ok(v)
}

/// The most targets one relation field may hold.
const MAX_RELATIONS: usize = 500;

/// Turns UIDs, absolute URLs and site paths into UIDs of existing objects:
/// one lookup for the UIDs and one for the paths, however many there are.
/// A target that is missing is the client's error; a failing store is not.
fn resolve_relations(site: &Site, refs: &[String]) -> CoreResult<Result<Vec<String>, String>> {
    if refs.len() > MAX_RELATIONS {
        return Ok(Err(format!("At most {MAX_RELATIONS} related items are allowed")));
    }
    enum Ref {
        Uid(Uid),
        Path(ContentPath),
    }
    let mut parsed = Vec::with_capacity(refs.len());
    for r in refs {
        parsed.push(if let Ok(uid) = Uid::parse(r) {
            Ref::Uid(uid)
        } else {
            match super::path_of_ref(site, r, None) {
                Some(p) => Ref::Path(p),
                None => return Ok(Err(format!("The relation target '{r}' does not exist"))),
            }
        });
    }
    let uids: Vec<Uid> = parsed
        .iter()
        .filter_map(|p| match p {
            Ref::Uid(u) => Some(u.clone()),
            Ref::Path(_) => None,
        })
        .collect();
    let paths: Vec<ContentPath> = parsed
        .iter()
        .filter_map(|p| match p {
            Ref::Path(p) => Some(p.clone()),
            Ref::Uid(_) => None,
        })
        .collect();
    let by_uid = if uids.is_empty() {
        Vec::new()
    } else {
        site.store.by_uids(&site.id, &uids)?
    };
    let by_path = if paths.is_empty() {
        Vec::new()
    } else {
        site.store.by_paths(&site.id, &paths)?
    };
    let mut out = Vec::with_capacity(refs.len());
    for (r, p) in refs.iter().zip(&parsed) {
        let found = match p {
            Ref::Uid(u) => by_uid.iter().find(|c| &c.uid == u),
            Ref::Path(path) => by_path.iter().find(|c| &c.path == path),
        };
        match found {
            Some(c) => out.push(c.uid.to_string()),
            None => return Ok(Err(format!("The relation target '{r}' does not exist"))),
        }
    }
    Ok(Ok(out))
}
