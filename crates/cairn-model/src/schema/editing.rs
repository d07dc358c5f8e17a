//! Editing a type's own model as Plone's schema editor does (`@types`
//! POST/PATCH/PUT/DELETE and the dexterity-types panel): the fields and tabs
//! of the type itself, never those its behaviors bring. Each function works
//! on a copy of the definition; the caller keeps it only if the registry
//! still builds with it.

use serde_json::{Map, Value};

use super::jsonschema::GENERATED;
use super::{FieldDef, FieldKind, FieldsetDef, ResolvedType, TypeDef, TypeRegistry};

/// A field kind the schema editor can add: the `factory` of a POST.
#[derive(Debug, Clone, Copy)]
pub struct Factory {
    /// The `Fields` vocabulary's token (plone.schemaeditor's names).
    pub token: &'static str,
    pub title: &'static str,
    pub kind: FieldKind,
    pub value_kind: Option<FieldKind>,
}

const fn f(token: &'static str, title: &'static str, kind: FieldKind, value_kind: Option<FieldKind>) -> Factory {
    Factory {
        token,
        title,
        kind,
        value_kind,
    }
}

/// Every factory, by title (the `Fields` vocabulary's order).
pub const FACTORIES: [Factory; 20] = [
    f("label_choice_field", "Choice", FieldKind::Choice, None),
    f("label_date_field", "Date", FieldKind::Date, None),
    f("label_datetime_field", "Date/Time", FieldKind::Datetime, None),
    f("Email", "Email", FieldKind::Email, None),
    f("label_email", "Email", FieldKind::Email, None),
    f("File Upload", "File Upload", FieldKind::File, None),
    f("label_float_field", "Floating-point number", FieldKind::Float, None),
    f("label_full_name", "Full Name", FieldKind::Textline, None),
    f("Image", "Image", FieldKind::Image, None),
    f("label_integer_field", "Integer", FieldKind::Int, None),
    f("JSONField", "JSONField", FieldKind::Json, None),
    f(
        "label_multi_choice_field",
        "Multiple Choice",
        FieldKind::Set,
        Some(FieldKind::Choice),
    ),
    f("label_password_field", "Password", FieldKind::Password, None),
    f("Relation Choice", "Relation Choice", FieldKind::Relation, None),
    f("Relation List", "Relation List", FieldKind::RelationList, None),
    f("Rich Text", "Rich Text", FieldKind::Richtext, None),
    f("label_text_field", "Text", FieldKind::Text, None),
    f("label_textline_field", "Text line (String)", FieldKind::Textline, None),
    f("URL", "URL", FieldKind::Uri, None),
    f("label_boolean_field", "Yes/No", FieldKind::Bool, None),
];

/// The factory named by a token or a title.
pub fn factory(name: &str) -> Option<&'static Factory> {
    FACTORIES.iter().find(|f| f.token == name || f.title == name)
}

/// Most fields of a type's own model, so one type cannot grow without bound.
pub const MAX_FIELDS: usize = 200;
/// Most tabs of a type's own model.
pub const MAX_FIELDSETS: usize = 50;
/// Longest title, and longest description.
const MAX_TITLE: usize = 200;
const MAX_DESCRIPTION: usize = 2000;
/// Most choices of one field.
const MAX_CHOICES: usize = 1000;

/// Names a field may not take: they are the object's own keys in the API.
const RESERVED: [&str; 14] = [
    "id",
    "UID",
    "parent",
    "items",
    "items_total",
    "layout",
    "review_state",
    "is_folderish",
    "lock",
    "version",
    "previous_item",
    "next_item",
    "allow_discussion",
    "type_title",
];

/// Why an edit was refused.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// The request is wrong (a 400).
    #[error("{0}")]
    Invalid(String),
    /// No such field or tab in the type (a 404).
    #[error("{0}")]
    Missing(String),
}

type Result<T> = std::result::Result<T, EditError>;

fn invalid<T>(msg: impl Into<String>) -> Result<T> {
    Err(EditError::Invalid(msg.into()))
}

