//! Content types as data: fields, behaviors, fieldsets and types, read from
//! TOML files (the role Plone's FTIs and supermodel XML play).
//!
//! The standard set ships inside the binary (`schema/` beside this crate); a site
//! adds or overrides types and behaviors with files in its configuration folder.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value, json};

/// The kinds of field a schema can declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Textline,
    Text,
    Richtext,
    Email,
    Uri,
    Password,
    Ascii,
    Int,
    Float,
    Decimal,
    Bool,
    Date,
    Datetime,
    Time,
    Choice,
    List,
    Tuple,
    Set,
    Dict,
    Json,
    Image,
    File,
    Relation,
    RelationList,
}

impl FieldKind {
    /// JSON Schema `type`, `factory` and `widget` as plone.restapi prints them.
    fn schema_defaults(self) -> (&'static str, &'static str, Option<&'static str>) {
        use FieldKind::*;
        match self {
            Textline | Ascii => ("string", "Text line (String)", None),
            Text => ("string", "Text", Some("textarea")),
            Richtext => ("string", "Rich Text", Some("richtext")),
            Email => ("string", "Email", Some("email")),
            Password => ("string", "Password", Some("password")),
            Uri => ("string", "URL", Some("url")),
            Int => ("integer", "Integer", None),
            Float | Decimal => ("number", "Floating-point number", None),
            Bool => ("boolean", "Yes/No", None),
            Date => ("string", "Date", Some("date")),
            Datetime => ("string", "Date/Time", Some("datetime")),
            Time => ("string", "Time", None),
            Choice => ("string", "Choice", None),
            Relation => ("string", "Relation Choice", None),
            List => ("array", "List", None),
            Tuple => ("array", "Tuple", None),
            Set => ("array", "Multiple Choice", None),
            RelationList => ("array", "Relation List", None),
            Dict => ("dict", "Dict", None),
            Json => ("dict", "JSONField", Some("json")),
            Image => ("object", "Image", None),
            File => ("object", "File", None),
        }
    }

    /// True for kinds whose value is a list.
    pub fn is_sequence(self) -> bool {
        matches!(self, Self::List | Self::Tuple | Self::Set | Self::RelationList)
    }
}

/// One field of a type or behavior.
#[derive(Debug, Clone, Deserialize)]
pub struct FieldDef {
    pub name: String,
    pub kind: FieldKind,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default = "default_fieldset")]
    pub fieldset: String,
    /// The `behavior` printed in `@types`; filled with the declaring file's name.
    #[serde(default)]
    pub behavior: String,
    #[serde(default)]
    pub default: Option<toml::Value>,
    #[serde(default)]
    pub missing: Option<toml::Value>,
    #[serde(default)]
    pub missing_null: bool,
    #[serde(default)]
    pub value_kind: Option<FieldKind>,
    #[serde(default)]
    pub max_length: Option<usize>,
    #[serde(default)]
    pub min_length: Option<usize>,
    #[serde(default)]
    pub minimum: Option<f64>,
    #[serde(default)]
    pub maximum: Option<f64>,
    #[serde(default)]
    pub choices: Vec<(String, String)>,
    #[serde(default)]
    pub vocabulary: Option<String>,
    #[serde(default)]
    pub mode: Option<String>,
    #[serde(default)]
    pub read_only: bool,
    #[serde(default)]
    pub schema: Option<toml::Value>,
    /// `"first"` or `"last"`: moves the field within the assembled type.
    #[serde(default)]
    pub order: Option<String>,
}

fn default_fieldset() -> String {
    "default".into()
}

impl FieldDef {
    /// The value stored when a new object does not set the field.
    pub fn default_value(&self) -> Option<Value> {
        self.default.as_ref().map(toml_to_json)
    }

    /// The value shown for a field that was never set.
    pub fn missing_value(&self) -> Value {
        if let Some(m) = &self.missing {
            return toml_to_json(m);
        }
        if self.missing_null {
            return Value::Null;
        }
        match self.kind {
            k if k.is_sequence() => json!([]),
            FieldKind::Textline | FieldKind::Text | FieldKind::Ascii => json!(""),
            _ => Value::Null,
        }
    }

