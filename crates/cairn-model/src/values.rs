//! Validation of incoming field values against a field's kind.
//!
//! Turns the JSON a client sends (Volto's shapes) into the canonical stored
//! JSON, or into an instruction the core must complete (store a blob, resolve
//! relation targets).

use jiff::{Timestamp, civil};
use serde_json::{Value, json};

use crate::schema::{FieldDef, FieldKind};
use crate::time::format_ts;

/// A decoded file or image upload, not yet written to the blob store.
#[derive(Debug, Clone)]
pub struct BlobUpload {
    pub data: Vec<u8>,
    pub filename: String,
    pub content_type: String,
}

/// What to do with one incoming field value.
#[derive(Debug, Clone)]
pub enum FieldInput {
    /// Store this canonical value.
    Value(Value),
    /// Reset the field to its missing value.
    Clear,
    /// Keep the current value (a client echoed an existing file back).
    Keep,
    /// Store the upload and reference it.
    Blob(BlobUpload),
    /// Resolve these references (UIDs, URLs or paths) to UIDs.
    Relations { many: bool, refs: Vec<String> },
}

/// Checks one value; the error message is shown to the client.
pub fn validate(field: &FieldDef, value: &Value) -> Result<FieldInput, String> {
    if value.is_null() {
        return if field.required {
            Err(format!(
                "{} is a required field. Setting it to null is not allowed.",
                field.name
            ))
        } else {
            Ok(FieldInput::Clear)
        };
    }
    match field.kind {
        FieldKind::Image | FieldKind::File => blob(value),
        FieldKind::Relation => Ok(FieldInput::Relations {
            many: false,
            refs: vec![relation_ref(value)?],
        }),
        FieldKind::RelationList => {
            let items = value.as_array().ok_or("Wrong contained type: a list is expected")?;
            let refs = items.iter().map(relation_ref).collect::<Result<_, _>>()?;
            Ok(FieldInput::Relations { many: true, refs })
        }
        _ => scalar(field, field.kind, value).map(FieldInput::Value),
    }
}

fn scalar(field: &FieldDef, kind: FieldKind, value: &Value) -> Result<Value, String> {
    use FieldKind::*;
    let v = match kind {
        Textline | Ascii | Password => {
            let s = string(value)?;
            if s.contains('\n') || s.contains('\r') {
                return Err("Constraint not satisfied".into());
            }
            no_controls(s)?;
            if field.name == "remoteUrl" {
                crate::links::check(s)?;
            }
            json!(length_checked(field, s)?)
        }
        Text => {
            let s = string(value)?;
            no_controls(s)?;
            json!(length_checked(field, s)?)
        }
        Email => {
            let s = string(value)?.trim().to_string();
            let valid = s
                .split_once('@')
                .is_some_and(|(u, d)| !u.is_empty() && d.contains('.') && !s.contains(' '));
            if !s.is_empty() && !valid {
                return Err(format!("Invalid email address: {s}"));
            }
            json!(length_checked(field, &s)?)
        }
        Uri => {
            let s = string(value)?;
            if !s.is_empty() && (!s.contains(':') || s.contains(char::is_whitespace)) {
                return Err("The specified URI is not valid.".into());
            }
            crate::links::check(s)?;
            json!(length_checked(field, s)?)
        }
        Richtext => richtext(value)?,
        Int => {
            let n = value.as_i64().ok_or("Object is of wrong type.")?;
            bounds(field, n as f64)?;
            json!(n)
        }
        Float => {
            let n = value.as_f64().ok_or("Object is of wrong type.")?;
            bounds(field, n)?;
            json!(n)
        }
        Decimal => match value {
            Value::String(s) if s.parse::<f64>().is_ok() => json!(s),
            Value::Number(n) => json!(n.to_string()),
            _ => return Err("Object is of wrong type.".into()),
        },
        Bool => json!(value.as_bool().ok_or("Object is of wrong type.")?),
        Date => {
            let s = string(value)?;
            let d: civil::Date = s
                .get(..10)
                .unwrap_or(s)
                .parse()
                .map_err(|_| format!("Invalid date: {s}"))?;
            json!(d.to_string())
        }
        Datetime => json!(format_ts(parse_datetime(string(value)?)?)),
        Time => {
            let s = string(value)?;
            let t: civil::Time = s.parse().map_err(|_| format!("Invalid time: {s}"))?;
            json!(t.strftime("%H:%M:%S").to_string())
        }
        Choice => {
            let token = match value {
                Value::Object(o) => o
                    .get("token")
                    .and_then(Value::as_str)
                    .ok_or("Object is of wrong type.")?,
                Value::String(s) => s.as_str(),
                Value::Bool(b) => return Ok(json!(b)),
                _ => return Err("Object is of wrong type.".into()),
            };
            if !field.choices.is_empty() && !field.choices.iter().any(|(t, _)| t == token) {
                return Err(format!("Constraint not satisfied: '{token}' is not a valid choice"));
            }
            json!(token)
        }
        List | Tuple | Set => {
            let items = value.as_array().ok_or("Wrong contained type: a list is expected")?;
            let inner = field.value_kind.unwrap_or(Textline);
            let mut out: Vec<Value> = Vec::with_capacity(items.len());
            for item in items {
                let v = scalar(field_for_items(field), inner, item)?;
                if kind == Set && out.contains(&v) {
                    continue;
                }
                out.push(v);
            }
            json!(out)
        }
        Dict => {
            if !value.is_object() {
                return Err("Object is of wrong type.".into());
            }
            field.check_value_schema(value)?;
            value.clone()
        }
        Json => {
            field.check_value_schema(value)?;
            let mut v = value.clone();
            if field.name == "blocks" {
                crate::blocks::sanitize(&mut v)?;
            }
            v
        }
        Image | File | Relation | RelationList => unreachable!("handled in validate"),
    };
    Ok(v)
}

