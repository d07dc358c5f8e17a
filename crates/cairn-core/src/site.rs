//! A site: one content tree with its types, public URL and settings.

use std::sync::Arc;

use cairn_model::{TypeRegistry, WorkflowDef, Workflows};

use crate::ports::{BlobStore, ContentStore, PrincipalStore};

/// Plone 6's `plone.allowed_sizes`: name, max width, max height.
pub const CLASSIC_SCALES: [(&str, u32, u32); 11] = [
    ("huge", 1600, 65536),
    ("great", 1200, 65536),
    ("larger", 1000, 65536),
    ("large", 800, 65536),
    ("teaser", 600, 65536),
    ("preview", 400, 65536),
    ("mini", 200, 65536),
    ("thumb", 128, 128),
    ("tile", 64, 64),
    ("icon", 32, 32),
    ("listing", 16, 16),
];

/// plone.volto's sizes: the classic ones plus `2k` and `4k`, without `listing`.
pub const DEFAULT_SCALES: [(&str, u32, u32); 12] = [
    ("huge", 1600, 65536),
    ("great", 1200, 65536),
    ("larger", 1000, 65536),
    ("large", 800, 65536),
    ("teaser", 600, 65536),
    ("preview", 400, 65536),
    ("mini", 200, 65536),
    ("thumb", 128, 128),
    ("tile", 64, 64),
    ("icon", 32, 32),
    ("2k", 2000, 65536),
    ("4k", 4000, 65536),
];

/// Per-site settings, the part of Plone's registry the API reads.
#[derive(Debug, Clone)]
pub struct SiteSettings {
    pub title: String,
    pub default_language: String,
    pub available_languages: Vec<String>,
    pub timezone: String,
    /// Types shown in navigation (`plone.displayed_types`).
    pub displayed_types: Vec<String>,
    pub scales: Vec<(String, u32, u32)>,
    /// Largest image accepted (width × height), checked from the header
    /// before decoding, on upload and again before every scale.
    pub max_image_pixels: u64,
    /// Most objects one delete may move to the trash (the subtree included).
    pub trash_max_items: usize,
    /// The profile the types were built with (`classic` or `volto`).
    pub profile: String,
    /// Items may be linked as translations (`crate::repo::translations`).
    pub multilingual: bool,
    /// Seconds a shared cache keeps an anonymous page, listing and file
    /// (the configured `caching.*`; the Caching panel overrides them).
    pub s_maxages: [u64; 3],
}

impl Default for SiteSettings {
    fn default() -> Self {
        Self {
            title: "Plone site".into(),
            default_language: "en".into(),
            available_languages: vec!["en".into()],
            timezone: "UTC".into(),
            displayed_types: [
                "Image",
                "File",
                "Link",
                "News Item",
                "Folder",
                "Document",
                "Event",
                "Collection",
            ]
            .map(String::from)
            .to_vec(),
            scales: DEFAULT_SCALES.iter().map(|(n, w, h)| (n.to_string(), *w, *h)).collect(),
            max_image_pixels: crate::images::DEFAULT_MAX_PIXELS,
            trash_max_items: 500,
            profile: "classic".into(),
            multilingual: false,
            s_maxages: [86_400, 3_600, 86_400],
        }
    }
}

/// Everything a request against one site needs.
pub struct Site {
    pub id: String,
    /// Base of every `@id`: the configured public URL of the site root.
    pub public_url: String,
    /// No public URL was configured: each request's `@id`s are built from
    /// the host it was sent to, as Zope does (`public_url` is the fallback).
    pub follows_host: bool,
    /// The content types (`Site::types` gives the registry in effect).
    pub schemas: crate::types::Types,
    pub workflows: Arc<Workflows>,
    pub settings: SiteSettings,
    pub store: Arc<dyn ContentStore>,
    /// The durable job queue (in the same database as `store`).
    pub jobs: Arc<dyn crate::jobs::JobStore>,
    pub principals: Arc<dyn PrincipalStore>,
    pub blobs: Arc<dyn BlobStore>,
    /// Blobs stored by writes that have not committed yet; one for every
    /// site on the same blob store.
    pub uploads: Arc<crate::blobs::Uploads>,
    /// Scales being computed and scales known to fail.
    pub scaler: crate::images::Scaler,
    pub jwt_secret: Vec<u8>,
    /// Earlier secrets still accepted for verification while tokens roll over.
    pub jwt_previous_secrets: Vec<Vec<u8>>,
    /// Lifetime of issued tokens in seconds (Plone's default is 12 hours).
    pub token_timeout: u64,
    /// The registry's saved values as last read (`crate::records`).
    pub records: crate::records::Cached,
}

impl Site {
    /// Commits a write batch with what its content causes (scheduled
    /// publication jobs, the links it records), in one transaction.
    pub fn write(&self, mut batch: crate::ports::WriteBatch) -> crate::error::CoreResult<()> {
        crate::repo::urls::plan(self, &mut batch)?;
        crate::jobs::timers::plan(&mut batch);
        crate::repo::links::plan(self, &mut batch);
        self.store.write(&self.id, batch)
    }

    /// The workflow bound to a type (`None`: the type follows its container).
    pub fn workflow_for(&self, type_id: &str) -> Option<&WorkflowDef> {
        let default = self
            .types()
            .get(type_id)
            .map(|t| t.def.workflow.clone())
            .unwrap_or_default();
        self.workflows.for_type(type_id, &default)
    }

    /// The content types in effect (those saved through the web included).
    pub fn types(&self) -> Arc<TypeRegistry> {
        crate::types::current(self)
    }

    /// Absolute URL of a physical path below the site.
    pub fn url(&self, path: &cairn_model::ContentPath) -> String {
        format!("{}{}", self.public_url, path.as_str())
    }
}