/// An id made from a title as Plone's normalizer makes one:
/// "My Custom Content Type" gives `my_custom_content_type`.
pub fn normalize_id(title: &str) -> String {
    // Letters fold as content ids fold them (`ü` → `ue`).
    let ascii: String = title
        .chars()
        .map(crate::ids::fold_char)
        .collect::<String>()
        .to_lowercase();
    let mut out = String::new();
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    let out = out.trim_end_matches('_').to_string();
    match out.chars().next() {
        Some(c) if c.is_ascii_digit() => format!("_{out}"),
        _ => out,
    }
}

fn text(body: &Map<String, Value>, key: &str, max: usize) -> Result<Option<String>> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.chars().count() > max => {
            invalid(format!("'{key}' is longer than {max} characters"))
        }
        Some(Value::String(s)) if s.chars().any(|c| c.is_control() && c != '\n') => {
            invalid(format!("'{key}' holds control characters"))
        }
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => invalid(format!("'{key}' must be a string")),
    }
}

fn title_of(body: &Map<String, Value>) -> Result<String> {
    match text(body, "title", MAX_TITLE)? {
        Some(t) if !t.trim().is_empty() => Ok(t.trim().to_string()),
        _ => invalid("A title is required"),
    }
}

/// A new type made through the web, as Plone's "Add content type" makes it:
/// its own (empty) model, Dublin Core metadata and names from titles.
pub fn new_type(reg: &TypeRegistry, body: &Map<String, Value>) -> Result<TypeDef> {
    let title = title_of(body)?;
    let id = match text(body, "id", 100)? {
        Some(id) => id,
        None => normalize_id(&title),
    };
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ' ') {
        return invalid(format!("'{id}' is not a valid type id"));
    }
    if reg.get(&id).is_some() {
        return invalid(format!("There is already a content type named '{id}'"));
    }
    let folderish = match body.get("folderish") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return invalid("'folderish' must be true or false"),
    };
    let workflow = reg
        .get("Document")
        .map(|d| d.def.workflow.clone())
        .unwrap_or_else(|| "simple_publication_workflow".into());
    Ok(TypeDef {
        id,
        title,
        description: text(body, "description", MAX_DESCRIPTION)?.unwrap_or_default(),
        folderish,
        global_allow: true,
        filter_content_types: true,
        allowed_types: Vec::new(),
        default_view: "view".into(),
        view_methods: vec!["view".into()],
        workflow,
        add_permission: String::new(),
        behaviors: vec!["plone.dublincore".into(), "plone.namefromtitle".into()],
        fields: Vec::new(),
        fieldsets: Vec::new(),
    })
}

/// The type's settings as the dexterity-types panel changes them: title,
/// description, the addable types and each behavior switched on or off.
pub fn update_settings(reg: &TypeRegistry, def: &mut TypeDef, body: &Map<String, Value>) -> Result<()> {
    for (key, value) in body {
        match key.as_str() {
            "title" => def.title = title_of(body)?,
            "description" => def.description = text(body, key, MAX_DESCRIPTION)?.unwrap_or_default(),
            "filter_content_types" => match value {
                Value::Bool(b) => def.filter_content_types = *b,
                Value::String(s) if s == "all" => def.filter_content_types = false,
                Value::String(s) if s == "none" => {
                    def.filter_content_types = true;
                    def.allowed_types.clear();
                }
                Value::String(s) if s == "some" => def.filter_content_types = true,
                _ => return invalid("'filter_content_types' must be true, false, \"none\", \"all\" or \"some\""),
            },
            "allowed_content_types" => {
                let Some(list) = value.as_array() else {
                    return invalid("'allowed_content_types' must be a list of type ids");
                };
                let mut types = Vec::new();
                for t in list {
                    let id = t.as_str().or_else(|| t.get("token").and_then(Value::as_str));
                    match id {
                        Some(id) if reg.get(id).is_some() || id == def.id => types.push(id.to_string()),
                        _ => return invalid(format!("'{t}' is not a content type")),
                    }
                }
                def.allowed_types = types;
            }
            name if reg.behaviors.iter().any(|b| b.name == name) => match value {
                Value::Bool(true) if !def.behaviors.iter().any(|b| b == name) => def.behaviors.push(name.into()),
                Value::Bool(true) => {}
                Value::Bool(false) => def.behaviors.retain(|b| b != name),
                _ => return invalid(format!("'{name}' must be true or false")),
            },
            _ => return invalid(format!("Content types have no setting '{key}'")),
        }
    }
    Ok(())
}