    /// The `@types` JSON Schema property of this field.
    pub fn json_schema(&self, portal_url: &str) -> Value {
        let (ty, factory, widget) = self.kind.schema_defaults();
        let mut p = Map::new();
        p.insert("type".into(), json!(ty));
        p.insert("title".into(), json!(self.title));
        p.insert("description".into(), json!(self.description));
        p.insert("factory".into(), json!(factory));
        p.insert("behavior".into(), json!(self.behavior));
        if let Some(w) = widget {
            p.insert("widget".into(), json!(w));
        }
        if let Some(d) = self.default_value() {
            p.insert("default".into(), d);
        }
        if let Some(m) = &self.mode {
            p.insert("mode".into(), json!(m));
        }
        if let Some(n) = self.max_length {
            p.insert("maxLength".into(), json!(n));
        }
        if let Some(n) = self.min_length {
            p.insert("minLength".into(), json!(n));
        }
        if let Some(n) = self.minimum {
            p.insert("minimum".into(), json!(n));
        }
        if let Some(n) = self.maximum {
            p.insert("maximum".into(), json!(n));
        }
        if self.read_only {
            p.insert("readonly".into(), json!(true));
        }
        if !self.choices.is_empty() {
            p.insert("choices".into(), json!(self.choices));
            p.insert(
                "enum".into(),
                json!(self.choices.iter().map(|c| &c.0).collect::<Vec<_>>()),
            );
            p.insert(
                "enumNames".into(),
                json!(self.choices.iter().map(|c| &c.1).collect::<Vec<_>>()),
            );
        }
        if let Some(v) = &self.vocabulary {
            p.insert(
                "vocabulary".into(),
                json!({"@id": format!("{portal_url}/@vocabularies/{v}")}),
            );
        }
        if let Some(Value::Object(extra)) = self.schema.as_ref().map(toml_to_json) {
            for (k, v) in extra {
                p.insert(k, substitute_portal_url(v, portal_url));
            }
        }
        Value::Object(p)
    }
}

fn substitute_portal_url(v: Value, portal_url: &str) -> Value {
    match v {
        Value::String(s) => Value::String(s.replace("${portal_url}", portal_url)),
        Value::Array(a) => Value::Array(a.into_iter().map(|x| substitute_portal_url(x, portal_url)).collect()),
        Value::Object(o) => Value::Object(
            o.into_iter()
                .map(|(k, x)| (k, substitute_portal_url(x, portal_url)))
                .collect(),
        ),
        other => other,
    }
}

