//! The content record as the core sees it: one stored object of a site.

use cairn_model::{ContentPath, Uid};
use jiff::Timestamp;
use serde_json::{Map, Value};

/// One content object (the site root included, with `path` = root).
/// Serializable as a whole for the trash, which keeps deleted subtrees.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Content {
    pub uid: Uid,
    pub path: ContentPath,
    pub parent: Option<Uid>,
    pub position: i64,
    pub portal_type: String,
    pub review_state: Option<String>,
    pub is_folderish: bool,
    pub created: Timestamp,
    pub modified: Timestamp,
    /// Optimistic-concurrency counter, bumped on every write.
    pub version: i64,
    pub layout: Option<String>,
    /// Schema field values as stored (title, description, text, ...).
    pub fields: Map<String, Value>,
    /// Principals and roles that may view the object (allowedRolesAndUsers).
    pub allowed: Vec<String>,
}

impl Content {
    /// The short id (last path segment); the root's id is the site id.
    pub fn id(&self) -> &str {
        self.path.name()
    }

    pub fn str_field(&self, name: &str) -> &str {
        self.fields.get(name).and_then(Value::as_str).unwrap_or("")
    }

    pub fn title(&self) -> &str {
        self.str_field("title")
    }

    pub fn description(&self) -> &str {
        self.str_field("description")
    }

    pub fn bool_field(&self, name: &str) -> bool {
        self.fields.get(name).and_then(Value::as_bool).unwrap_or(false)
    }

    pub fn strings(&self, name: &str) -> Vec<String> {
        self.fields
            .get(name)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    }

    pub fn is_root(&self) -> bool {
        self.path.is_root()
    }
}