/// The names fields of `ty` have from its behaviors (not its own model).
fn behavior_fields(ty: &ResolvedType) -> Vec<&str> {
    ty.fields
        .iter()
        .filter(|f| !ty.def.fields.iter().any(|o| o.name == f.name))
        .map(|f| f.name.as_str())
        .collect()
}

/// Adds a field (`factory` is a field kind) or a tab (`factory: "fieldset"`);
/// gives back the new name.
pub fn add(ty: &ResolvedType, def: &mut TypeDef, body: &Map<String, Value>) -> Result<String> {
    let Some(factory_name) = body.get("factory").and_then(Value::as_str) else {
        return invalid("'factory' is required: \"fieldset\" or a field kind of the Fields vocabulary");
    };
    let title = title_of(body)?;
    let name = match text(body, "id", 100)? {
        Some(id) => id,
        None => normalize_id(&title),
    };
    let description = text(body, "description", MAX_DESCRIPTION)?;
    if factory_name == "fieldset" {
        if def.fieldsets.len() >= MAX_FIELDSETS {
            return invalid(format!("A type has at most {MAX_FIELDSETS} fieldsets of its own"));
        }
        if name.is_empty() || name == "default" || def.fieldsets.iter().any(|f| f.id == name) {
            return invalid(format!("There is already a fieldset named '{name}'"));
        }
        // `@types/<type>/<name>` names a field or a fieldset, never both.
        if ty.field(&name).is_some() || def.fields.iter().any(|f| f.name == name) {
            return invalid(format!("There is already a field named '{name}'"));
        }
        check_name(&name)?;
        def.fieldsets.push(FieldsetDef {
            id: name.clone(),
            title,
            description: Some(description.unwrap_or_default()),
        });
        return Ok(name);
    }
    let Some(factory) = factory(factory_name) else {
        return invalid(format!(
            "'{factory_name}' is not a field factory (see @vocabularies/Fields)"
        ));
    };
    if def.fields.len() >= MAX_FIELDS {
        return invalid(format!("A type has at most {MAX_FIELDS} fields of its own"));
    }
    check_name(&name)?;
    if ty.field(&name).is_some() || def.fields.iter().any(|f| f.name == name) {
        return invalid(format!("There is already a field named '{name}'"));
    }
    if def.fieldsets.iter().any(|f| f.id == name) {
        return invalid(format!("There is already a fieldset named '{name}'"));
    }
    let mut field = FieldDef::new(&name, factory.kind);
    field.title = title;
    field.description = description.unwrap_or_default();
    field.value_kind = factory.value_kind;
    if matches!(factory.kind, FieldKind::Richtext) {
        field.missing_null = true;
    }
    def.fields.push(field);
    let mut props = body.clone();
    for k in ["factory", "title", "description", "id"] {
        props.remove(k);
    }
    update_field(ty, def, &name, &props)?;
    Ok(name)
}

fn check_name(name: &str) -> Result<()> {
    let valid = name.len() <= 100
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return invalid(format!(
            "'{name}' is not a valid name: use lower-case letters, digits and '_', starting with a letter"
        ));
    }
    if RESERVED.contains(&name) || name.starts_with('@') {
        return invalid(format!("'{name}' is reserved"));
    }
    Ok(())
}

/// Keys of a field's JSON Schema that describe it but are not changed
/// through it (a PUT sends back what GET gave).
const SHOWN_ONLY: [&str; 14] = [
    "type",
    "widget",
    "factory",
    "behavior",
    "vocabulary",
    "items",
    "enum",
    "enumNames",
    "uniqueItems",
    "additionalItems",
    "mode",
    "readonly",
    "widgetOptions",
    "id",
];

