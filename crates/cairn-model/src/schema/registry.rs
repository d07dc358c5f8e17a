//! Building a site's type registry from schema files: behaviors resolved into
//! field lists, profiles applied, site files overriding shipped ones.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{BehaviorDef, FieldDef, FieldsetDef, ResolvedType, SchemaError, TypeDef};

#[derive(Debug, Clone, Deserialize)]
struct FieldsetsFile {
    fieldsets: Vec<FieldsetDef>,
}

/// Per-type changes a profile (such as plone.volto's) applies to the standard set.
#[derive(Debug, Clone, Deserialize)]
pub struct TypeOverlay {
    pub id: String,
    #[serde(default)]
    pub add_behaviors: Vec<String>,
    #[serde(default)]
    pub folderish: Option<bool>,
    #[serde(default)]
    pub filter_content_types: Option<bool>,
    #[serde(default)]
    pub global_allow: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
struct ProfileFile {
    #[serde(default)]
    types: Vec<TypeOverlay>,
}

/// Every content type of a site, resolved and ready to validate and serialize.
#[derive(Debug, Clone, Default)]
pub struct TypeRegistry {
    types: BTreeMap<String, ResolvedType>,
    /// Declaration order, so `@types` lists types in a stable order.
    order: Vec<String>,
    pub fieldsets: Vec<FieldsetDef>,
    /// Every behavior a type may use (the Behaviors vocabulary).
    pub behaviors: Vec<BehaviorInfo>,
    /// Types whose definition came from `SchemaSources::web`.
    web: Vec<String>,
}

/// A behavior as the Behaviors vocabulary and the types panel show it.
#[derive(Debug, Clone)]
pub struct BehaviorInfo {
    pub name: String,
    pub title: String,
    pub description: String,
}

/// The raw files a registry is built from: `(file name, TOML text)` pairs.
#[derive(Debug, Clone, Default)]
pub struct SchemaSources {
    pub fieldsets: Vec<(String, String)>,
    pub behaviors: Vec<(String, String)>,
    pub types: Vec<(String, String)>,
    pub profiles: Vec<(String, String)>,
    /// Types saved through the web (`@types` edits): whole definitions that
    /// replace a file's type of the same id, with no profile overlay applied.
    pub web: Vec<(String, String)>,
}

fn parse<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> Result<T, SchemaError> {
    toml::from_str(text).map_err(|source| SchemaError::Parse {
        file: file.to_string(),
        source,
    })
}

impl TypeRegistry {
    /// Builds the registry; later sources override earlier ones of the same name,
    /// and `profile` (e.g. `"volto"`) applies that profile's overlay.
    pub fn build(src: &SchemaSources, profile: Option<&str>) -> Result<Self, SchemaError> {
        let mut fieldsets: Vec<FieldsetDef> = Vec::new();
        for (file, text) in &src.fieldsets {
            let f: FieldsetsFile = parse(file, text)?;
            for fs in f.fieldsets {
                fieldsets.retain(|x| x.id != fs.id);
                fieldsets.push(fs);
            }
        }
        let mut behaviors: BTreeMap<String, BehaviorDef> = BTreeMap::new();
        for (file, text) in &src.behaviors {
            let mut b: BehaviorDef = parse(file, text)?;
            for f in &mut b.fields {
                if f.behavior.is_empty() {
                    f.behavior = b.name.clone();
                }
            }
            behaviors.insert(b.name.clone(), b);
        }
        let mut defs: Vec<TypeDef> = Vec::new();
        for (file, text) in &src.types {
            let t: TypeDef = parse(file, text)?;
            defs.retain(|d| d.id != t.id);
            defs.push(t);
        }
        if let Some(name) = profile {
            let (file, text) = src
                .profiles
                .iter()
                .find(|(f, _)| f.trim_end_matches(".toml") == name)
                .ok_or_else(|| SchemaError::UnknownProfile(name.to_string()))?;
            let p: ProfileFile = parse(file, text)?;
            for o in p.types {
                if let Some(d) = defs.iter_mut().find(|d| d.id == o.id) {
                    for b in &o.add_behaviors {
                        if !d.behaviors.contains(b) {
                            d.behaviors.push(b.clone());
                        }
                    }
                    d.folderish = o.folderish.unwrap_or(d.folderish);
                    d.filter_content_types = o.filter_content_types.unwrap_or(d.filter_content_types);
                    d.global_allow = o.global_allow.unwrap_or(d.global_allow);
                }
            }
        }
        let mut web = Vec::new();
        for (file, text) in &src.web {
            let t: TypeDef = parse(file, text)?;
            defs.retain(|d| d.id != t.id);
            web.push(t.id.clone());
            defs.push(t);
        }
        let mut reg = TypeRegistry {
            fieldsets,
            behaviors: behaviors
                .values()
                .map(|b| BehaviorInfo {
                    name: b.name.clone(),
                    title: if b.title.is_empty() {
                        b.name.clone()
                    } else {
                        b.title.clone()
                    },
                    description: b.description.clone(),
                })
                .collect(),
            web,
            ..Default::default()
        };
        for def in defs {
            let resolved = resolve(def, &behaviors)?;
            reg.order.push(resolved.def.id.clone());
            reg.types.insert(resolved.def.id.clone(), resolved);
        }
        // `@types` lists types by title, as plone.restapi does.
        let titles: BTreeMap<String, String> = reg
            .types
            .values()
            .map(|t| (t.def.id.clone(), t.def.title.clone()))
            .collect();
        reg.order.sort_by_key(|id| titles.get(id).cloned().unwrap_or_default());
        Ok(reg)
    }