/// Converts a TOML value into JSON (TOML datetimes become ISO strings).
pub fn toml_to_json(v: &toml::Value) -> Value {
    match v {
        toml::Value::String(s) => json!(s),
        toml::Value::Integer(i) => json!(i),
        toml::Value::Float(f) => json!(f),
        toml::Value::Boolean(b) => json!(b),
        toml::Value::Datetime(d) => json!(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => Value::Object(t.iter().map(|(k, v)| (k.clone(), toml_to_json(v))).collect()),
    }
}

/// A named group of fields (Plone behaviors); composite ones `include` others.
#[derive(Debug, Clone, Deserialize)]
pub struct BehaviorDef {
    pub name: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub includes: Vec<String>,
    #[serde(default)]
    pub fields: Vec<FieldDef>,
}

/// A fieldset (tab) of the edit form.
#[derive(Debug, Clone, Deserialize)]
pub struct FieldsetDef {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct FieldsetsFile {
    fieldsets: Vec<FieldsetDef>,
}

/// A content type (Plone's FTI plus its model).
#[derive(Debug, Clone, Deserialize)]
pub struct TypeDef {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub folderish: bool,
    #[serde(default = "yes")]
    pub global_allow: bool,
    #[serde(default)]
    pub filter_content_types: bool,
    #[serde(default)]
    pub allowed_types: Vec<String>,
    pub default_view: String,
    #[serde(default)]
    pub view_methods: Vec<String>,
    #[serde(default)]
    pub workflow: String,
    #[serde(default)]
    pub add_permission: String,
    #[serde(default)]
    pub behaviors: Vec<String>,
    #[serde(default)]
    pub fields: Vec<FieldDef>,
}

fn yes() -> bool {
    true
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

/// Why a schema file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("{file}: {source}")]
    Parse { file: String, source: toml::de::Error },
    #[error("type '{ty}' uses unknown behavior '{behavior}'")]
    UnknownBehavior { ty: String, behavior: String },
    #[error("unknown profile '{0}'")]
    UnknownProfile(String),
}

/// A type with its behaviors resolved into one ordered field list.
#[derive(Debug, Clone)]
pub struct ResolvedType {
    pub def: TypeDef,
    pub fields: Vec<FieldDef>,
    pub behaviors: Vec<String>,
}

impl ResolvedType {
    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub fn has_behavior(&self, name: &str) -> bool {
        self.behaviors.iter().any(|b| b == name)
    }

    /// The first image field, used for `image_field` / `image_scales`.
    pub fn image_fields(&self) -> impl Iterator<Item = &FieldDef> {
        self.fields.iter().filter(|f| f.kind == FieldKind::Image)
    }

    /// The type's JSON Schema as `GET @types/{type}` returns it.
    pub fn json_schema(&self, registry: &TypeRegistry, portal_url: &str) -> Value {
        let mut fieldsets: Vec<(String, Vec<String>)> = Vec::new();
        for f in &self.fields {
            match fieldsets.iter_mut().find(|(id, _)| *id == f.fieldset) {
                Some((_, names)) => names.push(f.name.clone()),
                None => fieldsets.push((f.fieldset.clone(), vec![f.name.clone()])),
            }
        }
        // Tabs appear in the order their first field does, `default` always first.
        fieldsets.sort_by_key(|(id, _)| id != "default");
        let fieldsets: Vec<Value> = fieldsets
            .into_iter()
            .map(|(id, fields)| {
                let meta = registry.fieldsets.iter().find(|fs| fs.id == id);
                let mut o = Map::new();
                o.insert("id".into(), json!(id));
                o.insert(
                    "title".into(),
                    json!(meta.map(|m| m.title.clone()).unwrap_or_else(|| id.clone())),
                );
                if let Some(d) = meta.and_then(|m| m.description.clone()) {
                    o.insert("description".into(), json!(d));
                }
                o.insert("fields".into(), json!(fields));
                o.insert("behavior".into(), json!("plone"));
                Value::Object(o)
            })
            .collect();
        let properties: Map<String, Value> = self
            .fields
            .iter()
            .map(|f| (f.name.clone(), f.json_schema(portal_url)))
            .collect();
        let required: Vec<&str> = self
            .fields
            .iter()
            .filter(|f| f.required)
            .map(|f| f.name.as_str())
            .collect();
        let layouts = if self.def.view_methods.is_empty() {
            vec![self.def.default_view.clone()]
        } else {
            self.def.view_methods.clone()
        };
        json!({
            "type": "object",
            "title": self.def.title,
            "fieldsets": fieldsets,
            "properties": properties,
            "required": required,
            "layouts": layouts,
        })
    }
}

/// Every content type of a site, resolved and ready to validate and serialize.
#[derive(Debug, Clone, Default)]
pub struct TypeRegistry {
    types: BTreeMap<String, ResolvedType>,
    /// Declaration order, so `@types` lists types in a stable order.
    order: Vec<String>,
    pub fieldsets: Vec<FieldsetDef>,
}

/// The raw files a registry is built from: `(file name, TOML text)` pairs.
#[derive(Debug, Clone, Default)]
pub struct SchemaSources {
    pub fieldsets: Vec<(String, String)>,
    pub behaviors: Vec<(String, String)>,
    pub types: Vec<(String, String)>,
    pub profiles: Vec<(String, String)>,
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
        let mut reg = TypeRegistry {
            fieldsets,
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
            f.behavior = format!("plone.dexterity.schema.generated.plone_0_{}", def.id.replace(' ', "_"));
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