/// Changes a field of the type's own model (title, description, required,
/// default, lengths, bounds, choices).
pub fn update_field(ty: &ResolvedType, def: &mut TypeDef, name: &str, body: &Map<String, Value>) -> Result<()> {
    let Some(field) = def.fields.iter_mut().find(|f| f.name == name) else {
        if behavior_fields(ty).contains(&name) {
            return invalid(format!(
                "'{name}' comes from a behavior; only the type's own fields can be changed"
            ));
        }
        return Err(EditError::Missing(format!("No field '{name}'")));
    };
    if let Some(factory) = body.get("factory").and_then(Value::as_str)
        && self::factory(factory).is_some_and(|f| f.kind != field.kind)
    {
        return invalid(format!("The kind of field '{name}' cannot be changed"));
    }
    for (key, value) in body {
        match key.as_str() {
            "title" => field.title = title_of(body)?,
            "description" => field.description = text(body, key, MAX_DESCRIPTION)?.unwrap_or_default(),
            "required" => match value {
                Value::Bool(b) => field.required = *b,
                _ => return invalid("'required' must be true or false"),
            },
            "minLength" | "maxLength" => {
                let n = match value {
                    Value::Null => None,
                    v => Some(
                        v.as_u64()
                            .and_then(|n| usize::try_from(n).ok())
                            .ok_or_else(|| EditError::Invalid(format!("'{key}' must be a whole number >= 0")))?,
                    ),
                };
                if key == "minLength" {
                    field.min_length = n;
                } else {
                    field.max_length = n;
                }
            }
            "minimum" | "maximum" => {
                let n = match value {
                    Value::Null => None,
                    v => Some(
                        v.as_f64()
                            .ok_or_else(|| EditError::Invalid(format!("'{key}' must be a number")))?,
                    ),
                };
                if key == "minimum" {
                    field.minimum = n;
                } else {
                    field.maximum = n;
                }
            }
            "values" | "choices" => field.choices = choices_of(key, value)?,
            "default" => field.default = None,
            k if SHOWN_ONLY.contains(&k) => {}
            _ => return invalid(format!("Fields have no property '{key}'")),
        }
    }
    if let (Some(lo), Some(hi)) = (field.min_length, field.max_length)
        && lo > hi
    {
        return invalid(format!("'minLength' ({lo}) is greater than 'maxLength' ({hi})"));
    }
    if let (Some(lo), Some(hi)) = (field.minimum, field.maximum)
        && lo > hi
    {
        return invalid(format!("'minimum' ({lo}) is greater than 'maximum' ({hi})"));
    }
    // The default is checked last, against the field as changed.
    if let Some(value) = body.get("default").filter(|v| !v.is_null()) {
        // A type file must read back: TOML nests far less deep than JSON.
        if depth(value) > MAX_DEFAULT_DEPTH {
            return invalid(format!(
                "The default of '{name}' nests more than {MAX_DEFAULT_DEPTH} deep"
            ));
        }
        let mut probe = field.clone();
        probe.required = false;
        match crate::values::validate(&probe, value) {
            Ok(crate::values::FieldInput::Value(v)) => field.default = Some(json_to_toml(&v)?),
            Ok(_) => return invalid(format!("A default for '{name}' cannot be stored")),
            Err(e) => return invalid(format!("Invalid default for '{name}': {e}")),
        }
    }
    Ok(())
}

/// Deepest nesting a default may have.
const MAX_DEFAULT_DEPTH: usize = 16;

fn depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

fn choices_of(key: &str, value: &Value) -> Result<Vec<(String, String)>> {
    let Some(list) = value.as_array() else {
        return invalid(format!("'{key}' must be a list"));
    };
    if list.len() > MAX_CHOICES {
        return invalid(format!("A field has at most {MAX_CHOICES} choices"));
    }
    let mut out: Vec<(String, String)> = Vec::new();
    for v in list {
        let (token, title) = match v {
            Value::String(s) => (s.clone(), s.clone()),
            Value::Array(pair) if pair.len() == 2 => match (&pair[0], &pair[1]) {
                (Value::String(t), Value::String(l)) => (t.clone(), l.clone()),
                (Value::String(t), Value::Null) => (t.clone(), t.clone()),
                _ => return invalid(format!("'{key}' holds a pair that is not [token, title]")),
            },
            _ => return invalid(format!("'{key}' must hold strings or [token, title] pairs")),
        };
        if token.is_empty() || token.len() > MAX_TITLE || out.iter().any(|(t, _)| *t == token) {
            return invalid(format!("'{key}' holds an empty, too long or repeated value"));
        }
        out.push((token, title));
    }
    Ok(out)
}

