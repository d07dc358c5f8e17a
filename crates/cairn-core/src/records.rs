//! The registry (`@registry`, `@controlpanels`): the settings an
//! administrator changes while the site runs. Each record is a field of a
//! shipped control panel (`cairn_model::schema::panels`); its value is what
//! was saved, else the site's configured value (title, languages, time
//! zone, navigation types), else the field's default. Saved values live in
//! the store (settings key `registry`), written in one batch with an outbox
//! event, so every cached answer that showed the old value is dropped and
//! the CDN is told to purge the site.

use std::sync::{Arc, RwLock};

use cairn_model::ContentPath;
use cairn_model::schema::panels::{self, ControlPanel};
use cairn_model::schema::{FieldDef, FieldKind};
use cairn_model::values::{FieldInput, validate};
use serde_json::{Map, Value, json};

use crate::error::{CoreError, CoreResult, FieldError};
use crate::ports::{ChangeEvent, WriteBatch, WriteOp};
use crate::security::Principal;
use crate::site::Site;

/// The settings key the saved values live under.
pub const KEY: &str = "registry";
/// The outbox event of a saved change (caches of the whole site go stale).
pub const CHANGED: &str = "settings_changed";

/// Saved values, shared by the readers of one load.
type Values = Arc<Map<String, Value>>;

/// Saved values as last read, with the store generation they were read at.
#[derive(Default)]
pub struct Cached(RwLock<Option<(u64, Values)>>, std::sync::Mutex<()>);

/// The saved values (a write of this process since the last read reloads them).
fn saved(site: &Site) -> CoreResult<Values> {
    let generation = site.store.generation();
    if let Some((g, v)) = &*site.records.0.read().unwrap_or_else(std::sync::PoisonError::into_inner)
        && *g == generation
    {
        return Ok(v.clone());
    }
    let values = match site.store.setting(&site.id, KEY)? {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    let values = Arc::new(values);
    *site
        .records
        .0
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some((generation, values.clone()));
    Ok(values)
}

/// The value of record `name` in effect.
pub fn value(site: &Site, name: &str) -> CoreResult<Value> {
    if let Some(v) = saved(site)?.get(name) {
        return Ok(v.clone());
    }
    Ok(configured(site, name)
        .or_else(|| panels::record(name).and_then(|(_, f)| f.default_value()))
        .unwrap_or(Value::Null))
}

/// A list record's value as strings.
pub fn strings(site: &Site, name: &str) -> CoreResult<Vec<String>> {
    Ok(value(site, name)?
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default())
}

/// A text record's value.
pub fn text(site: &Site, name: &str) -> CoreResult<String> {
    Ok(value(site, name)?.as_str().unwrap_or_default().to_string())
}

/// What the site's configuration says for the records it sets.
fn configured(site: &Site, name: &str) -> Option<Value> {
    let s = &site.settings;
    Some(match name {
        "plone.site_title" => json!(s.title),
        "plone.default_language" => json!(s.default_language),
        "plone.available_languages" => json!(s.available_languages),
        "plone.portal_timezone" => json!(s.timezone),
        "plone.displayed_types" => json!(s.displayed_types),
        "cairn.caching.content_s_maxage" => json!(s.s_maxages[0]),
        "cairn.caching.listing_s_maxage" => json!(s.s_maxages[1]),
        "cairn.caching.file_s_maxage" => json!(s.s_maxages[2]),
        _ => return None,
    })
}

/// A panel's values as an administrator may see them, by field name.
pub fn panel_data(site: &Site, panel: &ControlPanel) -> CoreResult<Map<String, Value>> {
    panel
        .fields
        .iter()
        .map(|f| Ok((f.name.clone(), shown(site, &panel.record(f))?)))
        .collect()
}

/// Record `name` as it is shown: a password never leaves the server.
pub fn shown(site: &Site, name: &str) -> CoreResult<Value> {
    match panels::record(name) {
        Some((_, f)) if f.kind == FieldKind::Password => Ok(Value::Null),
        _ => value(site, name),
    }
}

/// Saves `changes` (record name to value), all or none: each value is
/// checked as its field checks content, against its vocabulary too.
pub fn set(site: &Site, who: &Principal, changes: &Map<String, Value>) -> CoreResult<()> {
    crate::security::require_admin(who, "manage the site")?;
    // Saves take turns from read to write: two panels saved at once both
    // keep their values (the record map is written whole).
    let _turn = site.records.1.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut next = (*saved(site)?).clone();
    let mut errors = Vec::new();
    // Dropped on every early return: the upload of a refused change goes.
    let mut uploads = site.uploads.begin();
    for (name, raw) in changes {
        let Some((_, field)) = panels::record(name) else {
            errors.push(FieldError::new(name, "No such record"));
            continue;
        };
        // A form sends back the password it was never shown: keep the saved one.
        if field.kind == FieldKind::Password && raw.as_str().is_none_or(str::is_empty) {
            continue;
        }
        match checked(site, who, field, raw, &mut uploads) {
            Ok(Some(v)) => {
                next.insert(name.clone(), v);
            }
            Ok(None) => {
                next.remove(name);
            }
            Err(msg) => errors.push(FieldError::new(name, msg)),
        }
    }
    if !errors.is_empty() {
        return Err(CoreError::Validation(errors));
    }
    let root = crate::repo::get(site, &ContentPath::root())?;
    let written = site.write(WriteBatch {
        ops: vec![WriteOp::PutSetting {
            key: KEY.into(),
            value: Value::Object(next),
        }],
        events: vec![ChangeEvent {
            kind: CHANGED,
            uid: root.uid,
            path: root.path,
        }],
        ..Default::default()
    });
    if written.is_ok() {
        uploads.commit();
        // Read again on the next request, whatever the store's generation says.
        *site
            .records
            .0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }
    written
}

/// The value to save for `field`, `None` to go back to the default.
fn checked(
    site: &Site,
    who: &Principal,
    field: &FieldDef,
    raw: &Value,
    uploads: &mut crate::blobs::Pending<'_>,
) -> Result<Option<Value>, String> {
    let v = match validate(field, raw)? {
        FieldInput::Keep => return Ok(None),
        FieldInput::Clear if field.required => return Err("Required input is missing.".into()),
        FieldInput::Clear => return Ok(None),
        FieldInput::Value(v) => v,
        // A logo: kept in the blob store like an image field's.
        FieldInput::Blob(up) => return crate::repo::fields::store_blob(site, field.kind, up, uploads).map(Some),
        FieldInput::Relations { .. } => return Err("Relations cannot be settings".into()),
    };
    if let Some(vocabulary) = field.vocabulary.clone().or_else(|| item_vocabulary(field)) {
        let terms = crate::vocabularies::terms(site, who, &vocabulary, true).map_err(|e| e.to_string())?;
        let known = |t: &str| terms.iter().any(|term| term.token == t);
        let given: Vec<&str> = match &v {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if let Some(bad) = given.iter().find(|t| !known(t)) {
            return Err(format!("'{bad}' is not one of the choices"));
        }
    }
    let empty = v.as_array().is_some_and(Vec::is_empty) || v.as_str().is_some_and(|s| s.trim().is_empty());
    if field.required && empty {
        return Err("Required input is missing.".into());
    }
    Ok(Some(v))
}

/// The vocabulary a list field's items come from (declared in its schema).
fn item_vocabulary(field: &FieldDef) -> Option<String> {
    let schema = field.schema.as_ref()?;
    let id = schema.get("items")?.get("vocabulary")?.get("@id")?.as_str()?;
    Some(id.rsplit('/').next()?.to_string())
}
