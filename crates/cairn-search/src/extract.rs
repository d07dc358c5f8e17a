//! The text an object is found by: title, description and subjects weigh
//! more than the body, which gathers rich text fields and the words inside
//! Volto blocks (slate, draft-js text, tables, raw HTML, teasers and the
//! blocks nested in grids and columns).

use serde_json::{Map, Value};

/// The searchable words of one object, split by how much a match counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchableText {
    pub title: String,
    pub description: String,
    pub subjects: Vec<String>,
    pub body: String,
}

/// Characters of an object's text a shared engine indexes: a PostgreSQL
/// `tsvector` holds at most 1 MB, and this much text of distinct words
/// stays well below it (the cluster engine keeps the same bound).
pub const SHARED_TEXT_CAP: usize = 150_000;

impl SearchableText {
    /// The title and the rest (description, subjects, body, a line each)
    /// as a shared engine indexes them: within [`SHARED_TEXT_CAP`]
    /// characters, the title within a tenth of it.
    pub fn title_and_rest(&self) -> (String, String) {
        let mut rest = self.description.clone();
        for part in self.subjects.iter().chain([&self.body]) {
            rest.push('\n');
            rest.push_str(part);
        }
        let title = capped(&self.title, SHARED_TEXT_CAP / 10).to_string();
        rest.truncate(capped(&rest, SHARED_TEXT_CAP).len());
        (title, rest)
    }
}

