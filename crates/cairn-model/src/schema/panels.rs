//! Site Setup's control panels (`@controlpanels`), declared like behaviors
//! in `schema/controlpanels/*.toml`: a panel groups fields, and each field
//! is the registry record `<prefix>.<name>` (`plone.site_title`).

use std::sync::LazyLock;

use serde::Deserialize;
use serde_json::{Value, json};

use super::FieldDef;

/// One control panel.
#[derive(Debug, Clone, Deserialize)]
pub struct ControlPanel {
    pub id: String,
    pub title: String,
    /// Site Setup's section: General, Content, Users, Security, ...
    pub group: String,
    /// The registry name of the panel's records, before the field name.
    pub prefix: String,
    #[serde(default)]
    pub fields: Vec<FieldDef>,
}

impl ControlPanel {
    /// The registry record behind `field`.
    pub fn record(&self, field: &FieldDef) -> String {
        format!("{}.{}", self.prefix, field.name)
    }

    /// The panel's schema as plone.restapi prints it: one `default` fieldset.
    pub fn json_schema(&self, portal_url: &str) -> Value {
        let (properties, required) = super::jsonschema::properties(&self.fields, portal_url);
        let names: Vec<&str> = self.fields.iter().map(|f| f.name.as_str()).collect();
        json!({
            "fieldsets": [{"behavior": "plone", "fields": names, "id": "default", "title": "Default"}],
            "properties": properties,
            "required": required,
        })
    }
}

static PANELS: LazyLock<Vec<ControlPanel>> = LazyLock::new(|| {
    crate::builtin::control_panel_sources()
        .into_iter()
        .map(|(name, text)| {
            let mut p: ControlPanel =
                toml::from_str(&text).unwrap_or_else(|e| panic!("shipped control panel {name} is invalid: {e}"));
            for f in &mut p.fields {
                f.behavior = "plone".into();
            }
            p
        })
        .collect()
});

/// The shipped control panels, in Site Setup's order.
pub fn panels() -> &'static [ControlPanel] {
    &PANELS
}

/// The panel with this id.
pub fn panel(id: &str) -> Option<&'static ControlPanel> {
    PANELS.iter().find(|p| p.id == id)
}

/// The panel and field behind a registry record.
pub fn record(name: &str) -> Option<(&'static ControlPanel, &'static FieldDef)> {
    PANELS.iter().find_map(|p| {
        let field = name.strip_prefix(&p.prefix)?.strip_prefix('.')?;
        p.fields.iter().find(|f| f.name == field).map(|f| (p, f))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_shipped_panels_load_and_name_their_records() {
        let site = super::panel("site").unwrap();
        assert_eq!(site.record(&site.fields[0]), "plone.site_title");
        assert!(super::record("plone.displayed_types").is_some());
        assert!(super::record("plone.nothing").is_none());
    }
}
