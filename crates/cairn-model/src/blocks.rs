//! Volto blocks on the way in: raw HTML in `html` blocks is sanitized like
//! rich text (plone.restapi cleans it through `text/x-html-safe`), in nested
//! blocks (grids, columns) too.

use serde_json::Value;

use crate::values::sanitize_html;

/// Cleans every `html` block inside a `blocks` mapping, recursively.
pub fn sanitize(blocks: &mut Value) {
    let Some(map) = blocks.as_object_mut() else { return };
    for block in map.values_mut() {
        sanitize_block(block);
    }
}

fn sanitize_block(block: &mut Value) {
    let Some(o) = block.as_object_mut() else { return };
    if o.get("@type").and_then(Value::as_str) == Some("html")
        && let Some(Value::String(html)) = o.get_mut("html")
    {
        *html = sanitize_html(html);
    }
    // Containers keep their children under `blocks` or `data.blocks`.
    if let Some(inner) = o.get_mut("blocks") {
        sanitize(inner);
    }
    if let Some(inner) = o.get_mut("data").and_then(|d| d.get_mut("blocks")) {
        sanitize(inner);
    }
    if let Some(Value::Array(columns)) = o.get_mut("columns") {
        columns.iter_mut().for_each(sanitize_block);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn html_blocks_lose_scripts_everywhere() {
        let mut blocks = json!({
            "a": {"@type": "html", "html": "<p onclick=\"x()\">Hi</p><script>steal()</script>"},
            "g": {"@type": "gridBlock", "blocks": {"b": {"@type": "html", "html": "<img src=x onerror=alert(1)>"}}},
            "s": {"@type": "slate", "plaintext": "<script>kept as text</script>"},
        });
        super::sanitize(&mut blocks);
        assert_eq!(blocks["a"]["html"], "<p>Hi</p>");
        assert!(!blocks["g"]["blocks"]["b"]["html"].as_str().unwrap().contains("onerror"));
        assert_eq!(
            blocks["s"]["plaintext"], "<script>kept as text</script>",
            "only html blocks are touched"
        );
    }
}
