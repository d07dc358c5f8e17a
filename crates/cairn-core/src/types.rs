//! Content types changed while the site runs (`@types` edits and the
//! dexterity-types panel). A changed type is saved whole, as the type file
//! (TOML) a site could put in its configuration folder, under the settings
//! key `types` (type id to file text), in one batch with an outbox event.
//! Every reader asks `Site::types()`, which rebuilds the registry when the
//! saved files changed, so a saved type takes effect on the next request.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use cairn_model::ContentPath;
use cairn_model::schema::editing::{self, EditError};
use cairn_model::schema::{ResolvedType, SchemaError, SchemaSources, TypeDef, TypeRegistry};
use serde_json::{Map, Value};

use crate::error::{CoreError, CoreResult};
use crate::ports::{ChangeEvent, WriteBatch, WriteOp};
use crate::security::Principal;
use crate::site::Site;

/// The settings key the saved type files live under.
pub const KEY: &str = "types";

/// The registry a site's readers share, with what it was built from.
pub struct Types {
    /// The shipped files and the configuration folder's.
    base: SchemaSources,
    profile: Option<String>,
    current: RwLock<Current>,
    /// Edits take turns from reading a type to saving it: the saved files
    /// are written as one map, and an edit must start from the last one.
    writing: std::sync::Mutex<()>,
}

struct Current {
    /// The store generation the saved files were last compared at.
    generation: Option<u64>,
    /// The saved files the registry holds.
    saved: Map<String, Value>,
    registry: Arc<TypeRegistry>,
}

impl Types {
    /// The types of the files alone (saved ones are read on first use).
    pub fn new(base: SchemaSources, profile: Option<&str>) -> Result<Self, SchemaError> {
        let registry = TypeRegistry::build(&base, profile)?;
        Ok(Self {
            base,
            profile: profile.map(str::to_string),
            current: RwLock::new(Current {
                generation: None,
                saved: Map::new(),
                registry: Arc::new(registry),
            }),
            writing: std::sync::Mutex::new(()),
        })
    }

    fn build(&self, saved: &Map<String, Value>) -> Result<TypeRegistry, SchemaError> {
        let mut src = self.base.clone();
        src.web = saved
            .iter()
            .map(|(id, text)| (format!("@types/{id}"), text.as_str().unwrap_or_default().to_string()))
            .collect();
        TypeRegistry::build(&src, self.profile.as_deref())
    }
}

/// The registry in effect: rebuilt when the saved type files changed.
pub fn current(site: &Site) -> Arc<TypeRegistry> {
    let types = &site.schemas;
    let generation = site.store.generation();
    {
        let cur = types.current.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        if cur.generation == Some(generation) {
            return cur.registry.clone();
        }
    }
    let saved = match site.store.setting(&site.id, KEY) {
        Ok(Some(Value::Object(m))) => m,
        Ok(_) => Map::new(),
        Err(e) => {
            tracing::warn!(site = %site.id, error = %e, "the saved content types could not be read");
            return types
                .current
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .registry
                .clone();
        }
    };
    let mut cur = types.current.write().unwrap_or_else(std::sync::PoisonError::into_inner);
    if cur.saved != saved || cur.generation.is_none() {
        match types.build(&saved) {
            Ok(reg) => {
                cur.registry = Arc::new(reg);
                cur.saved = saved;
            }
            // Saves are checked before they are kept; this is a file a newer
            // or older cairn wrote. The previous registry keeps serving.
            Err(e) => tracing::error!(site = %site.id, error = %e, "the saved content types do not build"),
        }
    }
    cur.generation = Some(generation);
    cur.registry.clone()
}

/// This process's turn to change the saved types.
fn turn(site: &Site) -> std::sync::MutexGuard<'_, ()> {
    site.schemas
        .writing
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn edit_error(e: EditError) -> CoreError {
    match e {
        EditError::Invalid(m) => CoreError::BadRequest(m),
        EditError::Missing(_) => CoreError::NotFound,
    }
}