    pub fn get(&self, id: &str) -> Option<&ResolvedType> {
        self.types.get(id)
    }

    /// True when the type's definition was saved through the web.
    pub fn is_web(&self, id: &str) -> bool {
        self.web.iter().any(|w| w == id)
    }

    /// All types in declaration order.
    pub fn all(&self) -> impl Iterator<Item = &ResolvedType> {
        self.order.iter().filter_map(|id| self.types.get(id))
    }
}

fn resolve(def: TypeDef, behaviors: &BTreeMap<String, BehaviorDef>) -> Result<ResolvedType, SchemaError> {
    let mut fields: Vec<FieldDef> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    fn add(
        name: &str,
        behaviors: &BTreeMap<String, BehaviorDef>,
        ty: &str,
        fields: &mut Vec<FieldDef>,
        names: &mut Vec<String>,
    ) -> Result<(), SchemaError> {
        let b = behaviors.get(name).ok_or_else(|| SchemaError::UnknownBehavior {
            ty: ty.to_string(),
            behavior: name.to_string(),
        })?;
        names.push(name.to_string());
        for inc in &b.includes {
            add(inc, behaviors, ty, fields, names)?;
        }
        for f in &b.fields {
            if !fields.iter().any(|x| x.name == f.name) {
                fields.push(f.clone());
            }
        }
        Ok(())
    }
    // The type's own model comes first, as in Dexterity, then behaviors in order.
    for f in &def.fields {
        let mut f = f.clone();
        if f.behavior.is_empty() {
            f.behavior = format!("{}.plone_0_{}", super::jsonschema::GENERATED, def.id.replace(' ', "_"));
        }
        fields.push(f);
    }
    for b in &def.behaviors {
        add(b, behaviors, &def.id, &mut fields, &mut names)?;
    }
    // Stable sort: only fields that ask for it move (title first, changeNote last).
    fields.sort_by_key(|f| match f.order.as_deref() {
        Some("first") => 0,
        Some("last") => 2,
        _ => 1,
    });
    Ok(ResolvedType {
        def,
        fields,
        behaviors: names,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_types_build_in_both_profiles() {
        let src = crate::builtin::sources();
        let classic = TypeRegistry::build(&src, None).unwrap();
        let volto = TypeRegistry::build(&src, Some("volto")).unwrap();
        for id in [
            "Document",
            "Folder",
            "News Item",
            "Event",
            "Image",
            "File",
            "Link",
            "Collection",
            "Plone Site",
        ] {
            assert!(classic.get(id).is_some(), "{id} missing");
        }
        let doc = classic.get("Document").unwrap();
        assert!(doc.field("title").unwrap().required);
        assert!(!doc.has_behavior("volto.blocks"));
        let vdoc = volto.get("Document").unwrap();
        assert!(vdoc.has_behavior("volto.blocks") && vdoc.def.folderish);
        let titles: Vec<&str> = classic.all().map(|t| t.def.title.as_str()).collect();
        let mut sorted = titles.clone();
        sorted.sort();
        assert_eq!(titles, sorted, "@types lists types by title");
    }

    #[test]
    fn unknown_behaviors_and_profiles_are_reported() {
        let mut src = crate::builtin::sources();
        src.types.push((
            "bad.toml".into(),
            "id = \"Bad\"\ntitle = \"Bad\"\ndefault_view = \"v\"\nbehaviors = [\"nope\"]".into(),
        ));
        assert!(matches!(
            TypeRegistry::build(&src, None),
            Err(SchemaError::UnknownBehavior { .. })
        ));
        assert!(matches!(
            TypeRegistry::build(&crate::builtin::sources(), Some("x")),
            Err(SchemaError::UnknownProfile(_))
        ));
    }
}
