//! The read side: searches, listings and collections, evaluated over two
//! ports, the catalog store (structured criteria, permissions and paging in
//! one query) and the full-text index (SearchableText, ranked). The API
//! parses a request into a [`CatalogQuery`] and a full-text query and asks a
//! [`Searcher`]; it reaches neither port itself.
//!
//! One file per concern: [`ranking`] (full text and its bounds),
//! [`freshness`] (read-your-writes, indexer lag), [`querystring`]
//! (plone.app.querystring criteria), [`collection`] (a Collection's
//! stored query) and [`listing`] (folder items, siblings, navigation,
//! breadcrumbs, related items); [`Searcher::find`] here runs the page.

pub mod collection;
pub mod freshness;
pub mod listing;
pub mod querystring;
pub mod ranking;

use std::sync::Arc;

use cairn_model::fulltext::Query;

use crate::catalog::CatalogQuery;
use crate::ports::{FullText, ViewFilter};
use crate::{Content, CoreError, CoreResult, Principal, Site};

pub use collection::Page;
pub use freshness::lag;

/// A site's full-text index and how many of its hits a query considers.
#[derive(Clone)]
pub struct TextIndex {
    pub index: Arc<dyn FullText>,
    /// Hits considered per query, best first (`limits.max_text_hits`).
    pub max_hits: usize,
}

/// Who searches where: the services of the read side for one request.
pub struct Searcher<'a> {
    pub site: &'a Site,
    pub who: &'a Principal,
    /// What `who` may see (computed once per request).
    pub filter: &'a ViewFilter,
    /// The site's full-text index, when it has one.
    pub full_text: Option<&'a TextIndex>,
}

impl Searcher<'_> {
    /// One page of the objects matching `q` that the reader may view, and
    /// their total: a single catalog query, refused first when oversized.
    pub fn find(&self, q: &CatalogQuery) -> CoreResult<(Vec<Content>, usize)> {
        q.check_bounds()?;
        self.site.store.search(&self.site.id, q, self.filter)
    }
}

/// Parses SearchableText; `None` when it holds no words at all. A malformed
/// or oversized query is a bad request that says why.
pub fn parse_text(text: &str) -> CoreResult<Option<Query>> {
    cairn_model::fulltext::parse(text).map_err(|e| CoreError::BadRequest(e.to_string()))
}