/// Saves `def` as the type `id` (`None` removes the saved file), after
/// checking that the registry builds with it.
fn save(site: &Site, id: &str, def: Option<&TypeDef>) -> CoreResult<()> {
    let mut saved = match site.store.setting(&site.id, KEY)? {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    match def {
        Some(def) => saved.insert(id.to_string(), Value::String(def.to_toml())),
        None => saved.remove(id),
    };
    site.schemas
        .build(&saved)
        .map_err(|e| CoreError::BadRequest(format!("The type does not load: {e}")))?;
    let root = crate::repo::get(site, &ContentPath::root())?;
    site.write(WriteBatch {
        ops: vec![WriteOp::PutSetting {
            key: KEY.into(),
            value: Value::Object(saved),
        }],
        // Schemas, forms and serializations of the whole site may change.
        events: vec![ChangeEvent {
            kind: crate::records::CHANGED,
            uid: root.uid,
            path: root.path,
        }],
        ..Default::default()
    })
}

/// Changes type `id` with `change` (given the type as resolved and a copy
/// of its definition) and saves it; gives back what `change` gave.
pub fn edit<T>(
    site: &Site,
    who: &Principal,
    id: &str,
    change: impl FnOnce(&ResolvedType, &mut TypeDef) -> Result<T, EditError>,
) -> CoreResult<T> {
    crate::security::require_admin(who, "manage content types")?;
    let _turn = turn(site);
    let reg = site.types();
    let ty = reg.get(id).ok_or(CoreError::NotFound)?;
    let mut def = ty.def.clone();
    let out = change(ty, &mut def).map_err(edit_error)?;
    save(site, id, Some(&def))?;
    Ok(out)
}

/// Adds a type made through the web; gives back its id.
pub fn create(site: &Site, who: &Principal, body: &Map<String, Value>) -> CoreResult<String> {
    crate::security::require_admin(who, "manage content types")?;
    let _turn = turn(site);
    let reg = site.types();
    if reg.all().filter(|t| reg.is_web(&t.def.id)).count() >= MAX_WEB_TYPES {
        return Err(CoreError::BadRequest(format!(
            "A site has at most {MAX_WEB_TYPES} types made through the web"
        )));
    }
    let mut def = editing::new_type(&reg, body).map_err(edit_error)?;
    let mut settings = body.clone();
    for k in ["title", "description", "id", "folderish"] {
        settings.remove(k);
    }
    editing::update_settings(&reg, &mut def, &settings).map_err(edit_error)?;
    save(site, &def.id.clone(), Some(&def))?;
    Ok(def.id)
}

/// Most types a site can make through the web.
pub const MAX_WEB_TYPES: usize = 200;

/// Removes a type made through the web that no object uses.
pub fn remove(site: &Site, who: &Principal, id: &str) -> CoreResult<()> {
    crate::security::require_admin(who, "manage content types")?;
    let _turn = turn(site);
    let reg = site.types();
    if reg.get(id).is_none() {
        return Err(CoreError::NotFound);
    }
    let base = site
        .schemas
        .build(&Map::new())
        .map_err(|e| CoreError::Internal(e.to_string()))?;
    if base.get(id).is_some() {
        return Err(CoreError::BadRequest(format!(
            "'{id}' is defined in a type file; only types made through the web can be removed"
        )));
    }
    let used = counts(site)?.get(id).copied().unwrap_or(0);
    if used > 0 {
        return Err(CoreError::BadRequest(format!(
            "{used} objects are of type '{id}'; delete them before the type"
        )));
    }
    save(site, id, None)
}

/// How many objects each type has (the panel's `count`).
pub fn counts(site: &Site) -> CoreResult<BTreeMap<String, u64>> {
    Ok(site.store.type_counts(&site.id)?.into_iter().collect())
}
