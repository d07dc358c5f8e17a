//! JSON Schema output of types and fields, as `GET @types/{type}` prints it.

use serde_json::{Map, Value, json};

use super::{FieldDef, FieldKind, ResolvedType, TypeRegistry, toml_to_json};

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
}

impl FieldDef {
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
        if !self.choices.is_empty() && self.kind.is_sequence() {
            // A multiple choice: the choices belong to its items.
            let mut items = Map::new();
            items.insert("type".into(), json!("string"));
            items.insert("factory".into(), json!("Choice"));
            items.insert("title".into(), json!(""));
            items.insert("description".into(), json!(""));
            choices(&mut items, &self.choices);
            p.insert("items".into(), Value::Object(items));
            p.insert("uniqueItems".into(), json!(true));
        } else if !self.choices.is_empty() {
            choices(&mut p, &self.choices);
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

/// `choices`, `enum` and `enumNames` of inline choices.
fn choices(p: &mut Map<String, Value>, choices: &[(String, String)]) {
    p.insert("choices".into(), json!(choices));
    p.insert("enum".into(), json!(choices.iter().map(|c| &c.0).collect::<Vec<_>>()));
    p.insert(
        "enumNames".into(),
        json!(choices.iter().map(|c| &c.1).collect::<Vec<_>>()),
    );
}

/// The `behavior` of a type's own model and its tabs, as Plone names them.
pub const GENERATED: &str = "plone.dexterity.schema.generated";

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

impl ResolvedType {
    pub fn json_schema(&self, registry: &TypeRegistry, portal_url: &str) -> Value {
        let mut fieldsets: Vec<(String, Vec<String>)> = Vec::new();
        for f in &self.fields {
            match fieldsets.iter_mut().find(|(id, _)| *id == f.fieldset) {
                Some((_, names)) => names.push(f.name.clone()),
                None => fieldsets.push((f.fieldset.clone(), vec![f.name.clone()])),
            }
        }
        // Tabs appear in the order their first field does, `default` always first;
        // tabs of the type's own model that are still empty come last.
        fieldsets.sort_by_key(|(id, _)| id != "default");
        for fs in &self.def.fieldsets {
            if !fieldsets.iter().any(|(id, _)| *id == fs.id) {
                fieldsets.push((fs.id.clone(), Vec::new()));
            }
        }
        let fieldsets: Vec<Value> = fieldsets
            .into_iter()
            .map(|(id, fields)| {
                let own = self.def.fieldsets.iter().find(|fs| fs.id == id);
                let meta = own.or_else(|| registry.fieldsets.iter().find(|fs| fs.id == id));
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
                o.insert(
                    "behavior".into(),
                    json!(if own.is_some() { GENERATED } else { "plone" }),
                );
                Value::Object(o)
            })
            .collect();
        let (properties, required) = properties(&self.fields, portal_url);
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

/// The `properties` and `required` of a JSON Schema of `fields` (a type's,
/// a control panel's).
pub fn properties<'a>(fields: &'a [FieldDef], portal_url: &str) -> (Map<String, Value>, Vec<&'a str>) {
    let properties = fields
        .iter()
        .map(|f| (f.name.clone(), f.json_schema(portal_url)))
        .collect();
    let required = fields.iter().filter(|f| f.required).map(|f| f.name.as_str()).collect();
    (properties, required)
}