/// At most `chars` characters of `text`.
fn capped(text: &str, chars: usize) -> &str {
    match text.char_indices().nth(chars) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// Gathers the searchable text from an object's stored field values.
pub fn searchable_text(fields: &Map<String, Value>) -> SearchableText {
    let str_of = |k: &str| {
        fields
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .trim()
            .to_owned()
    };
    let subjects = match fields.get("subjects") {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => Vec::new(),
    };
    let mut body = Body::default();
    for (name, value) in fields {
        if name == "blocks" {
            body.blocks(value);
        } else if let Some(html) = rich_text_html(value) {
            body.push(&html_to_text(html));
        }
    }
    SearchableText {
        title: str_of("title"),
        description: str_of("description"),
        subjects,
        body: body.0,
    }
}

/// A stored rich text value is `{"data": html, "content-type": ...}`.
fn rich_text_html(value: &Value) -> Option<&str> {
    let o = value.as_object()?;
    o.get("content-type")?.as_str()?;
    o.get("data")?.as_str()
}

#[derive(Default)]
struct Body(String);

impl Body {
    fn push(&mut self, text: &str) {
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        if !self.0.is_empty() {
            self.0.push('\n');
        }
        self.0.push_str(text);
    }

    /// Walks a `blocks` mapping; the order follows the stored mapping, which
    /// is good enough for matching (ranking does not depend on it).
    fn blocks(&mut self, blocks: &Value) {
        if let Some(map) = blocks.as_object() {
            map.values().for_each(|b| self.block(b));
        }
    }

    fn block(&mut self, block: &Value) {
        let Some(o) = block.as_object() else { return };
        match o.get("@type").and_then(Value::as_str).unwrap_or_default() {
            // These show the object's own title and description, indexed already.
            "title" | "description" => {}
            "html" => self.push(&html_to_text(o.get("html").and_then(Value::as_str).unwrap_or_default())),
            "slate" => match o.get("plaintext").and_then(Value::as_str) {
                Some(plain) => self.push(plain),
                None => self.slate(o.get("value")),
            },
            "text" => {
                // Draft.js: {"text": {"blocks": [{"text": ...}]}}
                let lines = o.get("text").and_then(|t| t.get("blocks")).and_then(Value::as_array);
                for line in lines.into_iter().flatten() {
                    self.push(line.get("text").and_then(Value::as_str).unwrap_or_default());
                }
            }
            "slateTable" | "table" => {
                let rows = o.get("table").and_then(|t| t.get("rows")).and_then(Value::as_array);
                for cell in rows
                    .into_iter()
                    .flatten()
                    .filter_map(|r| r.get("cells")?.as_array())
                    .flatten()
                {
                    self.slate(cell.get("value"));
                }
            }
            _ => {
                // Teasers, listings and images carry their own visible words.
                for key in ["headline", "title", "description", "alt"] {
                    self.push(o.get(key).and_then(Value::as_str).unwrap_or_default());
                }
            }
        }
        if let Some(inner) = o.get("blocks") {
            self.blocks(inner);
        }
        if let Some(inner) = o.get("data").and_then(|d| d.get("blocks")) {
            self.blocks(inner);
        }
        if let Some(Value::Array(columns)) = o.get("columns") {
            columns.iter().for_each(|c| self.block(c));
        }
    }

    /// Slate values are trees of elements whose leaves hold `text`.
    fn slate(&mut self, value: Option<&Value>) {
        let mut line = String::new();
        collect_slate(value, &mut line);
        self.push(&line);
    }
}

fn collect_slate(value: Option<&Value>, out: &mut String) {
    match value {
        Some(Value::Array(nodes)) => nodes.iter().for_each(|n| collect_slate(Some(n), out)),
        Some(Value::Object(node)) => {
            if let Some(text) = node.get("text").and_then(Value::as_str) {
                out.push_str(text);
            }
            if node.contains_key("children") {
                collect_slate(node.get("children"), out);
                // An element ends a run of text: keep words of siblings apart.
                out.push(' ');
            }
        }
        _ => {}
    }
}

/// Plain text of stored (already sanitized) HTML. Tags become spaces so that
/// paragraphs and list items don't glue words together; ammonia with no
/// allowed tags keeps only the text, which it escapes, so undo that escaping.
pub fn html_to_text(html: &str) -> String {
    if html.is_empty() {
        return String::new();
    }
    // Sanitized HTML escapes a literal `<`, so every `<` here starts a tag.
    let spaced = html.replace('<', " <");
    let text = ammonia::Builder::empty().clean(&spaced).to_string();
    let text = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", " ")
        .replace("&quot;", "\"")
        .replace("&amp;", "&");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn text_of(fields: Value) -> SearchableText {
        searchable_text(fields.as_object().unwrap())
    }

    #[test]
    fn title_description_subjects_and_rich_text() {
        let t = text_of(json!({
            "title": " Steuern ",
            "description": "Alles zur Steuererklärung",
            "subjects": ["Finanzen", "Formulare"],
            "text": {"data": "<h2>Fristen</h2><p>Bis <strong>31. März</strong> &amp; später</p><ul><li>eins</li><li>zwei</li></ul>", "content-type": "text/html"},
            "review_state": "published"
        }));
        assert_eq!(t.title, "Steuern");
        assert_eq!(t.description, "Alles zur Steuererklärung");
        assert_eq!(t.subjects, vec!["Finanzen", "Formulare"]);
        assert_eq!(t.body, "Fristen Bis 31. März & später eins zwei");
    }

    #[test]
    fn words_inside_blocks_nested_ones_too() {
        let t = text_of(json!({
            "title": "Seite",
            "blocks": {
                "a": {"@type": "title"},
                "b": {"@type": "slate", "plaintext": "Öffnungszeiten der Verwaltung", "value": []},
                "c": {"@type": "slate", "value": [{"type": "p", "children": [{"text": "ohne "}, {"type": "strong", "children": [{"text": "plaintext"}]}]}]},
                "d": {"@type": "text", "text": {"blocks": [{"text": "Draft Zeile"}]}},
                "e": {"@type": "html", "html": "<p>roh &lt;html&gt;</p>"},
                "f": {"@type": "gridBlock", "blocks": {"g": {"@type": "teaser", "title": "Teaser Titel", "description": "Teaser Text"}}},
                "h": {"@type": "slateTable", "table": {"rows": [{"cells": [{"value": [{"children": [{"text": "Zelle"}]}]}]}]}},
                "i": {"@type": "columnsBlock", "data": {"blocks": {"j": {"@type": "slate", "plaintext": "Spalte"}}}}
            }
        }));
        for word in [
            "Öffnungszeiten",
            "ohne",
            "plaintext",
            "Draft Zeile",
            "roh <html>",
            "Teaser Titel",
            "Teaser Text",
            "Zelle",
            "Spalte",
        ] {
            assert!(t.body.contains(word), "{word} missing from {:?}", t.body);
        }
        assert!(!t.body.contains("Seite"), "the title block repeats the title");
        assert!(
            t.body.contains("ohne plaintext"),
            "inline marks keep words apart only where the text does"
        );
    }

    #[test]
    fn nothing_to_find_in_empty_or_odd_values() {
        let t = text_of(json!({"blocks": {"x": 3, "y": {"@type": "slate"}}, "text": null, "subjects": "not a list"}));
        assert_eq!(t, SearchableText::default());
        assert_eq!(html_to_text(""), "");
    }
}