/// Item values of a list are validated without the list's own length bounds.
fn field_for_items(field: &FieldDef) -> &FieldDef {
    field
}

/// Refuses control characters other than tab and line breaks: a NUL or an
/// escape in a title breaks exports, terminals and the XML of feeds.
fn no_controls(s: &str) -> Result<(), String> {
    match s.chars().find(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')) {
        Some(c) => Err(format!(
            "Control characters are not allowed (found U+{:04X}).",
            c as u32
        )),
        None => Ok(()),
    }
}

fn string(value: &Value) -> Result<&str, String> {
    value.as_str().ok_or_else(|| "Object is of wrong type.".to_string())
}

fn length_checked<'a>(field: &FieldDef, s: &'a str) -> Result<&'a str, String> {
    let n = s.chars().count();
    if field.max_length.is_some_and(|max| n > max) {
        return Err("Value is too long".into());
    }
    if field.min_length.is_some_and(|min| n < min) {
        return Err("Value is too short".into());
    }
    Ok(s)
}

fn bounds(field: &FieldDef, n: f64) -> Result<(), String> {
    if field.minimum.is_some_and(|m| n < m) {
        return Err("Value is too small".into());
    }
    if field.maximum.is_some_and(|m| n > m) {
        return Err("Value is too big".into());
    }
    Ok(())
}

/// Parses the date-time forms clients send: with offset, `Z`, or naive (UTC).
pub fn parse_datetime(s: &str) -> Result<Timestamp, String> {
    if let Ok(ts) = s.parse::<Timestamp>() {
        return Ok(ts);
    }
    if let Ok(z) = s
        .parse::<civil::DateTime>()
        .and_then(|dt| dt.to_zoned(jiff::tz::TimeZone::UTC))
    {
        return Ok(z.timestamp());
    }
    if let Ok(z) = s
        .parse::<civil::Date>()
        .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC))
    {
        return Ok(z.timestamp());
    }
    Err(format!("Invalid date: {s}"))
}

/// Rich text is stored as sanitized HTML; scripts, event handlers and
/// `javascript:` URLs never reach storage.
fn richtext(value: &Value) -> Result<Value, String> {
    let (data, mime) = match value {
        Value::String(s) => (s.as_str(), "text/html"),
        Value::Object(o) => (
            o.get("data")
                .and_then(Value::as_str)
                .ok_or("Rich text needs a 'data' string")?,
            o.get("content-type").and_then(Value::as_str).unwrap_or("text/html"),
        ),
        _ => return Err("Object is of wrong type.".into()),
    };
    let (html, mime) = match mime {
        "text/html" | "text/x-html-safe" => (sanitize_html(data), "text/html"),
        // Plain text keeps its type (as Plone does); the stored form is escaped.
        "text/plain" => (format!("<p>{}</p>", escape_text(data)), "text/plain"),
        other => return Err(format!("Unsupported rich text content type: {other}")),
    };
    Ok(json!({"data": html, "content-type": mime, "encoding": "utf-8"}))
}

/// Escapes the characters that are markup in HTML.
fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

/// The HTML sanitizer used for every rich text and html value.
pub fn sanitize_html(html: &str) -> String {
    ammonia::Builder::default()
        .add_generic_attributes(["class", "id", "title", "lang"])
        .add_tags(["figure", "figcaption", "section", "article", "aside", "span", "div"])
        .clean(html)
        .to_string()
}

fn blob(value: &Value) -> Result<FieldInput, String> {
    let o = value.as_object().ok_or("Object is of wrong type.")?;
    let Some(data) = o.get("data").and_then(Value::as_str) else {
        // Volto echoes the current value ({download, filename, ...}) on edit.
        return if o.contains_key("download") || o.contains_key("filename") {
            Ok(FieldInput::Keep)
        } else {
            Err("A file needs 'data'".into())
        };
    };
    let encoding = o.get("encoding").and_then(Value::as_str).unwrap_or("utf8");
    let bytes = match encoding {
        "base64" => {
            use base64_decode::decode;
            decode(data).ok_or("The file data is not valid base64")?
        }
        _ => data.as_bytes().to_vec(),
    };
    let filename = o.get("filename").and_then(Value::as_str).unwrap_or("").to_string();
    let content_type = o
        .get("content-type")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| crate::mime::guess(&filename).to_string());
    Ok(FieldInput::Blob(BlobUpload {
        data: bytes,
        filename,
        content_type,
    }))
}

/// The base64 decoding used for uploads (standard alphabet, padding optional,
/// a `data:` URL prefix tolerated as some clients send it).
mod base64_decode {
    use base64::Engine;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );

    pub fn decode(data: &str) -> Option<Vec<u8>> {
        let data = data.split_once(";base64,").map_or(data, |(_, d)| d);
        let clean: String = data.chars().filter(|c| !c.is_whitespace()).collect();
        LENIENT.decode(clean).ok()
    }
}

fn relation_ref(value: &Value) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Object(o) => o
            .get("UID")
            .or_else(|| o.get("@id"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| "A relation needs a UID or @id".to_string()),
        _ => Err("Object is of wrong type.".into()),
    }
}