fn json_to_toml(v: &Value) -> Result<toml::Value> {
    Ok(match v {
        Value::Bool(b) => toml::Value::Boolean(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => toml::Value::Integer(i),
            None => toml::Value::Float(n.as_f64().unwrap_or_default()),
        },
        Value::String(s) => toml::Value::String(s.clone()),
        Value::Array(a) => toml::Value::Array(a.iter().map(json_to_toml).collect::<Result<_>>()?),
        Value::Object(o) => toml::Value::Table(
            o.iter()
                .map(|(k, v)| Ok((k.clone(), json_to_toml(v)?)))
                .collect::<Result<_>>()?,
        ),
        Value::Null => return invalid("A default cannot be null"),
    })
}

/// Changes a tab: its title and description, and which of the type's own
/// fields it holds, in the given order (fields it loses go to `default`).
pub fn update_fieldset(ty: &ResolvedType, def: &mut TypeDef, id: &str, body: &Map<String, Value>) -> Result<()> {
    if id != "default" {
        let Some(fs) = def.fieldsets.iter_mut().find(|f| f.id == id) else {
            return Err(EditError::Missing(format!("No fieldset '{id}' of the type's own")));
        };
        if body.contains_key("title") {
            fs.title = title_of(body)?;
        }
        if body.contains_key("description") {
            fs.description = Some(text(body, "description", MAX_DESCRIPTION)?.unwrap_or_default());
        }
    }
    let Some(fields) = body.get("fields") else {
        return Ok(());
    };
    let Some(names) = fields
        .as_array()
        .map(|a| a.iter().map(Value::as_str).collect::<Option<Vec<_>>>())
    else {
        return invalid("'fields' must be a list of field names");
    };
    let Some(names) = names else {
        return invalid("'fields' must be a list of field names");
    };
    let behavior = behavior_fields(ty);
    let mut moved: Vec<FieldDef> = Vec::new();
    for name in names {
        if behavior.contains(&name) {
            // Plone lists a tab's behavior fields too; they stay where their behavior puts them.
            continue;
        }
        let Some(pos) = def.fields.iter().position(|f| f.name == name) else {
            return Err(EditError::Missing(format!("No field '{name}'")));
        };
        let mut f = def.fields.remove(pos);
        f.fieldset = id.to_string();
        moved.push(f);
    }
    for f in def.fields.iter_mut().filter(|f| f.fieldset == id) {
        f.fieldset = "default".into();
    }
    // The tab's fields come first in the given order: order within a tab is
    // the order of the model.
    moved.append(&mut def.fields);
    def.fields = moved;
    Ok(())
}

/// Removes a field or a tab of the type's own model (a tab's fields go to `default`).
pub fn delete(ty: &ResolvedType, def: &mut TypeDef, name: &str) -> Result<()> {
    if let Some(pos) = def.fields.iter().position(|f| f.name == name) {
        def.fields.remove(pos);
        return Ok(());
    }
    if let Some(pos) = def.fieldsets.iter().position(|f| f.id == name) {
        def.fieldsets.remove(pos);
        for f in def.fields.iter_mut().filter(|f| f.fieldset == name) {
            f.fieldset = "default".into();
        }
        return Ok(());
    }
    if behavior_fields(ty).contains(&name) {
        return invalid(format!(
            "'{name}' comes from a behavior; switch the behavior off in the type's settings instead"
        ));
    }
    Err(EditError::Missing(format!(
        "No field or fieldset '{name}' of the type's own"
    )))
}

/// PATCH of a whole type: `fieldsets` and `properties` change what exists.
pub fn patch(ty: &ResolvedType, def: &mut TypeDef, body: &Map<String, Value>) -> Result<()> {
    for key in body.keys() {
        if !matches!(
            key.as_str(),
            "fieldsets" | "properties" | "layouts" | "title" | "required"
        ) {
            return invalid(format!("A type's schema has no part '{key}'"));
        }
    }
    layouts(def, body)?;
    for (name, props) in object(body, "properties")? {
        // In a body, an unknown name is a mistake of the body (400), not a missing URL.
        update_field(ty, def, &name, &as_object(&name, &props)?).map_err(|e| match e {
            EditError::Missing(m) => EditError::Invalid(m),
            e => e,
        })?;
    }
    for fs in array(body, "fieldsets")? {
        let fs = as_object("each fieldset", &fs)?;
        let Some(id) = fs.get("id").and_then(Value::as_str) else {
            return invalid("Each fieldset needs an 'id'");
        };
        if id == "default" || def.fieldsets.iter().any(|f| f.id == id) {
            update_fieldset(ty, def, id, &fs)?;
        }
    }
    Ok(())
}

