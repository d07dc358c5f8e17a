//! The per-request context every handler and serializer receives.

use std::sync::Arc;

use cairn_core::ports::ViewFilter;
use cairn_core::{Principal, Site};
use cairn_model::ContentPath;

use crate::query::Params;

/// Who asks, against which site, with which parameters.
pub struct Ctx {
    pub site: Arc<Site>,
    /// Public URL of the site root for `@id`s (configured, or from a VHM prefix).
    pub base: String,
    pub who: Principal,
    pub filter: ViewFilter,
    pub params: Params,
    /// The site's full-text index, when it has one.
    pub full_text: Option<FullText>,
}

/// A site's full-text index and how many of its hits a query considers.
pub struct FullText {
    pub index: Arc<cairn_search::SearchIndex>,
    /// `limits.max_text_hits`.
    pub max_hits: usize,
}

impl Ctx {
    pub fn new(site: Arc<Site>, base: String, who: Principal, params: Params) -> Self {
        let filter = cairn_core::security::view_filter(&site, &who);
        Self {
            site,
            base,
            who,
            filter,
            params,
            full_text: None,
        }
    }

    /// Absolute public URL of a path below the site.
    pub fn url(&self, path: &ContentPath) -> String {
        format!("{}{}", self.base, path.as_str())
    }

    /// True on sites running the Volto profile (summaries carry Volto's extra columns).
    pub fn volto(&self) -> bool {
        self.site
            .registry
            .get("Document")
            .is_some_and(|t| t.has_behavior("volto.blocks"))
    }
}
