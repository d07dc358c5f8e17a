//! The per-request context every handler and serializer receives.

use std::sync::Arc;

use cairn_core::ports::ViewFilter;
use cairn_core::search::{Searcher, TextIndex};
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
    pub full_text: Option<TextIndex>,
    /// What the response shows, for its cache tags (see `caching`).
    pub deps: std::sync::Mutex<cairn_core::caching::Deps>,
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
            deps: Default::default(),
        }
    }

    /// The response shows `c`: a change to it makes the response stale.
    pub fn shows(&self, c: &cairn_core::Content) {
        self.deps
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .object(c, cairn_core::jobs::now_ms());
    }

    /// The response depends on a broad tag (`caching::NAV`, `caching::SEARCH`).
    pub fn depends_on(&self, tag: &str) {
        self.deps
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .tag(tag);
    }

    /// Absolute public URL of a path below the site.
    pub fn url(&self, path: &ContentPath) -> String {
        format!("{}{}", self.base, path.as_str())
    }

    /// The read side (search, listings, collections) for this reader.
    pub fn searcher(&self) -> Searcher<'_> {
        Searcher {
            site: &self.site,
            who: &self.who,
            filter: &self.filter,
            full_text: self.full_text.as_ref(),
        }
    }

    /// True on sites running the Volto profile (summaries carry Volto's extra columns).
    pub fn volto(&self) -> bool {
        self.site
            .types()
            .get("Document")
            .is_some_and(|t| t.has_behavior("volto.blocks"))
    }
}