/// PUT of a whole type: the type's own model becomes what the body lists
/// (fields and tabs missing from it are removed, new ones added), as
/// plone.restapi's PUT does; behavior fields in the body are left alone.
pub fn put(ty: &ResolvedType, def: &mut TypeDef, body: &Map<String, Value>) -> Result<()> {
    // What a PUT leaves out is removed: a body without these is a mistake,
    // not a wish to empty the type.
    if !body.get("properties").is_some_and(Value::is_object) || !body.get("fieldsets").is_some_and(Value::is_array) {
        return invalid("A PUT sends the whole schema: 'properties' (an object) and 'fieldsets' (a list)");
    }
    layouts(def, body)?;
    let properties = object(body, "properties")?;
    let fieldsets = array(body, "fieldsets")?;
    // The tabs behaviors bring (`settings`, `dates`, Volto's `layout`) come
    // back in a GET; they are not the type's to add or change.
    let behavior_tab = |fs: &Map<String, Value>, id: &str| {
        let from = fs.get("behavior").and_then(Value::as_str).unwrap_or(GENERATED);
        !from.starts_with(GENERATED)
            || ty
                .fields
                .iter()
                .any(|f| f.fieldset == id && !def_has_field(&ty.def, &f.name))
    };
    let required: Vec<String> = array(body, "required")?
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    def.fields.retain(|f| properties.contains_key(&f.name));
    let listed: Vec<String> = fieldsets
        .iter()
        .filter_map(|f| f.get("id").and_then(Value::as_str).map(str::to_string))
        .collect();
    let dropped: Vec<String> = def
        .fieldsets
        .iter()
        .filter(|f| !listed.contains(&f.id))
        .map(|f| f.id.clone())
        .collect();
    def.fieldsets.retain(|f| listed.contains(&f.id));
    // Fields of a tab that goes stay, on the default tab.
    for f in def.fields.iter_mut().filter(|f| dropped.contains(&f.fieldset)) {
        f.fieldset = "default".into();
    }
    let behavior = behavior_fields(ty);
    for (name, props) in &properties {
        if def.fields.iter().any(|f| f.name == *name) || behavior.contains(&name.as_str()) {
            continue;
        }
        let from = props.get("behavior").and_then(Value::as_str).unwrap_or("");
        if !from.is_empty() && !from.starts_with(GENERATED) {
            continue;
        }
        let mut props = as_object(name, props)?;
        props.insert("id".into(), Value::String(name.clone()));
        if required.contains(name) {
            props.insert("required".into(), Value::Bool(true));
        }
        add(ty, def, &props)?;
    }
    for fs in &fieldsets {
        let fs = as_object("each fieldset", fs)?;
        let id = fs.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
        if id != "default" && !def.fieldsets.iter().any(|f| f.id == id) && !behavior_tab(&fs, &id) {
            let mut add_body = fs.clone();
            add_body.insert("factory".into(), Value::String("fieldset".into()));
            add_body.remove("fields");
            add(ty, def, &add_body)?;
        }
    }
    for (name, props) in &properties {
        if def.fields.iter().any(|f| f.name == *name) {
            let mut props = as_object(name, props)?;
            props.insert("required".into(), Value::Bool(required.contains(name)));
            update_field(ty, def, name, &props)?;
        }
    }
    for fs in &fieldsets {
        let fs = as_object("each fieldset", fs)?;
        let id = fs.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
        if id == "default" || def.fieldsets.iter().any(|f| f.id == id) {
            update_fieldset(ty, def, &id, &fs)?;
        }
    }
    Ok(())
}

fn def_has_field(def: &TypeDef, name: &str) -> bool {
    def.fields.iter().any(|f| f.name == name)
}

