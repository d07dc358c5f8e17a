//! Content types as data: fields, behaviors, fieldsets and types, read from
//! TOML files (the role Plone's FTIs and supermodel XML play).
//!
//! The standard set ships inside the binary (`schema/` beside this crate); a site
//! adds or overrides types and behaviors with files in its configuration folder.

pub mod editing;
pub(crate) mod jsonschema;
pub mod panels;
mod registry;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub use registry::{BehaviorInfo, SchemaSources, TypeRegistry};

/// The kinds of field a schema can declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
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
    /// True for kinds whose value is a list.
    pub fn is_sequence(self) -> bool {
        matches!(self, Self::List | Self::Tuple | Self::Set | Self::RelationList)
    }
}

/// One field of a type or behavior. It serializes back to the TOML a type
/// file holds (defaults left out), which is how `@types` edits are saved.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct FieldDef {
    pub name: String,
    pub kind: FieldKind,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    #[serde(default = "default_fieldset", skip_serializing_if = "is_default_fieldset")]
    pub fieldset: String,
    /// The `behavior` printed in `@types`; filled with the declaring file's name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub behavior: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<toml::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing: Option<toml::Value>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub missing_null: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_kind: Option<FieldKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum: Option<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vocabulary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub read_only: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<toml::Value>,
    /// `"first"` or `"last"`: moves the field within the assembled type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<String>,
    /// A JSON Schema the value of a `json`/`dict` field must satisfy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_schema: Option<toml::Value>,
    #[serde(skip)]
    validator: CompiledSchema,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_default_fieldset(s: &str) -> bool {
    s == "default"
}

/// The compiled form of `value_schema`, built on first use and shared by clones.
#[derive(Clone, Default)]
struct CompiledSchema(std::sync::OnceLock<Option<std::sync::Arc<::jsonschema::Validator>>>);

impl std::fmt::Debug for CompiledSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CompiledSchema")
    }
}

fn default_fieldset() -> String {
    "default".into()
}

impl FieldDef {
    /// A field with nothing but a name and a kind (the rest at its defaults).
    pub fn new(name: &str, kind: FieldKind) -> Self {
        Self {
            name: name.to_string(),
            kind,
            title: String::new(),
            description: String::new(),
            required: false,
            fieldset: default_fieldset(),
            behavior: String::new(),
            default: None,
            missing: None,
            missing_null: false,
            value_kind: None,
            max_length: None,
            min_length: None,
            minimum: None,
            maximum: None,
            choices: Vec::new(),
            vocabulary: None,
            mode: None,
            read_only: false,
            schema: None,
            order: None,
            value_schema: None,
            validator: CompiledSchema::default(),
        }
    }

    /// The value stored when a new object does not set the field.
    pub fn default_value(&self) -> Option<Value> {
        self.default.as_ref().map(toml_to_json)
    }

    /// Checks a value against `value_schema`; the error names the first problem.
    /// An invalid schema in a type file rejects every value, loudly.
    pub fn check_value_schema(&self, value: &Value) -> Result<(), String> {
        let Some(schema) = &self.value_schema else {
            return Ok(());
        };
        let compiled = self.validator.0.get_or_init(|| {
            ::jsonschema::validator_for(&toml_to_json(schema))
                .ok()
                .map(std::sync::Arc::new)
        });
        match compiled {
            None => Err(format!("The schema of field '{}' is invalid", self.name)),
            Some(v) => match v.iter_errors(value).next() {
                None => Ok(()),
                Some(e) => Err(format!(
                    "Value does not match the expected structure: {e} at '{}'",
                    e.instance_path()
                )),
            },
        }
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
    pub description: String,
    #[serde(default)]
    pub includes: Vec<String>,
    #[serde(default)]
    pub fields: Vec<FieldDef>,
}

/// A fieldset (tab) of the edit form.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct FieldsetDef {
    pub id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A content type (Plone's FTI plus its model).
#[derive(Debug, Clone, Deserialize, Serialize)]
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
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub view_methods: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub workflow: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub add_permission: String,
    #[serde(default)]
    pub behaviors: Vec<String>,
    /// The type's own fields (its model; behaviors bring the rest).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldDef>,
    /// Tabs the type's own model declares (with a title, or still empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fieldsets: Vec<FieldsetDef>,
}

impl TypeDef {
    /// The type as a type file (TOML), as a site's configuration folder holds it.
    pub fn to_toml(&self) -> String {
        // Every part of a TypeDef has a TOML form (no maps with non-string keys).
        toml::to_string(self).unwrap_or_default()
    }
}

fn yes() -> bool {
    true
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
}
