//! Workflows and the site's permission map as data (Plone's DCWorkflow
//! definitions and rolemap), read from TOML files.

use std::collections::BTreeMap;

use serde::Deserialize;

/// One state and the roles each managed permission grants in it.
#[derive(Debug, Clone, Deserialize)]
pub struct StateDef {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub permissions: BTreeMap<String, Vec<String>>,
}

/// A transition between states, with its guard.
#[derive(Debug, Clone, Deserialize)]
pub struct TransitionDef {
    pub id: String,
    pub title: String,
    pub from: Vec<String>,
    pub to: String,
    #[serde(default)]
    pub guard_permission: Option<String>,
    #[serde(default)]
    pub guard_roles: Vec<String>,
    /// Set `effective` to now when it is empty; default: when the target is public.
    #[serde(default)]
    pub set_effective: Option<bool>,
}

/// A workflow definition.
#[derive(Debug, Clone, Deserialize)]
pub struct WorkflowDef {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub initial_state: String,
    #[serde(default)]
    pub managed_permissions: Vec<String>,
    pub states: Vec<StateDef>,
    #[serde(default)]
    pub transitions: Vec<TransitionDef>,
}

impl WorkflowDef {
    pub fn state(&self, id: &str) -> Option<&StateDef> {
        self.states.iter().find(|s| s.id == id)
    }

    pub fn transition(&self, id: &str) -> Option<&TransitionDef> {
        self.transitions.iter().find(|t| t.id == id)
    }

    /// The roles `permission` is granted to in `state`, when this workflow manages it.
    pub fn roles_for(&self, state: &str, permission: &str) -> Option<&[String]> {
        if !self.managed_permissions.iter().any(|p| p == permission) {
            return None;
        }
        self.state(state)
            .and_then(|s| s.permissions.get(permission))
            .map(Vec::as_slice)
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
struct RolemapFile {
    #[serde(default)]
    permissions: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct BindingsFile {
    #[serde(default)]
    types: BTreeMap<String, String>,
}

/// Why the workflow files could not be used.
#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    #[error("{file}: {source}")]
    Parse { file: String, source: toml::de::Error },
    #[error("workflow '{workflow}': {problem}")]
    Invalid { workflow: String, problem: String },
}

/// The raw workflow files: `(file name, TOML text)`.
#[derive(Debug, Clone, Default)]
pub struct WorkflowSources {
    pub files: Vec<(String, String)>,
}

/// Every workflow of a site, the site-wide permission map and per-type bindings.
#[derive(Debug, Clone, Default)]
pub struct Workflows {
    defs: BTreeMap<String, WorkflowDef>,
    rolemap: BTreeMap<String, Vec<String>>,
    bindings: BTreeMap<String, String>,
}

fn parse<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> Result<T, WorkflowError> {
    toml::from_str(text).map_err(|source| WorkflowError::Parse {
        file: file.to_string(),
        source,
    })
}

impl Workflows {
    /// Reads `rolemap.toml`, `bindings.toml` and every other file as a workflow;
    /// later files override earlier ones (a site's own files come last).
    pub fn build(src: &WorkflowSources) -> Result<Self, WorkflowError> {
        let mut w = Workflows::default();
        for (file, text) in &src.files {
            let name = file.rsplit('/').next().unwrap_or(file);
            match name {
                "rolemap.toml" => w.rolemap.extend(parse::<RolemapFile>(file, text)?.permissions),
                "bindings.toml" => w.bindings.extend(parse::<BindingsFile>(file, text)?.types),
                _ => {
                    let def: WorkflowDef = parse(file, text)?;
                    check(&def)?;
                    w.defs.insert(def.id.clone(), def);
                }
            }
        }
        Ok(w)
    }

    pub fn get(&self, id: &str) -> Option<&WorkflowDef> {
        self.defs.get(id)
    }

    /// The workflow bound to a type: a site binding wins over the type's own.
    pub fn for_type(&self, type_id: &str, type_default: &str) -> Option<&WorkflowDef> {
        let id = self.bindings.get(type_id).map(String::as_str).unwrap_or(type_default);
        self.defs.get(id)
    }

    /// Roles granted `permission` site-wide (Plone's rolemap).
    pub fn site_roles(&self, permission: &str) -> &[String] {
        self.rolemap.get(permission).map(Vec::as_slice).unwrap_or(&[])
    }
}

fn check(def: &WorkflowDef) -> Result<(), WorkflowError> {
    let bad = |problem: String| {
        Err(WorkflowError::Invalid {
            workflow: def.id.clone(),
            problem,
        })
    };
    if def.state(&def.initial_state).is_none() {
        return bad(format!("initial state '{}' is not defined", def.initial_state));
    }
    for t in &def.transitions {
        for s in t.from.iter().chain(std::iter::once(&t.to)) {
            if def.state(s).is_none() {
                return bad(format!("transition '{}' names unknown state '{s}'", t.id));
            }
        }
    }
    for s in &def.states {
        if let Some(p) = def.managed_permissions.iter().find(|p| !s.permissions.contains_key(*p)) {
            return bad(format!("state '{}' does not map managed permission '{p}'", s.id));
        }
    }
    Ok(())
}