fn layouts(def: &mut TypeDef, body: &Map<String, Value>) -> Result<()> {
    let list = array(body, "layouts")?;
    if list.is_empty() {
        return Ok(());
    }
    let names: Option<Vec<String>> = list.iter().map(|v| v.as_str().map(str::to_string)).collect();
    match names {
        Some(n) if n.iter().all(|x| !x.is_empty() && x.len() <= 100) && n.len() <= 50 => {
            // As in Plone, the default view stays what it was.
            def.view_methods = n;
            Ok(())
        }
        _ => invalid("'layouts' must be a list of view names"),
    }
}

fn object(body: &Map<String, Value>, key: &str) -> Result<Map<String, Value>> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(o)) => Ok(o.clone()),
        Some(_) => invalid(format!("'{key}' must be an object")),
    }
}

fn array(body: &Map<String, Value>, key: &str) -> Result<Vec<Value>> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => Ok(a.clone()),
        Some(_) => invalid(format!("'{key}' must be a list")),
    }
}

fn as_object(what: &str, v: &Value) -> Result<Map<String, Value>> {
    v.as_object()
        .cloned()
        .ok_or_else(|| EditError::Invalid(format!("'{what}' must be an object")))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::schema::SchemaSources;

    fn registry(web: Vec<(String, String)>) -> TypeRegistry {
        let src = SchemaSources {
            web,
            ..crate::builtin::sources()
        };
        TypeRegistry::build(&src, None).unwrap()
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    /// Applies `edit` to Document and rebuilds the registry from the saved TOML.
    fn edit(reg: &TypeRegistry, edit: impl FnOnce(&ResolvedType, &mut TypeDef) -> Result<()>) -> Result<TypeRegistry> {
        let ty = reg.get("Document").unwrap();
        let mut def = ty.def.clone();
        edit(ty, &mut def)?;
        Ok(registry(vec![("Document".into(), def.to_toml())]))
    }

    #[test]
    fn fields_and_fieldsets_round_trip_through_the_type_file() {
        let reg = registry(vec![]);
        let reg = edit(&reg, |ty, def| {
            add(ty, def, &obj(json!({"factory": "fieldset", "title": "Contact Info"})))?;
            add(
                ty,
                def,
                &obj(json!({"factory": "Email", "title": "Author email", "required": true})),
            )?;
            Ok(())
        })
        .unwrap();
        let doc = reg.get("Document").unwrap();
        assert!(reg.is_web("Document"));
        let f = doc.field("author_email").unwrap();
        assert!(f.required && f.kind == FieldKind::Email);
        let schema = doc.json_schema(&reg, "http://x");
        let tabs = schema["fieldsets"].as_array().unwrap();
        assert_eq!(tabs.last().unwrap()["id"], "contact_info");
        assert_eq!(tabs.last().unwrap()["behavior"], GENERATED);
        let reg = edit(&reg, |ty, def| {
            update_fieldset(ty, def, "contact_info", &obj(json!({"fields": ["author_email"]})))
        })
        .unwrap();
        let doc = reg.get("Document").unwrap();
        assert_eq!(doc.field("author_email").unwrap().fieldset, "contact_info");
        let reg = edit(&reg, |ty, def| delete(ty, def, "contact_info")).unwrap();
        let doc = reg.get("Document").unwrap();
        assert_eq!(doc.field("author_email").unwrap().fieldset, "default");
        assert!(doc.def.fieldsets.is_empty());
    }

    #[test]
    fn wrong_edits_say_what_is_wrong() {
        let reg = registry(vec![]);
        let doc = reg.get("Document").unwrap();
        let mut def = doc.def.clone();
        let bad = |r: Result<String>| match r {
            Err(EditError::Invalid(m)) => m,
            other => panic!("{other:?}"),
        };
        assert!(bad(add(doc, &mut def, &obj(json!({"factory": "Nope", "title": "X"})))).contains("Fields"));
        assert!(bad(add(doc, &mut def, &obj(json!({"factory": "Email", "title": "Text"})))).contains("already"));
        assert!(
            bad(add(
                doc,
                &mut def,
                &obj(json!({"factory": "Email", "title": "UID", "id": "UID"}))
            ))
            .contains("valid")
        );
        add(doc, &mut def, &obj(json!({"factory": "Integer", "title": "Size"}))).unwrap();
        let deep = (0..40).fold(json!(1), |v, _| json!([v]));
        let err = add(
            doc,
            &mut def,
            &obj(json!({"factory": "JSONField", "title": "J", "default": deep})),
        );
        assert!(bad(err).contains("deep"));
        let err = patch(doc, &mut def, &obj(json!({"properties": {"nothing": {"title": "x"}}})));
        assert!(matches!(err, Err(EditError::Invalid(m)) if m.contains("nothing")));
        let err = update_field(doc, &mut def, "size", &obj(json!({"default": "big"})));
        assert!(matches!(err, Err(EditError::Invalid(m)) if m.contains("default")));
        let err = update_field(doc, &mut def, "size", &obj(json!({"minimum": 5, "maximum": 1})));
        assert!(matches!(err, Err(EditError::Invalid(_))));
        assert!(matches!(
            update_field(doc, &mut def, "text", &obj(json!({"title": "x"}))),
            Err(EditError::Invalid(m)) if m.contains("behavior")
        ));
        assert!(matches!(delete(doc, &mut def, "nothing"), Err(EditError::Missing(_))));
        // A name is a field's or a fieldset's, never both.
        assert!(
            bad(add(
                doc,
                &mut def,
                &obj(json!({"factory": "fieldset", "title": "Size"}))
            ))
            .contains("field named")
        );
        add(doc, &mut def, &obj(json!({"factory": "fieldset", "title": "Contact"}))).unwrap();
        assert!(
            bad(add(
                doc,
                &mut def,
                &obj(json!({"factory": "Email", "title": "Contact"}))
            ))
            .contains("fieldset named")
        );
    }

    #[test]
    fn a_put_sends_back_what_get_gave_and_changes_only_the_own_model() {
        let reg = registry(vec![]);
        let reg = edit(&reg, |ty, def| {
            add(ty, def, &obj(json!({"factory": "fieldset", "title": "Extra"})))?;
            add(ty, def, &obj(json!({"factory": "Integer", "title": "Count"})))?;
            update_fieldset(ty, def, "extra", &obj(json!({"fields": ["count"]})))
        })
        .unwrap();
        let doc = reg.get("Document").unwrap();
        let mut schema = doc.json_schema(&reg, "http://x");
        // What GET gave, with the own tab left out: its field stays, on Default.
        let tabs: Vec<Value> = schema["fieldsets"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["id"] != "extra")
            .cloned()
            .collect();
        schema["fieldsets"] = Value::Array(tabs);
        let reg = edit(&reg, |ty, def| put(ty, def, schema.as_object().unwrap())).unwrap();
        let doc = reg.get("Document").unwrap();
        assert!(
            doc.def.fieldsets.is_empty(),
            "behavior tabs were not made the type's own"
        );
        assert_eq!(doc.field("count").unwrap().fieldset, "default");
        let mut def = doc.def.clone();
        let err = put(doc, &mut def, &obj(json!({"layouts": ["view"]})));
        assert!(matches!(err, Err(EditError::Invalid(m)) if m.contains("whole schema")));
    }

    #[test]
    fn new_types_get_an_id_from_the_title_and_switchable_behaviors() {
        let reg = registry(vec![]);
        let mut def = new_type(&reg, &obj(json!({"title": "My Custom Content Type"}))).unwrap();
        assert_eq!(def.id, "my_custom_content_type");
        update_settings(
            &reg,
            &mut def,
            &obj(json!({"plone.richtext": true, "plone.namefromtitle": false})),
        )
        .unwrap();
        assert!(def.behaviors.contains(&"plone.richtext".to_string()));
        assert!(!def.behaviors.contains(&"plone.namefromtitle".to_string()));
        assert!(update_settings(&reg, &mut def, &obj(json!({"nope": true}))).is_err());
        let reg = registry(vec![(def.id.clone(), def.to_toml())]);
        assert!(reg.get("my_custom_content_type").unwrap().field("text").is_some());
        assert!(new_type(&reg, &obj(json!({"title": "My custom content type"}))).is_err());
        assert_eq!(normalize_id("Événement 2 — Spécial"), "evenement_2_special");
        assert_eq!(
            normalize_id("Gebühren Übersicht"),
            "gebuehren_uebersicht",
            "as content ids fold"
        );
    }
}
