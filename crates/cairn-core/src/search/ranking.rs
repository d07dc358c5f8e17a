//! Full-text ranking: SearchableText asks the site's index for its best
//! hits, which the catalog query then filters (indexes, permissions, dates)
//! and, unless it sorts otherwise, orders by relevance.

use cairn_model::fulltext::Query;

use super::Searcher;
use crate::catalog::CatalogQuery;
use crate::{CoreError, CoreResult};

impl Searcher<'_> {
    /// Restricts `q` to the objects matching `text`, best first. An
    /// oversized `q` is refused before the ranking is spent on it; a site
    /// without an index cannot answer (structured queries still work).
    pub fn rank(&self, q: &mut CatalogQuery, text: &Query) -> CoreResult<()> {
        q.check_bounds()?;
        let full_text = self.full_text.ok_or_else(|| {
            CoreError::NotImplemented("This site has no full-text index; structured queries work.".into())
        })?;
        super::freshness::catch_up_for(self.site, self.who, &*full_text.index)?;
        let hits = full_text.index.search(text, full_text.max_hits.max(1))?;
        // Every other criterion (a `UID` list too) is applied in SQL with the hits.
        q.ranked = Some(hits.iter().map(|h| h.uid.clone()).collect());
        Ok(())
    }
}
